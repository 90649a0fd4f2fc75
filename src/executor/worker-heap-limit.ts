const MIB = 1024 * 1024;

// V8's own baseline (code, builtins, the pipeline's modules) plus headroom for the rows a
// chunk produces; a worker idles at ~10 MB of heap.
const BASE_HEAP_MB = 128;
// Heap per byte of the largest task a worker can be sent. JSON.parse of real tweets holds
// 3-5x the line's bytes; 4x covers a task of ordinary records plus one record at
// MAX_LINE_BYTES. Measured (Node 20): `[{},{},…]`, the worst expansion we found, holds ~22x.
const HEAP_PER_TASK_BYTE = 4;

/**
 * The heap limit of one worker (thread or process), in MB, derived from the largest task the
 * splitter can produce (CHUNK_BYTES + one record of MAX_LINE_BYTES). Without a limit, a worker
 * thread that runs out of heap aborts the whole process (V8's fatal OOM is process-wide), so a
 * single crafted record would take the replica and every file it holds down with it, on every
 * replica that claims the file. With it, only that worker dies: its task rejects, the pool
 * replaces it and the file is retried, then failed after MAX_ATTEMPTS.
 * Defaults (256 KiB chunks, 32 MiB records): 257 MB per worker.
 */
export function workerHeapLimitMb(chunkBytes: number, maxLineBytes: number): number {
  return Math.ceil(BASE_HEAP_MB + (HEAP_PER_TASK_BYTE * (chunkBytes + maxLineBytes)) / MIB);
}
