import { describe, expect, it } from 'vitest';
import { parseCpuTicks, readCpuTicks, stealBetween } from '../../lib/bench/cpu-steal.js';

// Two /proc/stat readings (columns: user nice system idle iowait irq softirq steal guest guest_nice).
const BEFORE = `cpu  300 0 60 900 10 0 5 40 0 0
cpu0 100 0 20 500 5 0 5 10 0 0
cpu1 200 0 40 400 5 0 0 30 7 0
intr 12345 0 0
ctxt 999
`;
// 100 ticks later on each CPU: cpu0 had 5 of them stolen, cpu1 40 (guest time is inside user).
const AFTER = `cpu  380 0 70 990 10 0 5 85 0 0
cpu0 150 0 25 540 5 0 5 15 0 0
cpu1 230 0 45 425 5 0 0 70 20 0
intr 12400 0 0
`;

describe('CPU steal', () => {
  it('reads each CPU’s ticks (the first eight columns) and steal (the eighth), not the summary line', () => {
    const t = parseCpuTicks(BEFORE)!;
    expect(t.total).toEqual([640, 675]);
    expect(t.steal).toEqual([10, 30]);
  });

  it('gives each CPU’s stolen share of the ticks between two readings', () => {
    const s = stealBetween(parseCpuTicks(BEFORE), parseCpuTicks(AFTER))!;
    expect(s).toHaveLength(2);
    expect(s[0]).toBeCloseTo(5 / 100, 10);
    expect(s[1]).toBeCloseTo(40 / 100, 10);
  });

  it('has no answer without a steal column, a reading, or the same CPUs in both', () => {
    expect(parseCpuTicks('cpu0 1 2 3 4\n')).toBeNull();
    expect(parseCpuTicks('intr 1 2\n')).toBeNull();
    expect(stealBetween(null, parseCpuTicks(AFTER))).toBeNull();
    expect(stealBetween(parseCpuTicks(BEFORE), parseCpuTicks('cpu0 1 0 0 0 0 0 0 0 0 0\n'))).toBeNull();
  });

  it.runIf(process.platform === 'linux')('reads this machine', () => {
    const t = readCpuTicks()!;
    expect(t.total.length).toBeGreaterThan(0);
    expect(t.steal.every((x, i) => x >= 0 && x <= t.total[i])).toBe(true);
  });
});
