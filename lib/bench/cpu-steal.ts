// CPU steal: the share of each CPU's time that the hypervisor ran something else while this
// guest had work for it (Linux /proc/stat, the `steal` column). On a shared virtual machine a
// stolen stretch freezes whatever ran on that CPU, the WAL writer's sync or the JS thread, and
// lands in the latency tails as if the engine had taken it; a pass's steal is printed beside
// its tails so that the two can be told apart.
import { readProcFile } from './proc-file.js';

/** Per-CPU counters in clock ticks, in CPU order. */
export interface CpuTicks {
  total: number[];
  steal: number[];
}

/** The per-CPU counters now, or null where /proc/stat is missing or has no steal column. */
export function readCpuTicks(): CpuTicks | null {
  const text = readProcFile('/proc/stat');
  return text === null ? null : parseCpuTicks(text);
}

/** The per-CPU lines of a /proc/stat text; null if it has none or one lacks the steal column. */
export function parseCpuTicks(text: string): CpuTicks | null {
  const total: number[] = [];
  const steal: number[] = [];
  for (const line of text.split('\n')) {
    // "cpuN user nice system idle iowait irq softirq steal guest guest_nice"; guest time is
    // already counted in user, so the total is the first eight.
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 8 || f.slice(0, 8).some((x) => !Number.isFinite(x))) return null;
    total[Number(m[1])] = f.slice(0, 8).reduce((a, b) => a + b, 0);
    steal[Number(m[1])] = f[7];
  }
  return total.length > 0 ? { total, steal } : null;
}

/** Steal as a fraction of each CPU's time between two readings (0 for a CPU with no ticks). */
export function stealBetween(before: CpuTicks | null, after: CpuTicks | null): number[] | null {
  if (!before || !after || before.total.length !== after.total.length) return null;
  return after.total.map((t, i) => {
    const dt = t - before.total[i];
    return dt > 0 ? Math.max(0, after.steal[i] - before.steal[i]) / dt : 0;
  });
}
