// The defaults of the pipeline's two sizes, in a module of their own (no zod): the service's
// configuration (environment.ts) and the benchmark scripts that run the pipeline without it
// (bench/parse-only.ts, bench/corpus-tasks.ts) take them from here, so they cannot drift apart.

// CHUNK_BYTES: decompressed bytes per executor task. 256 KiB measured best for the default
// inline executor (40-file corpus, 5 interleaved runs, median wall): 64 KiB 3.60 s, 128 KiB
// 3.61 s, 256 KiB 3.47 s, 512 KiB 3.54 s, 1 MiB 3.76 s, 4 MiB 4.50 s (smaller tasks hand the
// event loop back to gunzip and the writes more often); the same for a worker thread (4.02 s at
// 1 MiB, 4.08 s at 256 KiB).
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
// MAX_LINE_BYTES: the longest record accepted.
export const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024;
