import type { StoredObject } from '../storage/object-store.js';

// Cloud Storage Pub/Sub notifications, decoded. Pure: no I/O, no clock, no logger.
// Format: https://cloud.google.com/storage/docs/pubsub-notifications#format
// Attributes: notificationConfig, eventType, payloadFormat, bucketId, objectId,
// objectGeneration, eventTime, and sometimes overwroteGeneration / overwrittenByGeneration.
// With payloadFormat JSON_API_V1 the body is the object's JSON API resource, where int64
// fields (size, generation) are decimal strings.

export const OBJECT_FINALIZE = 'OBJECT_FINALIZE';
export const JSON_API_V1 = 'JSON_API_V1';

/** What the subscriber received: the parts of a Pub/Sub message a notification consists of. */
export interface NotificationMessage {
  id: string;
  attributes: Readonly<Record<string, string>> | undefined;
  data: Buffer;
}

export interface NotificationScope {
  bucket: string;
  /** '' or ending with '/'. */
  rootPrefix: string;
}

/**
 * register: a new object (generation) inside the scope, to be recorded in the ledger.
 * ignore: a valid notification about something else (another event, bucket or prefix).
 * malformed: not a Cloud Storage notification we can trust; ack it and say why.
 */
export type NotificationDecision =
  | { kind: 'register'; object: StoredObject }
  | { kind: 'ignore'; reason: string }
  | { kind: 'malformed'; reason: string };

// GCS generations are positive int64 values, written in decimal.
const GENERATION = /^[1-9][0-9]{0,18}$/;
const SIZE = /^(0|[1-9][0-9]{0,18})$/;

export function decideNotification(message: NotificationMessage, scope: NotificationScope): NotificationDecision {
  const attributes = message.attributes ?? {};
  if (Object.keys(attributes).length === 0) return malformed('no attributes: not a Cloud Storage notification');

  const eventType = attributes.eventType;
  if (!eventType) return malformed('missing attribute eventType');
  if (eventType !== OBJECT_FINALIZE) return ignore(`event type ${eventType}`);

  const bucket = attributes.bucketId;
  if (!bucket) return malformed('missing attribute bucketId');
  if (bucket !== scope.bucket) return ignore(`bucket ${bucket} is not ${scope.bucket}`);

  const name = attributes.objectId;
  if (!name) return malformed('missing attribute objectId');
  if (!name.startsWith(scope.rootPrefix)) return ignore(`object ${name} is outside the prefix ${scope.rootPrefix}`);
  // The zero-byte "folder" placeholders the console creates; listings skip them too.
  if (name.endsWith('/')) return ignore(`object ${name} is a folder placeholder`);

  if (attributes.payloadFormat !== JSON_API_V1) {
    return malformed(
      `payloadFormat ${attributes.payloadFormat ?? '(none)'}: the size is only in JSON_API_V1 bodies ` +
        '(create the notification with --payload-format=json)',
    );
  }
  const body = parseJsonObject(message.data);
  if (!body) return malformed('body is not a JSON object');
  if (body.name !== undefined && body.name !== name) return malformed(`body names ${String(body.name)}, attribute objectId ${name}`);
  if (body.bucket !== undefined && body.bucket !== bucket) {
    return malformed(`body names bucket ${String(body.bucket)}, attribute bucketId ${bucket}`);
  }

  // The attribute is the authority for the generation; the body's is the fallback.
  const generation = attributes.objectGeneration ?? decimalString(body.generation);
  if (generation === undefined || !GENERATION.test(generation)) {
    return malformed(`bad generation ${JSON.stringify(attributes.objectGeneration ?? body.generation ?? null)}`);
  }

  const sizeText = decimalString(body.size);
  if (sizeText === undefined || !SIZE.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    return malformed(`bad size ${JSON.stringify(body.size ?? null)}`);
  }

  const updatedText = firstString(body.updated, body.timeCreated, attributes.eventTime);
  const updated = updatedText === undefined ? undefined : new Date(updatedText);
  if (updated === undefined || Number.isNaN(updated.getTime())) {
    return malformed(`bad updated time ${JSON.stringify(body.updated ?? null)}`);
  }

  return { kind: 'register', object: { bucket, name, generation, size: Number(sizeText), updated } };
}

function malformed(reason: string): NotificationDecision {
  return { kind: 'malformed', reason };
}

function ignore(reason: string): NotificationDecision {
  return { kind: 'ignore', reason };
}

function parseJsonObject(data: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** int64 fields are strings in the JSON API; a number is accepted when it is an exact integer. */
function decimalString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === 'string' && value !== '');
}
