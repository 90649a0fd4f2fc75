import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, digestTweetIds, type CorpusManifest } from '../support/corpus-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  seededShuffle,
  startGoogleEmulators,
  storageNotificationFor,
  type GoogleEmulators,
  type StorageObjectEvent,
} from '../support/emulators.js';
import { pubsubEmulatorOrBanner } from '../support/pubsub-emulator-gate.js';
import { eventually, runCli, startService, type RunningService } from '../support/service.js';
import { tweetFileContent } from '../support/tweet-files.js';

// The built service against both emulators, wired as in production: objects are uploaded to
// the storage emulator, which reports each finalize/delete; the test publishes those events to
// the bucket's notification topic exactly as GCS does (JSON_API_V1), and the service
// subscribes. The scheduled scan is off, so notifications are the only way files are found.

const available = pubsubEmulatorOrBanner();

const BUCKET = 'tweet-archive';
const ROOT = 'tweets/';

interface LedgerRow {
  name: string;
  generation: string;
  status: string;
  attempts: number;
  tweets: number;
  error: string | null;
}

interface SubscriberDetail {
  source: string;
  connected: boolean;
  counts: { received: number; acked: number; ignored: number; malformed: number; nacked: number };
}

describe.skipIf(!available)('the built service on the Pub/Sub and storage emulators', () => {
  let google: GoogleEmulators;
  let database: TestDatabase;
  let admin: pg.Client;
  let client: pg.Client;
  let service: RunningService;
  let corpusDir: string;
  // What happens to the storage emulator's object events: recorded (and published by the test
  // itself), or published at once as a GCS notification configuration would.
  const onEvent = (handler: (event: StorageObjectEvent) => Promise<void>) => google.onObjectEvent(handler);
  const publish = (message: { data: Buffer; attributes: Record<string, string> }) => google.topic.publishMessage(message);

  beforeAll(async () => {
    const started = await startGoogleEmulators(BUCKET);
    if (!started) throw new Error('the Pub/Sub emulator vanished between the check and the start');
    google = started;
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    corpusDir = await mkdtemp(path.join(tmpdir(), 'gcs-pubsub-e2e-'));
    service = await startService(serviceEnvironment());
  });

  afterAll(async () => {
    if (service?.child.exitCode === null) await service.stop('SIGKILL');
    await client?.end();
    if (database) await admin?.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await database?.drop();
    await google?.stop();
    if (corpusDir) await rm(corpusDir, { recursive: true, force: true });
  });

  function serviceEnvironment(): Record<string, string> {
    return {
      DATABASE_URL: database.url,
      STORAGE_URL: `gs://${BUCKET}/${ROOT}`,
      PUBSUB_SUBSCRIPTION: google.subscription,
      BACKFILL_CRON: 'off',
      EXECUTOR: 'threads',
      EXECUTOR_SIZE: '2',
      POLL_INTERVAL_MS: '200',
      RETRY_BASE_MS: '200',
      LOG_LEVEL: 'info',
    };
  }

  async function upload(name: string, content: Buffer): Promise<string> {
    const file = google.bucket.file(name);
    await file.save(content, { resumable: false, validation: 'crc32c' });
    return String(file.metadata.generation);
  }

  async function ledger(): Promise<LedgerRow[]> {
    const { rows } = await client.query<LedgerRow>(
      `SELECT name, generation, status, attempts, tweets::int, error FROM ingest_files ORDER BY name, generation::numeric`,
    );
    return rows;
  }

  async function tweetIds(): Promise<string[]> {
    const { rows } = await client.query<{ id: string }>('SELECT id::text FROM tweets ORDER BY id');
    return rows.map((row) => row.id);
  }

  /** The subscriber's state as /health reports it (answered even while the database is down). */
  async function subscriber(): Promise<{ ready: boolean; detail: SubscriberDetail }> {
    const response = await fetch(`${service.url}/health`);
    const body = (await response.json()) as { details: { notifications: SubscriberDetail } };
    const ready = (await fetch(`${service.url}/health/ready`)).status === 200;
    return { ready, detail: body.details.notifications };
  }

  async function allDone(expectedFiles: number): Promise<LedgerRow[]> {
    return eventually(
      async () => {
        const rows = await ledger();
        return rows.length === expectedFiles && rows.every((row) => row.status === 'done' || row.status === 'failed') ? rows : undefined;
      },
      60_000,
      `${expectedFiles} files finished`,
    );
  }

  async function expectDrained(): Promise<void> {
    expect(await google.pulledNothing()).toBe(true);
  }

  let manifest: CorpusManifest;
  const uploaded: { name: string; generation: string }[] = [];

  it('ingests every notified file once, whatever the duplicates, order, deletes and garbage on the topic', async () => {
    manifest = await generateCorpus({ outDir: corpusDir, files: 7, tweetsPerFile: 30, seed: 31, quirks: true });
    const events: StorageObjectEvent[] = [];
    onEvent(async (event) => {
      events.push(event);
    });
    for (const file of manifest.files) {
      const name = `${ROOT}${file.name}`;
      uploaded.push({ name, generation: await upload(name, await readFile(path.join(corpusDir, file.name))) });
    }
    // An object outside the configured prefix, created and deleted: two events to ignore.
    await upload('scratch/notes.txt', Buffer.from('not for us'));
    await google.bucket.file('scratch/notes.txt').delete();
    expect(events.map((event) => event.eventType)).toEqual([...manifest.files.map(() => 'OBJECT_FINALIZE'), 'OBJECT_FINALIZE', 'OBJECT_DELETE']);

    const finalizes = events.slice(0, manifest.files.length).map((event) => storageNotificationFor(event.eventType, event.object));
    // A delete of a file we did ingest (as after a lifecycle rule) must not undo anything.
    const deleteOfIngested = storageNotificationFor('OBJECT_DELETE', events[0]!.object);
    const strays = events.slice(manifest.files.length).map((event) => storageNotificationFor(event.eventType, event.object));
    const garbage = { data: Buffer.from('hello from a stray publisher'), attributes: {} };
    const messages = seededShuffle([...finalizes, ...finalizes, deleteOfIngested, ...strays, garbage], 7);
    await Promise.all(messages.map(publish));

    const rows = await allDone(manifest.files.length);
    // One ledger row per object generation, each the generation GCS gave the upload, each once.
    expect(rows.map((row) => ({ name: row.name, generation: row.generation }))).toEqual(
      [...uploaded].sort((a, b) => a.name.localeCompare(b.name)),
    );
    expect(rows.every((row) => row.status === 'done' && row.attempts === 1)).toBe(true);
    expect(rows.reduce((sum, row) => sum + row.tweets, 0)).toBe(manifest.expected.totalTweetRows);
    const ids = await tweetIds();
    expect(ids).toHaveLength(manifest.expected.distinctTweetIds);
    expect(digestTweetIds(ids)).toBe(manifest.expected.tweetIdsSha256);
    const { rows: rejected } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM rejected_records');
    expect(rejected[0]!.count).toBe(manifest.expected.totalRejected);

    // Every message acked (after its row was committed), garbage included; none nacked.
    const { detail } = await eventually(async () => {
      const state = await subscriber();
      return state.detail.counts.acked === messages.length ? state : undefined;
    }, 30_000, `all ${messages.length} messages acked`);
    expect(detail).toMatchObject({ source: 'pubsub', connected: true });
    expect(detail.counts).toEqual({ received: messages.length, acked: messages.length, ignored: 3, malformed: 1, nacked: 0 });
    await expectDrained();
  });

  it('ingests an overwritten object again as a new generation, and reports publish-to-commit latency', async () => {
    const published = new Map<string, number>();
    onEvent(async ({ eventType, object }) => {
      if (object.bucket !== BUCKET) return;
      published.set(`${object.name}#${object.generation}`, Date.now());
      await publish(storageNotificationFor(eventType, object));
    });
    const target = uploaded[0]!.name;
    const newIds = Array.from({ length: 25 }, (_, index) => String(800_000_000_000_000_000n + BigInt(index)));
    const generation = await upload(target, tweetFileContent(newIds));
    expect(generation).not.toBe(uploaded[0]!.generation);

    const rows = await allDone(manifest.files.length + 1);
    const versions = rows.filter((row) => row.name === target);
    expect(versions.map((row) => [row.generation, row.status])).toEqual([
      [uploaded[0]!.generation, 'done'],
      [generation, 'done'],
    ]);
    expect(versions[1]!.tweets).toBe(25);
    const ids = new Set(await tweetIds());
    expect(newIds.every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(manifest.expected.distinctTweetIds + 25);

    // Latency from publishing the notification to the file's rows committed, on the emulators
    // (reported, not asserted: benchmarks measure, tests stay deterministic).
    const latencies: number[] = [];
    for (let sample = 0; sample < 5; sample += 1) {
      const name = `${ROOT}latency/${sample}.json.gz`;
      const sampleGeneration = await upload(name, tweetFileContent([String(810_000_000_000_000_000n + BigInt(sample))]));
      const finishedAt = await eventually(async () => {
        const { rows: finished } = await client.query<{ finished: Date }>(
          `SELECT finished_at AS finished FROM ingest_files WHERE name = $1 AND generation = $2 AND status = 'done'`,
          [name, sampleGeneration],
        );
        return finished[0]?.finished;
      }, 30_000, `${name} done`);
      latencies.push(finishedAt.getTime() - published.get(`${name}#${sampleGeneration}`)!);
    }
    latencies.sort((a, b) => a - b);
    process.stderr.write(`publish -> rows committed on the emulators: median ${latencies[2]} ms (samples ${latencies.join(', ')} ms)\n`);
    expect(latencies.every((latency) => latency >= 0)).toBe(true);
    await allDone(manifest.files.length + 6);
  });

  it('while the database is unreachable acks nothing, and lands every notified file once it is back', async () => {
    onEvent(async ({ eventType, object }) => {
      if (object.bucket === BUCKET) await publish(storageNotificationFor(eventType, object));
    });
    const before = (await subscriber()).detail.counts;
    const filesBefore = (await ledger()).length;

    // The service's database refuses connections from now on, and loses the ones it has
    // (ours too: it is closed first and reopened after).
    await client.end();
    await admin.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [database.name]);
    let restored = false;
    try {
      const outageIds = Array.from({ length: 3 }, (_, file) => Array.from({ length: 10 }, (_, index) => String(820_000_000_000_000_000n + BigInt(file * 100 + index))));
      for (const [file, ids] of outageIds.entries()) await upload(`${ROOT}outage/${file}.json.gz`, tweetFileContent(ids));

      // Each of the three is delivered, fails to register and is nacked, again and again.
      const during = await eventually(async () => {
        const state = await subscriber();
        return state.detail.counts.nacked >= before.nacked + 6 && !state.ready ? state : undefined;
      }, 30_000, 'the three notifications nacked, redelivered and nacked again, and /health/ready false');
      expect(during.detail.counts.acked).toBe(before.acked);
      expect(during.detail.counts.received).toBeGreaterThanOrEqual(before.received + 3);

      await admin.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`);
      restored = true;
      client = new pg.Client({ connectionString: database.url });
      await client.connect();

      const rows = await allDone(filesBefore + 3);
      const outage = rows.filter((row) => row.name.startsWith(`${ROOT}outage/`));
      expect(outage.map((row) => [row.name, row.status, row.tweets])).toEqual([
        [`${ROOT}outage/0.json.gz`, 'done', 10],
        [`${ROOT}outage/1.json.gz`, 'done', 10],
        [`${ROOT}outage/2.json.gz`, 'done', 10],
      ]);
      const ids = new Set(await tweetIds());
      expect(outageIds.flat().every((id) => ids.has(id))).toBe(true);
      const after = await eventually(async () => {
        const state = await subscriber();
        return state.ready && state.detail.counts.acked === before.acked + 3 ? state : undefined;
      }, 30_000, 'the three notifications acked and /health/ready true');
      expect(after.detail.connected).toBe(true);
      await expectDrained();
    } finally {
      if (!restored) await admin.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`);
    }
  });

  it('`ingest gs://…` lists the bucket page by page and ingests every object under the prefix', async () => {
    onEvent(async () => {});
    const written: string[] = [];
    for (let file = 0; file < 10; file += 1) {
      const ids = [String(830_000_000_000_000_000n + BigInt(file * 10)), String(830_000_000_000_000_001n + BigInt(file * 10))];
      await upload(`paged/2019/03/${String(file).padStart(2, '0')}.json.gz`, tweetFileContent(ids));
      written.push(...ids);
    }
    const pagedDatabase = await createTestDatabase();
    try {
      // Four objects per list request: three pages. Reading only the first would land 4 files.
      const result = await runCli(['ingest', `gs://${BUCKET}/paged/2019`], {
        DATABASE_URL: pagedDatabase.url,
        STORAGE_LIST_PAGE_SIZE: '4',
        EXECUTOR: 'inline',
      });
      expect(result.code, result.stderr).toBe(0);
      const check = new pg.Client({ connectionString: pagedDatabase.url });
      await check.connect();
      try {
        const { rows } = await check.query<{ status: string; files: number }>(`SELECT status, count(*)::int AS files FROM ingest_files GROUP BY status`);
        expect(rows).toEqual([{ status: 'done', files: 10 }]);
        const { rows: tweets } = await check.query<{ id: string }>('SELECT id::text FROM tweets ORDER BY id');
        expect(tweets.map((row) => row.id)).toEqual([...written].sort());
      } finally {
        await check.end();
      }
    } finally {
      await pagedDatabase.drop();
    }
  });

  it('on SIGTERM closes the subscription, then the database, and exits 0', async () => {
    const code = await service.stop('SIGTERM');
    expect(code).toBe(0);
    // Ordered by the lines' own timestamps: under load they can reach the pipe out of order.
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; time: number });
    const at = (message: string) => lines.find((line) => line.msg === message)?.time;
    const stoppedListening = at('stopped listening for storage notifications');
    const shutdownComplete = at('shutdown complete');
    const databaseClosed = at('database connections closed');
    expect(stoppedListening).toBeDefined();
    expect(databaseClosed).toBeDefined();
    expect(databaseClosed).toBeGreaterThanOrEqual(stoppedListening!);
    expect(shutdownComplete).toBeGreaterThanOrEqual(databaseClosed!);
    await expectDrained();
  });
});
