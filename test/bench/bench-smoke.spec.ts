import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXECUTOR, DEFAULT_EXECUTOR_SIZE } from '../../src/config/environment.js';
import { PROJECT_ROOT } from '../../src/project-paths.js';
import { DEBIAN_PYTHON, pythonHasPsycopg2 } from '../../bench/baseline/python.js';

// The benchmark runner in --smoke mode on a tiny corpus: every contender runs once against the
// real PostgreSQL and the runner cross-checks what they wrote, then a tiny scale run (2, 8 and 32
// files). No timing is asserted (benchmarks are not tests); this keeps `npm run bench` working
// and the Python reference equivalent to the service. Needs the build (npm test builds first).

const run = promisify(execFile);

interface BenchRecord {
  contender: string;
  tweetIdsSha256?: string;
  rowsDigest?: string;
  tweetRows?: number;
}


describe('npm run bench -- --smoke', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  // One run of the runner; the Node contenders and the Python reference are checked apart, so a
  // machine without psycopg2 reports the Python part skipped, never passed.
  const withPython = pythonHasPsycopg2();
  if (!withPython) {
    console.warn(`\n${'!'.repeat(90)}\n!!! ${DEBIAN_PYTHON} has no psycopg2 (apt-get install python3-psycopg2): the Python reference check is SKIPPED\n${'!'.repeat(90)}\n`);
  }
  let stdout = '';
  let stderr = '';
  let writers: BenchRecord[] = [];
  let scale: { multiple: number; files: number; tweetRows: number[] }[] = [];
  let rows: { contender: string; coresBusy: number }[] = [];
  beforeAll(async () => {
    const jsonFile = path.join(outDir, 'smoke.json');
    ({ stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--json', jsonFile], {
      cwd: PROJECT_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    }));
    const results = JSON.parse(readFileSync(jsonFile, 'utf8')) as { throughput: { records: BenchRecord[]; rows: typeof rows }; scale: typeof scale };
    rows = results.throughput.rows;
    writers = results.throughput.records.filter((record) => record.tweetIdsSha256 !== undefined);
    scale = results.scale;
  }, 180_000);

  it('runs every Node contender once, prints the table and finds identical rows everywhere', () => {
    // The default configuration is one row under its own name, never measured twice.
    const expectedContenders =
      DEFAULT_EXECUTOR === 'inline'
        ? ['default (inline)', 'threads × 1', 'processes × 1', 'parse-only ceiling × ']
        : [`default (${DEFAULT_EXECUTOR} × ${DEFAULT_EXECUTOR_SIZE})`, 'inline', 'processes × 1', 'parse-only ceiling × '];
    for (const contender of expectedContenders) {
      expect(stdout, `table row of ${contender}`).toMatch(new RegExp(`^\\| ${contender.replace(/[()×]/g, '.')}`, 'm'));
    }
    expect(stdout).toMatch(/^tweet id sets: IDENTICAL across \d+ runs .*equal to the manifest's/m);
    expect(stdout).toMatch(/^row digests: +IDENTICAL/m);
    const node = writers.find((record) => record.contender.startsWith('default'));
    expect(node?.tweetRows).toBeGreaterThan(0);
    for (const record of writers) {
      expect(record.tweetIdsSha256, record.contender).toBe(node!.tweetIdsSha256);
      expect(record.rowsDigest, record.contender).toBe(node!.rowsDigest);
    }
    if (!withPython) expect(stderr).toContain('the Python reference is NOT measured');
  });

  it("prints how busy each contender kept the cores, and what 75% of the ceiling would ask of the default's", () => {
    expect(stdout).toMatch(/^\| contender \| wall s \|.*\| machine CPU s \| steal s \| cores busy \|/m);
    // Busy CPU time of the whole machine over its wall time: above 0, and not much above 1 (the
    // kernel counts CPU time in 10 ms ticks, coarse against the smoke run's short runs).
    for (const row of rows) {
      expect(row.coresBusy, row.contender).toBeGreaterThan(0);
      expect(row.coresBusy, row.contender).toBeLessThan(1.5);
    }
    // The targets judged on unrounded medians (bench/targets.ts; its own spec checks the verdicts).
    expect(stdout).toMatch(/^targets: default ÷ Python (not measured|\d+\.\d{3}× \(≥ 2×: (met|NOT MET); goal 2\.5×: (reached|not reached)\)); share of the ceiling \d+\.\d% \(≥ 75%: (met|NOT MET)\)$/m);
    expect(stdout).toMatch(
      /^CPU budget: 75% of the ceiling is \d+\.\d\d s; the default's \d+\.\d\d s of machine CPU need at least \d+\.\d\d s on \d+ cores less the \d+\.\d\d core stolen while it ran, so it would have to keep them \d+% busy \(it kept them \d+% busy; the ceiling \d+%\)$/m,
    );
  });

  it.skipIf(!withPython)('runs the Python reference, which writes exactly the rows the service writes', () => {
    expect(stdout).toMatch(/^\| python ProcessPoolExecutor × /m);
    const node = writers.find((record) => record.contender.startsWith('default'));
    const python = writers.find((record) => record.contender.startsWith('python'));
    expect(python?.tweetRows).toBe(node?.tweetRows);
    expect(python?.tweetIdsSha256).toBe(node?.tweetIdsSha256);
    expect(python?.rowsDigest).toBe(node?.rowsDigest);
  });

  it('runs the scale step on 1×, 4× and 16× the files, each writing more rows than the size before', () => {
    expect(stdout).toMatch(/^## Scale: 2 × k files of 150 tweets/m);
    expect(stdout).toMatch(/^linear fit through 1× and 16×: wall ≈ /m);
    expect(stdout).toMatch(/^targets: 16× the files in 16× the time ± 15%: wall ratio \d\.\d{3} \((met|NOT MET)\), ingest after boot \d\.\d{3} \((met|NOT MET)\)$/m);
    expect(scale.map((row) => [row.multiple, row.files])).toEqual([
      [1, 2],
      [4, 8],
      [16, 32],
    ]);
    const rows = scale.map((row) => row.tweetRows);
    // 1× runs once per size in the round (it also follows 4× and 16×): its median steadies the
    // denominator of both ratios.
    expect(stdout).toMatch(/^## Scale: .*, medians of 1 rounds \(1×: 3 runs\)$/m);
    expect(rows.map((runs) => runs.length)).toEqual([3, 1, 1]);
    expect(new Set(rows[0])).toEqual(new Set([rows[0]![0]]));
    expect(rows[0]![0]).toBeGreaterThan(0);
    expect(rows[1]![0]).toBeGreaterThan(rows[0]![0]!);
    expect(rows[2]![0]).toBeGreaterThan(rows[1]![0]!);
  });
});
