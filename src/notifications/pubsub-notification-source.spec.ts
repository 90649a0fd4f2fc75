import { randomUUID } from 'node:crypto';
import { PubSub, v1, type Topic } from '@google-cloud/pubsub';
import pino, { type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '@google-cloud/storage';
import {
  freePort,
  publishStorageNotifications,
  startPubSubEmulator,
  startStorageEmulator,
  storageNotification,
  waitUntil,
  type PubSubEmulator,
} from '../../test/support/emulators.js';
import { pubsubEmulatorOrBanner } from '../../test/support/pubsub-emulator-gate.js';
import { GcsObjectStore } from '../storage/gcs-object-store.js';
import type { StoredObject } from '../storage/object-store.js';
import { PubSubNotificationSource, resolveSubscriptionName, type ObjectRegistrar } from './pubsub-notification-source.js';

const available = pubsubEmulatorOrBanner();

const BUCKET = 'tweet-archive';
const ROOT_PREFIX = 'archive/';

describe('resolveSubscriptionName', () => {
  it('accepts a full name, or a short name with a project', () => {
    expect(resolveSubscriptionName('projects/acme-data/subscriptions/tweets')).toEqual({
      projectId: 'acme-data',
      name: 'projects/acme-data/subscriptions/tweets',
    });
    // The full name's project wins: the subscription may live in another project.
    expect(resolveSubscriptionName('projects/acme-data/subscriptions/tweets', 'other')).toMatchObject({ projectId: 'acme-data' });
    expect(resolveSubscriptionName('tweets', 'acme-data')).toEqual({ projectId: 'acme-data', name: 'projects/acme-data/subscriptions/tweets' });
  });

  it('says what is missing', () => {
    expect(() => resolveSubscriptionName('tweets')).toThrow(/GOOGLE_CLOUD_PROJECT/);
    expect(() => resolveSubscriptionName('projects/acme/topics/tweets')).toThrow(/expected projects\/PROJECT\/subscriptions\/NAME/);
  });
});

/** Records every call; fails the first `failures` calls as an unavailable database would. */
class RecordingRegistrar implements ObjectRegistrar {
  readonly calls: { objects: StoredObject[]; failed: boolean }[] = [];
  readonly registered = new Map<string, StoredObject>();
  pending = 0;
  maxPending = 0;

  constructor(private failures = 0, private readonly latencyMs = 0) {}

  async registerObjects(objects: StoredObject[]): Promise<void> {
    this.pending += 1;
    this.maxPending = Math.max(this.maxPending, this.pending);
    try {
      // A slow commit, to build up a backlog of outstanding messages.
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      if (this.failures > 0) {
        this.failures -= 1;
        this.calls.push({ objects, failed: true });
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      }
      this.calls.push({ objects, failed: false });
      for (const object of objects) this.registered.set(`${object.bucket}/${object.name}#${object.generation}`, object);
    } finally {
      this.pending -= 1;
    }
  }
}

/** A registrar whose calls stay open until the test releases them. */
class GatedRegistrar implements ObjectRegistrar {
  readonly waiting: { objects: StoredObject[]; release: () => void }[] = [];
  readonly committed: StoredObject[] = [];

  registerObjects(objects: StoredObject[]): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({
        objects,
        release: () => {
          this.committed.push(...objects);
          resolve();
        },
      });
    });
  }
}

interface LogLine {
  level: number;
  msg: string;
  messageId?: string;
  reason?: string;
}

function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

function eventually(check: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  return waitUntil(check, { timeoutMs, intervalMs: 25, describe: what });
}

function shuffle<T>(items: T[]): T[] {
  const result = [...items];
  for (let index = result.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

function objectNamed(name: string, generation: string, size = 1000): StoredObject {
  return { bucket: BUCKET, name, generation, size, updated: new Date('2024-03-01T00:00:00.000Z') };
}

describe.skipIf(!available)('PubSubNotificationSource on the Pub/Sub emulator', () => {
  let emulator: PubSubEmulator;
  let admin: PubSub;
  let raw: v1.SubscriberClient;
  const sources: PubSubNotificationSource[] = [];

  beforeAll(async () => {
    const started = await startPubSubEmulator();
    if (!started) throw new Error('the emulator binary vanished between the check and the start');
    emulator = started;
    // Read by @google-cloud/pubsub when a client is constructed; this file runs in its own process.
    process.env.PUBSUB_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    admin = new PubSub({ projectId: emulator.projectId });
    // A plain synchronous-pull client, to look at what is left on a subscription.
    const { port, ...config } = await admin.getClientConfig();
    raw = new v1.SubscriberClient({ ...config, port: Number(port) });
  });

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.close()));
  });

  afterAll(async () => {
    await raw?.close();
    await admin?.close();
    await emulator?.stop();
  });

  async function topicWithSubscription(options: { ackDeadlineSeconds?: number } = {}): Promise<{ topic: Topic; subscription: string }> {
    const id = randomUUID();
    const [topic] = await admin.createTopic(`notifications-${id}`);
    const [subscription] = await topic.createSubscription(`ingest-${id}`, { ackDeadlineSeconds: options.ackDeadlineSeconds ?? 10 });
    return { topic, subscription: subscription.name };
  }

  function newSource(subscription: string, registrar: ObjectRegistrar, logger: Logger, overrides: { maxMessages?: number; pubsub?: PubSub; closeTimeoutMs?: number } = {}): PubSubNotificationSource {
    const source = new PubSubNotificationSource({
      subscription: subscription.split('/').pop()!,
      projectId: emulator.projectId,
      bucket: BUCKET,
      rootPrefix: ROOT_PREFIX,
      maxMessages: overrides.maxMessages ?? 100,
      maxBytes: 10 * 1024 * 1024,
      registrar,
      logger,
      pubsub: overrides.pubsub,
      closeTimeoutMs: overrides.closeTimeoutMs,
    });
    sources.push(source);
    return source;
  }

  /** Nothing left to deliver: every message was acked (a nacked or abandoned one would be here). */
  async function expectDrained(subscription: string): Promise<void> {
    const [response] = await raw.pull({ subscription, maxMessages: 100, returnImmediately: true });
    expect(response.receivedMessages ?? []).toEqual([]);
  }

  it('registers each notified object, acks duplicates, ignores the rest, and drains the subscription', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const registrar = new RecordingRegistrar();
    const { logger, lines } = memoryLogger();
    const source = newSource(subscription, registrar, logger);
    expect(source.state()).toEqual({
      connected: false,
      lastMessageAt: null,
      lastError: null,
      counts: { received: 0, acked: 0, ignored: 0, malformed: 0, nacked: 0 },
    });
    await source.start();

    const objects = [
      objectNamed('archive/2024/03/01.json.gz', '1709251200000001', 1_234_567),
      objectNamed('archive/2024/03/02.json.gz', '1709337600000002', 2_345_678),
      objectNamed('archive/2024/03/03.json.gz', '1709424000000003', 12),
      objectNamed('archive/2024/04/01.json.gz', '1711929600000004', 107_374_182_400),
      // The same name overwritten: a new generation is a new object to ingest.
      objectNamed('archive/2024/03/01.json.gz', '1709251299999999', 1_300_000),
    ];
    const wanted = objects.flatMap((object) => [storageNotification(object), storageNotification(object)]);
    const deleted = storageNotification(objects[0]!, 'OBJECT_DELETE');
    const otherBucket = storageNotification({ ...objects[1]!, bucket: 'someone-elses-bucket' });
    const outsidePrefix = storageNotification({ ...objects[2]!, name: 'scratch/notes.txt' });
    const notJson = { data: Buffer.from('hello from a stray publisher'), attributes: {} };
    const finalizeNotJson = { ...storageNotification(objects[3]!), data: Buffer.from('{truncated') };
    const messages = shuffle([...wanted, deleted, otherBucket, outsidePrefix, notJson, finalizeNotJson]);

    const ids = await Promise.all(messages.map((message) => topic.publishMessage(message)));
    const notJsonId = ids[messages.indexOf(notJson)];
    const total = messages.length;

    await eventually(
      () => source.state().counts.acked === total,
      () => `all ${total} messages acked; state ${JSON.stringify(source.state())}`,
    );
    await source.close();

    expect(source.state().counts).toEqual({ received: total, acked: total, ignored: 3, malformed: 2, nacked: 0 });
    expect(registrar.calls).toHaveLength(wanted.length);
    expect(registrar.calls.every((call) => call.objects.length === 1 && !call.failed)).toBe(true);
    expect([...registrar.registered.values()].sort(byKey)).toEqual([...objects].sort(byKey));
    expect(source.state().lastMessageAt).not.toBeNull();
    expect(source.state().lastError).toBeNull();
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(2);
    expect(warnings.map((line) => line.messageId)).toContain(notJsonId);
    expect(warnings.every((line) => line.msg.includes('malformed'))).toBe(true);
    await expectDrained(subscription);
  });

  it('nacks while the registrar fails, lands everything after recovery, never acks early', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const registrar = new RecordingRegistrar(6);
    const { logger, lines } = memoryLogger();
    const source = newSource(subscription, registrar, logger);
    await source.start();

    const objects = [
      objectNamed('archive/2024/05/01.json.gz', '1714521600000001'),
      objectNamed('archive/2024/05/02.json.gz', '1714608000000002'),
      objectNamed('archive/2024/05/03.json.gz', '1714694400000003'),
    ];
    for (const object of objects) await topic.publishMessage(storageNotification(object));

    await eventually(
      () => registrar.registered.size === objects.length && source.state().counts.acked === objects.length,
      () => `recovery; registrar calls ${registrar.calls.length}, state ${JSON.stringify(source.state())}`,
    );
    await source.close();

    const { counts, lastError } = source.state();
    // Every failed call was nacked and redelivered; every ack followed a successful call.
    expect(counts.nacked).toBe(6);
    expect(counts.acked).toBe(objects.length);
    expect(counts.received).toBe(6 + objects.length);
    expect(registrar.calls.filter((call) => call.failed)).toHaveLength(6);
    expect(registrar.calls.filter((call) => !call.failed)).toHaveLength(objects.length);
    expect([...registrar.registered.values()].sort(byKey)).toEqual([...objects].sort(byKey));
    expect(lastError).toContain('ECONNREFUSED');
    // One error for the outage, then quiet until it is over.
    expect(lines.filter((line) => line.level === 50)).toHaveLength(1);
    expect(lines.some((line) => line.msg === 'registering notified objects works again')).toBe(true);
    await expectDrained(subscription);
  });

  it('acks only after the registrar resolved, and reports unhealthy while it fails', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const gated = new GatedRegistrar();
    let failNext = true;
    const registrar: ObjectRegistrar = {
      registerObjects: async (objects) => {
        if (failNext) {
          failNext = false;
          throw new Error('database unavailable');
        }
        return gated.registerObjects(objects);
      },
    };
    const source = newSource(subscription, registrar, memoryLogger().logger);
    await source.start();
    await eventually(() => source.state().connected, () => 'connected');
    expect(source.healthy()).toBe(true);

    await topic.publishMessage(storageNotification(objectNamed('archive/2024/06/01.json.gz', '1717200000000001')));

    await eventually(() => source.state().counts.nacked === 1, () => `a nack; ${JSON.stringify(source.state())}`);
    expect(source.healthy()).toBe(false);
    expect(source.state().lastError).toContain('database unavailable');
    await eventually(() => gated.waiting.length === 1, () => 'the redelivery to reach the registrar');
    // The commit is still running: nothing may be acked yet.
    expect(source.state().counts.acked).toBe(0);
    expect(gated.committed).toEqual([]);

    gated.waiting[0]!.release();
    await eventually(() => source.state().counts.acked === 1, () => `the ack; ${JSON.stringify(source.state())}`);
    expect(source.healthy()).toBe(true);
    await source.close();
    await expectDrained(subscription);
  });

  it('close() stops pulling and waits for in-flight handlers to commit and ack', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const gated = new GatedRegistrar();
    const source = newSource(subscription, gated, memoryLogger().logger);
    await source.start();
    await topic.publishMessage(storageNotification(objectNamed('archive/2024/07/01.json.gz', '1719792000000001')));
    await eventually(() => gated.waiting.length === 1, () => 'the message to reach the registrar');

    let closed = false;
    const closing = source.close().then(() => {
      closed = true;
    });
    // Let close() get as far as it can on its own: it must be waiting for the handler.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(source.healthy()).toBe(false);

    gated.waiting[0]!.release();
    await closing;
    expect(source.state().counts).toMatchObject({ received: 1, acked: 1, nacked: 0 });
    await expectDrained(subscription);
  });

  it('close() gives up on a handler stuck past closeTimeoutMs without acking its message', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const gated = new GatedRegistrar();
    const source = newSource(subscription, gated, memoryLogger().logger, { closeTimeoutMs: 1500 });
    await source.start();
    const id = await topic.publishMessage(storageNotification(objectNamed('archive/2024/07/02.json.gz', '1719878400000002')));
    await eventually(() => gated.waiting.length === 1, () => 'the message to reach the registrar');

    const started = performance.now();
    await source.close();

    expect(performance.now() - started).toBeLessThan(5_000);
    expect(source.state().counts.acked).toBe(0);
    // Nacked by the shutdown: available again at once, for another replica.
    const [response] = await raw.pull({ subscription, maxMessages: 10, returnImmediately: true });
    expect((response.receivedMessages ?? []).map((received) => received.message?.messageId)).toEqual([id]);
    // The late commit finishes after shutdown: harmless (the ledger insert is idempotent), and
    // not counted as an ack, since the message was already released.
    gated.waiting[0]!.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(gated.committed).toHaveLength(1);
    expect(source.state().counts.acked).toBe(0);
  });

  it('never has more than maxMessages notifications outstanding', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const registrar = new RecordingRegistrar(0, 30);
    const source = newSource(subscription, registrar, memoryLogger().logger, { maxMessages: 2 });
    const objects = Array.from({ length: 12 }, (_, index) => objectNamed(`archive/2024/08/${String(index).padStart(2, '0')}.json.gz`, `17224704000000${String(index + 10)}`));
    // Published before the subscriber starts, so the whole backlog is waiting for it.
    await Promise.all(objects.map((object) => topic.publishMessage(storageNotification(object))));
    await source.start();

    await eventually(
      () => source.state().counts.acked === objects.length,
      () => `all acked; ${JSON.stringify(source.state())}`,
    );

    expect(registrar.maxPending).toBe(2);
    expect(registrar.registered.size).toBe(objects.length);
    expect(source.state().counts.received).toBe(objects.length);
  });

  it('reopens a subscription that did not exist yet, once it is created', async () => {
    const id = randomUUID();
    const [topic] = await admin.createTopic(`notifications-${id}`);
    const subscription = `projects/${emulator.projectId}/subscriptions/ingest-${id}`;
    const registrar = new RecordingRegistrar();
    const source = newSource(subscription, registrar, memoryLogger().logger);
    await source.start();

    await eventually(() => (source.state().lastError ?? '').includes('NOT_FOUND') || (source.state().lastError ?? '').includes('does not exist'), () => `a NOT_FOUND error; ${JSON.stringify(source.state())}`);
    expect(source.state().connected).toBe(false);
    expect(source.healthy()).toBe(false);

    await topic.createSubscription(`ingest-${id}`);
    await eventually(() => source.state().connected, () => `reconnected; ${JSON.stringify(source.state())}`);
    await topic.publishMessage(storageNotification(objectNamed('archive/2024/09/01.json.gz', '1725148800000001')));
    await eventually(() => registrar.registered.size === 1 && source.state().counts.acked === 1, () => `delivery; ${JSON.stringify(source.state())}`);
    expect(source.healthy()).toBe(true);
  });

  it('registers uploads to the storage emulator, notified as GCS does, with the generation and size the store reports', async () => {
    const { topic, subscription } = await topicWithSubscription();
    const storageEmulator = await startStorageEmulator({ onObjectEvent: publishStorageNotifications(topic, BUCKET) });
    const previousHost = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = storageEmulator.host;
    try {
      const bucket = new Storage({ projectId: emulator.projectId }).bucket(BUCKET);
      const store = new GcsObjectStore({ url: `gs://${BUCKET}/${ROOT_PREFIX}` });
      const registrar = new RecordingRegistrar();
      const source = newSource(subscription, registrar, memoryLogger().logger);
      await source.start();

      const names = ['archive/2024/11/a.json.gz', 'archive/2024/11/b.json.gz', 'scratch/ignored.txt'];
      const started = performance.now();
      for (const name of names) await bucket.file(name).save(`content of ${name}`, { resumable: false });
      await bucket.file('archive/2024/11/a.json.gz').delete();
      await eventually(() => source.state().counts.acked === 4, () => `4 notifications; ${JSON.stringify(source.state())}`);
      const latencyMs = performance.now() - started;

      expect(source.state().counts).toEqual({ received: 4, acked: 4, ignored: 2, malformed: 0, nacked: 0 });
      const listed: StoredObject[] = [];
      for await (const page of store.list()) listed.push(...page);
      const b = listed.find((object) => object.name === 'archive/2024/11/b.json.gz');
      expect(registrar.registered.get(`${BUCKET}/archive/2024/11/b.json.gz#${b?.generation}`)).toEqual(b);
      expect([...registrar.registered.keys()].map((key) => key.split('#')[0]).sort()).toEqual([
        `${BUCKET}/archive/2024/11/a.json.gz`,
        `${BUCKET}/archive/2024/11/b.json.gz`,
      ]);
      process.stderr.write(`upload -> notification -> registrar: ${latencyMs.toFixed(0)} ms for 4 events\n`);
      await source.close();
      await expectDrained(subscription);
    } finally {
      if (previousHost === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = previousHost;
      await storageEmulator.stop();
    }
  });

  it('survives the Pub/Sub server going away and coming back', async () => {
    // A private emulator on a fixed port, so it can come back at the same address.
    const port = await freePort();
    let own = await startPubSubEmulator({ port });
    if (!own) throw new Error('emulator missing');
    const client = new PubSub({ projectId: own.projectId, apiEndpoint: own.host, emulatorMode: true });
    try {
      const create = async (): Promise<Topic> => {
        const [topic] = await client.createTopic('notifications-restart');
        await topic.createSubscription('ingest-restart');
        return topic;
      };
      let topic = await create();
      const registrar = new RecordingRegistrar();
      const source = newSource('ingest-restart', registrar, memoryLogger().logger, { pubsub: client });
      await source.start();
      await topic.publishMessage(storageNotification(objectNamed('archive/2024/10/01.json.gz', '1727740800000001')));
      await eventually(() => registrar.registered.size === 1, () => 'first delivery');
      expect(source.state().connected).toBe(true);

      await own.stop();
      await eventually(() => !source.state().connected, () => `disconnected; ${JSON.stringify(source.state())}`);
      expect(source.healthy()).toBe(false);
      // A server that dies resets the streams it was serving (13 INTERNAL, "Received RST_STREAM")
      // and, once gone, refuses new ones (14 UNAVAILABLE); which of the two the source saw last
      // when the channel dropped is a matter of timing (both seen on the emulator). Routine ends
      // (0, 4) and other errors do not match.
      expect(source.state().lastError).toMatch(/status (13|14)\b|UNAVAILABLE/);

      // The emulator keeps everything in memory: topic and subscription come back empty.
      own = await startPubSubEmulator({ port });
      if (!own) throw new Error('emulator missing');
      topic = await create();
      await topic.publishMessage(storageNotification(objectNamed('archive/2024/10/02.json.gz', '1727827200000002')));
      await eventually(() => registrar.registered.size === 2, () => `delivery after the restart; ${JSON.stringify(source.state())}`, 90_000);
      expect(source.state().connected).toBe(true);
      expect(source.healthy()).toBe(true);
      await source.close();
    } finally {
      await client.close();
      await own?.stop();
    }
  }, 180_000);
});

function byKey(a: StoredObject, b: StoredObject): number {
  const left = `${a.name}#${a.generation}`;
  const right = `${b.name}#${b.generation}`;
  return left < right ? -1 : left > right ? 1 : 0;
}
