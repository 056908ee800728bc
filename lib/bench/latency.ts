// Latency summaries through node:perf_hooks histograms (HDR, integer nanoseconds >= 1).
import { createHistogram, performance } from 'node:perf_hooks';

/** Percentiles of a set of latencies, in nanoseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Summarizes lat[0, n) (nanoseconds, fractional allowed: each is rounded, at least 1). */
export function summarize(lat: Float64Array, n = lat.length): LatencySummary {
  const h = createHistogram({ lowest: 1, highest: 1e13, figures: 3 });
  for (let i = 0; i < n; i++) {
    const v = Math.round(lat[i]);
    h.record(v >= 1 ? v : 1);
  }
  if (n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: n,
    min: h.min,
    mean: Math.round(h.mean),
    p50: h.percentile(50),
    p99: h.percentile(99),
    p999: h.percentile(99.9),
    max: h.max,
  };
}

/**
 * What one latency sample costs by itself: the median gap between two back-to-back
 * performance.now() reads, in ns. Every closed-loop sample includes about this much.
 */
export function timerOverheadNs(samples = 200_000): number {
  const lat = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const t1 = performance.now();
    lat[i] = (t1 - t0) * 1e6;
  }
  return summarize(lat).p50;
}

/** Formats nanoseconds for people: 412 ns, 1.93 µs, 12.4 ms. */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toPrecision(3)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toPrecision(3)} ms`;
  return `${(ns / 1_000_000_000).toPrecision(3)} s`;
}

/** Formats a rate: 5.12M/s, 812k/s. */
export function formatRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toPrecision(3)}M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toPrecision(3)}k/s`;
  return `${perSec.toPrecision(3)}/s`;
}
