import { describeJsonType, isJsonObject, type JsonObject, readObject } from './json-fields.js';

/** Stream messages that are not tweets but are expected: counted, never rejected. */
export const STREAM_NOTICE_KEYS = [
  'limit',
  'scrub_geo',
  'status_withheld',
  'user_withheld',
  'disconnect',
  'warning',
  'event',
  'friends',
  'friends_str',
] as const;

export type StreamNoticeKind = (typeof STREAM_NOTICE_KEYS)[number] | 'empty-v2-page';

export type ClassifiedRecord =
  | { kind: 'v1-tweet'; tweet: JsonObject }
  | { kind: 'v2-tweet'; tweet: JsonObject }
  | { kind: 'v2-page'; page: JsonObject }
  | { kind: 'delete'; notice: JsonObject }
  | { kind: 'notice'; notice: StreamNoticeKind }
  | { kind: 'rejected'; reason: string };

// Enough keys to recognise what an unexpected object was, short enough for a reason column.
const KEYS_SHOWN_IN_REASON = 8;
const KEY_CHARACTERS_SHOWN = 40;

/** What one parsed record is. Checks only shape; the cleaner checks the values. */
export function classifyRecord(value: unknown): ClassifiedRecord {
  if (!isJsonObject(value)) {
    return {
      kind: 'rejected',
      reason: `not a tweet or known notice (${describeJsonType(value)})`,
    };
  }
  if (isJsonObject(value.delete)) {
    return { kind: 'delete', notice: value };
  }
  if (isV1Tweet(value)) {
    return { kind: 'v1-tweet', tweet: value };
  }
  if (Array.isArray(value.data) || isJsonObject(value.data)) {
    return { kind: 'v2-page', page: value };
  }
  if (isV2Tweet(value)) {
    return { kind: 'v2-tweet', tweet: value };
  }
  for (const key of STREAM_NOTICE_KEYS) {
    if (key in value) {
      return { kind: 'notice', notice: key };
    }
  }
  if (isJsonObject(value.meta) && Object.keys(value).every(isV2PageKey)) {
    // A v2 search page with no results carries only `meta`.
    return { kind: 'notice', notice: 'empty-v2-page' };
  }
  return { kind: 'rejected', reason: `not a tweet or known notice (${describeKeys(value)})` };
}

/** A v1.1 tweet: `id_str`, a `user` object and some text. */
export function isV1Tweet(value: JsonObject): boolean {
  return (
    typeof value.id_str === 'string' &&
    isJsonObject(value.user) &&
    (typeof value.text === 'string' ||
      typeof value.full_text === 'string' ||
      typeof readObject(value, 'extended_tweet')?.full_text === 'string')
  );
}

/** A v2 tweet: a string `id`, a `text`, and no v1.1 `user`. */
export function isV2Tweet(value: JsonObject): boolean {
  return typeof value.id === 'string' && typeof value.text === 'string' && !('user' in value);
}

function isV2PageKey(key: string): boolean {
  return key === 'meta' || key === 'includes' || key === 'errors';
}

function describeKeys(value: JsonObject): string {
  const keys = Object.keys(value);
  if (keys.length === 0) {
    return 'an empty object';
  }
  const shown = keys
    .slice(0, KEYS_SHOWN_IN_REASON)
    .map((key) => (key.length > KEY_CHARACTERS_SHOWN ? `${key.slice(0, KEY_CHARACTERS_SHOWN)}…` : key))
    .join(', ');
  return `keys: ${shown}${keys.length > KEYS_SHOWN_IN_REASON ? ', …' : ''}`;
}
