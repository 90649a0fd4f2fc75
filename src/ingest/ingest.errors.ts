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
