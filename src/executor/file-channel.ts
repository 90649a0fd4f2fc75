import type { MessagePort } from 'node:worker_threads';
import type { ParsedPiece, ParseFileOptions } from '../pipeline/parse-file.js';

// The conversation between the main thread and a worker thread that parses a whole file
// (thread-pool.executor.ts ↔ parse.worker.ts), over a MessagePort of its own:
//
//   worker → main   pull      send me the next piece of the file's (compressed) bytes
//   main → worker   data      here it is            | end      there is no more
//   worker → main   piece     a parsed piece        (its COPY bytes are transferred, not copied)
//   main → worker   ack       one piece was taken   (the worker has PIECE_CREDITS unacknowledged at most)
//   worker → main   done      every piece was sent  | failed   parsing stopped: message, corrupt?
//   main → worker   cancel    stop now (the file failed elsewhere, or the replica is shutting down)
//
// Both directions are pulled, so memory stays bounded whatever the file's size: the worker asks
// for input only as fast as it parses, and stops parsing when the writer falls behind.

/** The piscina task: the port to talk over and how to cut the file. */
export interface FileTask {
  port: MessagePort;
  options: ParseFileOptions;
}

export type MainMessage = { type: 'data'; bytes: Uint8Array } | { type: 'end' } | { type: 'ack' } | { type: 'cancel' };

export type WorkerMessage =
  | { type: 'pull' }
  | { type: 'piece'; piece: ParsedPiece }
  | { type: 'done' }
  | { type: 'failed'; message: string; corrupt: boolean };

// Parsed pieces a worker may have sent that the main thread has not taken yet. A piece is one
// chunk task's result (CHUNK_BYTES of JSON, ~60 KB of COPY text by default), and the writer
// takes pieces while a batch is being written, so a few are enough to keep the worker busy
// through a write; more would only hold memory.
export const PIECE_CREDITS = 8;
// Pieces of input a worker asks for ahead of what it is decompressing, so that it does not
// wait for the main thread's answer between two reads.
export const INPUT_READ_AHEAD = 2;

/** Thrown inside the worker when the main thread cancels the file. */
export class FileCancelled extends Error {
  constructor() {
    super('file cancelled by the main thread');
    this.name = 'FileCancelled';
  }
}

/**
 * The worker's end of the conversation: the file's bytes as an async iterable (pulled from the
 * main thread), and `send` for parsed pieces (waits for credit).
 */
export class WorkerFileChannel {
  private readonly input: MainMessage[] = [];
  private credits = PIECE_CREDITS;
  private cancelled = false;
  // Input and credit are awaited at the same time (the decompressing stream reads ahead while
  // a piece waits for credit): every message wakes every waiter, each checks its own condition.
  private waiters: (() => void)[] = [];

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: MainMessage) => {
      if (message.type === 'ack') this.credits += 1;
      else if (message.type === 'cancel') this.cancelled = true;
      else this.input.push(message);
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  async *bytes(): AsyncGenerator<Buffer> {
    for (let ahead = 0; ahead < INPUT_READ_AHEAD; ahead++) this.post({ type: 'pull' });
    for (;;) {
      await this.until(() => this.input.length > 0);
      const message = this.input.shift()!;
      if (message.type !== 'data') return;
      this.post({ type: 'pull' });
      yield Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
    }
  }

  async send(piece: ParsedPiece): Promise<void> {
    await this.until(() => this.credits > 0);
    this.credits -= 1;
    const copy = piece.result?.tweetsCopy;
    this.post({ type: 'piece', piece }, copy && copy.byteLength > 0 ? [copy.buffer as ArrayBuffer] : []);
  }

  finish(failure: { message: string; corrupt: boolean } | null): void {
    this.post(failure ? { type: 'failed', ...failure } : { type: 'done' });
    this.port.close();
  }

  private post(message: WorkerMessage, transferList: ArrayBuffer[] = []): void {
    this.port.postMessage(message, transferList);
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!this.cancelled && !ready()) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.cancelled) throw new FileCancelled();
  }
}
