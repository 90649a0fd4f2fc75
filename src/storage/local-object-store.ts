import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ListOptions, ObjectStore, StoredObject } from './object-store.js';
import { assertSafeRelativePath, ObjectNotFoundError } from './storage.errors.js';

const DEFAULT_PAGE_SIZE = 1000;

/**
 * A local folder standing in for a bucket. Object names are paths relative to the folder with
 * '/' separators; the generation is derived from size and mtime, so a rewritten file is a new
 * generation (and is ingested again), as an overwritten GCS object would be.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly bucket: string;
  readonly rootPrefix = '';
  readonly url: string;

  private readonly listPageSize: number;

  constructor(folder: string, options: { listPageSize?: number } = {}) {
    this.bucket = path.resolve(folder);
    this.listPageSize = options.listPageSize ?? DEFAULT_PAGE_SIZE;
    this.url = this.bucket;
  }

  static generationOf(size: number, mtimeMs: number): string {
    return `${Math.trunc(mtimeMs * 1000)}-${size}`;
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<StoredObject[]> {
    assertSafeRelativePath(prefix);
    const pageSize = options.pageSize ?? this.listPageSize;
    let page: StoredObject[] = [];
    for await (const name of this.walk('')) {
      if (!name.startsWith(prefix)) continue;
      const object = await this.stat(name);
      if (!object) continue; // removed while listing
      page.push(object);
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  async stat(name: string): Promise<StoredObject | null> {
    assertSafeRelativePath(name);
    try {
      const info = await stat(path.join(this.bucket, name));
      if (!info.isFile()) return null;
      return {
        bucket: this.bucket,
        name,
        generation: LocalObjectStore.generationOf(info.size, info.mtimeMs),
        size: info.size,
        updated: info.mtime,
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async openRead(object: Pick<StoredObject, 'name' | 'generation'>): Promise<Readable> {
    const current = await this.stat(object.name);
    // A folder keeps only the newest version: an older generation is gone for good.
    if (!current || current.generation !== object.generation) {
      throw new ObjectNotFoundError(object.name, object.generation);
    }
    return createReadStream(path.join(this.bucket, object.name), { highWaterMark: 1024 * 1024 });
  }

  async close(): Promise<void> {}

  // Sorted, depth-first, streaming: a folder of 100k files is never held in memory at once
  // beyond one directory's entries. Hidden files (partial uploads, editors' temp files) are skipped.
  private async *walk(relative: string): AsyncGenerator<string> {
    let entries: { name: string; directory: boolean }[];
    try {
      const directory = await opendir(path.join(this.bucket, relative));
      entries = [];
      for await (const entry of directory) {
        if (entry.name.startsWith('.')) continue;
        if (entry.isDirectory() || entry.isFile()) entries.push({ name: entry.name, directory: entry.isDirectory() });
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const name = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.directory) yield* this.walk(name);
      else yield name;
    }
  }
}
