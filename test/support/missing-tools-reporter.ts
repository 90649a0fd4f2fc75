import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Reporter } from 'vitest/reporters';
import { pythonHasPsycopg2 } from '../../bench/baseline/python.js';
import { PUBSUB_EMULATOR_BINARY, PUBSUB_EMULATOR_PACKAGE, STORAGE_EMULATOR_PACKAGE } from './emulators.js';

// The tests that need an external tool skip themselves (loudly) when it is missing. This
// reporter repeats the warning where nobody can miss it: before the first test file runs and
// after the summary, so a run with skipped tiers never reads as a clean pass.

interface ExternalTool {
  what: string;
  install: string;
  present(): boolean;
}

const require = createRequire(import.meta.url);

export const EXTERNAL_TOOLS: ExternalTool[] = [
  {
    what: 'Google Pub/Sub emulator (Pub/Sub and GCS end-to-end tests)',
    install: `apt-get install ${PUBSUB_EMULATOR_PACKAGE} (expects ${PUBSUB_EMULATOR_BINARY})`,
    present: () => existsSync(PUBSUB_EMULATOR_BINARY),
  },
  {
    what: 'Firebase Storage emulator (GCS tests)',
    install: `npm ci (dev dependency ${STORAGE_EMULATOR_PACKAGE})`,
    present: () => {
      try {
        require.resolve('firebase-tools/lib/emulator/storage');
        return true;
      } catch {
        return false;
      }
    },
  },
  {
    what: 'Chromium (status page browser tests)',
    install: 'apt-get install chromium (expects /usr/bin/chromium)',
    present: () => existsSync('/usr/bin/chromium'),
  },
  {
    what: "psycopg2 for Debian's python3 (benchmark smoke run's Python baseline)",
    install: 'apt-get install python3-psycopg2',
    present: pythonHasPsycopg2,
  },
];

export function missingToolsBanner(missing: readonly ExternalTool[]): string {
  const line = '!'.repeat(88);
  return [
    '',
    line,
    `!!! ${missing.length} EXTERNAL TOOL(S) MISSING: the tests that need them are SKIPPED, NOT PASSED.`,
    ...missing.map((tool) => `!!!   ${tool.what}: ${tool.install}`),
    line,
    '',
  ].join('\n');
}

export default class MissingToolsReporter implements Reporter {
  private missing: ExternalTool[] = [];

  onInit(): void {
    this.missing = EXTERNAL_TOOLS.filter((tool) => !tool.present());
    if (this.missing.length > 0) process.stderr.write(`${missingToolsBanner(this.missing)}\n`);
  }

  onTestRunEnd(): void {
    if (this.missing.length > 0) process.stderr.write(`${missingToolsBanner(this.missing)}\n`);
  }
}
