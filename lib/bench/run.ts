// `durabook bench`: runs a workload through a fresh engine and measures it.
//
// Passes, each on a fresh engine (and a fresh temp WAL directory when durability is not 'none'),
// each starting with the workload's warmup commands (not measured):
//   0. JIT warm-up (--jit-warmup N, default 2): the measured commands back to back, as pass 1,
//      N times, timed but not counted. The first pass of a fresh process runs while V8 is still
//      compiling and re-compiling the loop (type feedback from the warmup's passive orders does
//      not cover trades; seen with --trace-deopt: a process's first engine close() throws the
//      optimized loop away once, as does, with a WAL, its first recursive rmSync, inside Node),
//      on the same two cores. Measured (per-call, async WAL, pinned): the first pass
//      9-14% below the third, the second within 0-5% of it. Their rates are reported (the
//      first: what a fresh process's first second gets); their results must equal pass 1's.
//   1. throughput: the measured commands back to back, no timers in the loop; with a WAL, also
//      the time until engine.durable(lastSeq) resolved. The report counts come from this pass,
//      the WAL size from its directory.
//   2. latency: closed loop (each call timed by two performance.now() reads around it), or with
//      --rate an open loop: command i is due at start + i/rate and its latency runs from that
//      intended time to its completion, so a stall is charged to every command it delayed
//      (no coordinated omission). In 'durable' mode the open loop also records the durable-ack
//      latency: intended send time → resolution of engine.durable(seq).
//   3. durable mode without --rate: an open-loop ack pass at DEFAULT_ACK_RATE over at most
//      DEFAULT_ACK_COMMANDS commands (10 s: long enough that the first moments after open, when
//      a cloud disk is still absorbing the first segment's 64 MiB of zeros and syncs take
//      milliseconds, are what they are in a long-running engine: a moment, not 10% of the run).
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine } from '../engine.js';
import { lockMemory, unlockMemory, type MemoryLock, type MemoryLockMode } from '../memory-lock.js';
import { native } from '../native.js';
import type { Durability, OrderStatus, SyncLatency, WalStats } from '../types.js';
import { readCpuTicks, stealBetween } from './cpu-steal.js';
import { BatchDriver, callOne, newTally, restingOrders, runCalls, runCallsTimed, statusRecord, tallyReport, type Tally } from './drivers.js';
import { summarize, timerOverheadNs, type LatencySummary } from './latency.js';
import { probeFdatasync } from './fdatasync-probe.js';
import { countOps, generateWorkload, readWorkloadFile, symbolNames, type Workload } from './workload.js';

export type BenchApi = 'call' | 'batch';

export interface BenchOptions {
  /** Measured commands (generated workloads; a file's rows are all measured). Default 1,000,000. */
  ops?: number;
  durability?: Durability;
  api?: BenchApi;
  /** Commands per batch for --api batch (closed loop), and the most per batch in open loop. Default 256. */
  batchSize?: number;
  symbols?: number;
  /** Open loop at this many commands per second; undefined = closed loop. */
  rate?: number;
  seed?: number;
  /** CSV workload file (DESIGN.md §5) instead of the generator. */
  workload?: string;
  /** Resting orders the generator holds the book at. Default 10,000. */
  restingTarget?: number;
  /** Unmeasured book-building commands: generated, default restingTarget; a file's first rows, default 0. */
  warmup?: number;
  /** Pin the JS thread (which runs matching) to this CPU for the whole run. */
  mainCpu?: number;
  /** wal.writerCpu for async/durable runs. */
  writerCpu?: number;
  /** lockMemory(mode) for the run (undone at its end). */
  lockMemory?: MemoryLockMode;
  /** Passes of the measured commands before the measured ones (timed, not counted), so that the JIT has settled. Default 2. */
  jitWarmup?: number;
  /** Progress messages (the CLI passes one only when stderr is a TTY). */
  progress?: (message: string) => void;
}

/** The JSON object `durabook bench --json` prints (one line). */
export interface BenchResult {
  command: 'bench';
  config: {
    /** Measured commands. */
    ops: number;
    /** Book-building commands run before each pass, not measured. */
    warmupOps: number;
    durability: Durability;
    api: BenchApi;
    /** Commands per batch (api 'batch'), else null. */
    batchSize: number | null;
    symbols: number;
    /** Open-loop rate in commands/s, or null for closed loop. */
    rate: number | null;
    /** Generator seed, or null for a workload file. */
    seed: number | null;
    /** 'generated' or the workload file path. */
    workload: string;
    /** Generator's steady book size, or null for a workload file. */
    restingTarget: number | null;
    /** CPU the JS thread was pinned to, or null. */
    mainCpu: number | null;
    /** CPU the WAL writer thread was pinned to, or null. */
    writerCpu: number | null;
    /** What lockMemory() locked for the run (--lock-memory), or null. */
    memoryLock: MemoryLock | null;
    /** JIT warm-up passes run before the measured ones (--jit-warmup). */
    jitWarmup: number;
  };
  /** What the reports of the measured commands said (throughput pass). */
  counts: {
    /** = limits + cancels + markets = sum of statuses. */
    commands: number;
    limits: number;
    cancels: number;
    markets: number;
    statuses: Record<OrderStatus, number>;
    /** Trades reported by the measured commands, and their total quantity. */
    trades: number;
    tradedQty: number;
    /** Resting orders after the last command (summed from depth()). */
    restingAtEnd: number;
  };
  throughput: {
    /** Wall time of the measured commands, back to back. */
    seconds: number;
    commandsPerSec: number;
    /** With a WAL: time until engine.durable(lastSeq) resolved, and the rate that gives. */
    durableSeconds: number | null;
    durableCommandsPerSec: number | null;
    /** Per CPU, the share of the measured commands' time the hypervisor stole; null off Linux. */
    steal: number[] | null;
    /**
     * Commands/s of each JIT warm-up pass (same commands, same engine configuration), in order:
     * the first is a fresh process's cold start. Not part of any other figure.
     */
    warmupPassesPerSec: number[];
  };
  /** Per-command latency in ns (latency pass). */
  latencyNs: LatencySummary & {
    mode: 'closed-loop' | 'open-loop';
    /** Closed loop: median cost of the two timer reads each sample includes. */
    timerOverheadNs: number;
    /** Per CPU, the share of the pass's time the hypervisor stole (cpu-steal.ts); null off Linux. */
    steal: number[] | null;
    /**
     * Page faults of the whole process (every thread) during the pass: a major one waited on a
     * disk read (a code page dropped under memory pressure: --lock-memory), a minor one on the
     * kernel mapping a page (first touch of fresh heap).
     */
    pageFaults: { major: number; minor: number };
  };
  /**
   * WAL directory after the throughput pass, or null in 'none' mode. `bytes`: written bytes (each
   * file up to its last non-zero byte; segments are pre-written with zeros); `allocatedBytes`:
   * file sizes; `bytesPerCommand`: bytes / every command logged (symbols + warmup + measured).
   */
  wal: {
    bytes: number;
    allocatedBytes: number;
    files: number;
    bytesPerCommand: number;
    /** The writer's counters over the throughput pass and its final durable() (engine.walStats({ since })). */
    writer: WalStats;
  } | null;
  /**
   * 'durable' mode: intended send time → engine.durable(seq) resolved, in ns; else null. With
   * the pass's own WAL syncs (the writer's clock; set the ack p99 beside their `timeP99`) and
   * the share of each CPU's time the hypervisor stole during the pass.
   */
  durableAckNs: (LatencySummary & { rate: number; syncNs: SyncLatency; steal: number[] | null }) | null;
  /**
   * With a WAL: this machine's own fdatasync latency in ns (4 KiB writes into a pre-written
   * file, same file system, measured right after the WAL passes), the yardstick for durableAckNs.
   */
  fdatasyncNs: LatencySummary | null;
  environment: { node: string; cpu: string; cores: number; platform: string };
}

export const DEFAULT_BATCH_SIZE = 256;
export const DEFAULT_JIT_WARMUP = 2;
export const DEFAULT_ACK_RATE = 100_000;
export const DEFAULT_ACK_COMMANDS = 1_000_000;
const MAX_BURST = 1024;
// The open loop's longest wait for a due time outside the event loop (see openLoop).
const MAX_SPIN_MS = 0.02;

// Temp WAL directories still present when the process exits (Ctrl-C included) are removed.
const liveDirs = new Set<string>();
let cleanupHooked = false;
function tempDir(): string {
  if (!cleanupHooked) {
    cleanupHooked = true;
    process.once('exit', () => {
      for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
    });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
        process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
      });
    }
  }
  const d = mkdtempSync(join(tmpdir(), 'durabook-bench-'));
  liveDirs.add(d);
  return d;
}
function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  liveDirs.delete(d);
}

// Bytes of a file up to its last non-zero byte: WAL segments are pre-written with zeros, so
// their size says how much was reserved, this how much was written.
function usedBytes(path: string, size: number): number {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      for (let i = n - 1; i >= 0; i--) if (chunk[i] !== 0) return start + i + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

interface DirSize {
  /** Sum of file sizes (what the directory reserves). */
  allocated: number;
  /** Sum over files of the bytes up to the last non-zero byte (what was written). */
  used: number;
  files: number;
}

function dirSize(d: string): DirSize {
  const out: DirSize = { allocated: 0, used: 0, files: 0 };
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) {
      const s = dirSize(p);
      out.allocated += s.allocated;
      out.used += s.used;
      out.files += s.files;
    } else if (e.isFile()) {
      const size = statSync(p).size;
      out.allocated += size;
      out.used += usedBytes(p, size);
      out.files++;
    }
  }
  return out;
}

interface Session {
  engine: Engine;
  dir: string | undefined;
  names: string[];
  driver: BatchDriver | undefined;
}

async function openSession(
  w: Workload,
  durability: Durability,
  api: BenchApi,
  batchSize: number,
  writerCpu: number | undefined,
): Promise<Session> {
  const names = symbolNames(w.symbols);
  const dir = durability === 'none' ? undefined : tempDir();
  const engine = await Engine.open(
    dir === undefined ? { symbols: names } : { dir, durability, symbols: names, wal: { writerCpu: writerCpu ?? null } },
  );
  const driver = api === 'batch' ? new BatchDriver(engine, w, names, batchSize) : undefined;
  // Warmup: builds the book through the same API as the measured commands.
  const t = newTally();
  if (driver) driver.run(0, w.warmup, t);
  else runCalls(engine, w, names, 0, w.warmup, t);
  return { engine, dir, names, driver };
}

/** Commands [from, to) back to back through the session's API, no timers; returns the last seq. */
function runBackToBack(s: Session, w: Workload, from: number, to: number, t: Tally): number {
  return s.driver ? s.driver.run(from, to, t) : runCalls(s.engine, w, s.names, from, to, t);
}

async function closeSession(s: Session): Promise<DirSize | null> {
  await s.engine.close();
  if (s.dir === undefined) return null;
  const size = dirSize(s.dir);
  removeDir(s.dir);
  return size;
}

// Open loop: command i is due at start + (i - from) / rate. Everything due is sent at once
// (call: one by one; batch: as one batch of at most batchSize); each latency runs from the
// command's due time to its completion. With `ack`, each turn's commands share one
// engine.durable(lastSeq) and their ack latency runs from their due times to its resolution.
// `yieldEachTurn` gives the event loop a turn between sends (needed for durable() to resolve).
//
// A turn is a plain setImmediate callback, not an `await` of a promise (measured: ~340 against
// ~940 bytes of garbage a turn), and a turn that finds nothing due waits for it in place (up to
// MAX_SPIN_MS) instead of turning the loop empty: at 100k/s durable the empty turns were a few
// hundred thousand a second, and the scavenges of their garbage (up to ~1 ms every ~16 ms) were
// the open loop's own send-time p99 (~1 ms).
function openLoop(
  s: Session,
  w: Workload,
  from: number,
  to: number,
  rate: number,
  batchSize: number,
  t: Tally,
  lat: Float64Array,
  ack: Float64Array | undefined,
  yieldEachTurn: boolean,
): Promise<void> {
  const interval = 1000 / rate; // ms
  const start = performance.now() + 1;
  // Outstanding acks are counted, not kept: an array of a million promises would be the
  // bench's own garbage, and its major GCs would stall the loop it measures.
  let outstanding = 0;
  let failure: unknown;
  let i = from;
  return new Promise<void>((resolve, reject) => {
    let sent = false;
    const finish = (): void => {
      if (outstanding > 0 || !sent) return;
      if (failure !== undefined) reject(failure);
      else resolve();
    };
    const settled = (first: number, last: number): void => {
      const done = performance.now();
      for (let k = first; k < last; k++) ack![k - from] = (done - (start + (k - from) * interval)) * 1e6;
      outstanding--;
      finish();
    };
    const failed = (err: unknown): void => {
      failure ??= err;
      outstanding--;
      finish();
    };
    // Sends what is due, waiting in place for a due time at most MAX_SPIN_MS away (further
    // than that, it returns and the event loop turns, so durable() wakes are still taken).
    const send = (): void => {
      let now = performance.now();
      const due = start + (i - from) * interval;
      if (now < due) {
        if (due - now > MAX_SPIN_MS) return;
        while (now < due) now = performance.now();
      }
      const first = i;
      let seq = 0;
      if (s.driver) {
        let end = i;
        while (end < to && end - i < batchSize && start + (end - from) * interval <= now) end++;
        seq = s.driver.one(i, end, t);
        now = performance.now();
        for (let k = i; k < end; k++) lat[k - from] = (now - (start + (k - from) * interval)) * 1e6;
        i = end;
      } else {
        const limit = i + MAX_BURST;
        while (i < to && i < limit && start + (i - from) * interval <= now) {
          const r = callOne(s.engine, w, s.names, i);
          now = performance.now();
          lat[i - from] = (now - (start + (i - from) * interval)) * 1e6;
          tallyReport(t, r);
          seq = r.seq;
          i++;
        }
        t.commands += i - first;
      }
      if (ack) {
        const last = i;
        outstanding++;
        s.engine.durable(seq).then(() => settled(first, last), failed);
      }
    };
    const turn = (): void => {
      try {
        if (yieldEachTurn) {
          send();
        } else {
          while (i < to) send();
        }
      } catch (err) {
        failure ??= err;
        i = to;
      }
      if (i < to) {
        setImmediate(turn);
      } else {
        sent = true;
        finish();
      }
    };
    turn();
  });
}

function environment(): BenchResult['environment'] {
  const c = cpus();
  return { node: process.version, cpu: c[0]?.model ?? 'unknown', cores: c.length, platform: `${process.platform}-${process.arch}` };
}

export function loadWorkload(o: BenchOptions): Workload {
  if (o.workload !== undefined) return readWorkloadFile(o.workload, o.warmup ?? 0);
  return generateWorkload({ ops: o.ops, seed: o.seed, symbols: o.symbols, restingTarget: o.restingTarget, warmup: o.warmup });
}

/**
 * A latency sample array with every page written once: a fresh buffer's pages are mapped on
 * first write, one fault per 512 samples, and the pass's fault count is meant to show the
 * engine's faults, not the measurement's own.
 */
function samples(n: number): Float64Array {
  return new Float64Array(n).fill(0);
}

/** Runs the benchmark; see the file comment for the passes. */
export async function runBench(o: BenchOptions = {}, workload?: Workload): Promise<BenchResult> {
  const rate = o.rate;
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rate must be > 0, got ${rate}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  if (o.jitWarmup !== undefined && !(Number.isSafeInteger(o.jitWarmup) && o.jitWarmup >= 0)) {
    throw new RangeError(`jitWarmup must be an integer >= 0, got ${o.jitWarmup}`);
  }
  if (o.writerCpu !== undefined && (o.durability ?? 'none') === 'none') throw new RangeError('a writer CPU needs durability async or durable');
  if (o.mainCpu !== undefined) {
    const err = native().pinCurrentThread(o.mainCpu);
    if (err !== 0) throw new RangeError(`cannot pin the JS thread to CPU ${o.mainCpu} (errno ${err})`);
  }
  // Process-wide: undone when the run ends, so a caller's process is left as it was.
  const memoryLock = o.lockMemory === undefined ? null : lockMemory(o.lockMemory);
  try {
    return await measure(o, workload, batchSize, memoryLock);
  } finally {
    if (memoryLock) unlockMemory();
  }
}

/** The passes of runBench(), with its checked batch size and memory lock. */
async function measure(o: BenchOptions, workload: Workload | undefined, batchSize: number, memoryLock: MemoryLock | null): Promise<BenchResult> {
  const progress = o.progress ?? (() => {});
  const durability = o.durability ?? 'none';
  const api = o.api ?? 'call';
  const rate = o.rate;

  progress(o.workload ? `reading ${o.workload}` : 'generating the workload');
  const w = workload ?? loadWorkload(o);
  const from = w.warmup;
  const to = w.count;
  const n = to - from;
  const ops = countOps(w);
  const jitWarmup = o.jitWarmup ?? DEFAULT_JIT_WARMUP;

  // 0. JIT warm-up.
  const warmupPassesPerSec: number[] = [];
  const warmupTallies: Tally[] = [];
  for (let k = 0; k < jitWarmup; k++) {
    progress(`JIT warm-up pass ${k + 1}/${jitWarmup}: ${n} commands`);
    const ws = await openSession(w, durability, api, batchSize, o.writerCpu);
    const wt = newTally();
    const w0 = performance.now();
    const seq = runBackToBack(ws, w, from, to, wt);
    warmupPassesPerSec.push(n / ((performance.now() - w0) / 1000));
    warmupTallies.push(wt);
    if (durability !== 'none') await ws.engine.durable(seq);
    await closeSession(ws);
  }

  // 1. Throughput.
  progress(`throughput pass: ${n} commands (${durability}, ${api})`);
  let s = await openSession(w, durability, api, batchSize, o.writerCpu);
  const tally = newTally();
  // The warmup's records are in the writer's counters already: count from here.
  const writerBefore = s.engine.walStats();
  const ticksT = readCpuTicks();
  const t0 = performance.now();
  const lastSeq = runBackToBack(s, w, from, to, tally);
  const t1 = performance.now();
  const throughputSteal = stealBetween(ticksT, readCpuTicks());
  // Same commands into the same configuration: every pass must have reported the same.
  for (const [k, wt] of warmupTallies.entries()) {
    if (wt.trades !== tally.trades || wt.tradedQty !== tally.tradedQty || wt.status.some((x, j) => x !== tally.status[j])) {
      throw new Error(`JIT warm-up pass ${k + 1} reported other results than the throughput pass (trades ${wt.trades} vs ${tally.trades})`);
    }
  }
  let durableSeconds: number | null = null;
  if (durability !== 'none') {
    await s.engine.durable(lastSeq);
    durableSeconds = (performance.now() - t0) / 1000;
  }
  const restingAtEnd = restingOrders(s.engine, s.names);
  const writer = s.engine.walStats(writerBefore && { since: writerBefore });
  const walSize = await closeSession(s);
  const seconds = (t1 - t0) / 1000;

  // 2. Latency.
  progress(`latency pass: ${n} commands (${rate === undefined ? 'closed loop' : `open loop at ${rate}/s`})`);
  const overhead = timerOverheadNs();
  s = await openSession(w, durability, api, batchSize, o.writerCpu);
  const lat = samples(n);
  let ackLat: Float64Array | undefined;
  let ackSyncs: SyncLatency | undefined;
  const t2 = newTally();
  const ticks0 = readCpuTicks();
  const usage0 = process.resourceUsage();
  if (rate === undefined) {
    if (s.driver) s.driver.runTimed(from, to, t2, lat);
    else runCallsTimed(s.engine, w, s.names, from, to, t2, lat);
  } else {
    ackLat = durability === 'durable' ? samples(n) : undefined;
    await openLoop(s, w, from, to, rate, batchSize, t2, lat, ackLat, durability !== 'none');
  }
  const latencySteal = stealBetween(ticks0, readCpuTicks());
  const usage1 = process.resourceUsage();
  const pageFaults = { major: usage1.majorPageFault - usage0.majorPageFault, minor: usage1.minorPageFault - usage0.minorPageFault };
  let ackSteal = latencySteal;
  if (ackLat) ackSyncs = s.engine.walStats()!.syncNs;
  await closeSession(s);

  // 3. Durable acks without --rate: an open loop of its own.
  let ackRate = rate ?? 0;
  let ackCount = n;
  if (durability === 'durable' && rate === undefined) {
    ackRate = DEFAULT_ACK_RATE;
    ackCount = Math.min(n, DEFAULT_ACK_COMMANDS);
    progress(`durable-ack pass: ${ackCount} commands, open loop at ${ackRate}/s`);
    s = await openSession(w, durability, api, batchSize, o.writerCpu);
    ackLat = samples(ackCount);
    const ticks1 = readCpuTicks();
    await openLoop(s, w, from, from + ackCount, ackRate, batchSize, newTally(), samples(ackCount), ackLat, true);
    ackSteal = stealBetween(ticks1, readCpuTicks());
    ackSyncs = s.engine.walStats()!.syncNs;
    await closeSession(s);
  }

  let fdatasyncNs: LatencySummary | null = null;
  if (durability !== 'none') {
    progress('fdatasync probe: 300 syncs of 4 KiB');
    fdatasyncNs = probeFdatasync(300);
  }

  const setupCommands = w.symbols + w.warmup;
  return {
    command: 'bench',
    config: {
      ops: n,
      warmupOps: w.warmup,
      durability,
      api,
      batchSize: api === 'batch' ? batchSize : null,
      symbols: w.symbols,
      rate: rate ?? null,
      seed: w.params ? w.params.seed : null,
      workload: w.source,
      restingTarget: w.params ? w.params.restingTarget : null,
      mainCpu: o.mainCpu ?? null,
      writerCpu: o.writerCpu ?? null,
      memoryLock,
      jitWarmup,
    },
    counts: {
      commands: tally.commands,
      limits: ops.limits,
      cancels: ops.cancels,
      markets: ops.markets,
      statuses: statusRecord(tally),
      trades: tally.trades,
      tradedQty: tally.tradedQty,
      restingAtEnd,
    },
    throughput: {
      seconds,
      commandsPerSec: n / seconds,
      durableSeconds,
      durableCommandsPerSec: durableSeconds === null ? null : n / durableSeconds,
      steal: throughputSteal,
      warmupPassesPerSec,
    },
    latencyNs: {
      ...summarize(lat),
      mode: rate === undefined ? 'closed-loop' : 'open-loop',
      timerOverheadNs: overhead,
      steal: latencySteal,
      pageFaults,
    },
    wal:
      walSize === null || writer === undefined
        ? null
        : {
            bytes: walSize.used,
            allocatedBytes: walSize.allocated,
            files: walSize.files,
            bytesPerCommand: walSize.used / (setupCommands + n),
            writer,
          },
    durableAckNs: ackLat === undefined || ackSyncs === undefined ? null : { ...summarize(ackLat, ackCount), rate: ackRate, syncNs: ackSyncs, steal: ackSteal },
    fdatasyncNs,
    environment: environment(),
  };
}
