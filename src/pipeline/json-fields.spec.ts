import { describe, expect, it } from 'vitest';
import {
  describeJsonType,
  isJsonObject,
  readArray,
  readObject,
  readString,
  readStringsOf,
} from './json-fields.js';

describe('json-fields', () => {
  const value = { text: 'hi', count: 3, user: { name: 'n' }, list: [{ tag: 'a' }, { tag: 1 }, 'x', { tag: 'b' }] };

  it('reads fields of the expected type and treats others as absent', () => {
    expect(readString(value, 'text')).toBe('hi');
    expect(readString(value, 'count')).toBeUndefined();
    expect(readObject(value, 'user')).toEqual({ name: 'n' });
    expect(readObject(value, 'list')).toBeUndefined();
    expect(readArray(value, 'list')).toHaveLength(4);
    expect(readArray(value, 'text')).toEqual([]);
    expect(readString(undefined, 'text')).toBeUndefined();
  });

  it('collects one string field of each object in a list', () => {
    expect(readStringsOf(readArray(value, 'list'), 'tag')).toEqual(['a', 'b']);
  });

  it('tells objects from arrays and null', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(describeJsonType([])).toBe('an array');
    expect(describeJsonType(null)).toBe('null');
    expect(describeJsonType(2)).toBe('a number');
    expect(describeJsonType('s')).toBe('a string');
  });
});
