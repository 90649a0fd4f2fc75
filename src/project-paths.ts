import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled code runs from dist/, tests run the TypeScript from src/: both find the project
// root by walking up to package.json, and compiled artefacts (workers, migrations) in dist/.
function findProjectRoot(start: string): string {
  let directory = start;
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`no package.json above ${start}`);
    directory = parent;
  }
  return directory;
}

export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
export const DIST_DIR = path.join(PROJECT_ROOT, 'dist');
export const MIGRATIONS_GLOB = path.join(DIST_DIR, 'migrations', '*.js');
