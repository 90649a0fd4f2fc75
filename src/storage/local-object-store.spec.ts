import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local-object-store.js';
import type { StoredObject } from './object-store.js';
import { InvalidPrefixError, ObjectNotFoundError } from './storage.errors.js';

describe('LocalObjectStore', () => {
  let folder: string;
  let store: LocalObjectStore;

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'local-store-'));
    store = new LocalObjectStore(folder);
    await mkdir(path.join(folder, '2017/08'), { recursive: true });
    await mkdir(path.join(folder, '2017/09'), { recursive: true });
    for (const name of ['2017/08/a.gz', '2017/08/b.gz', '2017/09/c.gz', 'top.gz', '.partial-upload']) {
      await writeFile(path.join(folder, name), `content of ${name}`);
    }
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  const listAll = async (prefix?: string, pageSize?: number) => {
    const pages: StoredObject[][] = [];
    for await (const page of store.list(prefix, { pageSize })) pages.push(page);
    return pages;
  };

  it('lists by prefix in name order, page by page, skipping hidden files', async () => {
    const pages = await listAll('', 2);
    expect(pages.map((page) => page.map((object) => object.name))).toEqual([['2017/08/a.gz', '2017/08/b.gz'], ['2017/09/c.gz', 'top.gz']]);
    expect((await listAll('2017/08/')).flat().map((object) => object.name)).toEqual(['2017/08/a.gz', '2017/08/b.gz']);
    expect(pages[0]![0]).toMatchObject({ bucket: folder, size: 'content of 2017/08/a.gz'.length });
  });

  it('gives a rewritten file a new generation and refuses to read a stale one', async () => {
    const before = (await store.stat('top.gz'))!;
    await writeFile(path.join(folder, 'top.gz'), 'rewritten, longer content');
    await utimes(path.join(folder, 'top.gz'), new Date(), new Date(Date.now() + 5000));
    const after = (await store.stat('top.gz'))!;
    expect(after.generation).not.toBe(before.generation);
    expect(await text(await store.openRead(after))).toBe('rewritten, longer content');
    await expect(store.openRead(before)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('returns null for a missing object and rejects prefixes that escape the folder', async () => {
    expect(await store.stat('nope.gz')).toBeNull();
    await expect(listAll('../')).rejects.toBeInstanceOf(InvalidPrefixError);
    await expect(listAll('/etc')).rejects.toBeInstanceOf(InvalidPrefixError);
    await expect(store.stat('2017/../../etc/passwd')).rejects.toThrowError(/must not contain '..'/);
  });
});
