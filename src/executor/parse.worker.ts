import { isCorruptFileError } from '../pipeline/decode.js';
import { parseFileInChunks } from '../pipeline/parse-file.js';
import { processChunk } from '../pipeline/process-chunk.js';
import { FileCancelled, WorkerFileChannel, type FileTask } from './file-channel.js';

// Entry point of a piscina worker thread: one task is one whole file. The worker decompresses
// (zlib), splits, parses, cleans and encodes it, and sends the parsed pieces back over the
// task's port (file-channel.ts); the main thread only reads the file and writes the rows.
// Errors travel as plain data (a message and whether the file is corrupt): class identity does
// not survive the thread boundary.
export default async function parseFile({ port, options }: FileTask): Promise<void> {
  const channel = new WorkerFileChannel(port);
  let failure: { message: string; corrupt: boolean } | null = null;
  try {
    // One task at a time on this thread: no window, no buffer reuse (pieces are transferred).
    const run = async (task: Parameters<typeof processChunk>[0]) => processChunk(task);
    for await (const piece of parseFileInChunks(channel.bytes(), options, run, { tasks: 1 })) {
      await channel.send(piece);
    }
  } catch (error) {
    if (!(error instanceof FileCancelled)) {
      failure = { message: (error as Error).message, corrupt: isCorruptFileError(error) };
    }
  } finally {
    channel.finish(failure);
  }
}
