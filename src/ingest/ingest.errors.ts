/**
 * Errors decide retry (conventions.md §9): a PermanentError fails the file at once with its
 * message; anything else is treated as transient and retried with backoff until MAX_ATTEMPTS.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentError;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

// How node-postgres reports that the server cannot be reached or dropped the connection:
// socket errors, SQLSTATE class 08 (connection exception), 57P01-57P03 (the server is shutting
// down, crashed, or not accepting connections yet) and 53300 (too many connections).
const UNREACHABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNREACHABLE_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /not queryable/i, /connection ended/i];

function isConnectionError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
    if (UNREACHABLE_MESSAGES.some((pattern) => pattern.test(current.message))) return true;
  }
  return false;
}

/**
 * The database could not be reached (an outage, a restart, a network cut) while working on a
 * file: the file is not at fault, so the attempt does not count against it. Only database
 * calls raise it (asDatabaseError at the repository boundary): the same socket error from the
 * bucket is the file's transient error, retried with backoff and counted.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${describeError(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** For a database call's error: a DatabaseUnavailableError when it says the server is unreachable. */
export function asDatabaseError(error: unknown): unknown {
  return error instanceof DatabaseUnavailableError || !isConnectionError(error) ? error : new DatabaseUnavailableError(error);
}

/** Whether a DatabaseUnavailableError is the error or in its `cause` chain. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof DatabaseUnavailableError) return true;
  }
  return false;
}
