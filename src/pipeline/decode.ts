import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CorruptFileError } from './pipeline.errors.js';

const GZIP_MAGIC_FIRST = 0x1f;
const GZIP_MAGIC_SECOND = 0x8b;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// Each output piece is a round trip to libuv's thread pool. Gunzip + split of a generated
// 52 MB file read in 64 KiB pieces (Node 20, 2 cores): 16 KiB pieces (zlib's default)
// ~60 MB/s, 64 KiB ~140 MB/s, 256 KiB ~285 MB/s, 1 MiB ~295 MB/s decompressed.
export const GUNZIP_CHUNK_BYTES = 1024 * 1024;

/** True when the bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_FIRST && bytes[1] === GZIP_MAGIC_SECOND;
}

/**
 * The decompressed bytes of a file, whatever it holds: gzip (one or several concatenated
 * members) is recognised by its magic bytes, anything else passes through unchanged. A leading
 * UTF-8 byte order mark is removed. Streams, so memory stays bounded whatever the file's size;
 * the inflating itself runs on libuv's thread pool, off the event loop.
 *
 * A corrupt or truncated gzip stream errors with a `CorruptFileError`; errors of the source
 * (network, storage) come through unchanged so the caller can retry them.
 */
export function createDecodedStream(source: Readable): Readable {
  return Readable.from(decodeChunks(source), { objectMode: false });
}

async function* decodeChunks(source: Readable): AsyncGenerator<Buffer> {
  const sourceChunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head = await readAtLeast(sourceChunks, 2);
  const rest = chunksAfter(head.bytes, head.done ? undefined : sourceChunks);
  const decoded = isGzip(head.bytes) ? gunzipChunks(rest) : rest;
  yield* withoutLeadingBom(decoded);
}

/** Reads source chunks until at least `count` bytes are in hand or the source ends. */
async function readAtLeast(
  chunks: AsyncIterator<Buffer | string>,
  count: number,
): Promise<{ bytes: Buffer; done: boolean }> {
  const pieces: Buffer[] = [];
  let length = 0;
  while (length < count) {
    const next = await chunks.next();
    if (next.done === true) {
      return { bytes: Buffer.concat(pieces, length), done: true };
    }
    const piece = toBuffer(next.value);
    pieces.push(piece);
    length += piece.length;
  }
  return { bytes: pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, length), done: false };
}

async function* chunksAfter(
  head: Buffer,
  remaining: AsyncIterator<Buffer | string> | undefined,
): AsyncGenerator<Buffer> {
  if (head.length > 0) {
    yield head;
  }
  if (remaining === undefined) {
    return;
  }
  try {
    for (;;) {
      const next = await remaining.next();
      if (next.done === true) {
        return;
      }
      yield toBuffer(next.value);
    }
  } finally {
    // Stopped early (the consumer went away or gunzip failed): let the source release its
    // resources. Returning the iterator destroys the underlying stream.
    await remaining.return?.();
  }
}

async function* gunzipChunks(compressed: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  // pipeline forwards a source error into gunzip, so the loop below sees it either way.
  pipeline(Readable.from(compressed, { objectMode: false }), gunzip, () => {});
  try {
    for await (const chunk of gunzip) {
      yield chunk as Buffer;
    }
  } catch (error) {
    if (isZlibError(error)) {
      throw new CorruptFileError(`corrupt gzip: ${error.message}`, { cause: error });
    }
    throw error;
  } finally {
    gunzip.destroy();
  }
}

function isZlibError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('Z_')
  );
}

/**
 * True when the error says the file's bytes cannot be decoded: a CorruptFileError, or a zlib
 * error that reached the caller unwrapped. Permanent: retrying the same bytes fails the same way.
 */
export function isCorruptFileError(error: unknown): boolean {
  return error instanceof CorruptFileError || isZlibError(error);
}

async function* withoutLeadingBom(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer = Buffer.alloc(0);
  let headChecked = false;
  for await (const chunk of chunks) {
    if (headChecked) {
      yield chunk;
      continue;
    }
    // The first pieces may be shorter than the BOM: gather three bytes before deciding.
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < UTF8_BOM.length) {
      continue;
    }
    headChecked = true;
    const body = startsWithBom(head) ? head.subarray(UTF8_BOM.length) : head;
    if (body.length > 0) {
      yield body;
    }
  }
  if (!headChecked && head.length > 0) {
    yield head;
  }
}

function startsWithBom(bytes: Buffer): boolean {
  return bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2];
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}
