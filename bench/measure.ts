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
  // Busy CPU time of the whole machine during the run (all processes: PostgreSQL, other users),
  // steal excluded: with cpuMs it shows how much the database and the rest of the machine took.
  machineCpuMs: number;
  // Steal: time the virtual machine's cores were ready to run but the hypervisor ran someone
  // else. Not CPU anything here spent, but core time the run did not have.
  stealMs: number;
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
  const machineBefore = machineCpuTimes();
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
  const machineAfter = machineCpuTimes();
  const timeLine = stderr.split('\n').find((line) => line.startsWith(TIME_MARKER));
  if (code !== 0 || timeLine === undefined) {
    throw new ContenderFailedError(`${command} ${args.join(' ')}`, code, stderr + stdout);
  }
  const [, , user, system, maxRssKb] = timeLine.split(' ');
  return {
    wallMs,
    cpuMs: (Number(user) + Number(system)) * 1000,
    peakRssMb: Number(maxRssKb) / 1024,
    machineCpuMs: machineAfter.busyMs - machineBefore.busyMs,
    stealMs: machineAfter.stealMs - machineBefore.stealMs,
    loadBefore,
    stdout,
    stderr: stderr.replace(timeLine, '').trim(),
  };
}

/** The whole machine's CPU time since boot, in milliseconds: busy (steal excluded) and stolen. */
export function machineCpuTimes(): { busyMs: number; stealMs: number } {
  return parseProcStatCpuLine(readFileSync('/proc/stat', 'utf8').split('\n')[0]!);
}

/** The "cpu" line of /proc/stat (USER_HZ ticks since boot) as milliseconds of busy and stolen time. */
export function parseProcStatCpuLine(cpuLine: string): { busyMs: number; stealMs: number } {
  const [label, ...fields] = cpuLine.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal guest guest_nice; guests are inside user.
  const ticks = fields.map(Number);
  if (label !== 'cpu' || ticks.length < 8 || ticks.some((tick) => !Number.isFinite(tick))) {
    throw new Error(`unexpected /proc/stat line: ${cpuLine}`);
  }
  const [user, nice, system, , , irq, softirq, steal] = ticks as [number, number, number, number, number, number, number, number];
  const msPerTick = 1000 / 100; // USER_HZ, 100 on every Linux architecture Node runs on
  return { busyMs: (user + nice + system + irq + softirq) * msPerTick, stealMs: steal * msPerTick };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
