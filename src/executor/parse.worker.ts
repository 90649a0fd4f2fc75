import { processChunk } from '../pipeline/process-chunk.js';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';

// Entry point of a piscina worker thread: plain data in, plain data out.
export default function parseChunk(task: ChunkTask): ChunkResult {
  return processChunk(task);
}
