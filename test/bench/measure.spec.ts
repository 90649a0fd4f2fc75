import { describe, expect, it } from 'vitest';
import { machineCpuTimes, parseProcStatCpuLine } from '../../bench/measure.js';

describe('parseProcStatCpuLine', () => {
  it('counts user, nice, system, irq and softirq as busy, and steal apart; idle and iowait count as neither', () => {
    //                       user nice system idle   iowait irq softirq steal guest guest_nice
    const times = parseProcStatCpuLine('cpu  203345 37 38496 1599579 1692 5 1418 14818 900 0');
    expect(times.busyMs).toBe((203345 + 37 + 38496 + 5 + 1418) * 10);
    expect(times.stealMs).toBe(14818 * 10);
  });

  it('rejects a line that is not the machine-wide cpu line', () => {
    expect(() => parseProcStatCpuLine('cpu0 1 2 3 4 5 6 7 8 9 10')).toThrow(/unexpected \/proc\/stat line: cpu0/);
    expect(() => parseProcStatCpuLine('cpu  1 2 3')).toThrow(/unexpected/);
  });

  it("reads this machine's counters, which only grow", () => {
    const before = machineCpuTimes();
    const after = machineCpuTimes();
    expect(before.busyMs).toBeGreaterThan(0);
    expect(after.busyMs).toBeGreaterThanOrEqual(before.busyMs);
    expect(after.stealMs).toBeGreaterThanOrEqual(before.stealMs);
  });
});
