import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  seededShuffle,
  startGoogleEmulators,
  storageNotificationFor,
  type GoogleEmulators,
  type StorageObjectEvent,
} from '../support/emulators.js';
import { pubsubEmulatorOrBanner } from '../support/pubsub-emulator-gate.js';
import { eventually, startService, type RunningService } from '../support/service.js';
import { tweetFileContent } from '../support/tweet-files.js';

// Fault case 7: a burst of 10,000 bucket notifications for 1,000 objects, shuffled, reaches the
// built service, which is killed with SIGKILL in the middle of it and replaced. Half the objects
// are notified once and half 19 times: a duplicate could hide a lost message, a single one
// cannot. If any message had been acked before its ledger row was committed, the kill would
// lose that object for good (Pub/Sub would not redeliver it): every object must still land,
// every tweet once, with the service's memory bounded by its flow control.

const available = pubsubEmulatorOrBanner();

const BUCKET = 'burst-archive';
const OBJECTS = 1_000;
// Copies of the notification of object i: 1 for the first half, 19 for the second (10,000 in all).
const copiesOf = (index: number): number => (index < OBJECTS / 2 ? 1 : 19);
const TWEETS_PER_OBJECT = 3;
const MAX_OUTSTANDING = 200;
// Peak RSS allowed to a replica through the burst. Measured ~190-230 MB at rest with two
// worker threads; flow control keeps at most MAX_OUTSTANDING small messages in memory.
const MAX_RSS_BYTES = 450 * 1024 * 1024;
// The subscription's ack deadline (10 s) plus a margin for the client's last lease extension.
const LEASE_RUN_OUT_MS = 15_000;

/** The peak resident set of a live process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += size) await Promise.all(items.slice(start, start + size).map(work));
}

describe.skipIf(!available)('fault: a burst of 10,000 notifications with a replica killed in the middle', () => {
  let google: GoogleEmulators;
  let database: TestDatabase;
  let client: pg.Client;
  const services: RunningService[] = [];
  const events: StorageObjectEvent[] = [];

  beforeAll(async () => {
    const started = await startGoogleEmulators(BUCKET);
    if (!started) throw new Error('the Pub/Sub emulator vanished between the check and the start');
    google = started;
    google.onObjectEvent((event) => void events.push(event));
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => (service.child.exitCode === null ? service.stop('SIGKILL') : undefined)));
    await client?.end();
    await database?.drop();
    await google?.stop();
  });

  function startReplica(): Promise<RunningService> {
    return startService({
      DATABASE_URL: database.url,
      STORAGE_URL: `gs://${BUCKET}`,
      PUBSUB_SUBSCRIPTION: google.subscription,
      PUBSUB_MAX_MESSAGES: String(MAX_OUTSTANDING),
      BACKFILL_CRON: 'off',
      EXECUTOR: 'threads',
      EXECUTOR_SIZE: '2',
      CONCURRENT_FILES: '8',
      LEASE_MS: '3000',
      POLL_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    }).then((service) => {
      services.push(service);
      return service;
    });
  }

  async function acked(service: RunningService): Promise<number> {
    const body = (await (await fetch(`${service.url}/health`)).json()) as { details: { notifications: { counts: { acked: number } } } };
    return body.details.notifications.counts.acked;
  }

  it('records every object once, loses nothing to the kill, and keeps memory bounded', async () => {
    const expectedIds: string[] = [];
    const names = Array.from({ length: OBJECTS }, (_, index) => `2020/05/${String(index).padStart(4, '0')}.json.gz`);
    await inBatches(names, 25, async (name) => {
      const index = Number(name.slice(8, 12));
      const ids = Array.from({ length: TWEETS_PER_OBJECT }, (_, tweet) => String(700_000_000_000_000_000n + BigInt(index * 10 + tweet)));
      expectedIds.push(...ids);
      await google.bucket.file(name).save(tweetFileContent(ids), { resumable: false });
    });
    const finalizes = events.filter((event) => event.eventType === 'OBJECT_FINALIZE');
    expect(finalizes).toHaveLength(OBJECTS);

    // The copies of each notification, in a shuffled order (a fixed seed: the same every run).
    const messages = seededShuffle(
      finalizes.flatMap((event) =>
        Array.from({ length: copiesOf(Number(event.object.name.slice(8, 12))) }, () => storageNotificationFor(event.eventType, event.object)),
      ),
      12_345,
    );
    expect(messages).toHaveLength(10_000);

    const first = await startReplica();
    const publishing = inBatches(messages, 500, (message) => google.topic.publishMessage(message));
    // Killed once it has acked a fifth of the burst: mid-stream, with messages outstanding.
    await eventually(async () => ((await acked(first)) >= messages.length / 5 ? true : undefined), 60_000, 'a fifth of the burst acked');
    const firstPeak = peakRss(first.child.pid!);
    expect(await first.stop('SIGKILL')).toBeNull();
    const killedAt = Date.now();
    await publishing;

    const second = await startReplica();
    const ledger = await eventually(
      async () => {
        const { rows } = await client.query<{ status: string; files: number }>(
          `SELECT status, count(*)::int AS files FROM ingest_files GROUP BY status ORDER BY status`,
        );
        return rows.length === 1 && rows[0]!.status === 'done' && rows[0]!.files === OBJECTS ? rows : undefined;
      },
      120_000,
      `all ${OBJECTS} objects done`,
    );
    expect(ledger).toEqual([{ status: 'done', files: OBJECTS }]);

    // One ledger row per object generation, and every tweet exactly once.
    const { rows: generations } = await client.query<{ name: string; generation: string }>(
      'SELECT name, generation FROM ingest_files ORDER BY name',
    );
    expect(generations).toEqual(
      finalizes.map((event) => ({ name: event.object.name, generation: event.object.generation })).sort((a, b) => a.name.localeCompare(b.name)),
    );
    const { rows: tweets } = await client.query<{ total: number; distinct_ids: number }>(
      'SELECT count(*)::int AS total, count(DISTINCT id)::int AS distinct_ids FROM tweets',
    );
    expect(tweets[0]).toEqual({ total: OBJECTS * TWEETS_PER_OBJECT, distinct_ids: OBJECTS * TWEETS_PER_OBJECT });
    const { rows: missing } = await client.query<{ missing: number }>(
      'SELECT count(*)::int AS missing FROM unnest($1::bigint[]) AS expected(id) WHERE NOT EXISTS (SELECT 1 FROM tweets t WHERE t.id = expected.id)',
      [expectedIds],
    );
    expect(missing[0]!.missing).toBe(0);

    // The rest of the burst, and what the killed replica held unacked, reach the survivor once
    // the killed replica's leases run out (the ack deadline, 10 s, after its last extension).
    // Until then those messages are invisible to a pull, so "drained" is only checked after.
    await eventually(
      async () => {
        if (Date.now() - killedAt < LEASE_RUN_OUT_MS) return undefined;
        return (await google.pulledNothing()) ? true : undefined;
      },
      90_000,
      'the subscription drained',
    );

    const secondPeak = peakRss(second.child.pid!);
    process.stderr.write(`burst of ${messages.length}: peak RSS ${Math.round(firstPeak / 2 ** 20)} MB (killed replica), ${Math.round(secondPeak / 2 ** 20)} MB (survivor)\n`);
    expect(firstPeak).toBeLessThan(MAX_RSS_BYTES);
    expect(secondPeak).toBeLessThan(MAX_RSS_BYTES);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 240_000);
});
