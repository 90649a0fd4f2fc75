import { describe, expect, it } from 'vitest';
import { stripNulCharacters } from './strip-nul.js';

describe('stripNulCharacters', () => {
  it('removes every U+0000 and nothing else', () => {
    expect(stripNulCharacters('a\u0000b\u0000\u0000c')).toBe('abc');
    expect(stripNulCharacters('\u0000')).toBe('');
    expect(stripNulCharacters('plain \\u0000 text')).toBe('plain \\u0000 text');
  });

  it('returns the same string when there is nothing to remove', () => {
    const text = 'no nul here';
    expect(stripNulCharacters(text)).toBe(text);
  });
});
