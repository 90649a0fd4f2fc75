import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-paths.js';

/**
 * The page's files are served from their source folder (`src/status-page/assets`), in the
 * repository as in the image (the Dockerfile copies the folder): they are hand-written ES
 * modules, CSS and SVG that need no build step, so `npm run build` (tsc only) stays as it is.
 */
export const STATUS_PAGE_ASSETS_DIR = path.join(PROJECT_ROOT, 'src', 'status-page', 'assets');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface StatusPageAsset {
  body: Buffer;
  contentType: string;
  /** Strong validator: the hash of the content. */
  etag: string;
}

/**
 * The page's files, read once at boot (a few KiB): no request touches the file system, and a
 * request can name only a file that was there at boot (no path from the URL reaches the disk).
 * A missing folder or index.html stops the start with a message naming the folder: an image
 * built without the assets must not come up with a broken page.
 */
export class StatusPageAssets {
  private readonly files = new Map<string, StatusPageAsset>();

  constructor(directory = STATUS_PAGE_ASSETS_DIR) {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch (error) {
      throw new Error(`status page assets: cannot read ${directory}: ${(error as Error).message}`);
    }
    for (const name of names) {
      const contentType = CONTENT_TYPES[path.extname(name)];
      if (!contentType) continue;
      const body = readFileSync(path.join(directory, name));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      this.files.set(name, { body, contentType, etag });
    }
    if (!this.files.has('index.html')) throw new Error(`status page assets: no index.html in ${directory}`);
  }

  get(name: string): StatusPageAsset | undefined {
    return this.files.get(name);
  }

  names(): string[] {
    return [...this.files.keys()].sort();
  }
}
