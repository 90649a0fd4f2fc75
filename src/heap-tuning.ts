import { setFlagsFromString } from 'node:v8';

// V8 lets the old generation grow to this percentage above what survived the last full
// collection before it starts the next one (as --heap-growing-percent=N on the command line;
// unset, V8 picks a factor of its own per collection). The service keeps a small live heap
// (~25 MB) while it moves ~100 MB/s through it, so V8's own factor left it marking all the
// time: 22 full collections in one 2.6 s ingest of the benchmark corpus, each with ~20 ms of
// incremental marking during which every write pays a barrier. Measured end to end (40 files,
// 417 MB of JSON, interleaved runs of `node dist/main.js ingest`, BENCHMARKS.md):
//   V8's factor 2.69 s / 3.17 CPU s; 50% 2.92 s; 100% 2.63 s; 200% 2.50 s / 2.85 CPU s, 4 full
//   collections; 400% 2.48 s.
// 200% (the heap may triple) keeps nearly all the gain for the smallest heap: peak RSS 177 → 195 MB.
const HEAP_GROWING_PERCENT = 200;

/**
 * The V8 option to set, or undefined when the operator gave their own --heap-growing-percent
 * (on the command line or in NODE_OPTIONS): theirs wins.
 */
export function heapGrowingOption(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((argument) => /^--heap[-_]growing[-_]percent(=|$)/.test(argument));
  return given ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

// The flag is read at every collection, so setting it here, before anything else is loaded
// (main.ts imports this module first), works like the command-line option. Worker threads share
// it; process-pool children do not set it (measured: processes × 2 3.42 s with it, 3.43 s without).
const option = heapGrowingOption(process.execArgv, process.env.NODE_OPTIONS);
if (option !== undefined) setFlagsFromString(option);
