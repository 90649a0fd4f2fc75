import { Duration, PubSub, type DebugMessage, type Message, type Subscription } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import type { StoredObject } from '../storage/object-store.js';
import { decideNotification } from './gcs-notification.js';

/**
 * Records objects in the ledger: one committed insert-or-ignore of (bucket, name, generation)
 * rows. Resolves only after the commit; throws when the database is unavailable.
 */
export interface ObjectRegistrar {
  registerObjects(objects: StoredObject[]): Promise<void>;
}

export interface SubscriberState {
  /** The subscription is open and its gRPC channel is connected. */
  connected: boolean;
  /** ISO time of the last message received, null before the first. */
  lastMessageAt: string | null;
  lastError: string | null;
  counts: { received: number; acked: number; ignored: number; malformed: number; nacked: number };
}

export interface PubSubNotificationSourceOptions {
  /** `projects/P/subscriptions/S`, or `S` with projectId. */
  subscription: string;
  projectId?: string;
  bucket: string;
  /** '' or ending with '/'. */
  rootPrefix: string;
  /** Flow control: messages and bytes outstanding (received, not yet acked or nacked). */
  maxMessages: number;
  maxBytes: number;
  registrar: ObjectRegistrar;
  logger: Logger;
  /** How long close() waits for in-flight handlers before nacking what is left. */
  closeTimeoutMs?: number;
  /** An existing client (tests); by default one is created, honouring PUBSUB_EMULATOR_HOST. */
  pubsub?: PubSub;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
// After the library gives up on a subscription (NOT_FOUND, PERMISSION_DENIED: it closes it and
// never reopens), we reopen it ourselves: 1 s, doubling up to 60 s, the library's own
// ceiling for retrying streams.
const REOPEN_MIN_DELAY_MS = 1_000;
const REOPEN_MAX_DELAY_MS = 60_000;
// gRPC status codes with which a healthy stream is routinely rotated (not a failure).
const ROUTINE_STREAM_END = new Set([0 /* OK */, 4 /* DEADLINE_EXCEEDED */]);
const GRPC_CHANNEL_READY = 2; // grpc.connectivityState.READY

/** `projects/P/subscriptions/S` or a short name + project → project and full name. */
export function resolveSubscriptionName(subscription: string, projectId?: string): { projectId: string; name: string } {
  const full = /^projects\/([^/]+)\/subscriptions\/([^/]+)$/.exec(subscription);
  if (full) return { projectId: full[1]!, name: subscription };
  if (subscription.includes('/')) {
    throw new Error(`invalid subscription ${JSON.stringify(subscription)}: expected projects/PROJECT/subscriptions/NAME or NAME`);
  }
  if (!projectId) {
    throw new Error(`subscription ${JSON.stringify(subscription)} is a short name: set the project (GOOGLE_CLOUD_PROJECT) or use projects/PROJECT/subscriptions/${subscription}`);
  }
  return { projectId, name: `projects/${projectId}/subscriptions/${subscription}` };
}

/**
 * Turns a bucket's Pub/Sub notifications into ledger rows. Each message ends in exactly one of:
 *  - a new object in scope → registrar.registerObjects, then ack (after the commit, never before);
 *  - the registrar throws (database down) → nack, so Pub/Sub redelivers; we keep running;
 *  - another event type, bucket or prefix → ack, counted as ignored;
 *  - not a storage notification we can read → ack, counted as malformed, logged with its id.
 * Duplicates and reordering are harmless: the ledger's key makes registration idempotent.
 */
export class PubSubNotificationSource {
  private readonly options: PubSubNotificationSourceOptions;
  private readonly subscriptionName: string;
  private readonly pubsub: PubSub;
  private readonly ownsClient: boolean;
  private readonly logger: Logger;
  private subscription: Subscription | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts = { received: 0, acked: 0, ignored: 0, malformed: 0, nacked: 0 };
  private lastMessageAt: string | null = null;
  private lastError: string | null = null;
  private started = false;
  private closing = false;
  private closed: Promise<void> | null = null;
  // Set when close() stopped waiting for handlers: their messages were nacked by then.
  private abandoned = false;
  private streamFailing = false;
  private registrarFailing = false;
  private failedRegistrations = 0;
  private reopenTimer: NodeJS.Timeout | null = null;
  private reopenDelayMs = REOPEN_MIN_DELAY_MS;
  private channelReady: (() => boolean) | null = null;

  constructor(options: PubSubNotificationSourceOptions) {
    if (!Number.isInteger(options.maxMessages) || options.maxMessages < 1) throw new RangeError('maxMessages must be a positive integer');
    if (!Number.isInteger(options.maxBytes) || options.maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
    if (options.rootPrefix !== '' && !options.rootPrefix.endsWith('/')) throw new Error("rootPrefix must be '' or end with '/'");
    const { projectId, name } = resolveSubscriptionName(options.subscription, options.projectId);
    this.options = options;
    this.subscriptionName = name;
    this.ownsClient = options.pubsub === undefined;
    this.pubsub = options.pubsub ?? new PubSub({ projectId });
    this.logger = options.logger;
  }

  /** Opens the streaming pull. Returns at once; connection problems show in state(). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const subscription = this.pubsub.subscription(this.subscriptionName, {
      flowControl: {
        maxMessages: this.options.maxMessages,
        maxBytes: this.options.maxBytes,
        // Otherwise the client accepts a whole server batch beyond the limits.
        allowExcessMessages: false,
      },
      // close(): stop pulling at once, then let running handlers ack (or nack) what they hold.
      closeOptions: {
        behavior: 'WAIT',
        timeout: Duration.from({ milliseconds: this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS }),
      },
    });
    this.subscription = subscription;
    subscription.on('message', (message: Message) => this.track(message));
    subscription.on('error', (error: Error) => this.onSubscriptionError(error));
    subscription.on('debug', (debug: DebugMessage) => this.onDebug(debug));
    subscription.on('close', () => this.onClose());
    this.channelReady = await findChannelProbe(this.pubsub);
    this.logger.info({ subscription: this.subscriptionName, bucket: this.options.bucket, rootPrefix: this.options.rootPrefix }, 'listening for storage notifications');
  }

  /**
   * Stops pulling, waits for in-flight handlers to commit and ack (up to closeTimeoutMs; what
   * is still unacked then is nacked and redelivered later), closes the client. Call it before
   * closing the database.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    const timeoutMs = this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    if (this.subscription) {
      await this.subscription.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the subscription failed'));
    }
    // A handler stuck on the database must not hold the shutdown forever.
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    this.abandoned = !drained;
    if (!drained) this.logger.warn({ handlers: this.inFlight.size }, 'closed with notification handlers still running; their messages will be redelivered');
    this.subscription?.removeAllListeners();
    if (this.ownsClient) await this.pubsub.close().catch(() => undefined);
    this.logger.info({ counts: this.counts }, 'stopped listening for storage notifications');
  }

  state(): SubscriberState {
    return {
      connected: this.isConnected(),
      lastMessageAt: this.lastMessageAt,
      lastError: this.lastError,
      counts: { ...this.counts },
    };
  }

  /** Receiving, and the last registration (if any) succeeded. */
  healthy(): boolean {
    return this.started && !this.closing && this.isConnected() && !this.registrarFailing;
  }

  private isConnected(): boolean {
    if (!this.subscription?.isOpen || this.reopenTimer !== null) return false;
    return this.channelReady ? this.channelReady() : !this.streamFailing;
  }

  private track(message: Message): void {
    const handling = this.handle(message).catch((error: unknown) => {
      // A bug, not a notification problem: let Pub/Sub redeliver rather than lose the message.
      this.lastError = describe(error);
      this.logger.error({ err: error, messageId: message.id }, 'handling a storage notification failed; nacked');
      message.nack();
    });
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling));
  }

  // Never throws: every path acks or nacks exactly once.
  private async handle(message: Message): Promise<void> {
    this.counts.received += 1;
    this.lastMessageAt = new Date().toISOString();
    this.streamFailing = false;
    this.reopenDelayMs = REOPEN_MIN_DELAY_MS;
    const decision = decideNotification(
      { id: message.id, attributes: message.attributes, data: message.data },
      { bucket: this.options.bucket, rootPrefix: this.options.rootPrefix },
    );
    if (decision.kind === 'malformed') {
      this.logger.warn({ messageId: message.id, reason: decision.reason, attributes: message.attributes }, 'malformed storage notification, acked');
      this.counts.malformed += 1;
      this.ack(message);
      return;
    }
    if (decision.kind === 'ignore') {
      this.logger.debug({ messageId: message.id, reason: decision.reason }, 'storage notification ignored');
      this.counts.ignored += 1;
      this.ack(message);
      return;
    }
    try {
      await this.options.registrar.registerObjects([decision.object]);
    } catch (error) {
      this.lastError = `registering a notified object failed: ${describe(error)}`;
      this.failedRegistrations += 1;
      // One error per outage, not one per redelivery.
      if (!this.registrarFailing) this.logger.error({ err: error, messageId: message.id }, 'registering a notified object failed; nacking until it works');
      else this.logger.debug({ err: error, messageId: message.id }, 'registering a notified object failed again; nacked');
      this.registrarFailing = true;
      this.counts.nacked += 1;
      message.nack();
      return;
    }
    if (this.abandoned) {
      this.logger.debug({ messageId: message.id }, 'object registered after shutdown; its message was already released for redelivery');
      return;
    }
    if (this.registrarFailing) {
      this.logger.info({ failedRegistrations: this.failedRegistrations }, 'registering notified objects works again');
      this.registrarFailing = false;
      this.failedRegistrations = 0;
    }
    this.logger.debug({ messageId: message.id, object: decision.object.name, generation: decision.object.generation }, 'object registered');
    this.ack(message);
  }

  private ack(message: Message): void {
    message.ack();
    this.counts.acked += 1;
  }

  private onSubscriptionError(error: Error): void {
    this.lastError = describe(error);
    this.logger.error({ err: error, subscription: this.subscriptionName }, 'subscription error');
  }

  // The library reports lost streams (13 INTERNAL when the server resets them as it dies, 14
  // UNAVAILABLE while it is unreachable) only as debug events, and retries them itself with backoff.
  private onDebug(debug: DebugMessage): void {
    const code = statusCode(debug.error);
    if (code !== undefined && !ROUTINE_STREAM_END.has(code) && !(this.channelReady?.() ?? false)) {
      this.streamFailing = true;
      this.lastError = debug.error ? `${debug.message} ${describe(debug.error)}` : debug.message;
    }
    this.logger.debug({ subscription: this.subscriptionName, code }, debug.message);
  }

  // The library closes the subscription for good after a non-retryable error (subscription
  // deleted, permission revoked) and never reopens it: we do, with backoff, until close().
  private onClose(): void {
    if (this.closing || this.reopenTimer !== null) return;
    const delayMs = this.reopenDelayMs;
    this.reopenDelayMs = Math.min(this.reopenDelayMs * 2, REOPEN_MAX_DELAY_MS);
    this.logger.warn({ subscription: this.subscriptionName, delayMs, lastError: this.lastError }, 'subscription closed unexpectedly; reopening');
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      if (this.closing) return;
      this.streamFailing = false;
      this.subscription?.open();
    }, delayMs);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function statusCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'number' ? error.code : undefined;
}

type Method = (...args: unknown[]) => unknown;
function hasMethod<K extends string>(value: unknown, name: K): value is Record<K, Method> {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

/**
 * Whether the gRPC channel the streaming pulls use is connected. Neither the library nor gRPC
 * announces a successful reconnection, but the channel's state is exact (READY while
 * connected, TRANSIENT_FAILURE while the server is unreachable, as measured on the emulator).
 * Reached through library internals, so checked at run time: null if they ever change, and
 * then state() falls back to the stream-failure events.
 */
async function findChannelProbe(pubsub: PubSub): Promise<(() => boolean) | null> {
  try {
    const client: unknown = await pubsub.getClientAsync_({ client: 'SubscriberClient' });
    if (!hasMethod(client, 'initialize')) return null;
    const stub: unknown = await client.initialize();
    if (!hasMethod(stub, 'getChannel')) return null;
    const channel: unknown = stub.getChannel();
    if (!hasMethod(channel, 'getConnectivityState')) return null;
    return () => channel.getConnectivityState(false) === GRPC_CHANNEL_READY;
  } catch {
    return null;
  }
}
