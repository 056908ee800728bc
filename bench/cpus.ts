// Where the disk's interrupts land, for benchmarks that place the WAL writer thread: on a small
// machine, a matching thread that shares a CPU with the disk's completions is interrupted by
// every one of them (measured here: async p99.9 21 µs with the JS thread there, 3 µs off it).
import { readProcFile } from '../lib/bench/proc-file.js';
import { cpus } from 'node:os';

// The CPU that has taken most of the disk's interrupts (virtio-blk, NVMe or other block queue
// lines of /proc/interrupts), or undefined when that cannot be told.
export function diskIrqCpu(): number | undefined {
  const text = readProcFile('/proc/interrupts');
  if (text === null) return undefined;
  const [head, ...lines] = text.split('\n');
  const ncpu = head.trim().split(/\s+/).length;
  const sums = new Array<number>(ncpu).fill(0);
  for (const line of lines) {
    if (!/virtio\d+-req|nvme\d+q\d+|\bblk/.test(line)) continue;
    const counts = line.trim().split(/\s+/).slice(1, 1 + ncpu).map(Number);
    counts.forEach((c, i) => (sums[i] += Number.isFinite(c) ? c : 0));
  }
  const best = sums.indexOf(Math.max(...sums));
  return sums[best] > 0 ? best : undefined;
}

/**
 * Where the side-by-side benchmarks put their threads on a machine of two or more CPUs: the WAL
 * writer on the CPU that takes the disk's interrupts (CPU 1 when that cannot be told), the JS
 * (matching) thread on another. Undefined on one CPU.
 */
export function benchPlacement(): { mainCpu: number; writerCpu: number; fromIrqs: boolean } | undefined {
  if (cpus().length < 2) return undefined;
  const irq = diskIrqCpu();
  const writerCpu = irq ?? 1;
  return { mainCpu: writerCpu === 0 ? 1 : 0, writerCpu, fromIrqs: irq !== undefined };
}
