import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusPageAssets } from './status-page-assets.js';

describe('StatusPageAssets', () => {
  let folder: string;
  afterEach(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('holds the real page: index.html and the files it references', () => {
    const assets = new StatusPageAssets();
    expect(assets.names()).toEqual(['favicon.svg', 'format.js', 'index.html', 'status-page.css', 'status-page.js']);
    const index = assets.get('index.html')!.body.toString();
    for (const referenced of index.matchAll(/(?:src|href)="\/status-page\/([^"]+)"/g)) {
      expect(assets.get(referenced[1]!), referenced[1]).toBeDefined();
    }
    expect(index).not.toMatch(/<script>|<style|style="|https?:\/\//);
  });

  it('serves only known file types, each with a content hash as its ETag', async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'status-page-assets-'));
    await writeFile(path.join(folder, 'index.html'), '<!doctype html>');
    await writeFile(path.join(folder, 'notes.md'), 'not served');
    const assets = new StatusPageAssets(folder);
    expect(assets.names()).toEqual(['index.html']);
    expect(assets.get('index.html')).toMatchObject({ contentType: 'text/html; charset=utf-8', etag: expect.stringMatching(/^"[A-Za-z0-9_-]{27}"$/) });
    expect(assets.get('../package.json')).toBeUndefined();
  });

  it('refuses to start without its folder or its index.html, naming the folder', async () => {
    expect(() => new StatusPageAssets('/nonexistent/assets')).toThrow(/^status page assets: cannot read \/nonexistent\/assets: /);
    folder = await mkdtemp(path.join(tmpdir(), 'status-page-assets-'));
    expect(() => new StatusPageAssets(folder)).toThrow(`status page assets: no index.html in ${folder}`);
  });
});
