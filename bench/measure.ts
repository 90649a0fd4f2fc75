import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

// Runs one contender as a child process under GNU time, which reports what Node cannot see of
// a child: its CPU time (user + system, descendants it waited for included) and its peak
// resident set (the largest single process of the tree: for a process pool, the biggest
// process, not their sum).

export const GNU_TIME = '/usr/bin/time';
const TIME_MARKER = '@@bench-time';

export interface Measurement {
  wallMs: number;
  cpuMs: number; // user + system of the contender's processes
  peakRssMb: number;
  // Busy CPU time of the whole machine during the run (all processes: PostgreSQL, other users):
  // with cpuMs it shows how much the database and the rest of the machine took.
  machineCpuMs: number;
  loadBefore: number;
  stdout: string;
  stderr: string;
}

export class ContenderFailedError extends Error {
  constructor(command: string, code: number | null, stderr: string) {
    super(`${command} exited with ${code}:\n${stderr.slice(-4000)}`);
    this.name = 'ContenderFailedError';
  }
}

export async function measureCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Measurement> {
  const loadBefore = loadavg()[0];
  const machineBefore = machineBusyMs();
  const started = performance.now();
  const child = spawn(GNU_TIME, ['-f', `${TIME_MARKER} %e %U %S %M`, command, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallMs = performance.now() - started;
  const machineCpuMs = machineBusyMs() - machineBefore;
  const timeLine = stderr.split('\n').find((line) => line.startsWith(TIME_MARKER));
  if (code !== 0 || timeLine === undefined) {
    throw new ContenderFailedError(`${command} ${args.join(' ')}`, code, stderr + stdout);
  }
  const [, , user, system, maxRssKb] = timeLine.split(' ');
  return {
    wallMs,
    cpuMs: (Number(user) + Number(system)) * 1000,
    peakRssMb: Number(maxRssKb) / 1024,
    machineCpuMs,
    loadBefore,
    stdout,
    stderr: stderr.replace(timeLine, '').trim(),
  };
}

/** Milliseconds of non-idle CPU time of the whole machine since boot (/proc/stat). */
export function machineBusyMs(): number {
  const cpuLine = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...fields] = cpuLine.trim().split(/\s+/);
  const ticks = fields.map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guests are inside user.
  const busy = ticks[0]! + ticks[1]! + ticks[2]! + ticks[5]! + ticks[6]! + ticks[7]!;
  const clockTicksPerSecond = 100; // USER_HZ, 100 on every Linux architecture Node runs on
  return (busy / clockTicksPerSecond) * 1000;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
