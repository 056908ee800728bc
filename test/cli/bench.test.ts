// The built `durabook bench` CLI (dist/lib/cli/main.js; run `npm run build` first): its JSON
// output has the documented shape, its counts add up, and the trades it reports equal a replay
// of the same seeded workload through the reference model. Never asserts speed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../../lib/bench/run.js';
import { generateWorkload, OP_CANCEL, OP_LIMIT, parseWorkloadCsv, symbolNames, WorkloadError, workloadToCsv, type Workload } from '../../lib/bench/workload.js';
import type { Report } from '../../lib/types.js';
import { mayLockMemory } from '../support/may-lock-memory.js';
import { ReferenceBook } from '../support/reference-model.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/lib/cli/main.js');
const scratch = mkdtempSync(join(tmpdir(), 'durabook-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function benchJson(args: string[], env: Record<string, string> = {}): BenchResult {
  const r = cli(['bench', ...args, '--json'], env);
  expect(r.stderr).toBe(''); // progress only on a TTY
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as BenchResult;
}

/** What the reference model reports for the measured part of a workload. */
function replayThroughModel(w: Workload) {
  const names = symbolNames(w.symbols);
  const model = new ReferenceBook({ symbols: names });
  const statuses = { new: 0, partially_filled: 0, filled: 0, cancelled: 0, rejected: 0 };
  let trades = 0;
  let tradedQty = 0;
  for (let i = 0; i < w.count; i++) {
    let r: Report;
    const side = w.side[i] === 0 ? 'buy' : 'sell';
    if (w.op[i] === OP_CANCEL) r = model.cancel({ id: w.id[i] });
    else if (w.op[i] === OP_LIMIT) r = model.submit({ symbol: names[w.sym[i]], id: w.id[i], side, type: 'limit', price: w.price[i], qty: w.qty[i] });
    else r = model.submit({ symbol: names[w.sym[i]], id: w.id[i], side, type: 'market', qty: w.qty[i] });
    if (i < w.warmup) continue;
    statuses[r.status]++;
    trades += r.trades.length;
    for (const t of r.trades) tradedQty += t.qty;
  }
  return { statuses, trades, tradedQty, resting: model.restingCount };
}

function checkShape(r: BenchResult, ops: number): void {
  expect(r.command).toBe('bench');
  expect(r.config.ops).toBe(ops);
  const k = r.counts;
  expect(k.commands).toBe(ops);
  expect(k.limits + k.cancels + k.markets).toBe(ops);
  const st = k.statuses;
  expect(Object.keys(st).sort()).toEqual(['cancelled', 'filled', 'new', 'partially_filled', 'rejected']);
  expect(st.new + st.partially_filled + st.filled + st.cancelled + st.rejected).toBe(ops);
  expect(r.throughput.seconds).toBeGreaterThan(0);
  expect(r.throughput.commandsPerSec).toBeCloseTo(ops / r.throughput.seconds, 0);
  expect(r.throughput.warmupPassesPerSec).toHaveLength(r.config.jitWarmup);
  for (const x of r.throughput.warmupPassesPerSec) expect(x > 0 && Number.isFinite(x)).toBe(true);
  const l = r.latencyNs;
  expect(l.count).toBe(ops);
  for (const v of [l.min, l.p50, l.p99, l.p999, l.max]) expect(Number.isInteger(v) && v >= 1).toBe(true);
  expect(l.min).toBeLessThanOrEqual(l.p50);
  expect(l.p50).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.p999);
  expect(l.p999).toBeLessThanOrEqual(l.max);
  expect(l.timerOverheadNs).toBeGreaterThan(0);
  for (const v of [l.pageFaults.major, l.pageFaults.minor]) expect(Number.isInteger(v) && v >= 0).toBe(true);
  if (process.platform === 'linux') {
    for (const steal of [l.steal, r.throughput.steal]) {
      expect(steal).toHaveLength(r.environment.cores);
      for (const x of steal!) expect(x >= 0 && x <= 1).toBe(true);
    }
  }
  expect(r.environment.node).toBe(process.version);
}

describe('durabook CLI', () => {
  it('--help lists the commands', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+bench\s/m);
    expect(r.stdout).toMatch(/^\s+replay lobster\s/m);
    const b = cli(['bench', '--help']);
    expect(b.code).toBe(0);
    for (const flag of ['--ops', '--durability', '--api', '--workload', '--rate', '--seed', '--symbols', '--json']) {
      expect(b.stdout).toContain(flag);
    }
  });

  it('rejects unknown commands and bad flags with exit code 2', () => {
    expect(cli(['nope']).code).toBe(2);
    const r = cli(['bench', '--durability', 'sometimes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--durability');
    expect(cli(['bench', '--ops', '-5']).code).toBe(2);
    expect(cli(['bench', '--bogus']).code).toBe(2);
  });
});

describe('durabook bench --json', () => {
  const ops = 20_000;
  const resting = 2_000;

  it('reports counts that add up and the reference model’s trades (per-call API)', () => {
    const r = benchJson(['--ops', String(ops), '--resting', String(resting), '--seed', '7']);
    checkShape(r, ops);
    expect(r.config).toMatchObject({ durability: 'none', api: 'call', batchSize: null, symbols: 1, rate: null, seed: 7, workload: 'generated', restingTarget: resting, warmupOps: resting, memoryLock: null });
    expect(r.wal).toBeNull();
    expect(r.durableAckNs).toBeNull();
    expect(r.latencyNs.mode).toBe('closed-loop');

    const w = generateWorkload({ ops, seed: 7, restingTarget: resting });
    const model = replayThroughModel(w);
    expect(r.counts.statuses).toEqual(model.statuses);
    expect(r.counts.trades).toBe(model.trades);
    expect(r.counts.tradedQty).toBe(model.tradedQty);
    expect(r.counts.restingAtEnd).toBe(model.resting);
    expect(r.counts.trades).toBeGreaterThan(0);
    // The generator's book holds its steady size.
    expect(r.counts.restingAtEnd).toBeGreaterThan(resting / 2);
    expect(r.counts.restingAtEnd).toBeLessThan(resting * 2);
  });

  it('batch API, several symbols, open loop: same invariants', () => {
    const r = benchJson(['--ops', String(ops), '--resting', String(resting), '--api', 'batch', '--batch-size', '100', '--symbols', '3', '--rate', '200000']);
    checkShape(r, ops);
    expect(r.config).toMatchObject({ api: 'batch', batchSize: 100, symbols: 3, rate: 200000 });
    expect(r.latencyNs.mode).toBe('open-loop');
    const model = replayThroughModel(generateWorkload({ ops, seed: 1, symbols: 3, restingTarget: resting }));
    expect(r.counts.statuses).toEqual(model.statuses);
    expect(r.counts.trades).toBe(model.trades);
    expect(r.counts.tradedQty).toBe(model.tradedQty);
    expect(r.counts.restingAtEnd).toBe(model.resting);
  });

  it('durable mode: WAL figures and durable-ack latency, temp dir removed', () => {
    const tmp = join(scratch, 'tmp');
    mkdirSync(tmp);
    const r = benchJson(['--ops', '5000', '--resting', '500', '--durability', 'durable', '--rate', '50000'], { TMPDIR: tmp });
    checkShape(r, 5000);
    expect(r.config.durability).toBe('durable');
    expect(r.wal).not.toBeNull();
    expect(r.wal!.files).toBeGreaterThan(0);
    expect(r.wal!.bytes).toBeGreaterThan(0);
    expect(r.wal!.bytes).toBeLessThanOrEqual(r.wal!.allocatedBytes);
    // At least a NEW/CANCEL record (24-48 bytes) per command.
    expect(r.wal!.bytesPerCommand).toBeGreaterThanOrEqual(24);
    expect(r.durableAckNs).not.toBeNull();
    expect(r.durableAckNs!.count).toBe(5000);
    expect(r.durableAckNs!.rate).toBe(50000);
    // The ack pass's own syncs, by the writer's clock: some, each at least a microsecond, and
    // the time-weighted p99 (long syncs weighed by their length) never below the count p50.
    const y = r.durableAckNs!.syncNs;
    expect(y.count).toBeGreaterThan(0);
    expect(y.p50).toBeGreaterThan(1_000);
    expect(y.timeP99).toBeGreaterThanOrEqual(y.p50);
    expect(y.timeP99).toBeLessThanOrEqual(y.max);
    // CPU steal: on Linux a fraction per CPU.
    if (process.platform === 'linux') {
      expect(r.durableAckNs!.steal).toHaveLength(r.environment.cores);
      for (const x of r.durableAckNs!.steal!) expect(x >= 0 && x <= 1).toBe(true);
    }
    expect(r.throughput.durableSeconds).toBeGreaterThanOrEqual(r.throughput.seconds);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('async mode pinned: --main-cpu and --writer-cpu reach the config and the writer counters', () => {
    const r = benchJson(['--ops', '5000', '--resting', '500', '--durability', 'async', '--main-cpu', '0', '--writer-cpu', '0']);
    checkShape(r, 5000);
    expect(r.config).toMatchObject({ durability: 'async', mainCpu: 0, writerCpu: 0 });
    const w = r.wal!.writer;
    expect(w.records).toBeGreaterThanOrEqual(5000);
    expect(w.syncs).toBeGreaterThan(0);
    expect(w.writerWakes).toBeGreaterThanOrEqual(0);
    expect(w.writerWakes).toBeLessThanOrEqual(w.records);
    // The throughput pass's time split: the writer wrote records; the matching thread's waits
    // for ring slots happened inside the pass.
    expect(w.writeNs).toBeGreaterThan(0);
    expect(w.zeroFillNs).toBeGreaterThanOrEqual(0);
    expect(w.producerWaitNs).toBeGreaterThanOrEqual(0);
    expect(w.producerWaitNs).toBeLessThanOrEqual(r.throughput.seconds * 1e9);
    expect(w.producerWaitNs > 0).toBe(w.producerWaits > 0);
    const text = cli(['bench', '--ops', '2000', '--resting', '200', '--durability', 'async']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/WAL time +matching waited for ring slots .+ in [\d,]+ waits; writer: writes .+, zero-fill .+, syncs .+/);
    const bad = cli(['bench', '--ops', '1000', '--writer-cpu', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('writer CPU needs durability');
    expect(cli(['bench', '--ops', '1000', '--main-cpu', '100000']).code).toBe(2);
  });

  it('--jit-warmup: the passes run before the measured ones reach the result; 0 runs none', () => {
    const r = benchJson(['--ops', '3000', '--resting', '300']);
    expect(r.config.jitWarmup).toBe(2);
    checkShape(r, 3000);
    const none = benchJson(['--ops', '3000', '--resting', '300', '--jit-warmup', '0']);
    expect(none.config.jitWarmup).toBe(0);
    checkShape(none, 3000);
    // Same commands either way: the warm-up passes change nothing the measured pass reports.
    expect(none.counts).toEqual(r.counts);
    const three = benchJson(['--ops', '3000', '--resting', '300', '--jit-warmup', '3', '--api', 'batch']);
    checkShape(three, 3000);
    expect(three.throughput.warmupPassesPerSec).toHaveLength(3);
    const text = cli(['bench', '--ops', '2000', '--resting', '200', '--jit-warmup', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/JIT warm-up +[\d.]+[kM]\/s +\(/);
    const bad = cli(['bench', '--ops', '1000', '--jit-warmup', '-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--jit-warmup');
  });

  it('--lock-memory: what was locked reaches the config; a bad mode is a usage error', () => {
    if (!mayLockMemory()) {
      const capped = cli(['bench', '--ops', '1000', '--lock-memory', 'all']);
      expect(capped.code).toBe(1);
      expect(capped.stderr).toContain('RLIMIT_MEMLOCK');
      return;
    }
    const r = benchJson(['--ops', '2000', '--resting', '200', '--lock-memory', 'on-fault']);
    checkShape(r, 2000);
    expect(r.config.memoryLock?.mode).toBe('on-fault');
    expect(r.config.memoryLock!.bytes).toBeGreaterThan(0);
    expect(r.config.memoryLock!.mappings).toBeGreaterThan(3);
    const text = cli(['bench', '--ops', '2000', '--resting', '200', '--lock-memory', 'all']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/memory lock +[\d.]+ MiB of code in \d+ mappings locked in RAM \(all\)/);
    const bad = cli(['bench', '--ops', '1000', '--lock-memory', 'everything']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--lock-memory must be all, on-fault; got "everything"');
  });

  it('replays a CSV workload file and names the line of a bad row', () => {
    const w = generateWorkload({ ops: 3000, restingTarget: 300, seed: 3 });
    const file = join(scratch, 'w.csv');
    writeFileSync(file, workloadToCsv(w));
    const r = benchJson(['--workload', file, '--warmup', String(w.warmup)]);
    checkShape(r, 3000);
    expect(r.config).toMatchObject({ workload: file, seed: null, restingTarget: null, warmupOps: 300 });
    // Market ids differ in the file (fresh ids after the largest limit id), trades do not.
    const model = replayThroughModel(parseWorkloadCsv(workloadToCsv(w), file, w.warmup));
    expect(r.counts.trades).toBe(model.trades);
    expect(r.counts.tradedQty).toBe(model.tradedQty);
    expect(r.counts.trades).toBe(replayThroughModel(w).trades);

    const bad = join(scratch, 'bad.csv');
    writeFileSync(bad, 'op,id,side,price,qty\nL,1,B,100,5\nL,2,X,100,5\n');
    const b = cli(['bench', '--workload', bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`${bad}:3:`);
    expect(b.stderr).toContain('side');
  });
});

describe('workload CSV parser', () => {
  const parse = (rows: string) => parseWorkloadCsv(`op,id,side,price,qty\n${rows}`, 'f.csv');
  it('reads the three row kinds; market orders get fresh ids', () => {
    const w = parse('L,5,B,-3,10\nM,,S,,4\nC,5,,,\nL,9,S,7,1\n');
    expect(w.count).toBe(4);
    expect([...w.op]).toEqual([OP_LIMIT, 2, OP_CANCEL, OP_LIMIT]);
    expect(w.price[0]).toBe(-3);
    expect(w.id[1]).toBe(10); // above the largest limit id (9)
  });
  it.each([
    ['L,1,B,100\n', 2, '5 fields'],
    ['L,0,B,100,5\n', 2, 'id'],
    ['L,1,B,1.5,5\n', 2, 'price'],
    ['L,1,B,100,0\n', 2, 'qty'],
    ['L,1,B,100,5\nC,,,,\n', 3, 'id'],
    ['L,1,B,100,5\nC,1,B,,\n', 3, 'side'],
    ['M,3,B,,5\n', 2, 'id'],
    ['X,1,B,1,1\n', 2, 'op'],
  ])('%j → error on line %i naming %s', (rows, line, field) => {
    let err: unknown;
    try {
      parse(rows);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkloadError);
    expect((err as WorkloadError).line).toBe(line);
    expect((err as Error).message).toContain(`f.csv:${line}:`);
    expect((err as Error).message).toContain(field);
  });
  it('rejects a missing header', () => {
    expect(() => parseWorkloadCsv('L,1,B,1,1\n', 'f.csv')).toThrow(/f\.csv:1:.*header/);
  });
});
