import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskOfRecords as taskOf } from '../../test/support/chunk-tasks.js';
import { generateCorpus } from '../../test/support/corpus-generator.js';
import { PROJECT_ROOT } from '../project-paths.js';
import { isGzip } from './decode.js';
import { processChunk } from './process-chunk.js';
import type { ChunkResult } from './pipeline.types.js';
import { selectiveParseRecord } from './selective-parse.js';
import { RecordSplitter } from './split.js';

// The selective reader must never accept what JSON.parse rejects, and the pipeline must produce
// exactly what the JSON.parse path produces. Checked on real and generated tweets, and on
// thousands of seeded mutations of them (deterministic: a fixed seed, no clock).

const REAL_SAMPLE = path.resolve(PROJECT_ROOT, '../shared/data/real-tweets/streaming-sample-2018.jsonl.gz');
const MUTATIONS = 6000;

/** mulberry32: a small deterministic generator. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function recordsOf(bytes: Buffer): Buffer[] {
  const splitter = new RecordSplitter({ chunkBytes: 1 << 20, maxRecordBytes: 32 << 20 });
  const tasks = [...splitter.push(bytes).tasks, ...splitter.end().tasks];
  const records: Buffer[] = [];
  for (const task of tasks) {
    for (let index = 0; index < task.lineNumbers.length; index++) {
      records.push(Buffer.from(task.bytes.subarray(task.boundaries[2 * index], task.boundaries[2 * index + 1])));
    }
  }
  return records;
}

const comparable = ({ tweetsCopy, deletions, rejected, counts }: ChunkResult) => ({
  copy: Buffer.from(tweetsCopy).toString('utf8'),
  deletions,
  rejected,
  counts,
});

function pick(object: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => key in object).map((key) => [key, object[key]]));
}

function jsonParseAccepts(record: Buffer): boolean {
  try {
    JSON.parse(record.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

// Bytes that matter to JSON: structure, escapes, number and literal characters, whitespace,
// control characters, invalid UTF-8.
const INTERESTING_BYTES = Buffer.from('{}[]",:\\/ \t\r\n0123456789-+.eEtrufalsn\u0000\u001f\u007fxbU', 'latin1');
const INTERESTING_SNIPPETS = [
  '\\u', '\\ud83d', '\\uZZZZ', '\\x41', '"', '\\"', '\\\\', ',', ',,', ':', '{}', '[]', '{', '}', '[', ']', 'null', 'nul',
  'true', 'tru', '01', '-', '1.', '.5', '1e', '1e+', '-0', '1E400', '"id_str":"1"', '"id_str":2', '"user":null',
  '"delete":{}', '"retweeted_status":{"id_str":"5"}', '"text":{}', '"id\\u005fstr":"77"', '\u00ff', '\u00c3\u0028',
  '\u00ef\u00bb\u00bf', ' ', '\t',
].map((snippet) => Buffer.from(snippet, 'latin1'));

function mutate(record: Buffer, random: () => number): Buffer {
  const at = Math.floor(random() * (record.length + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  switch (Math.floor(random() * 7)) {
    case 0: // delete a byte or a few
      return Buffer.concat([record.subarray(0, at), record.subarray(at + 1 + Math.floor(random() * 3))]);
    case 1: // insert an interesting byte
      return Buffer.concat([record.subarray(0, at), Buffer.of(pick([...INTERESTING_BYTES])), record.subarray(at)]);
    case 2: // replace a byte
      return Buffer.concat([record.subarray(0, at), Buffer.of(pick([...INTERESTING_BYTES])), record.subarray(at + 1)]);
    case 3: // insert a snippet
      return Buffer.concat([record.subarray(0, at), pick(INTERESTING_SNIPPETS), record.subarray(at)]);
    case 4: // truncate
      return record.subarray(0, at);
    case 5: // append something after the value
      return Buffer.concat([record, pick(INTERESTING_SNIPPETS)]);
    default: {
      // replace the byte after a quote, colon or backslash: where the grammar is strictest
      const anchors: number[] = [];
      for (let index = 0; index < record.length - 1; index++) {
        if (record[index] === 0x22 || record[index] === 0x3a || record[index] === 0x5c) anchors.push(index + 1);
      }
      const anchor = anchors.length > 0 ? pick(anchors) : at;
      return Buffer.concat([record.subarray(0, anchor), Buffer.of(pick([...INTERESTING_BYTES])), record.subarray(anchor + 1)]);
    }
  }
}

describe('selective reader', () => {
  let records: Buffer[] = [];
  let corpusDir = '';

  beforeAll(async () => {
    corpusDir = mkdtempSync(path.join(tmpdir(), 'selective-parse-'));
    // Quirks bring CRLF, blank lines, JSON arrays, invalid UTF-8, NULs and non-tweet objects.
    await generateCorpus({ outDir: corpusDir, files: 8, tweetsPerFile: 40, seed: 11, quirks: true, gzip: true });
    const generated = readdirSync(corpusDir)
      .sort()
      .flatMap((name) => {
        const bytes = readFileSync(path.join(corpusDir, name));
        return recordsOf(isGzip(bytes) ? gunzipSync(bytes) : bytes);
      });
    records = [...recordsOf(gunzipSync(readFileSync(REAL_SAMPLE))), ...generated];
  });

  afterAll(() => rmSync(corpusDir, { recursive: true, force: true }));

  it('gives the same rows, deletions, rejections and counts as JSON.parse on real and generated tweets', () => {
    expect(records.length).toBeGreaterThan(72 + 300);
    const selective = comparable(processChunk(taskOf(records), 'selective'));
    const reference = comparable(processChunk(taskOf(records), 'json-parse'));
    expect(selective).toEqual(reference);
    expect(selective.counts.tweets).toBeGreaterThan(400);
    expect(selective.counts.deletes).toBeGreaterThan(0);
  });

  it(`never accepts what JSON.parse rejects, and yields the same outcome, on ${MUTATIONS} seeded mutations`, () => {
    const random = seededRandom(20_260_601);
    const mutated: Buffer[] = [];
    let rejectedByJsonParse = 0;
    for (let index = 0; index < MUTATIONS; index++) {
      let record = records[Math.floor(random() * records.length)]!;
      const rounds = 1 + Math.floor(random() * 3);
      for (let round = 0; round < rounds; round++) record = mutate(record, random);
      const accepted = jsonParseAccepts(record);
      const value = selectiveParseRecord(record, 0, record.length);
      if (!accepted) {
        rejectedByJsonParse++;
        expect(value, `accepted a record JSON.parse rejects: ${record.toString('latin1').slice(0, 300)}`).toBeUndefined();
      }
      mutated.push(record);
    }
    // The mutations must exercise both sides.
    expect(rejectedByJsonParse).toBeGreaterThan(MUTATIONS / 4);
    expect(rejectedByJsonParse).toBeLessThan(MUTATIONS);
    expect(comparable(processChunk(taskOf(mutated), 'selective'))).toEqual(comparable(processChunk(taskOf(mutated), 'json-parse')));
  });

  it.each([
    ['trailing comma', '{"id_str":"1",}'],
    ['trailing content', '{"id_str":"1"} x'],
    ['two values', '{}{}'],
    ['leading zero', '{"a":01}'],
    ['bare minus', '{"a":-}'],
    ['fraction without digits', '{"a":1.}'],
    ['exponent without digits', '{"a":1e}'],
    ['short literal', '{"a":tru}'],
    ['bad escape', '{"a":"\\x"}'],
    ['short unicode escape', '{"a":"\\u12"}'],
    ['raw tab in a string', '{"a":"x\ty"}'],
    ['raw NUL in a skipped string', '{"zz":"x\u0000y"}'],
    ['single quotes', "{'a':1}"],
    ['unquoted key', '{a:1}'],
    ['missing colon', '{"a" 1}'],
    ['unclosed object', '{"a":{"b":1}'],
    ['mismatched bracket', '{"a":[1}'],
    ['byte order mark', '\ufeff{"a":1}'],
  ])('rejects %s, as JSON.parse does', (_, text) => {
    const bytes = Buffer.from(text, 'utf8');
    expect(jsonParseAccepts(bytes)).toBe(false);
    expect(selectiveParseRecord(bytes, 0, bytes.length)).toBeUndefined();
  });

  it('reads duplicate keys (last wins), escaped keys, escapes and invalid UTF-8 as JSON.parse does', () => {
    const text = Buffer.concat([
      Buffer.from('{"id_str":"1","id\\u005fstr":"2","text":"a\\ud83d\\ude00\\ud800\\n\\"\\/', 'utf8'),
      Buffer.of(0xc3, 0x28, 0xe2, 0x82),
      Buffer.from('é","lang":"en","lang":null,"user":{"id_str":"3","name":"skipped"},"timestamp_ms":15e2}', 'utf8'),
    ]);
    const parsed = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
    expect(selectiveParseRecord(text, 0, text.length)).toEqual({
      id_str: parsed.id_str,
      text: parsed.text,
      lang: null,
      user: { id_str: '3' },
      timestamp_ms: 1500,
    });
  });

  it('encodes text whose escapes decode to characters COPY or an array literal escapes as JSON.parse reads it', () => {
    const tweetWith = (text: string, hashtag: string) =>
      `{"id_str":"1","created_at":"Wed Aug 27 13:08:45 +0000 2008","text":"${text}","lang":"en",` +
      `"user":{"id_str":"2","screen_name":"al"},"entities":{"hashtags":[{"text":"${hashtag}"}]}}`;
    const escapes = ['\\\\', '\\t', '\\n', '\\r', '\\"', '\\u0000', '\\u005C', '\\u0009', '\\u000a', '\\u000D', '\\u0022'];
    const records = escapes.flatMap((escape) => [Buffer.from(tweetWith(`a${escape}b`, 'tag')), Buffer.from(tweetWith('t', `h${escape}`))]);
    for (const record of records) expect(selectiveParseRecord(record, 0, record.length), record.toString()).toBeDefined();
    expect(comparable(processChunk(taskOf(records), 'selective'))).toEqual(comparable(processChunk(taskOf(records), 'json-parse')));
  });

  it('finds every quote, backslash and control character, at any offset, in keys and strings it skips four bytes at a time', () => {
    // skipPlainWords tests four bytes at once: put each byte that must stop it (and bytes next
    // to those in value) at every offset of a word, in a skipped key, a skipped string and a
    // wanted one, with the record itself at every alignment.
    const bytes = [...Array.from({ length: 0x21 }, (_, byte) => byte), 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xff];
    const records: Buffer[] = [];
    for (const byte of bytes) {
      for (let offset = 0; offset < 9; offset++) {
        const text = (inner: string) => Buffer.concat([Buffer.from(`abcdefgh${inner}`.slice(0, 8 + inner.length - offset)), Buffer.of(byte), Buffer.from('ijklmnop')]);
        const pad = ' '.repeat(offset % 4);
        const tweet = (key: Buffer, skipped: Buffer, wanted: Buffer) =>
          Buffer.concat([
            Buffer.from(`${pad}{"id_str":"1","created_at":"Wed Aug 27 13:08:45 +0000 2008","lang":"en","user":{"id_str":"2","screen_name":"al"},"`),
            key,
            Buffer.from('":"'),
            skipped,
            Buffer.from('","text":"'),
            wanted,
            Buffer.from('"}'),
          ]);
        records.push(tweet(text(''), Buffer.from('v'), Buffer.from('t')));
        records.push(tweet(Buffer.from('source'), text('xy'), Buffer.from('t')));
        records.push(tweet(Buffer.from('source'), Buffer.from('v'), text('z')));
      }
    }
    let rejected = 0;
    for (const record of records) {
      const accepted = jsonParseAccepts(record);
      if (!accepted) rejected++;
      const value = selectiveParseRecord(record, 0, record.length);
      if (!accepted) expect(value, record.toString('latin1')).toBeUndefined();
    }
    // Raw control characters, a lone quote and a lone backslash are invalid; the rest is not.
    expect(rejected).toBeGreaterThan(records.length / 2);
    expect(rejected).toBeLessThan(records.length);
    expect(comparable(processChunk(taskOf(records), 'selective'))).toEqual(comparable(processChunk(taskOf(records), 'json-parse')));
  });

  it.each(['true', 'false', 'null'])('reads %s, and rejects every truncation and one-byte change of it, as JSON.parse does', (literal) => {
    const variants = [literal];
    for (let length = 0; length < literal.length; length++) variants.push(literal.slice(0, length));
    for (let index = 0; index < literal.length; index++) {
      for (const byte of ['x', literal[index]!.toUpperCase(), '"', ' ']) variants.push(literal.slice(0, index) + byte + literal.slice(index + 1));
    }
    variants.push(`${literal}e`, `${literal}1`);
    const records = variants.flatMap((variant) => [
      Buffer.from(`{"id_str":"1","possibly_sensitive":${variant},"text":"t"}`),
      Buffer.from(`{"id_str":"1","lang":${variant}}`),
      Buffer.from(`{"id_str":"1","text":"t","retweeted":${variant}`),
    ]);
    for (const record of records) {
      const value = selectiveParseRecord(record, 0, record.length);
      if (!jsonParseAccepts(record)) expect(value, record.toString()).toBeUndefined();
      else expect(value, record.toString()).toEqual(pick(JSON.parse(record.toString()) as Record<string, unknown>, ['id_str', 'lang', 'text']));
    }
    expect(comparable(processChunk(taskOf(records), 'selective'))).toEqual(comparable(processChunk(taskOf(records), 'json-parse')));
  });

  it('validates skipped values of any depth', () => {
    const deep = `{"skipped":${'['.repeat(100_000)}${']'.repeat(100_000)},"id_str":"1"}`;
    expect(selectiveParseRecord(Buffer.from(deep), 0, deep.length)).toEqual({ id_str: '1' });
    const unbalanced = `{"skipped":${'['.repeat(1000)}${']'.repeat(999)}}`;
    expect(selectiveParseRecord(Buffer.from(unbalanced), 0, unbalanced.length)).toBeUndefined();
  });
});
