// Side-by-side comparison on one workload, in one run, printed as ratios:
//
//   durabook per-call API   vs nodejs-order-book (npm)      target ≥ 25×
//   durabook per-call API   vs a plain-JS book (plain-js-book.ts)   target ≥ 1.5×
//   durabook batch API      vs a plain C++ replay through the same core (native/bench/replay_bench.cc)
//
// Every contestant replays the same seeded workload (lib/bench/workload.ts): a warmup that builds
// the book (not timed), then the measured commands, on a fresh book each round. Rounds are
// interleaved (A B C D E, A B C D E, …) so that a noisy neighbour hits all of them alike, and
// each contestant's figure is its median round. Before them, --warmup-rounds (default 2) rounds
// run the same way and are not counted: a fresh worker's first rounds run while V8 is still
// compiling the loop (see lib/bench/run.ts, pass 0). Each JS contestant runs in a worker process of its
// own (see "orchestration" below). nodejs-order-book is ~100× slower, so it replays
// only the first --nob-ops measured commands (same workload, shorter).
//
//   node dist/bench/compare.js [--ops N] [--rounds R] [--warmup-rounds R] [--nob-ops N]
//                              [--batch N] [--seed N] [--replay-bin PATH] [--json]
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine } from '../lib/engine.js';
import { native } from '../lib/native.js';
import { BatchDriver, newTally, runCalls, runCallsTimed, tallyReport, type Tally } from '../lib/bench/drivers.js';
import { summarize, timerOverheadNs, type LatencySummary } from '../lib/bench/latency.js';
import { generateWorkload, OP_CANCEL, OP_LIMIT, symbolNames, workloadToCsv, type Workload } from '../lib/bench/workload.js';
import { benchPlacement } from './cpus.js';
import { PlainJsBook } from './plain-js-book.js';

// nodejs-order-book ships CommonJS with a broken "types" path: load it through require and
// describe the little of it used here.
interface NobResult {
  done: unknown[];
  quantityLeft: number;
  err: unknown;
}
interface NobBook {
  limit(o: { side: 'buy' | 'sell'; id: string; size: number; price: number }): NobResult;
  market(o: { side: 'buy' | 'sell'; size: number }): NobResult;
  cancel(id: string): unknown;
}
const require = createRequire(import.meta.url);
const { OrderBook: NobOrderBook } = require('nodejs-order-book') as { OrderBook: new () => NobBook };

export interface ComparisonOptions {
  ops?: number;
  rounds?: number;
  /** Rounds run first and not counted (JIT warm-up). Default 2. */
  warmupRounds?: number;
  nobOps?: number;
  batchSize?: number;
  seed?: number;
  replayBin?: string;
  progress?: (m: string) => void;
}

export interface ContestantResult {
  name: string;
  /** Commands each round measured. */
  commands: number;
  /** Median and all rounds, commands/s. */
  commandsPerSec: number;
  rounds: number[];
  /** The warm-up rounds, commands/s, not counted in anything else (the first: a fresh worker's). */
  warmupRounds: number[];
  /** Trades the measured commands reported (null where the contestant does not report trades). */
  trades: number | null;
  /** Closed-loop per-call latency (ns), for per-call contestants. */
  latencyNs: LatencySummary | null;
}

export interface ComparisonResult {
  workload: { ops: number; warmup: number; seed: number; restingTarget: number; limits: number; cancels: number; markets: number };
  rounds: number;
  warmupRounds: number;
  timerOverheadNs: number;
  contestants: ContestantResult[];
  ratios: { name: string; value: number; target: string | null }[];
  /** CPUs of every contestant's JS thread (and the C++ replay) and of the async WAL writers; null on one CPU. */
  placement: { mainCpu: number; writerCpu: number } | null;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// --- contestants: each runs warmup untimed, then [warmup, to) timed ------------------------

interface Contestant {
  name: string;
  commands: number;
  /** One round on a fresh book: seconds and the trades reported. */
  round(): { seconds: number; trades: number | null };
  /** One closed-loop latency pass, or undefined. */
  latency?(): Float64Array;
  /** Called before each round and latency pass (opens the fresh book when that is async). */
  prepare?(): Promise<void>;
  /** Called after each round and latency pass, before the next contestant's turn. */
  finish?(): Promise<void>;
}

// A fresh engine per round. With durability 'async' it logs to a fresh temp directory (async
// WAL), closed and removed (then `sync`) as soon as its round is over (`release`), and at exit;
// its writer thread on `writerCpu` (see "placement" below). Released at once, not when the next
// one opens, so that no contestant runs beside another's open log (measured once: the C++ replay
// with the async WAL at 2.6-2.9 M/s beside two open async engines, 7.1-8.2 M/s with none; its
// slow rounds came back in later full comparisons, so open engines were not the whole cause).
interface EngineSource {
  open(): Promise<Engine>;
  release(): Promise<void>;
}
function engineSource(names: string[], durability: 'none' | 'async', writerCpu: number | null): EngineSource {
  let last: { engine: Engine; dir?: string } | undefined;
  process.on('exit', () => {
    if (last?.dir) rmSync(last.dir, { recursive: true, force: true });
  });
  const release = async () => {
    if (!last) return;
    await last.engine.close();
    if (last.dir) {
      rmSync(last.dir, { recursive: true, force: true });
      // Let the file system finish with the freed blocks (its journal commit, and on a
      // `discard` mount the trims) now, not during the round that follows.
      execFileSync('sync');
    }
    last = undefined;
  };
  return {
    release,
    async open() {
      await release();
      const dir = durability === 'none' ? undefined : mkdtempSync(join(tmpdir(), 'durabook-compare-wal-'));
      const engine = await Engine.open(dir === undefined ? { symbols: names } : { symbols: names, dir, durability, wal: { writerCpu } });
      last = { engine, dir };
      return engine;
    },
  };
}

const WAL_SUFFIX = { none: '', async: ', async WAL' } as const;

function durabookCall(w: Workload, durability: 'none' | 'async', writerCpu: number | null): Contestant {
  const names = symbolNames(w.symbols);
  const source = engineSource(names, durability, writerCpu);
  // Engine.open is async (recovery, the WAL's first segment), but a round must be synchronous
  // for the timing loop, so engines are opened ahead.
  let next: Engine | undefined;
  return {
    name: `durabook per-call${WAL_SUFFIX[durability]}`,
    commands: w.count - w.warmup,
    round() {
      const e = next!;
      next = undefined;
      const t = newTally();
      const t0 = performance.now();
      runCalls(e, w, names, w.warmup, w.count, t);
      const seconds = (performance.now() - t0) / 1000;
      return { seconds, trades: t.trades };
    },
    latency() {
      const e = next!;
      next = undefined;
      const lat = new Float64Array(w.count - w.warmup);
      runCallsTimed(e, w, names, w.warmup, w.count, newTally(), lat);
      return lat;
    },
    async prepare() {
      next = await source.open();
      runCalls(next, w, names, 0, w.warmup, newTally());
    },
    finish: source.release,
  };
}

function durabookBatch(w: Workload, batchSize: number, durability: 'none' | 'async', writerCpu: number | null): Contestant {
  const names = symbolNames(w.symbols);
  const source = engineSource(names, durability, writerCpu);
  let next: BatchDriver | undefined;
  return {
    name: `durabook batch (${batchSize})${WAL_SUFFIX[durability]}`,
    commands: w.count - w.warmup,
    round() {
      const d = next!;
      next = undefined;
      const t = newTally();
      const t0 = performance.now();
      d.run(w.warmup, w.count, t);
      const seconds = (performance.now() - t0) / 1000;
      return { seconds, trades: t.trades };
    },
    async prepare() {
      next = new BatchDriver(await source.open(), w, names, batchSize);
      next.run(0, w.warmup, newTally());
    },
    finish: source.release,
  };
}

function plainOne(book: PlainJsBook, w: Workload, i: number) {
  const o = w.op[i];
  if (o === OP_CANCEL) return book.cancel({ id: w.id[i] });
  if (o === OP_LIMIT) return book.submit({ id: w.id[i], side: w.side[i] === 0 ? 'buy' : 'sell', price: w.price[i], qty: w.qty[i] });
  return book.submit({ id: w.id[i], side: w.side[i] === 0 ? 'buy' : 'sell', qty: w.qty[i] });
}

function runPlain(book: PlainJsBook, w: Workload, from: number, to: number, t: Tally): void {
  for (let i = from; i < to; i++) tallyReport(t, plainOne(book, w, i));
  t.commands += to - from;
}

function plainJs(w: Workload): Contestant {
  const fresh = () => {
    const b = new PlainJsBook();
    runPlain(b, w, 0, w.warmup, newTally());
    return b;
  };
  return {
    name: 'plain JS book',
    commands: w.count - w.warmup,
    round() {
      const b = fresh();
      const t = newTally();
      const t0 = performance.now();
      runPlain(b, w, w.warmup, w.count, t);
      return { seconds: (performance.now() - t0) / 1000, trades: t.trades };
    },
    latency() {
      const b = fresh();
      const t = newTally();
      const lat = new Float64Array(w.count - w.warmup);
      for (let i = w.warmup; i < w.count; i++) {
        const t0 = performance.now();
        const r = plainOne(b, w, i);
        const t1 = performance.now();
        lat[i - w.warmup] = (t1 - t0) * 1e6;
        tallyReport(t, r);
      }
      return lat;
    },
  };
}

function nobOne(ob: NobBook, w: Workload, i: number): unknown {
  const o = w.op[i];
  if (o === OP_CANCEL) return ob.cancel(String(w.id[i]));
  const side = w.side[i] === 0 ? 'buy' : 'sell';
  if (o === OP_LIMIT) return ob.limit({ side, id: String(w.id[i]), size: w.qty[i], price: w.price[i] });
  return ob.market({ side, size: w.qty[i] });
}

function nob(w: Workload, commands: number): Contestant {
  const to = w.warmup + commands;
  const fresh = () => {
    const ob = new NobOrderBook();
    for (let i = 0; i < w.warmup; i++) nobOne(ob, w, i);
    return ob;
  };
  let sink = 0;
  return {
    name: 'nodejs-order-book',
    commands,
    round() {
      const ob = fresh();
      const t0 = performance.now();
      for (let i = w.warmup; i < to; i++) {
        const r = nobOne(ob, w, i) as NobResult | undefined;
        if (r !== undefined && r.done !== undefined) sink += r.done.length;
      }
      const seconds = (performance.now() - t0) / 1000;
      if (sink < 0) throw new Error('unreachable');
      return { seconds, trades: null };
    },
    latency() {
      const ob = fresh();
      const lat = new Float64Array(commands);
      for (let i = w.warmup; i < to; i++) {
        const t0 = performance.now();
        nobOne(ob, w, i);
        lat[i - w.warmup] = (performance.now() - t0) * 1e6;
      }
      return lat;
    },
  };
}

function findReplayBin(explicit: string | undefined): string | undefined {
  if (explicit) return explicit;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  for (const p of ['build/replay_bench', 'build/Release/replay_bench', 'build-bench/replay_bench', 'build-core/replay_bench']) {
    const f = join(root, p);
    if (existsSync(f)) return f;
  }
  return undefined;
}

// `wal` given: the replay logs to an async WAL (under $TMPDIR, as the JS contestants' temp dirs),
// its writer placed as theirs are: what the WAL costs the same core with no JS in the way, beside
// what it costs the batch API. Not a ceiling for the batch API: writes into fresh page-cache
// pages are slow at times on this host (256 MB of buffered writes into a new file took 0.10 s,
// then 0.56 s a second later), the replay's writer then spends its time in the kernel's copy
// into those pages (18% of the samples of a slow run, 1% of a fast one), and it has measured
// both above and below the JS batch contestant within one comparison. On an AMD EPYC host
// (2026-12-03) it ran at 2.2-2.9 M/s in every comparison and at 7.8-10.2 M/s alone, same
// arguments: a system-wide profile of a comparison showed its writer thread busy for the whole
// timed run, 77% of it in copy_folio_from_iter_atomic, the ring full, and the matching thread
// on its CPU only a quarter to a third of the time, waiting for slots. That host wrote fresh
// page-cache pages at 1.5 GB/s and overwrote cached ones at 5.5 GB/s, and fresh writes slowed
// by half a few seconds after 3 GB had been freed (as if the hypervisor had taken the freed
// memory back): in a comparison the replay follows contestants that freed their heaps and WAL
// directories seconds before. On an Intel Xeon host (2026-12-04) the writer's own counters
// (replay_bench's "wal" JSON) put the time in the zero-fill: 190-200 ms of it in each round of a
// comparison, against 15 ms alone, with the producer waiting for slots for 175-185 ms. Alone, it
// slowed the same way (0.9 and 2.2 M/s, zero-fill 638 and 286 ms) while six idle processes
// held 1 GiB each, and ran at 11.8 M/s (zero-fill 16 ms) a second after they exited: fresh
// page-cache pages are fast when they come from memory freed a moment before, slow otherwise
// (this guest reports free memory to its host, virtio-balloon). The comparison's workers hold
// their heaps, which fits the replay's slow rounds; why the JS contestants' writers, in the same
// comparison, mostly escape it is not established. Since the writer gives the pages of synced
// records back to the page cache (README, "Watching where the time goes"), the zero-fill takes
// those instead of fresh ones: with the six holders, 7.5-7.8 M/s against 4.2 before, same host
// and session.
function cppReplay(
  w: Workload,
  bin: string,
  csv: string,
  batchSize: number,
  mainCpu: number | null,
  wal: { writerCpu: number | null } | null,
): Contestant {
  return {
    name: `C++ replay (batch ${batchSize})${wal ? ', async WAL' : ''}`,
    commands: w.count - w.warmup,
    round() {
      const args = [csv, '--warmup', String(w.warmup), '--batch', String(batchSize), '--json'];
      if (mainCpu !== null) args.push('--main-cpu', String(mainCpu));
      if (wal) args.push('--wal', 'async', ...(wal.writerCpu === null ? [] : ['--writer-cpu', String(wal.writerCpu)]));
      const out = execFileSync(bin, args, { encoding: 'utf8' });
      // Its WAL directory is removed when it exits: let the file system settle, as after the JS
      // contestants' rounds.
      if (wal) execFileSync('sync');
      const r = JSON.parse(out) as { commandsPerSec: number; trades: number; commands: number };
      return { seconds: r.commands / r.commandsPerSec, trades: r.trades };
    },
  };
}

// --- orchestration: each JS contestant lives in a worker process of its own ---------------
//
// Contestants in one process would share V8's feedback and hidden classes (their report objects
// have the same property names, their drivers share helpers), and each would pay for the others'
// garbage; so every JS contestant runs in a child process of its own, kept alive across rounds so
// that its JIT stays warm, and the parent interleaves the rounds.
//
// Placement (two or more CPUs): every contestant's JS thread, and the C++ replay, on the same
// CPU, one that does not take the disk's interrupts; the async-WAL contestants' writer threads
// on the one that does (bench/cpus.ts). So every contestant gets the same quiet CPU, and the
// WAL is placed as `wal.writerCpu` lets a user place it.

type WorkerKind = 'call' | 'call-async' | 'batch' | 'batch-async' | 'plain' | 'nob';
type Reply = { type: 'ready'; name: string; commands: number } | { type: 'round'; seconds: number; trades: number | null } | { type: 'latency'; summary: LatencySummary | null };

interface Runner {
  name: string;
  commands: number;
  round(): Promise<{ seconds: number; trades: number | null }>;
  latency(): Promise<LatencySummary | null>;
  close(): void;
}

interface WorkerSpec {
  ops: number;
  seed: number;
  batchSize: number;
  nobOps: number;
  mainCpu: number | null;
  writerCpu: number | null;
}

function contestantFor(kind: WorkerKind, w: Workload, spec: WorkerSpec): Contestant {
  switch (kind) {
    case 'call':
      return durabookCall(w, 'none', null);
    case 'call-async':
      return durabookCall(w, 'async', spec.writerCpu);
    case 'batch':
      return durabookBatch(w, spec.batchSize, 'none', null);
    case 'batch-async':
      return durabookBatch(w, spec.batchSize, 'async', spec.writerCpu);
    case 'plain':
      return plainJs(w);
    default:
      return nob(w, Math.min(spec.ops, spec.nobOps));
  }
}

async function startWorker(kind: WorkerKind, spec: WorkerSpec): Promise<Runner> {
  const args = ['--worker', kind, '--ops', String(spec.ops), '--seed', String(spec.seed), '--batch', String(spec.batchSize), '--nob-ops', String(spec.nobOps)];
  if (spec.mainCpu !== null) args.push('--main-cpu', String(spec.mainCpu));
  if (spec.writerCpu !== null) args.push('--writer-cpu', String(spec.writerCpu));
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: ((r: Reply) => void)[] = [];
  let failed: Error | undefined;
  child.on('message', (m) => waiting.shift()?.(m as Reply));
  child.on('exit', (code) => {
    failed = new Error(`compare worker '${kind}' exited with code ${code}`);
    for (const f of waiting.splice(0)) f({ type: 'latency', summary: null });
  });
  const next = () =>
    new Promise<Reply>((res, rej) => {
      if (failed) rej(failed);
      else waiting.push((r) => (failed ? rej(failed) : res(r)));
    });
  const ask = async (type: 'round' | 'latency') => {
    const reply = next();
    child.send({ type });
    return reply;
  };
  const ready = (await next()) as Extract<Reply, { type: 'ready' }>;
  return {
    name: ready.name,
    commands: ready.commands,
    round: async () => {
      const r = (await ask('round')) as Extract<Reply, { type: 'round' }>;
      return { seconds: r.seconds, trades: r.trades };
    },
    latency: async () => ((await ask('latency')) as Extract<Reply, { type: 'latency' }>).summary,
    close: () => {
      child.removeAllListeners('exit');
      // Disconnecting lets the worker exit on its own (its 'disconnect' handler), running its
      // exit hooks: the async-WAL contestant removes its last temp directory there.
      if (child.connected) child.disconnect();
      else child.kill();
    },
  };
}

async function workerMain(kind: WorkerKind, spec: WorkerSpec): Promise<void> {
  if (spec.mainCpu !== null) {
    const e = native().pinCurrentThread(spec.mainCpu);
    if (e !== 0) throw new Error(`compare worker: cannot pin to CPU ${spec.mainCpu} (errno ${e})`);
  }
  const w = generateWorkload({ ops: spec.ops, seed: spec.seed });
  const c = contestantFor(kind, w, spec);
  const send = (m: Reply) => process.send!(m);
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'round') {
      gc();
      if (c.prepare) await c.prepare();
      const r = c.round();
      if (c.finish) await c.finish();
      send({ type: 'round', ...r });
    } else if (m.type === 'latency') {
      if (!c.latency) return send({ type: 'latency', summary: null });
      gc();
      if (c.prepare) await c.prepare();
      const lat = c.latency();
      if (c.finish) await c.finish();
      send({ type: 'latency', summary: summarize(lat) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', name: c.name, commands: c.commands });
}

function localRunner(c: Contestant): Runner {
  return {
    name: c.name,
    commands: c.commands,
    round: async () => c.round(),
    latency: async () => null,
    close: () => {},
  };
}

export async function runComparison(o: ComparisonOptions = {}): Promise<ComparisonResult> {
  const progress = o.progress ?? (() => {});
  const ops = o.ops ?? 1_000_000;
  const rounds = o.rounds ?? 5;
  const warmupRounds = o.warmupRounds ?? 2;
  const batchSize = o.batchSize ?? 256;
  const seed = o.seed ?? 1;
  const nobOps = Math.min(ops, o.nobOps ?? 100_000);
  const placement = benchPlacement();
  const spec: WorkerSpec = { ops, seed, batchSize, nobOps, mainCpu: placement?.mainCpu ?? null, writerCpu: placement?.writerCpu ?? null };
  progress('generating the workload, starting the workers');
  const w = generateWorkload({ ops, seed });
  const runners: Runner[] = [];
  let tmp: string | undefined;
  try {
    for (const kind of ['call', 'call-async', 'batch', 'batch-async', 'plain', 'nob'] as const) runners.push(await startWorker(kind, spec));
    const bin = findReplayBin(o.replayBin);
    if (bin) {
      tmp = mkdtempSync(join(tmpdir(), 'durabook-compare-'));
      const csv = join(tmp, 'workload.csv');
      writeFileSync(csv, workloadToCsv(w));
      runners.push(localRunner(cppReplay(w, bin, csv, batchSize, spec.mainCpu, null)));
      runners.push(localRunner(cppReplay(w, bin, csv, batchSize, spec.mainCpu, { writerCpu: spec.writerCpu })));
    } else {
      process.stderr.write('compare: replay_bench not found (npm run build builds it into build/); skipping the C++ replay\n');
    }
    const results = runners.map(() => ({ rounds: [] as number[], warmupRounds: [] as number[], trades: null as number | null }));
    for (let r = 0; r < warmupRounds + rounds; r++) {
      const warm = r < warmupRounds;
      for (let k = 0; k < runners.length; k++) {
        const c = runners[k];
        progress(warm ? `warm-up round ${r + 1}/${warmupRounds}: ${c.name}` : `round ${r - warmupRounds + 1}/${rounds}: ${c.name}`);
        const { seconds, trades } = await c.round();
        (warm ? results[k].warmupRounds : results[k].rounds).push(c.commands / seconds);
        results[k].trades = trades;
      }
    }
    const overhead = timerOverheadNs();
    const lat: (LatencySummary | null)[] = [];
    for (const c of runners) {
      progress(`latency: ${c.name}`);
      lat.push(await c.latency());
    }

    const out: ContestantResult[] = runners.map((c, k) => ({
      name: c.name,
      commands: c.commands,
      commandsPerSec: median(results[k].rounds),
      rounds: results[k].rounds,
      warmupRounds: results[k].warmupRounds,
      trades: results[k].trades,
      latencyNs: lat[k],
    }));
    // A ratio is the median of the per-round ratios: in each round the contestants run back to
    // back, so a slow spell of this shared machine slows both sides of a round's ratio, where
    // it may move one median and not the other (measured: per-call rounds of 2.4 to 4.8 M/s in
    // one run, as the host's load came and went).
    const roundsOf = (name: string) => out.find((c) => c.name === name)?.rounds;
    const batch = `durabook batch (${batchSize})`;
    const cpp = `C++ replay (batch ${batchSize})`;
    const ratios: ComparisonResult['ratios'] = [];
    const add = (name: string, a: number[] | undefined, b: number[] | undefined, target: string | null) => {
      if (a === undefined || b === undefined || a.length !== b.length || a.length === 0) return;
      ratios.push({ name, value: median(a.map((x, i) => x / b[i])), target });
    };
    add('durabook per-call, async WAL / nodejs-order-book', roundsOf('durabook per-call, async WAL'), roundsOf('nodejs-order-book'), '≥ 25');
    add('durabook per-call, async WAL / plain JS book', roundsOf('durabook per-call, async WAL'), roundsOf('plain JS book'), '≥ 1.5');
    add('durabook per-call / nodejs-order-book', roundsOf('durabook per-call'), roundsOf('nodejs-order-book'), null);
    add('durabook per-call / plain JS book', roundsOf('durabook per-call'), roundsOf('plain JS book'), null);
    add('durabook per-call, async WAL / durabook per-call', roundsOf('durabook per-call, async WAL'), roundsOf('durabook per-call'), null);
    add('durabook batch, async WAL / C++ replay', roundsOf(`${batch}, async WAL`), roundsOf(cpp), '≥ 0.5');
    add('durabook batch / C++ replay', roundsOf(batch), roundsOf(cpp), null);
    add('C++ replay, async WAL / C++ replay', roundsOf(`${cpp}, async WAL`), roundsOf(cpp), null);
    add('durabook batch, async WAL / C++ replay, async WAL', roundsOf(`${batch}, async WAL`), roundsOf(`${cpp}, async WAL`), null);
    add('durabook batch / durabook per-call', roundsOf(batch), roundsOf('durabook per-call'), null);
    add('durabook per-call / C++ replay', roundsOf('durabook per-call'), roundsOf(cpp), null);
    const counts = { limits: 0, cancels: 0, markets: 0 };
    for (let i = w.warmup; i < w.count; i++) {
      if (w.op[i] === OP_LIMIT) counts.limits++;
      else if (w.op[i] === OP_CANCEL) counts.cancels++;
      else counts.markets++;
    }
    // The contestants that report trades must agree: they replayed the same commands.
    const withTrades = out.filter((c) => c.trades !== null && c.commands === ops);
    if (withTrades.some((c) => c.trades !== withTrades[0].trades)) {
      throw new Error(`contestants disagree on the trades: ${withTrades.map((c) => `${c.name} ${c.trades}`).join(', ')}`);
    }
    return {
      workload: { ops, warmup: w.warmup, seed, restingTarget: w.params!.restingTarget, ...counts },
      rounds,
      warmupRounds,
      timerOverheadNs: overhead,
      contestants: out,
      ratios,
      placement: placement ? { mainCpu: placement.mainCpu, writerCpu: placement.writerCpu } : null,
    };
  } finally {
    for (const r of runners) r.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

function fmtRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M/s` : `${(x / 1e3).toFixed(1)}k/s`;
}

export function renderComparison(r: ComparisonResult): string {
  const lines: string[] = [];
  lines.push(
    `workload: ${r.workload.ops.toLocaleString('en-US')} commands (${r.workload.limits} limits, ${r.workload.cancels} cancels, ${r.workload.markets} markets), seed ${r.workload.seed}, ~${r.workload.restingTarget} resting, ${r.rounds} interleaved rounds after ${r.warmupRounds} not counted, median`,
  );
  lines.push('');
  const nameWidth = Math.max(28, ...r.contestants.map((c) => c.name.length));
  lines.push(`${'contestant'.padEnd(nameWidth)} ${'commands'.padStart(10)} ${'median'.padStart(10)}   ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'p99.9'.padStart(8)} ${'max'.padStart(9)}   rounds`);
  for (const c of r.contestants) {
    const l = c.latencyNs;
    const ns = (x: number | undefined) => (x === undefined ? '' : `${x >= 10_000 ? `${(x / 1000).toFixed(0)}µs` : `${x}ns`}`);
    lines.push(
      `${c.name.padEnd(nameWidth)} ${c.commands.toLocaleString('en-US').padStart(10)} ${fmtRate(c.commandsPerSec).padStart(10)}   ${ns(l?.p50).padStart(8)} ${ns(l?.p99).padStart(8)} ${ns(l?.p999).padStart(8)} ${ns(l?.max).padStart(9)}   ${c.rounds.map(fmtRate).join(' ')}`,
    );
  }
  lines.push(`(latency: closed loop, two performance.now() reads per sample, ~${r.timerOverheadNs} ns of it)`);
  if (r.placement) lines.push(`(JS threads and the C++ replay on CPU ${r.placement.mainCpu}, async WAL writers on CPU ${r.placement.writerCpu})`);
  lines.push('');
  const ratioWidth = Math.max(52, ...r.ratios.map((x) => x.name.length));
  for (const x of r.ratios) lines.push(`${x.name.padEnd(ratioWidth)} ${x.value.toFixed(2).padStart(8)}×${x.target ? `   (target ${x.target})` : ''}`);
  return lines.join('\n') + '\n';
}

function isEntryPoint(): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
}

if (isEntryPoint() && process.argv.includes('--worker')) {
  const { values } = parseArgs({
    options: {
      worker: { type: 'string' },
      ops: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      'nob-ops': { type: 'string' },
      'main-cpu': { type: 'string' },
      'writer-cpu': { type: 'string' },
    },
  });
  const cpu = (v: string | undefined) => (v === undefined ? null : Number(v));
  await workerMain(values.worker as WorkerKind, {
    ops: Number(values.ops),
    seed: Number(values.seed),
    batchSize: Number(values.batch),
    nobOps: Number(values['nob-ops']),
    mainCpu: cpu(values['main-cpu']),
    writerCpu: cpu(values['writer-cpu']),
  });
} else if (isEntryPoint()) {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string' },
      rounds: { type: 'string' },
      'warmup-rounds': { type: 'string' },
      'nob-ops': { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      'replay-bin': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v.replace(/_/g, '')));
  const r = await runComparison({
    ops: num(values.ops),
    rounds: num(values.rounds),
    warmupRounds: num(values['warmup-rounds']),
    nobOps: num(values['nob-ops']),
    batchSize: num(values.batch),
    seed: num(values.seed),
    replayBin: values['replay-bin'],
    progress: process.stderr.isTTY ? (m) => process.stderr.write(`\x1b[2K\r${m}…`) : undefined,
  });
  if (process.stderr.isTTY) process.stderr.write('\x1b[2K\r');
  process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : renderComparison(r));
}
