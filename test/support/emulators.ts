import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PubSub, v1, type Topic } from '@google-cloud/pubsub';
import { Storage, type Bucket } from '@google-cloud/storage';

// Start/stop helpers for the two emulators the Google-specific tests run against (facts in
// ../shared/docs/toolchain.md). Both bind 127.0.0.1 on a free port, so test files running in
// parallel never share an emulator, and both clean up after themselves.

// Debian's google-cloud-cli-pubsub-emulator installs it here; PUBSUB_EMULATOR_BINARY points
// elsewhere (e.g. a `gcloud components install pubsub-emulator` under the SDK folder).
export const PUBSUB_EMULATOR_BINARY =
  process.env.PUBSUB_EMULATOR_BINARY || '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator';
export const PUBSUB_EMULATOR_PACKAGE = 'google-cloud-cli-pubsub-emulator';
export const STORAGE_EMULATOR_PACKAGE = 'firebase-tools';

/** Any project id works on both emulators; no credentials are ever checked. */
export const EMULATOR_PROJECT_ID = 'tweet-ingest-test';

const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 16 * 1024;

export interface PubSubEmulator {
  /** `127.0.0.1:PORT`, the value for PUBSUB_EMULATOR_HOST. */
  host: string;
  projectId: string;
  /** The emulator's process group id (the wrapper script execs Java, so also its pid). */
  pid: number;
  stop(): Promise<void>;
}

export interface StorageEmulator {
  /** `http://127.0.0.1:PORT`, the value for STORAGE_EMULATOR_HOST (no `/storage/v1`). */
  host: string;
  projectId: string;
  /** Where the emulator keeps blobs for this run (removed by stop()). */
  directory: string;
  stop(): Promise<void>;
}

export function pubsubEmulatorAvailable(binary = PUBSUB_EMULATOR_BINARY): boolean {
  return existsSync(binary);
}

/**
 * Prints (to stderr, so it is never swallowed with stdout) and returns a banner that makes a
 * missing emulator impossible to overlook. Call it when deciding to skip, and again in
 * afterAll so it shows at the end of the file's output as well.
 */
export function requireEmulatorBanner(name: 'pubsub' | 'storage' | string): string {
  const packageName =
    name === 'pubsub' ? PUBSUB_EMULATOR_PACKAGE : name === 'storage' ? STORAGE_EMULATOR_PACKAGE : name;
  const line = '!'.repeat(88);
  const banner = [
    '',
    line,
    `!!! ${name.toUpperCase()} EMULATOR MISSING: these tests are SKIPPED, NOT PASSED.`,
    `!!! Install the package ${packageName}${
      name === 'pubsub' ? ` (apt-get install ${PUBSUB_EMULATOR_PACKAGE}; expects ${PUBSUB_EMULATOR_BINARY})` : ''
    }.`,
    line,
    '',
  ].join('\n');
  process.stderr.write(`${banner}\n`);
  return banner;
}

/** A port nobody listens on right now (the OS picks it; the tiny race is acceptable in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

// Emulator groups still running when the process exits (a crashed test, Ctrl-C): killed
// synchronously on exit so no Java process outlives its test run.
const runningGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  runningGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of runningGroups) killGroup(group, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Starts Google's Pub/Sub emulator on a free port in its own process group (the shell
 * wrapper execs Java; stopping by group id leaves no orphan). Resolves once `GET /` answers
 * `Ok`. Resolves null when the emulator is not installed: callers must then print
 * requireEmulatorBanner('pubsub') and skip, never pass.
 */
export async function startPubSubEmulator(
  options: { binary?: string; projectId?: string; port?: number } = {},
): Promise<PubSubEmulator | null> {
  const binary = options.binary ?? PUBSUB_EMULATOR_BINARY;
  if (!pubsubEmulatorAvailable(binary)) return null;
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const child = spawn(binary, [`--host=127.0.0.1`, `--port=${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (child.pid === undefined) {
    throw new Error(`could not start ${binary}: ${await output.whenSpawnFails()}`);
  }
  const pid = child.pid;
  trackGroup(pid);
  // Neither the child nor its pipes may keep a test process alive: stop() or the exit hook ends it.
  child.unref();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    runningGroups.delete(pid);
    if (!killGroup(pid, 'SIGTERM')) return;
    const exitedInTime = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS, false, { ref: false })]);
    if (!exitedInTime) killGroup(pid, 'SIGKILL');
    await exited;
  };

  try {
    await waitUntil(
      async () => {
        const response = await fetch(`http://${host}/`).catch(() => null);
        return response !== null && (await response.text()).trim() === 'Ok';
      },
      { timeoutMs: READY_TIMEOUT_MS, exited, describe: () => `Pub/Sub emulator on ${host}\n${output.tail()}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, projectId: options.projectId ?? EMULATOR_PROJECT_ID, pid, stop };
}

// The shape of the parts of firebase-tools we use. It ships CommonJS without type
// declarations, so these interfaces are the contract, checked by the tests that use them.
interface FirebaseStorageEmulator {
  _cloudFunctions: { dispatch(action: string, object: StorageObjectResource): Promise<void> };
  _rulesRuntime: { start(autoDownload?: boolean): Promise<void>; stop(): Promise<void> };
  _rulesManager: { start(): Promise<unknown>; stop(): Promise<void> };
  getName(): string;
}
interface FirebaseStorageModule {
  StorageEmulator: new (args: {
    host: string;
    port: number;
    projectId: string;
    rules: { name: string; content: string };
    auto_download?: boolean;
  }) => FirebaseStorageEmulator;
}
interface FirebaseRegistryModule {
  EmulatorRegistry: {
    start(instance: FirebaseStorageEmulator): Promise<void>;
    stop(name: string): Promise<void>;
    isRunning(name: string): boolean;
  };
}

/**
 * Starts the Firebase Storage emulator in this process as a GCS JSON API server (its CLI needs
 * Java 21 and a download; the server itself is plain Node). Security rules are bypassed: the
 * rules runtime is the downloaded jar, and the GCS endpoints use the admin layer anyway.
 *
 * firebase-tools keeps one registry per process, so one storage emulator per process at a
 * time (vitest's forks pool gives each test file its own process).
 */
export async function startStorageEmulator(
  options: { projectId?: string; port?: number; onObjectEvent?: (event: StorageObjectEvent) => Promise<void> | void } = {},
): Promise<StorageEmulator> {
  const require = createRequire(import.meta.url);
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage') as FirebaseStorageModule;
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry') as FirebaseRegistryModule;

  const projectId = options.projectId ?? EMULATOR_PROJECT_ID;
  const port = options.port ?? (await freePort());
  // The emulator keeps blobs under `${os.tmpdir()}/firebase/storage/blobs`, read from TMPDIR
  // when it is constructed: point it at a folder of this run only, then restore TMPDIR.
  const directory = await mkdtemp(path.join(os.tmpdir(), 'tweet-ingest-gcs-'));
  const previousTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = directory;
  let emulator: FirebaseStorageEmulator;
  try {
    emulator = new StorageEmulator({
      host: '127.0.0.1',
      port,
      projectId,
      rules: { name: 'storage.rules', content: '' },
      auto_download: false,
    });
  } finally {
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
  }
  const noop = async (): Promise<void> => {};
  emulator._rulesRuntime.start = noop;
  emulator._rulesRuntime.stop = noop;
  emulator._rulesManager.start = noop;
  emulator._rulesManager.stop = noop;
  // The emulator reports every finalize/delete/metadata update to the Functions emulator
  // through this hook (a no-op without one); we take it over to play GCS's notifications.
  const onObjectEvent = options.onObjectEvent;
  if (onObjectEvent) {
    emulator._cloudFunctions.dispatch = async (action, object) => {
      const eventType = STORAGE_EVENT_TYPES[action];
      if (!eventType) return;
      try {
        await onObjectEvent({ eventType, object });
      } catch (error) {
        process.stderr.write(`storage emulator: notifying ${eventType} of ${object.name} failed: ${String(error)}\n`);
      }
    };
  }
  try {
    await EmulatorRegistry.start(emulator);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }

  let stopped = false;
  return {
    host: `http://127.0.0.1:${port}`,
    projectId,
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      await EmulatorRegistry.stop(emulator.getName());
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function collectOutput(child: ChildProcess): { tail(): string; whenSpawnFails(): Promise<string> } {
  let text = '';
  const append = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    stream.on('data', append);
    // Pipes are sockets: unref them so they do not hold the event loop open either.
    (stream as unknown as { unref?: () => void }).unref?.();
  }
  const spawnError = new Promise<string>((resolve) => child.once('error', (error) => resolve(error.message)));
  return { tail: () => text, whenSpawnFails: () => spawnError };
}

/** Polls `check` until it is true; fails early if the process `exited`, or after timeoutMs. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; intervalMs?: number; exited?: Promise<number | null>; describe: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exitCode: number | null | undefined;
  void options.exited?.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (await check()) return;
    if (exitCode !== undefined) throw new Error(`exited (code ${exitCode}) before it was ready: ${options.describe()}`);
    if (Date.now() > deadline) throw new Error(`not ready after ${options.timeoutMs} ms: ${options.describe()}`);
    await delay(options.intervalMs ?? READY_POLL_MS);
  }
}

export type StorageEventType = 'OBJECT_FINALIZE' | 'OBJECT_DELETE' | 'OBJECT_METADATA_UPDATE' | 'OBJECT_ARCHIVE';

const STORAGE_EVENT_TYPES: Record<string, StorageEventType | undefined> = {
  finalize: 'OBJECT_FINALIZE',
  delete: 'OBJECT_DELETE',
  metadataUpdate: 'OBJECT_METADATA_UPDATE',
  archive: 'OBJECT_ARCHIVE',
};

/** An object resource as the GCS JSON API (and a JSON_API_V1 notification body) spells it. */
export interface StorageObjectResource {
  bucket: string;
  name: string;
  generation: string;
  [field: string]: unknown;
}

export interface StorageObjectEvent {
  eventType: StorageEventType;
  object: StorageObjectResource;
}

/**
 * The Pub/Sub message GCS publishes for an event on an object resource (notification
 * configuration with `--payload-format=json`).
 */
export function storageNotificationFor(
  eventType: StorageEventType,
  resource: StorageObjectResource,
  options: { notificationConfig?: string; overwroteGeneration?: string; eventTime?: Date } = {},
): { data: Buffer; attributes: Record<string, string> } {
  const attributes: Record<string, string> = {
    notificationConfig: options.notificationConfig ?? `projects/_/buckets/${resource.bucket}/notificationConfigs/1`,
    eventType,
    payloadFormat: 'JSON_API_V1',
    bucketId: resource.bucket,
    objectId: resource.name,
    objectGeneration: resource.generation,
    eventTime: (options.eventTime ?? (typeof resource.updated === 'string' ? new Date(resource.updated) : new Date())).toISOString(),
  };
  if (options.overwroteGeneration) attributes.overwroteGeneration = options.overwroteGeneration;
  return { data: Buffer.from(JSON.stringify(resource)), attributes };
}

/**
 * An onObjectEvent for startStorageEmulator that publishes each event of `bucket` to `topic`
 * as GCS would with `gcloud storage buckets notifications create gs://BUCKET --topic=T
 * --payload-format=json` (all event types; the subscriber filters).
 */
export function publishStorageNotifications(
  topic: { publishMessage(message: { data: Buffer; attributes: Record<string, string> }): Promise<string> },
  bucket: string,
): (event: StorageObjectEvent) => Promise<void> {
  return async ({ eventType, object }) => {
    if (object.bucket !== bucket) return;
    await topic.publishMessage(storageNotificationFor(eventType, object));
  };
}

export interface StorageNotificationObject {
  bucket: string;
  name: string;
  generation: string;
  size: number;
  updated?: Date;
  contentType?: string;
}

/**
 * A Pub/Sub message exactly as Cloud Storage publishes it for a notification configuration
 * created with `--payload-format=json` (attributes + JSON_API_V1 body, int64 fields as strings).
 * https://cloud.google.com/storage/docs/pubsub-notifications#format
 */
export function storageNotification(
  object: StorageNotificationObject,
  eventType: StorageEventType = 'OBJECT_FINALIZE',
  options: { notificationConfig?: string; overwroteGeneration?: string } = {},
): { data: Buffer; attributes: Record<string, string> } {
  const updated = (object.updated ?? new Date()).toISOString();
  const encodedName = encodeURIComponent(object.name);
  const resource: StorageObjectResource = {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `https://www.googleapis.com/storage/v1/b/${object.bucket}/o/${encodedName}`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: '1',
    contentType: object.contentType ?? 'application/gzip',
    timeCreated: updated,
    updated,
    storageClass: 'STANDARD',
    timeStorageClassUpdated: updated,
    size: String(object.size),
    md5Hash: 'XrY7u+Ae7tCTyyK7j1rNww==',
    mediaLink: `https://storage.googleapis.com/download/storage/v1/b/${object.bucket}/o/${encodedName}?generation=${object.generation}&alt=media`,
    crc32c: 'yZRlqg==',
    etag: 'CKih16GjycICEAE=',
  };
  return storageNotificationFor(eventType, resource, { ...options, eventTime: object.updated });
}

/** Both emulators, wired as GCS + Pub/Sub are in production, for tests of the built service. */
export interface GoogleEmulators {
  pubsubEmulator: PubSubEmulator;
  storageEmulator: StorageEmulator;
  pubsub: PubSub;
  /** A plain synchronous-pull client, to look at what is left on the subscription. */
  raw: v1.SubscriberClient;
  /** The bucket's notification topic, and its subscription's full name. */
  topic: Topic;
  subscription: string;
  bucket: Bucket;
  /** Where the storage emulator's object events go (default: nowhere). */
  onObjectEvent(handler: (event: StorageObjectEvent) => Promise<void> | void): void;
  /** Nothing left on the subscription that a pull can see (acked, not merely leased). */
  pulledNothing(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts the Pub/Sub emulator and an in-process storage emulator, points this process's Google
 * clients at them (and so the services it spawns, which inherit the environment), and creates
 * a topic with one subscription. Resolves null when the Pub/Sub emulator is not installed.
 */
export async function startGoogleEmulators(bucketName: string, options: { ackDeadlineSeconds?: number } = {}): Promise<GoogleEmulators | null> {
  const pubsubEmulator = await startPubSubEmulator();
  if (!pubsubEmulator) return null;
  let handler: (event: StorageObjectEvent) => Promise<void> | void = () => {};
  const storageEmulator = await startStorageEmulator({ onObjectEvent: (event) => handler(event) });
  process.env.PUBSUB_EMULATOR_HOST = pubsubEmulator.host;
  process.env.STORAGE_EMULATOR_HOST = storageEmulator.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const pubsub = new PubSub({ projectId: pubsubEmulator.projectId });
  const { port, ...config } = await pubsub.getClientConfig();
  const raw = new v1.SubscriberClient({ ...config, port: Number(port) });
  const id = randomUUID();
  const [topic] = await pubsub.createTopic(`bucket-notifications-${id}`);
  const [subscription] = await topic.createSubscription(`tweet-ingest-${id}`, { ackDeadlineSeconds: options.ackDeadlineSeconds ?? 10 });
  const bucket = new Storage({ projectId: storageEmulator.projectId }).bucket(bucketName);
  return {
    pubsubEmulator,
    storageEmulator,
    pubsub,
    raw,
    topic,
    subscription: subscription.name,
    bucket,
    onObjectEvent: (next) => {
      handler = next;
    },
    pulledNothing: async () => {
      const [response] = await raw.pull({ subscription: subscription.name, maxMessages: 100, returnImmediately: true });
      const received = response.receivedMessages ?? [];
      // Seen but not ours to ack: handed straight back so the service under test gets them.
      if (received.length > 0) {
        await raw.modifyAckDeadline({ subscription: subscription.name, ackIds: received.map((message) => message.ackId!), ackDeadlineSeconds: 0 });
      }
      return received.length === 0;
    },
    stop: async () => {
      await raw.close();
      await pubsub.close();
      await storageEmulator.stop();
      await pubsubEmulator.stop();
    },
  };
}

/** A deterministic shuffle (same seed, same order), so a failing order can be replayed. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}
