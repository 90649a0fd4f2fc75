import { PassThrough, pipeline, type Readable } from 'node:stream';
import { CRC32C, Storage, type Bucket, type FileMetadata } from '@google-cloud/storage';
import type { ListOptions, ObjectStore, StoredObject } from './object-store.js';
import { assertSafeRelativePath, ObjectNotFoundError } from './storage.errors.js';

// GCS returns at most 1000 objects per list call; a full page is the cheapest listing.
const DEFAULT_PAGE_SIZE = 1000;
// Client-side retries of transient errors (429, 5xx, resets) with the library's exponential
// backoff; idempotent calls only (all of ours are reads).
const MAX_RETRIES = 5;
// Buffered bytes between the HTTP response and the consumer: one pipeline chunk.
const READ_HIGH_WATER_MARK = 1024 * 1024;

// https://cloud.google.com/storage/docs/buckets#naming: 3-63 characters (up to 222 when
// dotted), lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export class InvalidGcsUrlError extends Error {
  constructor(readonly url: string, reason: string) {
    super(`invalid storage URL ${JSON.stringify(url)}: ${reason} (expected gs://bucket or gs://bucket/prefix)`);
    this.name = 'InvalidGcsUrlError';
  }
}

/** The bytes received do not match the object's CRC32C: a corrupted transfer, worth retrying. */
export class ChecksumMismatchError extends Error {
  readonly code = 'CONTENT_DOWNLOAD_MISMATCH';
  constructor(readonly objectName: string, expected: string, actual: string) {
    super(`checksum mismatch reading ${objectName}: expected crc32c ${expected}, received ${actual}`);
    this.name = 'ChecksumMismatchError';
  }
}

export interface GcsLocation {
  bucket: string;
  /** '' for the whole bucket, otherwise ends with '/'. */
  prefix: string;
}

/** `gs://bucket[/prefix]` → bucket and a prefix that ends with '/' (or is ''). */
export function parseGcsUrl(url: string): GcsLocation {
  const match = /^gs:\/\/([^/]*)(?:\/(.*))?$/s.exec(url.trim());
  if (!match) throw new InvalidGcsUrlError(url, "must start with 'gs://'");
  const bucket = match[1] ?? '';
  if (bucket === '') throw new InvalidGcsUrlError(url, 'the bucket name is missing');
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..') || (bucket.length > 63 && !bucket.includes('.'))) {
    throw new InvalidGcsUrlError(url, `${JSON.stringify(bucket)} is not a valid bucket name`);
  }
  let prefix = match[2] ?? '';
  if (prefix.startsWith('/')) throw new InvalidGcsUrlError(url, "the prefix must not start with '/'");
  if (/[\r\n]/.test(prefix)) throw new InvalidGcsUrlError(url, 'the prefix must not contain line breaks');
  try {
    assertSafeRelativePath(prefix);
  } catch (error) {
    throw new InvalidGcsUrlError(url, error instanceof Error ? error.message : String(error));
  }
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  return { bucket, prefix };
}

export interface GcsObjectStoreOptions {
  /** `gs://bucket[/prefix]`. */
  url: string;
  /** Project for the client; unused for reads. Any value works against the emulator. */
  projectId?: string;
  /** An existing client (tests, or sharing one client); by default one is created. */
  storage?: Storage;
  /** Objects per list request when list() is not given a pageSize (GCS allows up to 1000). */
  listPageSize?: number;
}

/**
 * A GCS bucket (optionally narrowed to a prefix) as an ObjectStore.
 *
 * With STORAGE_EMULATOR_HOST set, @google-cloud/storage talks to that emulator without
 * credentials; otherwise Application Default Credentials (workload identity on GKE).
 */
export class GcsObjectStore implements ObjectStore {
  readonly kind = 'gcs' as const;
  readonly bucket: string;
  readonly rootPrefix: string;
  readonly url: string;
  private readonly storage: Storage;
  private readonly handle: Bucket;
  private readonly listPageSize: number;

  constructor(options: GcsObjectStoreOptions) {
    const location = parseGcsUrl(options.url);
    this.bucket = location.bucket;
    this.rootPrefix = location.prefix;
    this.url = `gs://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`;
    this.storage =
      options.storage ??
      new Storage({
        projectId: options.projectId,
        retryOptions: { autoRetry: true, maxRetries: MAX_RETRIES },
      });
    this.handle = this.storage.bucket(this.bucket);
    this.listPageSize = options.listPageSize ?? DEFAULT_PAGE_SIZE;
  }

  /**
   * One GCS list call per page, `pageSize` objects each: only the page being consumed is in
   * memory, whatever the size of the bucket. Names ending in '/' are the zero-byte "folder"
   * placeholders the console creates, never files, and are skipped (a page may then be
   * shorter than pageSize; empty pages are not yielded).
   */
  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<StoredObject[]> {
    assertSafeRelativePath(prefix);
    const pageSize = options.pageSize ?? this.listPageSize;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    let pageToken: string | undefined;
    do {
      const [files, nextQuery] = await this.handle.getFiles({
        prefix: this.rootPrefix + prefix,
        maxResults: pageSize,
        pageToken,
        autoPaginate: false,
      });
      const page = files.filter((file) => !file.name.endsWith('/')).map((file) => this.toStoredObject(file.name, file.metadata));
      if (page.length > 0) yield page;
      pageToken = nextQuery && 'pageToken' in nextQuery ? nextQuery.pageToken : undefined;
    } while (pageToken);
  }

  async stat(name: string): Promise<StoredObject | null> {
    try {
      const [metadata] = await this.handle.file(name).getMetadata();
      return this.toStoredObject(name, metadata);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * A stream of exactly that generation, CRC32C-validated. Resolves once GCS has answered
   * with the object (so a missing object rejects here with ObjectNotFoundError, before any
   * consumer is attached); the body then streams with backpressure.
   */
  async openRead(object: Pick<StoredObject, 'name' | 'generation'>): Promise<Readable> {
    const { name, generation } = object;
    if (!/^[0-9]+$/.test(generation)) throw new ObjectNotFoundError(name, generation);
    const source = this.handle.file(name, { generation }).createReadStream({ validation: 'crc32c' });
    const output = new CheckedReadStream(name, generation);
    source.on('response', (response: unknown) => output.onResponse(response));
    pipeline(source, output, () => {
      // Errors reach the consumer through `output`, which pipeline destroys with them.
    });

    return new Promise<Readable>((resolve, reject) => {
      const onError = (error: unknown): void => {
        output.off('ready-to-read', onReady);
        reject(isNotFound(error) ? new ObjectNotFoundError(name, generation) : error);
      };
      const onReady = (): void => {
        output.off('error', onError);
        resolve(output);
      };
      output.once('error', onError);
      output.once('ready-to-read', onReady);
    });
  }

  async close(): Promise<void> {
    // The storage client holds no sockets beyond the shared keep-alive agent: nothing to close.
  }

  private toStoredObject(name: string, metadata: FileMetadata): StoredObject {
    const generation = metadata.generation;
    const size = Number(metadata.size);
    if (generation === undefined || !Number.isFinite(size) || !metadata.updated) {
      throw new Error(`incomplete metadata for gs://${this.bucket}/${name}`);
    }
    return { bucket: this.bucket, name, generation: String(generation), size, updated: new Date(metadata.updated) };
  }
}

/**
 * The stream handed to consumers. It checks what the response says before passing bytes on:
 *  - the served generation must be the one asked for (GCS answers 404 for a gone generation;
 *    the Firebase emulator ignores `generation` and serves the live object, so this check is
 *    what makes "read that generation" hold everywhere);
 *  - the body's CRC32C when the client library will not check it: the library validates only
 *    when the response carries `x-goog-stored-content-encoding`, which GCS always sends and the
 *    emulator never does, so without this a corrupted emulator transfer would pass silently.
 */
class CheckedReadStream extends PassThrough {
  private crc32c: CRC32C | null = null;
  private expectedCrc32c = '';

  constructor(private readonly objectName: string, private readonly generation: string) {
    super({ highWaterMark: READ_HIGH_WATER_MARK });
  }

  onResponse(response: unknown): void {
    const statusCode = readStatusCode(response);
    if (statusCode === undefined || statusCode >= 300) return; // the library turns it into an error
    const headers = readHeaders(response);
    const served = headers['x-goog-generation'];
    if (served !== undefined && served !== this.generation) {
      this.destroy(new ObjectNotFoundError(this.objectName, this.generation));
      return;
    }
    const libraryValidates = headers['x-goog-stored-content-encoding'] !== undefined;
    const expected = /(?:^|,)\s*crc32c=([^,]+)/.exec(headers['x-goog-hash'] ?? '')?.[1];
    if (!libraryValidates && expected && headers['content-encoding'] !== 'gzip') {
      this.crc32c = new CRC32C();
      this.expectedCrc32c = expected;
    }
    this.emit('ready-to-read');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.crc32c?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: (error?: Error | null) => void): void {
    if (this.crc32c && !this.crc32c.validate(this.expectedCrc32c)) {
      callback(new ChecksumMismatchError(this.objectName, this.expectedCrc32c, this.crc32c.toString()));
      return;
    }
    callback();
  }
}

function readStatusCode(response: unknown): number | undefined {
  if (typeof response !== 'object' || response === null || !('statusCode' in response)) return undefined;
  return typeof response.statusCode === 'number' ? response.statusCode : undefined;
}

function readHeaders(response: unknown): Record<string, string | undefined> {
  if (typeof response !== 'object' || response === null || !('headers' in response)) return {};
  const headers = response.headers;
  if (typeof headers !== 'object' || headers === null) return {};
  const result: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(headers)) {
    result[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : undefined;
  }
  return result;
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === 404 || error.code === '404');
}
