import { describe, expect, it } from 'vitest';
import { memoryVerdict, scaleTargetsLine, throughputTargetsLine } from '../../bench/targets.js';

describe('bench targets', () => {
  it('judges 2× Python on the unrounded ratio: 1.997× is not met, though two decimals show 2.00×', () => {
    // The eleventh session's first run: 4.7793 s against Python's 9.5451 s.
    expect(throughputTargetsLine(4.7793, 2.4723, 9.5451)).toBe(
      'targets: default ÷ Python 1.997× (≥ 2×: NOT MET; goal 2.5×: not reached); share of the ceiling 51.7% (≥ 75%: NOT MET)',
    );
    expect(throughputTargetsLine(4.2335, 2.3856, 9.2088)).toMatch(/Python 2\.175× \(≥ 2×: met; goal 2\.5×: not reached\); share of the ceiling 56\.4%/);
  });

  it('says when the goal and the share are reached, and when Python was not measured', () => {
    expect(throughputTargetsLine(2, 1.5, 5)).toBe(
      'targets: default ÷ Python 2.500× (≥ 2×: met; goal 2.5×: reached); share of the ceiling 75.0% (≥ 75%: met)',
    );
    expect(throughputTargetsLine(2, 1, undefined)).toBe('targets: default ÷ Python not measured; share of the ceiling 50.0% (≥ 75%: NOT MET)');
  });

  it('judges memory against 400 MB, the limit included', () => {
    expect(memoryVerdict(400)).toBe('≤ 400 MB: met');
    expect(memoryVerdict(400.5)).toBe('≤ 400 MB: NOT MET');
  });

  it('judges scale on both ratios within ± 15%, the edges included', () => {
    expect(scaleTargetsLine(16, 0.82, 0.91)).toBe(
      'targets: 16× the files in 16× the time ± 15%: wall ratio 0.820 (NOT MET), ingest after boot 0.910 (met)',
    );
    expect(scaleTargetsLine(16, 0.85, 1.15)).toMatch(/wall ratio 0\.850 \(met\), ingest after boot 1\.150 \(met\)/);
    expect(scaleTargetsLine(4, 1.151, 0.849)).toMatch(/^targets: 4× .*\(NOT MET\).*\(NOT MET\)$/);
  });
});
