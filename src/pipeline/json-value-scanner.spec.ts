import { describe, expect, it } from 'vitest';
import { JsonValueScanner } from './json-value-scanner.js';

/** Feeds `text` from its first byte in pieces of `pieceBytes`; returns where the value ends. */
function valueEnd(text: string, pieceBytes: number): number {
  const bytes = Buffer.from(text);
  const scanner = new JsonValueScanner();
  let position = scanner.begin(bytes, 0);
  while (position < bytes.length) {
    const to = Math.min(bytes.length, position + pieceBytes);
    const end = scanner.findEnd(bytes, position, to);
    if (end !== -1) {
      return end;
    }
    position = to;
  }
  return -1;
}

describe('JsonValueScanner.findEnd', () => {
  const cases: [string, string][] = [
    ['{"a":1} tail', '{"a":1}'],
    ['{"a":"}"}]', '{"a":"}"}'],
    ['{"a":"\\"}"} x', '{"a":"\\"}"}'],
    ['{"a":"\\\\"} x', '{"a":"\\\\"}'],
    ['[[1,[2]],{"b":[]}],', '[[1,[2]],{"b":[]}]'],
    ['"str\\"ing"  ', '"str\\"ing"'],
    ['12345,', '12345'],
    ['true]', 'true'],
    ['null ', 'null'],
    ['{"é":"ü{"} ', '{"é":"ü{"}'],
  ];
  it.each(cases)('finds the end of %j whatever the chunking', (text, value) => {
    for (const pieceBytes of [1, 2, 5, 100]) {
      expect(valueEnd(text, pieceBytes)).toBe(Buffer.byteLength(value));
    }
  });

  it('reports an unfinished value', () => {
    expect(valueEnd('{"a":[1,2', 3)).toBe(-1);
    expect(valueEnd('"open', 3)).toBe(-1);
    expect(valueEnd('123', 3)).toBe(-1);
  });
});

describe('JsonValueScanner.findFirstLineShape', () => {
  const shapeOf = (text: string) => {
    const bytes = Buffer.from(text);
    const scanner = new JsonValueScanner();
    return scanner.findFirstLineShape(bytes, scanner.begin(bytes, 0), bytes.length).shape;
  };

  it('tells a one-line value from a pretty-printed one and from a broken line', () => {
    expect(shapeOf('{"a":{"b":1}}\n{')).toBe('single-line');
    expect(shapeOf('{\n  "a": 1\n}')).toBe('multi-line');
    expect(shapeOf('{"a":"b\nc"}')).toBe('broken-line');
    expect(shapeOf('{"a":')).toBeUndefined();
  });
});
