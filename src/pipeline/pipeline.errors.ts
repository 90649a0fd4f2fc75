/**
 * The file's bytes cannot be decoded (corrupt or truncated gzip). Permanent: the same bytes
 * fail the same way on every attempt, so the file should be marked failed at once, not retried.
 */
export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
