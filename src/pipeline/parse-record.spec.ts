import { describe, expect, it } from 'vitest';
import { asBuffer, decodeRecordText, parseRecordJson, rawExcerpt } from './parse-record.js';

describe('decodeRecordText', () => {
  it('decodes the given byte range as UTF-8', () => {
    const bytes = Buffer.from('xx{"t":"héllo 日本"}yy');
    expect(decodeRecordText(bytes, 2, bytes.length - 2)).toBe('{"t":"héllo 日本"}');
  });

  it('replaces invalid UTF-8 with U+FFFD exactly as TextDecoder does', () => {
    const invalidSequences = [
      [0xff],
      [0xfe, 0xff],
      [0xc3, 0x28],
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xc0, 0xaf], // overlong
      [0x80, 0x80],
    ];
    for (const sequence of invalidSequences) {
      const bytes = Buffer.concat([Buffer.from('a'), Buffer.from(sequence), Buffer.from('z')]);
      const text = decodeRecordText(bytes, 0, bytes.length);
      expect(text).toBe(new TextDecoder().decode(bytes));
      expect(text).toContain('\uFFFD');
      expect(text.startsWith('a') && text.endsWith('z')).toBe(true);
    }
  });
});

describe('parseRecordJson', () => {
  it('returns the parsed value', () => {
    expect(parseRecordJson('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
  });

  it('turns a parse failure into a reason, without NUL characters', () => {
    const parsed = parseRecordJson('{"a":\u0000');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toMatch(/^invalid JSON: /);
      expect(parsed.reason).not.toContain('\u0000');
    }
  });
});

describe('rawExcerpt', () => {
  it('keeps at most the first KiB of the record, without NUL characters', () => {
    const bytes = Buffer.from(`${'a'.repeat(2000)}`);
    expect(rawExcerpt(bytes, 10, 2000)).toBe('a'.repeat(1024));
    expect(rawExcerpt(Buffer.from('x\u0000y'), 0, 3)).toBe('xy');
  });

  it('works on a plain Uint8Array view (as a transferred task arrives)', () => {
    const backing = new Uint8Array(Buffer.from('__hello__'));
    const view = backing.subarray(2, 7);
    expect(rawExcerpt(view, 0, 5)).toBe('hello');
    expect(asBuffer(view).toString()).toBe('hello');
  });
});
