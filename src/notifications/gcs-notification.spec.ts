import { describe, expect, it } from 'vitest';
import { storageNotification } from '../../test/support/emulators.js';
import { decideNotification, type NotificationMessage } from './gcs-notification.js';

const scope = { bucket: 'tweet-archive', rootPrefix: 'archive/' };
const updated = new Date('2024-03-01T12:34:56.789Z');
const object = { bucket: 'tweet-archive', name: 'archive/2024/03/tweets.json.gz', generation: '1709296496789123', size: 123_456, updated };

function message(parts: Partial<NotificationMessage> = {}): NotificationMessage {
  const { data, attributes } = storageNotification(object);
  return { id: '42', data, attributes, ...parts };
}

function withBody(change: (body: Record<string, unknown>) => void): NotificationMessage {
  const base = message();
  const body = JSON.parse(base.data.toString()) as Record<string, unknown>;
  change(body);
  return { ...base, data: Buffer.from(JSON.stringify(body)) };
}

function withAttributes(change: (attributes: Record<string, string>) => void): NotificationMessage {
  const base = message();
  const attributes = { ...base.attributes };
  change(attributes);
  return { ...base, attributes };
}

function withoutGeneration(): NotificationMessage {
  const base = withBody((body) => {
    delete body.generation;
  });
  const attributes = { ...base.attributes };
  delete attributes.objectGeneration;
  return { ...base, attributes };
}

describe('decideNotification', () => {
  it('registers an OBJECT_FINALIZE inside the bucket and prefix', () => {
    expect(decideNotification(message(), scope)).toEqual({ kind: 'register', object });
  });

  it('registers everything in the bucket when there is no root prefix', () => {
    const decision = decideNotification(message(), { bucket: 'tweet-archive', rootPrefix: '' });
    expect(decision).toEqual({ kind: 'register', object });
  });

  it('takes the generation from the objectGeneration attribute, the body only as a fallback', () => {
    const attributeWins = withBody((body) => {
      body.generation = '7';
    });
    expect(decideNotification(attributeWins, scope)).toMatchObject({ kind: 'register', object: { generation: object.generation } });

    const bodyFallback = withAttributes((attributes) => {
      delete attributes.objectGeneration;
    });
    expect(decideNotification(bodyFallback, scope)).toMatchObject({ kind: 'register', object: { generation: object.generation } });
  });

  it('keeps a large size exact and accepts numeric int64 fields', () => {
    const big = withBody((body) => {
      body.size = '107374182400';
    });
    expect(decideNotification(big, scope)).toMatchObject({ object: { size: 107_374_182_400 } });
    const numeric = withBody((body) => {
      body.size = 10;
    });
    expect(decideNotification(numeric, scope)).toMatchObject({ object: { size: 10 } });
  });

  it('falls back to timeCreated, then eventTime, for the update time', () => {
    const noUpdated = withBody((body) => {
      delete body.updated;
    });
    expect(decideNotification(noUpdated, scope)).toMatchObject({ object: { updated } });
  });

  it.each([
    ['OBJECT_DELETE', storageNotification(object, 'OBJECT_DELETE')],
    ['OBJECT_ARCHIVE', storageNotification(object, 'OBJECT_ARCHIVE')],
    ['OBJECT_METADATA_UPDATE', storageNotification(object, 'OBJECT_METADATA_UPDATE')],
  ])('ignores %s', (eventType, notification) => {
    expect(decideNotification({ id: '1', ...notification }, scope)).toEqual({ kind: 'ignore', reason: `event type ${eventType}` });
  });

  it('ignores other buckets, other prefixes and folder placeholders', () => {
    const otherBucket = storageNotification({ ...object, bucket: 'someone-else' });
    expect(decideNotification({ id: '1', ...otherBucket }, scope)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('bucket someone-else') });

    const outside = storageNotification({ ...object, name: 'scratch/tweets.json.gz' });
    expect(decideNotification({ id: '1', ...outside }, scope)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('outside the prefix') });

    // "archive" without the slash is not inside "archive/".
    const lookalike = storageNotification({ ...object, name: 'archive-old/tweets.json.gz' });
    expect(decideNotification({ id: '1', ...lookalike }, scope)).toMatchObject({ kind: 'ignore' });

    const folder = storageNotification({ ...object, name: 'archive/2024/', size: 0 });
    expect(decideNotification({ id: '1', ...folder }, scope)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('folder') });
  });

  it('ignores an unwanted event even when its body is unreadable (only what we use is parsed)', () => {
    const deleteEvent = storageNotification(object, 'OBJECT_DELETE');
    expect(decideNotification({ id: '1', attributes: deleteEvent.attributes, data: Buffer.from('not json') }, scope)).toMatchObject({ kind: 'ignore' });
  });

  it.each<[string, NotificationMessage, string]>([
    ['no attributes', message({ attributes: undefined }), 'no attributes'],
    ['empty attributes', message({ attributes: {} }), 'no attributes'],
    ['no event type', withAttributes((a) => delete a.eventType), 'missing attribute eventType'],
    ['no bucketId', withAttributes((a) => delete a.bucketId), 'missing attribute bucketId'],
    ['no objectId', withAttributes((a) => delete a.objectId), 'missing attribute objectId'],
    ['payload format NONE', withAttributes((a) => (a.payloadFormat = 'NONE')), 'payloadFormat NONE'],
    ['a body that is not JSON', message({ data: Buffer.from('hello, world') }), 'body is not a JSON object'],
    ['an empty body', message({ data: Buffer.alloc(0) }), 'body is not a JSON object'],
    ['a JSON array body', message({ data: Buffer.from('[1,2]') }), 'body is not a JSON object'],
    ['a body about another object', withBody((b) => (b.name = 'archive/other.json.gz')), 'body names archive/other.json.gz'],
    ['a body about another bucket', withBody((b) => (b.bucket = 'elsewhere')), 'body names bucket elsewhere'],
    ['a non-numeric generation', withAttributes((a) => (a.objectGeneration = 'abc')), 'bad generation'],
    ['a zero generation', withAttributes((a) => (a.objectGeneration = '0')), 'bad generation'],
    ['a negative generation', withAttributes((a) => (a.objectGeneration = '-5')), 'bad generation'],
    ['no generation at all', withoutGeneration(), 'bad generation'],
    ['no size', withBody((b) => delete b.size), 'bad size'],
    ['a negative size', withBody((b) => (b.size = '-1')), 'bad size'],
    ['a fractional size', withBody((b) => (b.size = 1.5)), 'bad size'],
    ['a size beyond 2^53', withBody((b) => (b.size = '18014398509481984')), 'bad size'],
    ['an unreadable time', withBody((b) => (b.updated = 'yesterday')), 'bad updated time'],
  ])('calls %s malformed', (_label, input, reason) => {
    const decision = decideNotification(input, scope);
    expect(decision.kind).toBe('malformed');
    expect(decision).toMatchObject({ reason: expect.stringContaining(reason) });
  });
});
