import type { Readable } from 'node:stream';

/** One object (file) in the bucket, as listed or stat'ed. Plain data. */
export interface StoredObject {
  bucket: string;
  name: string;
  /** Distinguishes versions of one name: GCS's generation; for a local folder, size + mtime. */
  generation: string;
  size: number;
  updated: Date;
}

export interface ListOptions {
  /** Objects per page (GCS maxResults). */
  pageSize?: number;
}

/**
 * A bucket, or a folder standing in for one. Every implementation lists by prefix page by
 * page (never a whole listing in memory), stats one object, and opens a read stream of one
 * generation of it.
 */
export interface ObjectStore {
  readonly kind: 'local' | 'gcs';
  /** Bucket name; for a local folder its absolute path. */
  readonly bucket: string;
  /** The configured root prefix ('' for the whole bucket), always ending in '/' when set. */
  readonly rootPrefix: string;
  /** A URL naming the store, for logs and the status page. */
  readonly url: string;

  /** Pages of objects whose names start with rootPrefix + prefix. */
  list(prefix?: string, options?: ListOptions): AsyncIterable<StoredObject[]>;
  /** The current object of that name, or null when there is none. */
  stat(name: string): Promise<StoredObject | null>;
  /** A read stream of that generation; rejects with ObjectNotFoundError when it is gone. */
  openRead(object: Pick<StoredObject, 'name' | 'generation'>): Promise<Readable>;
  close(): Promise<void>;
}
