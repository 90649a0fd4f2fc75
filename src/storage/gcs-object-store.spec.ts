import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Storage, type Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorageEmulator, type StorageEmulator } from '../../test/support/emulators.js';
import { ChecksumMismatchError, GcsObjectStore, InvalidGcsUrlError, parseGcsUrl } from './gcs-object-store.js';
import type { StoredObject } from './object-store.js';
import { InvalidPrefixError, ObjectNotFoundError } from './storage.errors.js';

describe('parseGcsUrl', () => {
  it('splits bucket and prefix, the prefix always ending with a slash', () => {
    expect(parseGcsUrl('gs://tweets')).toEqual({ bucket: 'tweets', prefix: '' });
    expect(parseGcsUrl('gs://tweets/')).toEqual({ bucket: 'tweets', prefix: '' });
    expect(parseGcsUrl('gs://tweets/archive')).toEqual({ bucket: 'tweets', prefix: 'archive/' });
    expect(parseGcsUrl('gs://my-bucket.example.com/a/b/')).toEqual({ bucket: 'my-bucket.example.com', prefix: 'a/b/' });
  });

  it.each([
    ['tweets', "must start with 'gs://'"],
    ['s3://tweets/a', "must start with 'gs://'"],
    ['gs://', 'the bucket name is missing'],
    ['gs:///prefix', 'the bucket name is missing'],
    ['gs://Tweets', 'is not a valid bucket name'],
    ['gs://ab', 'is not a valid bucket name'],
    ['gs://-tweets', 'is not a valid bucket name'],
    ['gs://tweets//a', "must not start with '/'"],
    ['gs://tweets/a/../b', "must not contain '..'"],
  ])('rejects %s', (url, reason) => {
    expect(() => parseGcsUrl(url)).toThrow(InvalidGcsUrlError);
    expect(() => parseGcsUrl(url)).toThrow(reason);
  });
});

describe('GcsObjectStore against the storage emulator', () => {
  const bucketName = 'tweet-archive';
  let emulator: StorageEmulator;
  let storage: Storage;
  let bucket: Bucket;
  let store: GcsObjectStore;

  // One request per object: the emulator does not support chunked resumable uploads.
  async function upload(name: string, content: Buffer | string): Promise<string> {
    const file = bucket.file(name);
    await file.save(content, { resumable: false, validation: 'crc32c' });
    return String(file.metadata.generation);
  }

  async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function collect(pages: AsyncIterable<StoredObject[]>): Promise<StoredObject[][]> {
    const result: StoredObject[][] = [];
    for await (const page of pages) result.push(page);
    return result;
  }

  beforeAll(async () => {
    emulator = await startStorageEmulator();
    // Read by @google-cloud/storage when a client is constructed; this file runs in its own process.
    process.env.STORAGE_EMULATOR_HOST = emulator.host;
    storage = new Storage({ projectId: emulator.projectId });
    bucket = storage.bucket(bucketName);
    store = new GcsObjectStore({ url: `gs://${bucketName}/archive`, projectId: emulator.projectId });
  });

  afterAll(async () => {
    await store?.close();
    await emulator?.stop();
    delete process.env.STORAGE_EMULATOR_HOST;
  });

  it('describes itself', () => {
    expect(store.kind).toBe('gcs');
    expect(store.bucket).toBe(bucketName);
    expect(store.rootPrefix).toBe('archive/');
    expect(store.url).toBe(`gs://${bucketName}/archive/`);
    expect(new GcsObjectStore({ url: `gs://${bucketName}` }).rootPrefix).toBe('');
  });

  it('lists page by page under rootPrefix + prefix, nothing outside it', async () => {
    const names = Array.from({ length: 10 }, (_, index) => `archive/2024/01/tweets-${String(index).padStart(2, '0')}.json.gz`);
    for (const name of names) await upload(name, `content of ${name}`);
    await upload('archive/2024/02/tweets-00.json.gz', 'february');
    await upload('elsewhere/2024/01/tweets-00.json.gz', 'outside the root prefix');

    const pages = await collect(store.list('2024/01/', { pageSize: 3 }));

    expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 1]);
    const listed = pages.flat();
    expect(listed.map((object) => object.name)).toEqual(names);
    for (const object of listed) {
      expect(object.bucket).toBe(bucketName);
      expect(object.generation).toMatch(/^[0-9]+$/);
      expect(object.size).toBe(Buffer.byteLength(`content of ${object.name}`));
      expect(object.updated).toBeInstanceOf(Date);
    }

    const everything = (await collect(store.list())).flat().map((object) => object.name);
    expect(everything).toEqual([...names, 'archive/2024/02/tweets-00.json.gz']);
    expect(await collect(store.list('2025/'))).toEqual([]);
  });

  it('skips the zero-byte "folder" placeholders the console creates', async () => {
    await upload('archive/folders/', '');
    await upload('archive/folders/sub/', '');
    await upload('archive/folders/sub/file.json.gz', 'a file');

    const pages = await collect(store.list('folders/', { pageSize: 2 }));

    expect(pages.flat().map((object) => object.name)).toEqual(['archive/folders/sub/file.json.gz']);
  });

  it('rejects prefixes that would escape the root prefix', async () => {
    await expect(collect(store.list('../elsewhere/'))).rejects.toThrow(InvalidPrefixError);
    await expect(collect(store.list('2024/../../elsewhere/'))).rejects.toThrow(InvalidPrefixError);
    await expect(collect(store.list('/elsewhere/'))).rejects.toThrow(InvalidPrefixError);
  });

  it('stats an object with its generation, and null when absent', async () => {
    const generation = await upload('archive/stat/one.json.gz', 'twelve bytes');

    const object = await store.stat('archive/stat/one.json.gz');

    expect(object).toEqual({
      bucket: bucketName,
      name: 'archive/stat/one.json.gz',
      generation,
      size: 12,
      updated: expect.any(Date),
    });
    expect(await store.stat('archive/stat/missing.json.gz')).toBeNull();
  });

  it('streams a generation byte for byte (several chunks, CRC32C checked)', async () => {
    const content = gzipSync(randomBytes(3 * 1024 * 1024));
    const generation = await upload('archive/read/big.json.gz', content);

    const stream = await store.openRead({ name: 'archive/read/big.json.gz', generation });

    expect((await readAll(stream)).equals(content)).toBe(true);
  });

  it('gives an overwritten object a new generation and refuses to serve the old one as new', async () => {
    const name = 'archive/overwrite/file.json.gz';
    const first = await upload(name, 'first version');
    // The emulator's generation is Date.now(): make sure the clock moved on (it does on GCS).
    while (Date.now() <= Number(first)) await new Promise((resolve) => setImmediate(resolve));
    const second = await upload(name, 'second version, longer');

    expect(second).not.toBe(first);
    expect((await store.stat(name))?.generation).toBe(second);
    expect((await readAll(await store.openRead({ name, generation: second }))).toString()).toBe('second version, longer');
    await expect(store.openRead({ name, generation: first })).rejects.toThrow(ObjectNotFoundError);
  });

  it('rejects with ObjectNotFoundError when the object was deleted', async () => {
    const name = 'archive/deleted/file.json.gz';
    const generation = await upload(name, 'soon gone');
    await bucket.file(name).delete();

    const attempt = store.openRead({ name, generation });

    await expect(attempt).rejects.toThrow(ObjectNotFoundError);
    await expect(attempt).rejects.toMatchObject({ objectName: name, generation });
  });

  it('fails the stream when the bytes do not match the stored CRC32C', async () => {
    const name = 'archive/corrupt/file.json.gz';
    const content = gzipSync(Buffer.from('{"id_str":"1"}\n'.repeat(1000)));
    const generation = await upload(name, content);
    // Flip one byte of the blob on the emulator's disk; its metadata keeps the original CRC32C.
    const blobs = path.join(emulator.directory, 'firebase', 'storage', 'blobs');
    let corrupted = false;
    for (const entry of await readdir(blobs)) {
      const blob = await readFile(path.join(blobs, entry));
      if (!blob.equals(content)) continue;
      const middle = blob.length >> 1;
      blob[middle] = blob[middle]! ^ 0xff;
      await writeFile(path.join(blobs, entry), blob);
      corrupted = true;
    }
    expect(corrupted).toBe(true);

    const stream = await store.openRead({ name, generation });

    await expect(readAll(stream)).rejects.toThrow(ChecksumMismatchError);
  });
});
