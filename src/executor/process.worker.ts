import workerpool from 'workerpool';
import { processChunk } from '../pipeline/process-chunk.js';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';

// Entry point of a workerpool child process. With `serialization: 'advanced'` typed arrays
// cross the IPC channel as binary (structured clone), not as JSON arrays of numbers.
workerpool.worker({
  processChunk: (task: ChunkTask): ChunkResult => processChunk(task),
});
