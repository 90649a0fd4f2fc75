import {
  CARRIAGE_RETURN,
  CLOSE_BRACKET,
  isComma,
  isJsonWhitespace,
  JsonValueScanner,
  LINE_FEED,
  OPEN_BRACE,
  OPEN_BRACKET,
} from './json-value-scanner.js';
import { RAW_EXCERPT_BYTES, rawExcerpt } from './parse-record.js';
import type { ChunkTask, RejectedRecord, SplitOutput } from './pipeline.types.js';

export type { SplitOutput } from './pipeline.types.js';

export interface RecordSplitterOptions {
  /** Target size of a task's bytes; a task passes it by at most one record. */
  chunkBytes: number;
  /** A longer record is rejected and skipped without ever being held whole in memory. */
  maxRecordBytes: number;
  /**
   * Where a task's bytes are copied: `length` bytes that no one else uses until the task is
   * done. Defaults to a fresh buffer of exactly that size (see TaskBufferPool for reuse).
   */
  allocateTaskBytes?: (length: number) => Uint8Array;
}

/**
 * How the stream's records are laid out, decided from its first non-whitespace byte:
 * `[` → one JSON array (each element a record); `{` whose value does not end on the first line
 * → concatenated (pretty-printed) JSON values; anything else → JSON lines.
 */
export type RecordFormat = 'json-lines' | 'json-array' | 'json-values';

// Free space kept beyond chunkBytes + maxRecordBytes, so that compacting the working buffer
// always makes room for the next piece of input.
const MIN_FREE_BYTES = 64 * 1024;
// The working buffer starts small and doubles up to its capacity: a small file never pays
// for a full-size buffer.
const INITIAL_BUFFER_BYTES = 256 * 1024;
// Boundaries are Uint32 offsets into a task.
const MAX_BUFFER_BYTES = 0xffff_ffff;

/**
 * Cuts a decompressed byte stream into ChunkTasks of complete records, about `chunkBytes` each,
 * without parsing JSON. Push the stream's chunks in order, then call `end()` once.
 *
 * Memory: one working buffer of about chunkBytes + maxRecordBytes + 64 KiB at most, plus the tasks
 * handed out; each task gets a copy of its bytes in a buffer of its own (allocateTaskBytes) so
 * that it can be transferred to a worker without dragging the working buffer along.
 */
export class RecordSplitter {
  private readonly chunkBytes: number;
  private readonly maxRecordBytes: number;
  // An unfinished record is dropped once longer than this: maxRecordBytes plus the CR a CRLF
  // line end may still strip, but never before the KiB its rejection shows has arrived, so
  // that the outcome does not depend on the chunking.
  private readonly unfinishedRecordLimit: number;
  private readonly capacity: number;

  // Working buffer: bytes [taskStart, writeEnd) are live. Invariant:
  // taskStart <= recordStart <= scanPosition <= writeEnd.
  private buffer: Buffer;
  private writeEnd = 0;
  private taskStart = 0; // first byte of the task being built
  private recordStart = 0; // first byte of the record in progress (or of the next one)
  private scanPosition = 0; // next byte to examine
  private boundaries: number[] = []; // [start, end) pairs, relative to taskStart
  private lineNumbers: number[] = [];

  private recordFormat: RecordFormat | undefined;
  private firstValueScanner: JsonValueScanner | undefined; // while deciding the format
  private skippingOversized = false;
  private ended = false;

  // JSON lines: the 1-based number of the line that starts at recordStart.
  private lineNumber = 1;

  // JSON array and concatenated values.
  private readonly valueScanner = new JsonValueScanner();
  private inValue = false;
  private valueCount = 0;
  private arrayPhase: 'before-open' | 'elements' | 'closed' = 'before-open';
  private trailingContent: Buffer | undefined; // after the array's `]`: first KiB of it

  private readonly allocateTaskBytes: (length: number) => Uint8Array;

  constructor({ chunkBytes, maxRecordBytes, allocateTaskBytes = freshTaskBytes }: RecordSplitterOptions) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
      throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    }
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1) {
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${maxRecordBytes}`);
    }
    this.chunkBytes = chunkBytes;
    this.maxRecordBytes = maxRecordBytes;
    this.allocateTaskBytes = allocateTaskBytes;
    this.unfinishedRecordLimit = Math.max(maxRecordBytes + 1, RAW_EXCERPT_BYTES);
    this.capacity = chunkBytes + this.unfinishedRecordLimit + MIN_FREE_BYTES;
    if (this.capacity > MAX_BUFFER_BYTES) {
      throw new RangeError('chunkBytes + maxRecordBytes must stay below 4 GiB');
    }
    this.buffer = Buffer.allocUnsafe(Math.min(this.capacity, INITIAL_BUFFER_BYTES));
  }

  /** Bytes held by the working buffer now: never more than about chunkBytes + maxRecordBytes + 64 KiB. */
  get workingBufferBytes(): number {
    return this.buffer.length;
  }

  /** The layout detected so far (undefined until the first value's shape is known). */
  get format(): RecordFormat | undefined {
    return this.recordFormat;
  }

  push(chunk: Uint8Array): SplitOutput {
    if (this.ended) {
      throw new Error('RecordSplitter.push() called after end()');
    }
    const output: SplitOutput = { tasks: [], rejected: [] };
    let offset = 0;
    while (offset < chunk.length) {
      this.makeRoom();
      const count = Math.min(this.buffer.length - this.writeEnd, chunk.length - offset);
      this.buffer.set(chunk.subarray(offset, offset + count), this.writeEnd);
      this.writeEnd += count;
      offset += count;
      this.scan(output, false);
    }
    return output;
  }

  /** Flushes the last record (a final line without newline counts) and the last task. */
  end(): SplitOutput {
    if (this.ended) {
      throw new Error('RecordSplitter.end() called twice');
    }
    this.ended = true;
    const output: SplitOutput = { tasks: [], rejected: [] };
    this.scan(output, true);
    if (this.recordFormat === 'json-lines') {
      this.finishLines(output);
    } else {
      this.finishValues(output);
    }
    this.cutTask(this.writeEnd, output);
    return output;
  }

  private scan(output: SplitOutput, atEnd: boolean): void {
    if (this.recordFormat === undefined) {
      this.detectFormat(atEnd);
    }
    if (this.recordFormat === 'json-lines') {
      this.scanLines(output);
    } else if (this.recordFormat !== undefined) {
      this.scanValues(output);
    }
  }

  private detectFormat(atEnd: boolean): void {
    if (this.firstValueScanner === undefined) {
      // Leading whitespace is dropped; only its line breaks are kept, as line numbers.
      let position = this.scanPosition;
      while (position < this.writeEnd && isJsonWhitespace(this.buffer[position])) {
        if (this.buffer[position] === LINE_FEED) {
          this.lineNumber++;
        }
        position++;
      }
      this.taskStart = this.recordStart = this.scanPosition = position;
      if (position === this.writeEnd) {
        if (atEnd) {
          this.recordFormat = 'json-lines';
        }
        return;
      }
      const first = this.buffer[position];
      if (first === OPEN_BRACKET) {
        this.recordFormat = 'json-array';
        return;
      }
      if (first !== OPEN_BRACE) {
        this.recordFormat = 'json-lines';
        return;
      }
      this.firstValueScanner = new JsonValueScanner();
      this.scanPosition = this.firstValueScanner.begin(this.buffer, position);
    }
    const { shape, next } = this.firstValueScanner.findFirstLineShape(
      this.buffer,
      this.scanPosition,
      this.writeEnd,
    );
    this.scanPosition = next;
    const undecidable = atEnd || this.writeEnd - this.recordStart > this.unfinishedRecordLimit;
    if (shape === 'multi-line') {
      this.recordFormat = 'json-values';
    } else if (shape !== undefined || undecidable) {
      this.recordFormat = 'json-lines';
    }
    if (this.recordFormat !== undefined) {
      // Scan the first record again, now in its format.
      this.scanPosition = this.recordStart;
      this.firstValueScanner = undefined;
    }
  }

  private scanLines(output: SplitOutput): void {
    let view = this.buffer.subarray(0, this.writeEnd);
    let position = this.scanPosition;
    let newline: number;
    // Buffer#indexOf is a native memchr: this loop is what makes line mode fast.
    while ((newline = view.indexOf(LINE_FEED, position)) !== -1) {
      const lineStart = this.recordStart;
      const lineEnd =
        newline > lineStart && view[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      if (this.skippingOversized || lineEnd - lineStart > this.maxRecordBytes) {
        if (!this.skippingOversized) {
          output.rejected.push(this.oversizedRecord(this.lineNumber, lineStart));
        }
        this.skippingOversized = false;
        this.removeBytes(lineStart, newline + 1);
        view = this.buffer.subarray(0, this.writeEnd);
        position = lineStart;
      } else {
        if (!isBlank(view, lineStart, lineEnd)) {
          this.addRecord(lineStart, lineEnd, this.lineNumber);
        }
        position = this.recordStart = newline + 1;
        if (position - this.taskStart >= this.chunkBytes) {
          this.cutTask(position, output);
        }
      }
      this.lineNumber++;
    }
    this.scanPosition = this.writeEnd;
    if (this.skippingOversized) {
      this.dropRecordInProgress();
    } else if (this.writeEnd - this.recordStart > this.unfinishedRecordLimit) {
      output.rejected.push(this.oversizedRecord(this.lineNumber, this.recordStart));
      this.skippingOversized = true;
      this.dropRecordInProgress();
    }
  }

  private finishLines(output: SplitOutput): void {
    if (this.skippingOversized || this.writeEnd === this.recordStart) {
      return;
    }
    // A last line without newline is still a record; if it was cut short, the parser says so.
    const lineEnd =
      this.buffer[this.writeEnd - 1] === CARRIAGE_RETURN ? this.writeEnd - 1 : this.writeEnd;
    if (isBlank(this.buffer, this.recordStart, lineEnd)) {
      return;
    }
    if (lineEnd - this.recordStart > this.maxRecordBytes) {
      output.rejected.push(this.oversizedRecord(this.lineNumber, this.recordStart));
      return;
    }
    this.addRecord(this.recordStart, lineEnd, this.lineNumber);
  }

  private scanValues(output: SplitOutput): void {
    let position = this.scanPosition;
    while (position < this.writeEnd) {
      if (this.inValue) {
        const valueEnd = this.valueScanner.findEnd(this.buffer, position, this.writeEnd);
        if (valueEnd === -1) {
          position = this.writeEnd;
          break;
        }
        this.inValue = false;
        if (this.skippingOversized || valueEnd - this.recordStart > this.maxRecordBytes) {
          if (!this.skippingOversized) {
            output.rejected.push(this.oversizedRecord(this.valueCount, this.recordStart));
          }
          this.skippingOversized = false;
          this.removeBytes(this.recordStart, valueEnd);
          position = this.recordStart;
        } else {
          this.addRecord(this.recordStart, valueEnd, this.valueCount);
          position = this.recordStart = valueEnd;
          if (position - this.taskStart >= this.chunkBytes) {
            this.cutTask(position, output);
          }
        }
        continue;
      }
      if (this.recordFormat === 'json-array' && this.arrayPhase === 'closed') {
        // Nothing may follow the array but whitespace: keep a KiB to show, drop the rest.
        this.keepTrailingContent(position);
        this.writeEnd = position;
        break;
      }
      const byte = this.buffer[position];
      if (isJsonWhitespace(byte)) {
        position++;
        continue;
      }
      if (this.recordFormat === 'json-array') {
        if (this.arrayPhase === 'before-open') {
          // Detection saw `[` here.
          this.arrayPhase = 'elements';
          position++;
          continue;
        }
        if (isComma(byte)) {
          position++;
          continue;
        }
        if (byte === CLOSE_BRACKET) {
          this.arrayPhase = 'closed';
          position++;
          continue;
        }
      }
      // Separators never accumulate past chunkBytes: that keeps the buffer's invariant.
      if (position - this.taskStart >= this.chunkBytes) {
        this.cutTask(position, output);
      }
      this.valueCount++;
      this.recordStart = position;
      this.inValue = true;
      position = this.valueScanner.begin(this.buffer, position);
    }
    this.scanPosition = position;
    if (!this.inValue) {
      this.recordStart = position;
      if (position - this.taskStart >= this.chunkBytes) {
        this.cutTask(position, output);
      }
    } else if (this.skippingOversized) {
      this.dropRecordInProgress();
    } else if (this.writeEnd - this.recordStart > this.unfinishedRecordLimit) {
      output.rejected.push(this.oversizedRecord(this.valueCount, this.recordStart));
      this.skippingOversized = true;
      this.dropRecordInProgress();
    }
  }

  private finishValues(output: SplitOutput): void {
    if (this.inValue && !this.skippingOversized) {
      // A scalar ends with the stream; anything else here is truncated and the parser says so.
      if (this.writeEnd - this.recordStart > this.maxRecordBytes) {
        output.rejected.push(this.oversizedRecord(this.valueCount, this.recordStart));
      } else {
        this.addRecord(this.recordStart, this.writeEnd, this.valueCount);
      }
    }
    if (this.recordFormat !== 'json-array') {
      return;
    }
    if (this.trailingContent !== undefined) {
      output.rejected.push({
        lineNo: this.valueCount + 1,
        reason: 'unexpected content after the closing ] of the JSON array',
        raw: rawExcerpt(this.trailingContent, 0, this.trailingContent.length),
      });
    } else if (this.arrayPhase !== 'closed' && !this.inValue) {
      output.rejected.push({
        lineNo: this.valueCount + 1,
        reason: 'truncated JSON array: no closing ]',
        raw: '',
      });
    }
  }

  private keepTrailingContent(from: number): void {
    let start = from;
    if (this.trailingContent === undefined) {
      while (start < this.writeEnd && isJsonWhitespace(this.buffer[start])) {
        start++;
      }
      if (start === this.writeEnd) {
        return;
      }
      this.trailingContent = Buffer.alloc(0);
    }
    const room = RAW_EXCERPT_BYTES - this.trailingContent.length;
    if (room > 0) {
      const end = Math.min(this.writeEnd, start + room);
      this.trailingContent = Buffer.concat([this.trailingContent, this.buffer.subarray(start, end)]);
    }
  }

  private addRecord(start: number, end: number, lineNumber: number): void {
    this.boundaries.push(start - this.taskStart, end - this.taskStart);
    this.lineNumbers.push(lineNumber);
  }

  private oversizedRecord(lineNo: number, start: number): RejectedRecord {
    return {
      lineNo,
      reason: `record longer than ${this.maxRecordBytes} bytes`,
      raw: rawExcerpt(this.buffer, start, this.writeEnd),
    };
  }

  /** Emits the records gathered so far as a task ending at `position`; starts the next one. */
  private cutTask(position: number, output: SplitOutput): void {
    if (this.lineNumbers.length > 0) {
      output.tasks.push(this.buildTask());
    }
    this.boundaries = [];
    this.lineNumbers = [];
    this.taskStart = position;
  }

  private buildTask(): ChunkTask {
    // Only the span from the first record's start to the last one's end is copied.
    const firstStart = this.boundaries[0];
    const lastEnd = this.boundaries[this.boundaries.length - 1];
    const bytes = this.allocateTaskBytes(lastEnd - firstStart);
    bytes.set(this.buffer.subarray(this.taskStart + firstStart, this.taskStart + lastEnd));
    const boundaries = new Uint32Array(this.boundaries.length);
    for (let index = 0; index < boundaries.length; index++) {
      boundaries[index] = this.boundaries[index] - firstStart;
    }
    return { bytes, boundaries, lineNumbers: Uint32Array.from(this.lineNumbers) };
  }

  /** Forgets the bytes of the record in progress (it is being skipped). */
  private dropRecordInProgress(): void {
    this.writeEnd = this.scanPosition = this.recordStart;
  }

  private removeBytes(from: number, to: number): void {
    this.buffer.copyWithin(from, to, this.writeEnd);
    this.writeEnd -= to - from;
  }

  /** Makes free space at the end of the working buffer: compacts it, or doubles it. */
  private makeRoom(): void {
    if (this.writeEnd < this.buffer.length) {
      return;
    }
    const liveStart = this.taskStart;
    const liveLength = this.writeEnd - liveStart;
    const grow = liveLength > this.buffer.length / 2 && this.buffer.length < this.capacity;
    const target = grow
      ? Buffer.allocUnsafe(Math.min(this.capacity, this.buffer.length * 2))
      : this.buffer;
    if (liveLength >= target.length) {
      // Unreachable while the invariants hold (live bytes < chunkBytes + maxRecordBytes).
      throw new Error('RecordSplitter: working buffer full');
    }
    if (grow) {
      this.buffer.copy(target, 0, liveStart, this.writeEnd);
      this.buffer = target;
    } else {
      this.buffer.copyWithin(0, liveStart, this.writeEnd);
    }
    this.writeEnd -= liveStart;
    this.taskStart -= liveStart;
    this.recordStart -= liveStart;
    this.scanPosition -= liveStart;
  }
}

/** A buffer of its own (transferable to a worker), not zero-filled before the copy. */
function freshTaskBytes(length: number): Uint8Array {
  return Buffer.allocUnsafeSlow(length);
}

/**
 * Task buffers used again once their task is done, for executors that do not transfer a task's
 * bytes (inline, processes: a worker process gets a copy). A fresh buffer per task made ~0.4 GB of
 * ArrayBuffers for the generated corpus, and V8 starts a full garbage collection for every 64 MB
 * of those: reusing them made an inline ingest of it ~4% faster (A/B, 5 interleaved runs,
 * 2.67 -> 2.56 s; BENCHMARKS.md).
 *
 * Ownership: take() hands out a buffer no one else holds; whoever took it gives it back with
 * give() once nothing reads it any more, or never (then it is simply garbage). A buffer whose
 * ArrayBuffer was transferred (detached) is never kept.
 */
export class TaskBufferPool {
  private readonly free: ArrayBuffer[] = [];

  /** `bufferBytes`: the size of a pooled buffer (larger tasks get one of their own). */
  constructor(
    private readonly bufferBytes: number,
    private readonly maxFree: number,
  ) {}

  take(length: number): Uint8Array {
    if (length > this.bufferBytes) return freshTaskBytes(length);
    const buffer = this.free.pop() ?? freshTaskBytes(this.bufferBytes).buffer;
    return new Uint8Array(buffer, 0, length);
  }

  give(bytes: Uint8Array): void {
    const buffer = bytes.buffer as ArrayBuffer;
    if (buffer.byteLength !== this.bufferBytes || this.free.length >= this.maxFree) return;
    this.free.push(buffer);
  }

  /** Buffers waiting to be taken again. */
  get freeCount(): number {
    return this.free.length;
  }
}

/**
 * Runs a RecordSplitter over a stream (for example createDecodedStream's output), yielding its
 * non-empty outputs. Async iteration gives backpressure: the stream is read as tasks are taken.
 */
export async function* splitRecordStream(
  source: AsyncIterable<Uint8Array>,
  options: RecordSplitterOptions,
): AsyncGenerator<SplitOutput> {
  const splitter = new RecordSplitter(options);
  for await (const chunk of source) {
    const output = splitter.push(chunk);
    if (output.tasks.length > 0 || output.rejected.length > 0) {
      yield output;
    }
  }
  const last = splitter.end();
  if (last.tasks.length > 0 || last.rejected.length > 0) {
    yield last;
  }
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let position = start; position < end; position++) {
    if (!isJsonWhitespace(bytes[position])) {
      return false;
    }
  }
  return true;
}
