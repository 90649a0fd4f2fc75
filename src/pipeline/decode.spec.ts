import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDecodedStream, isCorruptFileError, isGzip } from './decode.js';
import { CorruptFileError } from './pipeline.errors.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A source delivering `bytes` in pieces of `pieceBytes`. */
function sourceOf(bytes: Buffer, pieceBytes = 64 * 1024): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
    pieces.push(bytes.subarray(offset, offset + pieceBytes));
  }
  return Readable.from(pieces, { objectMode: false });
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const TEXT = Buffer.from('{"id_str":"1"}\n{"id_str":"2"}\n');

describe('isGzip', () => {
  it('recognises the gzip magic bytes', () => {
    expect(isGzip(gzipSync('x'))).toBe(true);
    expect(isGzip(Buffer.from('{"a":1}'))).toBe(false);
    expect(isGzip(Buffer.from([0x1f]))).toBe(false);
    expect(isGzip(Buffer.alloc(0))).toBe(false);
  });
});

describe('isCorruptFileError', () => {
  it('is true for a CorruptFileError and for an unwrapped zlib error, false otherwise', () => {
    expect(isCorruptFileError(new CorruptFileError('corrupt gzip: unexpected end of file'))).toBe(true);
    expect(isCorruptFileError(Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' }))).toBe(true);
    expect(isCorruptFileError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isCorruptFileError(new Error('no code'))).toBe(false);
    expect(isCorruptFileError(undefined)).toBe(false);
  });
});

describe('createDecodedStream', () => {
  it('passes plain bytes through unchanged', async () => {
    expect(await readAll(createDecodedStream(sourceOf(TEXT, 5)))).toEqual(TEXT);
  });

  it('decompresses gzip, even when the magic bytes arrive one at a time', async () => {
    for (const pieceBytes of [1, 2, 3, 1000]) {
      const decoded = await readAll(createDecodedStream(sourceOf(gzipSync(TEXT), pieceBytes)));
      expect(decoded).toEqual(TEXT);
    }
  });

  it('decompresses every member of a multi-member gzip file', async () => {
    const members = Buffer.concat([gzipSync('{"a":1}\n{"b"'), gzipSync(':2}\n'), gzipSync('{"c":3}\n')]);
    expect((await readAll(createDecodedStream(sourceOf(members, 7)))).toString()).toBe(
      '{"a":1}\n{"b":2}\n{"c":3}\n',
    );
  });

  it('yields an empty stream for an empty file, or a one-byte one', async () => {
    expect(await readAll(createDecodedStream(sourceOf(Buffer.alloc(0))))).toEqual(Buffer.alloc(0));
    expect(await readAll(createDecodedStream(sourceOf(Buffer.from('x'))))).toEqual(Buffer.from('x'));
  });

  it('strips a leading UTF-8 byte order mark, plain or gzipped, in any chunking', async () => {
    const withBom = Buffer.concat([BOM, TEXT]);
    for (const pieceBytes of [1, 2, 4, 1000]) {
      expect(await readAll(createDecodedStream(sourceOf(withBom, pieceBytes)))).toEqual(TEXT);
      expect(await readAll(createDecodedStream(sourceOf(gzipSync(withBom), pieceBytes)))).toEqual(TEXT);
    }
    expect(await readAll(createDecodedStream(sourceOf(BOM, 1)))).toEqual(Buffer.alloc(0));
  });

  it('keeps a byte order mark that is not at the start', async () => {
    const inner = Buffer.concat([TEXT, BOM]);
    expect(await readAll(createDecodedStream(sourceOf(inner)))).toEqual(inner);
  });

  it('fails a truncated gzip file with a CorruptFileError', async () => {
    const compressed = gzipSync(Buffer.alloc(100_000, 'a'));
    const truncated = compressed.subarray(0, compressed.length - 10);
    const decoded = readAll(createDecodedStream(sourceOf(truncated)));
    await expect(decoded).rejects.toThrow(CorruptFileError);
    await expect(readAll(createDecodedStream(sourceOf(truncated)))).rejects.toThrow(
      'corrupt gzip: unexpected end of file',
    );
  });

  it('fails corrupt gzip data with a CorruptFileError', async () => {
    const compressed = gzipSync(TEXT);
    const corrupt = Buffer.concat([compressed.subarray(0, 10), Buffer.alloc(40, 0xff)]);
    const failure = await readAll(createDecodedStream(sourceOf(corrupt))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CorruptFileError);
    expect((failure as CorruptFileError).message).toMatch(/^corrupt gzip: /);
    expect((failure as CorruptFileError).retryable).toBe(false);
  });

  it('passes errors of the source through unchanged, gzip or not', async () => {
    for (const head of [gzipSync(TEXT).subarray(0, 20), Buffer.from('{"a":1}\n')]) {
      const failing = new Readable({
        read() {
          this.push(head);
          this.destroy(new Error('connection reset'));
        },
      });
      const failure = await readAll(createDecodedStream(failing)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(CorruptFileError);
      expect((failure as Error).message).toBe('connection reset');
    }
  });

  it('streams: reads a little of an endless gzip stream, and stopping destroys the source', async () => {
    const line = Buffer.from('{"text":"again and again"}\n'.repeat(1000));
    const endless = new Readable({
      read() {
        this.push(line);
      },
    });
    const gzip = endless.pipe(createGzip());
    const decoded = createDecodedStream(gzip);
    let bytes = 0;
    for await (const chunk of decoded) {
      bytes += (chunk as Buffer).length;
      if (bytes > 5_000_000) {
        break;
      }
    }
    expect(bytes).toBeGreaterThan(5_000_000);
    expect(decoded.destroyed).toBe(true);
    // The source is released asynchronously, once its pending read settles.
    for (let waited = 0; !gzip.destroyed && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(gzip.destroyed).toBe(true);
    endless.destroy();
  });
});
