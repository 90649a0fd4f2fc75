import { spawnSync } from 'node:child_process';

/**
 * The Python reference runs on Debian's interpreter, whose python3-psycopg2 package provides
 * the driver (a pyenv or venv python3 earlier on PATH usually lacks it; PyPI is unreachable).
 */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function pythonHasPsycopg2(): boolean {
  return spawnSync(DEBIAN_PYTHON, ['-c', 'import psycopg2'], { stdio: 'ignore' }).status === 0;
}
