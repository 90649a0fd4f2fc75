import { describe, expect, it } from 'vitest';
import { heapGrowingOption } from './heap-tuning.js';

describe('heapGrowingOption', () => {
  it('sets the measured heap growth when the operator gave none', () => {
    expect(heapGrowingOption([], undefined)).toBe('--heap-growing-percent=200');
    expect(heapGrowingOption(['--enable-source-maps'], '--max-old-space-size=512')).toBe('--heap-growing-percent=200');
  });

  it("leaves the operator's own value alone, on the command line or in NODE_OPTIONS", () => {
    expect(heapGrowingOption(['--heap-growing-percent=50'], undefined)).toBeUndefined();
    expect(heapGrowingOption(['--heap_growing_percent=50'], undefined)).toBeUndefined();
    expect(heapGrowingOption([], '--enable-source-maps --heap-growing-percent=0')).toBeUndefined();
  });

  it('is not fooled by another option that starts the same way', () => {
    expect(heapGrowingOption(['--heap-growing-percentage-x=1'], undefined)).toBe('--heap-growing-percent=200');
  });
});
