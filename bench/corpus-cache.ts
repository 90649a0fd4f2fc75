import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type CorpusManifest, generateCorpus } from '../test/support/corpus-generator.js';

// Generated corpora are cached under bench/.corpus (gitignored), one folder per parameter set,
// so that a rerun of the benchmark does not spend a minute regenerating 400 MB of JSON.
export const CORPUS_CACHE_DIR = path.resolve(import.meta.dirname, '.corpus');

export interface CorpusSpec {
  files: number;
  tweetsPerFile: number;
  seed: number;
}

export interface CachedCorpus {
  dir: string;
  manifest: CorpusManifest;
}

/** The corpus of these parameters, generated on first use. */
export async function cachedCorpus(spec: CorpusSpec, log: (line: string) => void = () => {}): Promise<CachedCorpus> {
  const key = `v1-files${spec.files}-tweets${spec.tweetsPerFile}-seed${spec.seed}`;
  const dir = path.join(CORPUS_CACHE_DIR, key);
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    log(`generating corpus ${key} (cached in ${dir}) …`);
    const building = `${dir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { recursive: true });
    const filesDir = path.join(building, 'files');
    const manifest = await generateCorpus({
      outDir: filesDir,
      files: spec.files,
      tweetsPerFile: spec.tweetsPerFile,
      seed: spec.seed,
      quirks: false,
      gzip: true,
    });
    // The manifest's full row list is not kept: ids and counts are what the benchmark checks.
    await writeFile(path.join(building, 'manifest.json'), JSON.stringify(manifest));
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
  }
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as CorpusManifest;
  return { dir: path.join(dir, 'files'), manifest };
}

/** A folder holding hard links to the first `count` files of a cached corpus (the local store lists regular files only, not symbolic links). */
export async function corpusSubset(corpus: CachedCorpus, count: number): Promise<string> {
  const dir = path.join(path.dirname(corpus.dir), `first-${count}-files`);
  if (!existsSync(dir)) {
    const building = `${dir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { recursive: true });
    for (const file of corpus.manifest.files.slice(0, count)) {
      await link(path.join(corpus.dir, file.name), path.join(building, file.name));
    }
    await rename(building, dir);
  }
  return dir;
}
