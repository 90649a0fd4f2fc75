import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ChunkTask, RejectedRecord } from './pipeline.types.js';
import { type RecordFormat, RecordSplitter, splitRecordStream, TaskBufferPool } from './split.js';

interface SplitRecord {
  lineNo: number;
  text: string;
}

interface SplitRun {
  records: SplitRecord[];
  rejected: RejectedRecord[];
  tasks: ChunkTask[];
  format: RecordFormat | undefined;
  maxWorkingBufferBytes: number;
}

const LARGE = { chunkBytes: 1 << 20, maxRecordBytes: 1 << 20 };

/** Splits `input` pushed in pieces of `pieceBytes`, and reads every record back as text. */
function split(
  input: string | Buffer,
  options: { chunkBytes: number; maxRecordBytes: number } = LARGE,
  pieceBytes = Number.MAX_SAFE_INTEGER,
): SplitRun {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const splitter = new RecordSplitter(options);
  const tasks: ChunkTask[] = [];
  const rejected: RejectedRecord[] = [];
  let maxWorkingBufferBytes = 0;
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
    const output = splitter.push(bytes.subarray(offset, offset + pieceBytes));
    tasks.push(...output.tasks);
    rejected.push(...output.rejected);
    maxWorkingBufferBytes = Math.max(maxWorkingBufferBytes, splitter.workingBufferBytes);
  }
  const last = splitter.end();
  tasks.push(...last.tasks);
  rejected.push(...last.rejected);
  return { records: tasks.flatMap(recordsOf), rejected, tasks, format: splitter.format, maxWorkingBufferBytes };
}

function recordsOf(task: ChunkTask): SplitRecord[] {
  const text = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
  return Array.from(task.lineNumbers, (lineNo, index) => ({
    lineNo,
    text: text.toString('utf8', task.boundaries[2 * index], task.boundaries[2 * index + 1]),
  }));
}

const PIECE_SIZES = [1, 2, 3, 7, 64, 1000, Number.MAX_SAFE_INTEGER];

/** The same input split with every piece size gives the same records and rejections. */
function expectSameForEveryPieceSize(
  input: string | Buffer,
  options: { chunkBytes: number; maxRecordBytes: number } = LARGE,
): SplitRun {
  const whole = split(input, options);
  for (const pieceBytes of PIECE_SIZES) {
    const run = split(input, options, pieceBytes);
    expect(run.records, `piece size ${pieceBytes}`).toEqual(whole.records);
    expect(run.rejected, `piece size ${pieceBytes}`).toEqual(whole.rejected);
    expect(run.format, `piece size ${pieceBytes}`).toBe(whole.format);
  }
  return whole;
}

describe('RecordSplitter, JSON lines', () => {
  it('cuts records on line feeds with 1-based line numbers', () => {
    const run = expectSameForEveryPieceSize('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(run.format).toBe('json-lines');
    expect(run.records).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 2, text: '{"b":2}' },
      { lineNo: 3, text: '{"c":3}' },
    ]);
    expect(run.rejected).toEqual([]);
  });

  it('strips the CR of CRLF line ends', () => {
    const run = expectSameForEveryPieceSize('{"a":1}\r\n{"b":2}\r\n');
    expect(run.records.map((record) => record.text)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('skips blank and whitespace-only lines but counts them', () => {
    const run = expectSameForEveryPieceSize('\n\n{"a":1}\n\n   \n\t\r\n{"b":2}\n\n');
    expect(run.records).toEqual([
      { lineNo: 3, text: '{"a":1}' },
      { lineNo: 7, text: '{"b":2}' },
    ]);
  });

  it('keeps a last line without newline, even a truncated one', () => {
    const run = expectSameForEveryPieceSize('{"a":1}\n{"b":');
    expect(run.records).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 2, text: '{"b":' },
    ]);
  });

  it('treats a stream not starting with { or [ as lines', () => {
    const run = expectSameForEveryPieceSize('garbage\n{"a":1}\n');
    expect(run.format).toBe('json-lines');
    expect(run.records.map((record) => record.text)).toEqual(['garbage', '{"a":1}']);
  });

  it('treats a first line with a line break inside a string as lines', () => {
    // Not valid JSON: the damage must stay on its own line.
    const run = expectSameForEveryPieceSize('{"a":"b\n{"c":"d"}\n');
    expect(run.format).toBe('json-lines');
    expect(run.records.map((record) => record.text)).toEqual(['{"a":"b', '{"c":"d"}']);
  });

  it('yields nothing for empty or whitespace-only input', () => {
    expect(split('').records).toEqual([]);
    expect(split('').tasks).toEqual([]);
    expect(split(' \n\r\n\t\n').records).toEqual([]);
    expect(split(' \n\r\n\t\n').rejected).toEqual([]);
  });

  it('groups records into tasks of about chunkBytes, never splitting a record', () => {
    const lines = Array.from({ length: 100 }, (_, index) => `{"n":${index},"pad":"${'x'.repeat(index % 17)}"}`);
    const input = `${lines.join('\n')}\n`;
    const chunkBytes = 200;
    for (const pieceBytes of PIECE_SIZES) {
      const run = split(input, { chunkBytes, maxRecordBytes: 1000 }, pieceBytes);
      expect(run.records.map((record) => record.text)).toEqual(lines);
      expect(run.tasks.length).toBeGreaterThan(5);
      const longestRecord = Math.max(...lines.map((line) => line.length + 1));
      run.tasks.forEach((task, index) => {
        // A task passes chunkBytes by at most one record; only the last may be short.
        expect(task.bytes.byteLength).toBeLessThan(chunkBytes + longestRecord);
        if (index < run.tasks.length - 1) {
          expect(task.bytes.byteLength).toBeGreaterThanOrEqual(chunkBytes - longestRecord);
        }
        // Transferable: each task owns exactly its bytes.
        expect(task.bytes.buffer.byteLength).toBe(task.bytes.byteLength);
        expect(task.boundaries.length).toBe(2 * task.lineNumbers.length);
      });
    }
  });

  it('rejects a record longer than maxRecordBytes and keeps the ones around it', () => {
    const long = `{"text":"${'y'.repeat(3000)}"}`;
    const input = `{"a":1}\n${long}\r\n{"b":2}\n`;
    const run = expectSameForEveryPieceSize(input, { chunkBytes: 64, maxRecordBytes: 100 });
    expect(run.records).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 3, text: '{"b":2}' },
    ]);
    expect(run.rejected).toEqual([
      { lineNo: 2, reason: 'record longer than 100 bytes', raw: long.slice(0, 1024) },
    ]);
  });

  it('accepts a record of exactly maxRecordBytes and rejects one byte more', () => {
    const exact = `{"t":"${'e'.repeat(1492)}"}`; // 1500 bytes
    const over = `{"t":"${'o'.repeat(1493)}"}`;
    const run = expectSameForEveryPieceSize(`${exact}\r\n${over}\n${exact}`, { chunkBytes: 100, maxRecordBytes: 1500 });
    expect(run.records).toEqual([
      { lineNo: 1, text: exact },
      { lineNo: 3, text: exact },
    ]);
    expect(run.rejected.map((record) => record.lineNo)).toEqual([2]);
  });

  it('rejects an over-long last line without newline', () => {
    const run = expectSameForEveryPieceSize(`{"a":1}\n${'z'.repeat(500)}`, {
      chunkBytes: 64,
      maxRecordBytes: 100,
    });
    expect(run.records.map((record) => record.lineNo)).toEqual([1]);
    expect(run.rejected.map((record) => record.lineNo)).toEqual([2]);
  });

  it('keeps its working buffer bounded whatever the input', () => {
    const options = { chunkBytes: 256 * 1024, maxRecordBytes: 64 * 1024 };
    const bound = options.chunkBytes + options.maxRecordBytes + 64 * 1024;
    // One 20 MB line, then many ordinary lines.
    const giant = Buffer.alloc(20 * 1024 * 1024, 0x61);
    const ordinary = Buffer.from(`${'{"n":1}\n'.repeat(500_000)}`);
    const input = Buffer.concat([giant, Buffer.from('\n'), ordinary]);
    const run = split(input, options, 64 * 1024);
    expect(run.rejected).toHaveLength(1);
    expect(run.records).toHaveLength(500_000);
    expect(run.records[0].lineNo).toBe(2);
    expect(run.maxWorkingBufferBytes).toBeLessThanOrEqual(bound);
    // Delivered as one 20 MB piece too.
    const whole = split(input, options);
    expect(whole.rejected).toHaveLength(1);
    expect(whole.maxWorkingBufferBytes).toBeLessThanOrEqual(bound);
  });

  it('refuses to be used after end()', () => {
    const splitter = new RecordSplitter(LARGE);
    splitter.end();
    expect(() => splitter.push(Buffer.from('{}'))).toThrow(/after end/);
    expect(() => splitter.end()).toThrow(/twice/);
  });

  it('validates its options', () => {
    expect(() => new RecordSplitter({ chunkBytes: 0, maxRecordBytes: 10 })).toThrow(RangeError);
    expect(() => new RecordSplitter({ chunkBytes: 10, maxRecordBytes: 1.5 })).toThrow(RangeError);
    expect(() => new RecordSplitter({ chunkBytes: 2 ** 32, maxRecordBytes: 10 })).toThrow(RangeError);
  });
});

describe('RecordSplitter, one JSON array', () => {
  it('makes each top-level element a record, numbered by element, even pretty-printed', () => {
    const elements = [
      { id_str: '1', text: 'has ] and } and { and [ inside', nested: { list: [1, [2, { x: 3 }]] } },
      { id_str: '2', text: 'escaped quote \\" and backslash \\\\ at the end\\' },
      { id_str: '3', text: 'comma, comma' },
    ];
    const input = `[\n${elements.map((element) => JSON.stringify(element, null, 2)).join(',\n')}\n]\n`;
    const run = expectSameForEveryPieceSize(input);
    expect(run.format).toBe('json-array');
    expect(run.records.map((record) => record.lineNo)).toEqual([1, 2, 3]);
    expect(run.records.map((record) => JSON.parse(record.text) as unknown)).toEqual(elements);
    expect(run.rejected).toEqual([]);
  });

  it('handles compact arrays, scalars and strings as elements', () => {
    const run = expectSameForEveryPieceSize('  [{"a":1},12,"s]\\"",true,null,[1,2]]');
    expect(run.records.map((record) => record.text)).toEqual([
      '{"a":1}',
      '12',
      '"s]\\""',
      'true',
      'null',
      '[1,2]',
    ]);
  });

  it('yields nothing for an empty array', () => {
    const run = expectSameForEveryPieceSize('[ ]\n');
    expect(run.records).toEqual([]);
    expect(run.rejected).toEqual([]);
  });

  it('rejects content after the closing bracket, keeping the elements', () => {
    const run = expectSameForEveryPieceSize('[{"a":1},{"b":2}]\n  oops {"c":3}\n');
    expect(run.records.map((record) => record.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(run.rejected).toEqual([
      {
        lineNo: 3,
        reason: 'unexpected content after the closing ] of the JSON array',
        raw: 'oops {"c":3}\n',
      },
    ]);
  });

  it('rejects an array that never closes', () => {
    const run = expectSameForEveryPieceSize('[{"a":1},\n');
    expect(run.records.map((record) => record.text)).toEqual(['{"a":1}']);
    expect(run.rejected).toEqual([{ lineNo: 2, reason: 'truncated JSON array: no closing ]', raw: '' }]);
  });

  it('passes a truncated last element on as a record (the parser rejects it)', () => {
    const run = expectSameForEveryPieceSize('[{"a":1},{"b":"unfinished');
    expect(run.records).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 2, text: '{"b":"unfinished' },
    ]);
    expect(run.rejected).toEqual([]);
  });

  it('rejects an element longer than maxRecordBytes and goes on', () => {
    const long = JSON.stringify({ text: 'w'.repeat(5000), inner: ['}', ']'] }, null, 1);
    const run = expectSameForEveryPieceSize(`[{"a":1},${long},{"b":2}]`, {
      chunkBytes: 50,
      maxRecordBytes: 1000,
    });
    expect(run.records).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 3, text: '{"b":2}' },
    ]);
    expect(run.rejected).toEqual([
      { lineNo: 2, reason: 'record longer than 1000 bytes', raw: long.slice(0, 1024) },
    ]);
  });

  it('groups elements into tasks of about chunkBytes', () => {
    const elements = Array.from({ length: 60 }, (_, index) => ({ n: index, pad: 'p'.repeat(index) }));
    const run = expectSameForEveryPieceSize(JSON.stringify(elements, null, 2), {
      chunkBytes: 300,
      maxRecordBytes: 10_000,
    });
    expect(run.tasks.length).toBeGreaterThan(5);
    expect(run.records.map((record) => JSON.parse(record.text) as unknown)).toEqual(elements);
  });
});

describe('RecordSplitter, concatenated JSON values', () => {
  it('makes each pretty-printed top-level value a record', () => {
    const pages = [
      { data: [{ id: '1', text: 'one' }], meta: { result_count: 1 } },
      { data: [{ id: '2', text: 'two {' }], meta: { result_count: 1 } },
    ];
    const input = pages.map((page) => JSON.stringify(page, null, 2)).join('\n');
    const run = expectSameForEveryPieceSize(input);
    expect(run.format).toBe('json-values');
    expect(run.records.map((record) => record.lineNo)).toEqual([1, 2]);
    expect(run.records.map((record) => JSON.parse(record.text) as unknown)).toEqual(pages);
  });

  it('passes a truncated last value on as a record', () => {
    const run = expectSameForEveryPieceSize('{\n "a": 1\n}\n{\n "b": [');
    expect(run.records.map((record) => record.text)).toEqual(['{\n "a": 1\n}', '{\n "b": [']);
  });

  it('chooses JSON lines when the first object ends on its line', () => {
    const run = expectSameForEveryPieceSize('{"a":{"b":1}}\n{\n"c":2}\n');
    expect(run.format).toBe('json-lines');
    expect(run.records.map((record) => record.text)).toEqual(['{"a":{"b":1}}', '{', '"c":2}']);
  });
});

describe('RecordSplitter, any chunking', () => {
  it('splits random inputs identically whatever the piece sizes', () => {
    let state = 12345;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let round = 0; round < 30; round++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, index) => ({
        index,
        text: '{["\\'.repeat(Math.floor(random() * 5)) + 'é'.repeat(Math.floor(random() * 50)),
      }));
      const layout = round % 3;
      const input =
        layout === 0
          ? values.map((value) => JSON.stringify(value)).join(random() < 0.5 ? '\n' : '\r\n\n')
          : layout === 1
            ? JSON.stringify(values, null, round % 2 === 0 ? 2 : undefined)
            : values.map((value) => JSON.stringify(value, null, 1)).join('\n');
      const options = { chunkBytes: 1 + Math.floor(random() * 500), maxRecordBytes: 400 };
      const whole = split(input, options);
      const pieceBytes = 1 + Math.floor(random() * 100);
      const pieces = split(input, options, pieceBytes);
      expect(pieces.records).toEqual(whole.records);
      expect(pieces.rejected).toEqual(whole.rejected);
      const kept = whole.records.map((record) => JSON.parse(record.text) as { index: number });
      // Every value is either a record or rejected as too long: none lost, none invented.
      expect(kept.length + whole.rejected.length).toBe(values.length);
      for (const value of kept) {
        expect(value).toEqual(values[value.index]);
      }
    }
  });
});

describe('splitRecordStream', () => {
  it('runs a splitter over a stream', async () => {
    const source = Readable.from([Buffer.from('{"a":1}\n{"b"'), Buffer.from(':2}\n{"c":3}')]);
    const records: SplitRecord[] = [];
    for await (const output of splitRecordStream(source, { chunkBytes: 8, maxRecordBytes: 100 })) {
      records.push(...output.tasks.flatMap(recordsOf));
    }
    expect(records).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 2, text: '{"b":2}' },
      { lineNo: 3, text: '{"c":3}' },
    ]);
  });
});

describe('task buffers', () => {
  const lines = Array.from({ length: 400 }, (_, index) => `{"id_str":"${index + 1}","text":"${'x'.repeat(index % 97)}"}`);
  const input = Buffer.from(`${lines.join('\n')}\n`);
  const recordsOf = (tasks: ChunkTask[]) =>
    tasks.flatMap((task) =>
      Array.from(task.lineNumbers, (_, index) =>
        Buffer.from(task.bytes.subarray(task.boundaries[2 * index], task.boundaries[2 * index + 1])).toString(),
      ),
    );

  it('copies every task into bytes from allocateTaskBytes, exactly as long as the task', () => {
    const lengths: number[] = [];
    const splitter = new RecordSplitter({
      chunkBytes: 2048,
      maxRecordBytes: 4096,
      allocateTaskBytes: (length) => {
        lengths.push(length);
        return new Uint8Array(new ArrayBuffer(length + 100), 50, length);
      },
    });
    const tasks = [...splitter.push(input).tasks, ...splitter.end().tasks];
    expect(tasks.length).toBeGreaterThan(5);
    expect(tasks.map((task) => task.bytes.byteLength)).toEqual(lengths);
    expect(recordsOf(tasks)).toEqual(lines);
  });

  it('a pool hands a buffer out again only after it is given back, never one that was transferred', () => {
    const pool = new TaskBufferPool(1024, 2);
    const first = pool.take(100);
    const second = pool.take(200);
    expect(first.buffer).not.toBe(second.buffer);
    expect([first.byteLength, second.byteLength, first.byteOffset]).toEqual([100, 200, 0]);
    pool.give(first);
    expect(pool.take(300).buffer).toBe(first.buffer);
    // Larger than a pooled buffer: one of its own, never kept.
    const large = pool.take(5000);
    expect(large.buffer.byteLength).toBe(5000);
    pool.give(large);
    expect(pool.freeCount).toBe(0);
    // A buffer moved to a worker is detached: not kept either.
    const moved = pool.take(10);
    structuredClone(moved.buffer, { transfer: [moved.buffer] });
    pool.give(moved);
    expect(pool.freeCount).toBe(0);
    // At most maxFree buffers are kept.
    for (const bytes of [pool.take(1), pool.take(1), pool.take(1)]) pool.give(bytes);
    expect(pool.freeCount).toBe(2);
  });

  it('splits a stream the same with pooled buffers given back after each push', () => {
    const pool = new TaskBufferPool(4096, 4);
    const splitter = new RecordSplitter({ chunkBytes: 2048, maxRecordBytes: 4096, allocateTaskBytes: (length) => pool.take(length) });
    const seen: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let taskCount = 0;
    const pieces = Array.from({ length: Math.ceil(input.length / 777) }, (_, index) => input.subarray(index * 777, (index + 1) * 777));
    for (const output of [...pieces.map((piece) => () => splitter.push(piece)), () => splitter.end()]) {
      const { tasks } = output();
      seen.push(...recordsOf(tasks));
      for (const task of tasks) {
        buffers.add(task.bytes.buffer);
        taskCount++;
        pool.give(task.bytes);
      }
    }
    expect(seen).toEqual(lines);
    expect(taskCount).toBeGreaterThan(10);
    // A push yields at most two tasks here: the same few buffers serve them all.
    expect(buffers.size).toBeLessThanOrEqual(3);
  });
});
