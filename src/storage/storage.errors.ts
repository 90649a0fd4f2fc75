import { PermanentError } from '../ingest/ingest.errors.js';

/** The object (or that generation of it) no longer exists: retrying cannot help. */
export class ObjectNotFoundError extends PermanentError {
  constructor(readonly objectName: string, readonly generation?: string) {
    super(`object not found: ${objectName}${generation ? ` (generation ${generation})` : ''}: deleted or overwritten before it was ingested; a newer generation, if any, has its own ledger row`);
    this.name = 'ObjectNotFoundError';
  }
}

/** A prefix or name that would leave the storage root (`..`, absolute paths). */
export class InvalidPrefixError extends Error {
  constructor(readonly prefix: string, reason: string) {
    super(`invalid prefix ${JSON.stringify(prefix)}: ${reason}`);
    this.name = 'InvalidPrefixError';
  }
}

/**
 * Checks a relative prefix or object name: no absolute paths, no `..` segments, no NUL.
 * Shared by every store and by request validation.
 */
export function assertSafeRelativePath(prefix: string): void {
  if (prefix.includes('\0')) throw new InvalidPrefixError(prefix, 'contains a NUL character');
  if (prefix.startsWith('/') || prefix.startsWith('\\') || /^[a-zA-Z]:/.test(prefix)) {
    throw new InvalidPrefixError(prefix, 'must be relative to the storage root');
  }
  if (prefix.split(/[\\/]/).some((segment) => segment === '..')) {
    throw new InvalidPrefixError(prefix, "must not contain '..'");
  }
}
