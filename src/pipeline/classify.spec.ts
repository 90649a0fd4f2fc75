import { describe, expect, it } from 'vitest';
import { classifyRecord, STREAM_NOTICE_KEYS } from './classify.js';

const v1Tweet = { id: 1, id_str: '1', text: 'hi', user: { id_str: '2' } };
const v2Tweet = { id: '1', text: 'hi', author_id: '2' };

describe('classifyRecord', () => {
  it('recognises a v1.1 tweet by id_str, user and some text', () => {
    expect(classifyRecord(v1Tweet).kind).toBe('v1-tweet');
    expect(classifyRecord({ id_str: '1', user: {}, full_text: 'hi' }).kind).toBe('v1-tweet');
    expect(classifyRecord({ id_str: '1', user: {}, extended_tweet: { full_text: 'hi' } }).kind).toBe(
      'v1-tweet',
    );
  });

  it('recognises a v2 tweet: string id, text, no user', () => {
    expect(classifyRecord(v2Tweet).kind).toBe('v2-tweet');
    expect(classifyRecord({ id: 1, text: 'numeric id' }).kind).toBe('rejected');
  });

  it('recognises a v2 response page, its data an array or one object', () => {
    expect(classifyRecord({ data: [v2Tweet], includes: {}, meta: {} }).kind).toBe('v2-page');
    expect(classifyRecord({ data: v2Tweet, matching_rules: [] }).kind).toBe('v2-page');
    expect(classifyRecord({ meta: { result_count: 0 } })).toEqual({
      kind: 'notice',
      notice: 'empty-v2-page',
    });
  });

  it('recognises a delete notice', () => {
    const notice = { delete: { status: { id_str: '1', user_id_str: '2' }, timestamp_ms: '1' } };
    expect(classifyRecord(notice)).toEqual({ kind: 'delete', notice });
  });

  it.each(STREAM_NOTICE_KEYS.map((key) => [key]))('counts a %s message as a notice', (key) => {
    expect(classifyRecord({ [key]: { track: 1 } })).toEqual({ kind: 'notice', notice: key });
  });

  it('rejects anything else, saying what it was', () => {
    expect(classifyRecord({ hello: 'world', b: 1, c: 2 })).toEqual({
      kind: 'rejected',
      reason: 'not a tweet or known notice (keys: hello, b, c)',
    });
    expect(classifyRecord({})).toEqual({
      kind: 'rejected',
      reason: 'not a tweet or known notice (an empty object)',
    });
    expect(classifyRecord([v1Tweet])).toEqual({
      kind: 'rejected',
      reason: 'not a tweet or known notice (an array)',
    });
    expect(classifyRecord(42)).toEqual({ kind: 'rejected', reason: 'not a tweet or known notice (a number)' });
    expect(classifyRecord(null)).toEqual({ kind: 'rejected', reason: 'not a tweet or known notice (null)' });
    // A v1.1-looking object without its user is not a tweet either.
    expect(classifyRecord({ id_str: '1', text: 'x' }).kind).toBe('rejected');
  });

  it('keeps the reason short for objects with many or long keys', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`k${index}`, index]));
    const classified = classifyRecord({ ...many, ['x'.repeat(500)]: 1 });
    expect(classified.kind).toBe('rejected');
    if (classified.kind === 'rejected') {
      expect(classified.reason).toBe('not a tweet or known notice (keys: k0, k1, k2, k3, k4, k5, k6, k7, …)');
    }
    const long = classifyRecord({ ['y'.repeat(500)]: 1 });
    expect(long.kind === 'rejected' && long.reason.length).toBeLessThan(100);
  });
});
