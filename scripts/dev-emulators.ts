// Runs the two Google emulators for local development and prints the environment that
// points tweet-ingest at them:
//
//   npx tsx scripts/dev-emulators.ts [--bucket B] [--prefix P] [--upload DIR]
//                                    [--pubsub-port 8085] [--storage-port 9199]
//
// - the Firebase Storage emulator (in this process) serves the GCS JSON API;
// - Google's Pub/Sub emulator (a child process) holds a topic wired to the bucket the way
//   `gcloud storage buckets notifications create` wires a real one: every upload to the
//   bucket publishes an OBJECT_FINALIZE notification with a JSON_API_V1 body, every delete an
//   OBJECT_DELETE; plus the service's subscription with a dead-letter topic;
// - --upload copies a folder's files into the bucket (under the prefix) once both are up.
// Ctrl-C stops both. Everything lives in memory: a restart starts empty.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import {
  freePort,
  publishStorageNotifications,
  requireEmulatorBanner,
  startPubSubEmulator,
  startStorageEmulator,
  type PubSubEmulator,
  type StorageEmulator,
  type StorageObjectEvent,
} from '../test/support/emulators.js';

// No metadata server here: skip the Google auth library's probe (and its warning).
process.env.METADATA_SERVER_DETECTION ??= 'none';

const PROJECT_ID = 'tweet-ingest-dev';
const TOPIC = 'storage-notifications';
const DEAD_LETTER_TOPIC = 'storage-notifications-dead-letter';
const SUBSCRIPTION = 'tweet-ingest';
// As recommended for production in docs/gcs-and-pubsub.md.
const ACK_DEADLINE_SECONDS = 60;
const MAX_DELIVERY_ATTEMPTS = 20;

const { values } = parseArgs({
  options: {
    bucket: { type: 'string', default: 'tweets-dev' },
    prefix: { type: 'string', default: '' },
    upload: { type: 'string' },
    'pubsub-port': { type: 'string', default: '8085' },
    'storage-port': { type: 'string', default: '9199' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npx tsx scripts/dev-emulators.ts [--bucket B] [--prefix P] [--upload DIR] [--pubsub-port N] [--storage-port N]\n',
  );
  process.exit(0);
}

const bucketName = values.bucket;
const prefix = values.prefix === '' || values.prefix.endsWith('/') ? values.prefix : `${values.prefix}/`;

/** The requested port when it is free, otherwise any free one (said out loud). */
async function portFor(name: string, requested: string): Promise<number> {
  const port = Number(requested);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--${name}-port: expected a port number, got ${requested}`);
  const { createServer } = await import('node:net');
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  if (free) return port;
  const other = await freePort();
  process.stderr.write(`port ${port} is taken: the ${name} emulator uses ${other} instead\n`);
  return other;
}

async function* filesUnder(folder: string): AsyncGenerator<string> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else if (entry.isFile()) yield full;
  }
}

async function main(): Promise<void> {
  let pubsubEmulator: PubSubEmulator | null = null;
  let storageEmulator: StorageEmulator | null = null;
  let pubsub: PubSub | null = null;
  const stop = async (): Promise<void> => {
    await pubsub?.close().catch(() => undefined);
    await pubsubEmulator?.stop();
    await storageEmulator?.stop();
  };

  try {
    pubsubEmulator = await startPubSubEmulator({ projectId: PROJECT_ID, port: await portFor('pubsub', values['pubsub-port']) });
    let onObjectEvent: ((event: StorageObjectEvent) => Promise<void>) | undefined;
    if (pubsubEmulator) {
      pubsub = new PubSub({ projectId: PROJECT_ID, apiEndpoint: pubsubEmulator.host, emulatorMode: true });
      const [topic] = await pubsub.createTopic(TOPIC);
      const [deadLetter] = await pubsub.createTopic(DEAD_LETTER_TOPIC);
      await deadLetter.createSubscription(`${DEAD_LETTER_TOPIC}-inspect`);
      await topic.createSubscription(SUBSCRIPTION, {
        ackDeadlineSeconds: ACK_DEADLINE_SECONDS,
        deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS },
        retryPolicy: { minimumBackoff: { seconds: 10 }, maximumBackoff: { seconds: 600 } },
      });
      onObjectEvent = publishStorageNotifications(topic, bucketName);
    } else {
      requireEmulatorBanner('pubsub');
      process.stderr.write('Continuing with the storage emulator only: no notifications, backfills only.\n');
    }

    storageEmulator = await startStorageEmulator({
      projectId: PROJECT_ID,
      port: await portFor('storage', values['storage-port']),
      onObjectEvent,
    });

    if (values.upload) {
      // Uploads go through the emulator's HTTP API like any client's (one request per file:
      // the emulator cannot take chunked resumable uploads, and takes at most 130 MB a file).
      const previous = process.env.STORAGE_EMULATOR_HOST;
      process.env.STORAGE_EMULATOR_HOST = storageEmulator.host;
      const bucket = new Storage({ projectId: PROJECT_ID }).bucket(bucketName);
      if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = previous;
      let count = 0;
      for await (const file of filesUnder(values.upload)) {
        const name = prefix + path.relative(values.upload, file).split(path.sep).join('/');
        await bucket.file(name).save(await readFile(file), { resumable: false });
        count += 1;
      }
      process.stderr.write(`uploaded ${count} files from ${values.upload} to gs://${bucketName}/${prefix}\n`);
    }

    const environment = [
      `export STORAGE_EMULATOR_HOST=${storageEmulator.host}`,
      `export STORAGE_URL=gs://${bucketName}${prefix ? `/${prefix}` : ''}`,
      `export GOOGLE_CLOUD_PROJECT=${PROJECT_ID}`,
      ...(pubsubEmulator
        ? [
            `export PUBSUB_EMULATOR_HOST=${pubsubEmulator.host}`,
            `export PUBSUB_SUBSCRIPTION=projects/${PROJECT_ID}/subscriptions/${SUBSCRIPTION}`,
            'export METADATA_SERVER_DETECTION=none',
          ]
        : []),
    ];
    process.stdout.write(`${environment.join('\n')}\n`);
    process.stderr.write(
      `\nEmulators running (Ctrl-C stops them). Upload files to see them ingested, e.g.:\n` +
        `  STORAGE_EMULATOR_HOST=${storageEmulator.host} node -e "new (require('@google-cloud/storage').Storage)()` +
        `.bucket('${bucketName}').upload('FILE.json.gz', {destination: '${prefix}FILE.json.gz', resumable: false})"\n`,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write('stopping the emulators\n');
  await stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`dev-emulators: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
