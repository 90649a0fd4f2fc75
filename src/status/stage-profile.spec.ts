import { describe, expect, it } from 'vitest';
import { stageProfile } from './stage-profile.js';

const timings = (parseMs: number, writeMs: number, readMs = 100) => ({ readMs, decompressMs: 200, parseMs, cleanMs: 300, writeMs, totalMs: 0 });

describe('stageProfile', () => {
  it('names the slowest stage with its share and a hint', () => {
    const profile = stageProfile(4, timings(6000, 3400), 15);
    expect(profile).toMatchObject({ files: 4, bottleneck: 'parse', seconds: { parse: 6, write: 3.4, read: 0.1 } });
    expect(profile.share.parse).toBe(0.6);
    expect(profile.hint).toMatch(/EXECUTOR_SIZE/);
  });

  it('points at the database when writing dominates, and at storage when reading does', () => {
    expect(stageProfile(1, timings(10, 9000), 15)).toMatchObject({ bottleneck: 'write', hint: expect.stringMatching(/database/) });
    expect(stageProfile(1, timings(10, 10, 9000), 15)).toMatchObject({ bottleneck: 'read', hint: expect.stringMatching(/storage or network/) });
  });

  it('has no bottleneck without recent files', () => {
    expect(stageProfile(0, timings(0, 0, 0), 15)).toMatchObject({ bottleneck: null, hint: 'no file finished in the last 15 minutes' });
  });
});
