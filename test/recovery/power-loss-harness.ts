// The power-loss harness (issue 4), as functions that report violations instead of asserting,
// so that test/recovery/planted-bugs.test.ts can run them against deliberately broken builds
// and expect them to complain.
//
// powerLossEnumeration(): one workload (a seeded command stream in `durable` mode, 64 KiB
// segments so that it switches segments, a snapshot part-way) runs without a crash to count its
// mutating file calls K, then once per crash point 1..K (per pass; the policy rotates by point
// and pass) with a CrashSimFileLayer armed to lose power at that call
// (native/core/crash_sim_file_layer.h). After each power loss the directory is opened with the
// normal file layer and checked:
//   (a) every command acknowledged before the crash is there: the engine's durable watermark
//       when power went (the layer sees every publication), and every durable() promise that
//       resolved while the power was on, are <= the recovered lastSeq;
//   (b) the recovered log is a prefix of what was submitted: lastSeq <= the last seq handed out;
//   (c) the recovered book equals the reference model's replay of exactly that prefix (depth of
//       every symbol, all levels, with order counts), and the symbols are the first ones added;
//   (d) the recovered directory keeps working: one more command is logged and synced, and a
//       reopen finds it with a clean report and the same book.
// Optionally a run loses power a second time, in the run that recovers from the first (during
// recovery's repairs, the writer's resume, or the commands after, which continue the same
// stream): what the first recovery found must survive that too, and (a)-(d) hold again.
// The writer is a real thread, so runs are not identical (group commit batches differently):
// each run checks its own acknowledgements. A simulated sync takes SYNC_LATENCY_US (50 µs) so
// that group commit batches as on a disk; with free syncs the writer syncs almost every command
// and a run's call count swings between ~140 and ~2,800 with scheduling.
//
// syncFailureRuns(): the same workload with one fdatasync failing with EIO (the layer then loses
// that file's unsynced writes, as Linux does), each fdatasync of a typical run in turn, power
// lost at the end; checks (a)-(d) and (e): the failure reaches the caller (fail-stop: the WAL
// fails, or open()/snapshot() rejects) instead of being retried as if it had worked.
//
// damageCheck(): a small closed log, one bit flipped in a record in the middle of it, opened:
// open() must refuse (WAL_CORRUPT / WAL_DIVERGED) or return the reference model's book after
// some prefix, reporting any loss.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { inspectWal, type WalRecordInfo } from '../../lib/cli/wal.js';
import { DurabookError, Engine } from '../../lib/index.js';
import { native, type NativeCrashReport, type NativeEngine } from '../../lib/native.js';
import { CRASH_POLICIES, type CrashPolicy } from '../../lib/options.js';
import type { EngineOptions } from '../../lib/types.js';
import { CommandStream, Rng, type Command } from '../support/random-commands.js';
import { apply, bookOf, buildDir, cleanReport, copyDir, flipBit, K, ReferencePrefixes, SEGMENT_BYTES, SYMBOLS } from './fixture.js';

export { CRASH_POLICIES, type CrashPolicy };

/** Planted bugs (native/core/test_bugs.h). */
export const BUG = {
  publishBeforeSync: 1 << 0,
  skipSegmentDirSync: 1 << 1,
  skipCorruptRecord: 1 << 2,
  retryFailedSync: 1 << 3,
} as const;

export function setPlantedBugs(mask: number): number {
  const set = native().setPlantedBugs;
  if (!set) throw new Error('planted bugs need a test build of the addon (DURABOOK_TEST_HOOKS)');
  return set(mask);
}

export interface Workload {
  /** Seed of the command stream. */
  seed: number;
  /** Commands after the symbols. */
  commands: number;
  /** Every `group` commands the driver awaits durable() of the last one (each command's own
   *  durable() is tracked regardless). */
  group: number;
  /** snapshot() after this command index (-1: none). */
  snapshotAfter: number;
}

/** CI: ~1,500 commands fill the first 64 KiB segment and switch to a second one after the snapshot. */
export const CI_WORKLOAD: Workload = { seed: 4242, commands: 1500, group: 50, snapshotAfter: 500 };

export interface Violation {
  crashAt: number;
  policy: CrashPolicy;
  seed: number;
  syncEioAt?: number;
  what: string;
  /** What the power loss did (op, path, per-file decisions). */
  crash?: NativeCrashReport;
}

export interface RunResult {
  crashAt: number;
  policy: CrashPolicy;
  seed: number;
  /** Mutating file calls made (the crash points passed). */
  calls: number;
  /** fdatasync calls made. */
  syncs: number;
  crashed: boolean;
  /** Power went during the workload (not at its end). */
  crashedEarly: boolean;
  lastSubmitted: number;
  acknowledged: number;
  recovered: number | null;
  violations: Violation[];
  crash: NativeCrashReport | undefined;
  /** The second power loss, if the run had one. */
  secondCrash?: NativeCrashReport;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'durabook-powerloss-'));
  tempDirs.push(d);
  return d;
}
export function removeHarnessDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function commandsOf(w: Workload): Command[] {
  const gen = new CommandStream(w.seed);
  return Array.from({ length: w.commands }, () => gen.next());
}

/** A workload's commands and the reference model's books after each of their prefixes. */
export class Scenario {
  readonly commands: Command[];
  readonly refs: ReferencePrefixes;
  constructor(readonly workload: Workload) {
    this.commands = commandsOf(workload);
    this.refs = new ReferencePrefixes(this.commands);
  }
}

/** Simulated sync latency: group commit then batches as on a disk (see CrashSimOptions). */
export const SYNC_LATENCY_US = Number(process.env.POWER_LOSS_SYNC_US ?? 50);

function failed(err: unknown): boolean {
  return err instanceof DurabookError && (err.code === 'ENGINE_FAILED' || err.code === 'WAL_FAILED' || err.code === 'IO_ERROR');
}

interface SimOptions {
  crashAt: number;
  policy: CrashPolicy;
  seed: number;
  /** The nth fdatasync fails with EIO. */
  syncEioAt?: number;
}

interface Driven {
  n: NativeEngine;
  calls: number;
  syncs: number;
  crashedEarly: boolean;
  /** Before power was lost, the engine had reported a file failure: open() threw, the WAL
   *  failed (fail-stop), or snapshot() rejected. */
  reportedFailure: boolean;
  lastSubmitted: number;
  acknowledged: number;
  crash: NativeCrashReport;
}

/**
 * Opens `dir` under a CrashSimFileLayer and runs commands[from..from+count) of the workload,
 * awaiting durable() every `group` commands, tracking every command's durable(); power is lost
 * at the crash point or, if the run gets past it, at the end.
 */
async function drive(sc: Scenario, dir: string, sim: SimOptions, from: number, count: number): Promise<Driven> {
  const w = sc.workload;
  let n: NativeEngine | undefined;
  let ackedJs = 0;
  let engine: Engine | undefined;
  let reported = false;
  const attach = (x: NativeEngine) => {
    n = x;
    if (sim.syncEioAt) x.addFault!({ op: 'fdatasync', errno: 5, nth: sim.syncEioAt });
  };
  const track = (e: Engine, seq: number) => {
    e.durable(seq).then(
      () => {
        if (!n!.crashSimCrashed!()) ackedJs = Math.max(ackedJs, seq);
      },
      () => {},
    );
  };
  try {
    engine = await Engine.open({
      dir,
      durability: 'durable',
      symbols: SYMBOLS,
      wal: { segmentBytes: SEGMENT_BYTES },
      crashSim: { crashAt: sim.crashAt, policy: sim.policy, seed: sim.seed, syncLatencyUs: SYNC_LATENCY_US, attach },
    } as EngineOptions);
  } catch (err) {
    if (!failed(err) || n === undefined) throw err;
    reported = !n.crashSimCrashed!();
  }
  if (engine) {
    for (let s = 1; s <= engine.lastSeq; s++) track(engine, s);
    const end = Math.min(sc.commands.length, from + count);
    for (let i = from; i < end; i++) {
      let seq: number;
      try {
        seq = apply(engine, sc.commands[i]);
      } catch (err) {
        if (failed(err)) break;
        throw err;
      }
      track(engine, seq);
      try {
        if ((i + 1) % w.group === 0) await engine.durable(seq);
        if (i === w.snapshotAfter) await engine.snapshot();
      } catch (err) {
        if (!failed(err)) throw err;
        reported ||= !n!.crashSimCrashed!();
        break;
      }
    }
    try {
      await engine.durable(n!.lastSeq());
    } catch {
      // failed: the acknowledgements so far stand
    }
  }
  const calls = n!.crashSimCalls!();
  const syncs = n!.faultCalls!('fdatasync');
  const crashedEarly = n!.crashSimCrashed!();
  const reportedFailure = reported || n!.walError() !== undefined;
  // Pull the plug (if the crash point was not reached), then let the engine go.
  n!.crashSimCrash!();
  const lastSubmitted = n!.lastSeq();
  if (engine) await engine.close().catch(() => {});
  else n!.closeWal();
  // Let promise callbacks queued before the crash run (they check the flag anyway).
  await new Promise((r) => setImmediate(r));
  const crash = n!.crashSimReport!();
  return { n: n!, calls, syncs, crashedEarly, reportedFailure, lastSubmitted, acknowledged: Math.max(ackedJs, crash.acknowledged), crash };
}

/**
 * One run: the workload with power lost at mutating call `crashAt` (0: at the end), then the
 * recovery checks. `syncEioAt`: the nth fdatasync fails with EIO, and the engine must fail stop.
 * `second`: before it is checked, the crashed directory is opened again under a second power
 * loss at `second.crashAt` (during recovery's repairs, the writer's resume, or the `commands`
 * commands that follow, continuing the same stream), and the result of both is checked too.
 */
export async function runCrashPoint(
  sc: Scenario,
  opts: SimOptions & { second?: { crashAt: number; policy: CrashPolicy; seed: number; commands: number } },
): Promise<RunResult> {
  const dir = tempDir();
  const d = await drive(sc, dir, opts, 0, sc.commands.length);
  const violations: Violation[] = [];
  const bad = (what: string, crash: NativeCrashReport) =>
    violations.push({ crashAt: opts.crashAt, policy: opts.policy, seed: opts.seed, syncEioAt: opts.syncEioAt, what, crash });
  if (d.crash.rewriteError) bad(`the crash simulation could not rewrite the files (errno ${d.crash.rewriteError})`, d.crash);
  // (e) fail-stop: an fdatasync that failed is never retried as if it had worked; the failure
  // reaches the caller (the WAL fails, or open() / snapshot() rejects).
  if (opts.syncEioAt && d.syncs >= opts.syncEioAt && !d.crashedEarly && !d.reportedFailure) {
    bad(`fdatasync #${opts.syncEioAt} failed with EIO and the engine carried on`, d.crash);
  }
  let recovered: number | null;
  let secondCrash: NativeCrashReport | undefined;
  if (!opts.second) {
    recovered = await checkRecovery(sc, dir, d, (what) => bad(what, d.crash));
  } else {
    // Check the first power loss on a copy; the second run starts from the crashed original.
    const copy = tempDir();
    copyDir(dir, copy);
    recovered = await checkRecovery(sc, copy, d, (what) => bad(what, d.crash));
    if (recovered !== null) {
      const o = opts.second;
      const d2 = await drive(sc, dir, o, Math.max(0, recovered - K), o.commands);
      secondCrash = d2.crash;
      const bad2 = (what: string) =>
        bad(`after a second power loss at call ${o.crashAt} (${d2.crash.op} ${d2.crash.path}; policy ${o.policy}, seed ${o.seed}; ${d2.crash.details.join('; ')}): ${what}`, d.crash);
      if (d2.crash.rewriteError) bad2(`the crash simulation could not rewrite the files (errno ${d2.crash.rewriteError})`);
      // What the first recovery found was on disk: nothing may take it away.
      const floor = { acknowledged: Math.max(recovered, d2.acknowledged), lastSubmitted: Math.max(recovered, d2.lastSubmitted) };
      recovered = await checkRecovery(sc, dir, floor, bad2);
    }
  }
  return {
    crashAt: opts.crashAt,
    policy: opts.policy,
    seed: opts.seed,
    calls: d.calls,
    syncs: d.syncs,
    crashed: d.crash.crashed,
    crashedEarly: d.crashedEarly,
    lastSubmitted: d.lastSubmitted,
    acknowledged: d.acknowledged,
    recovered,
    violations,
    crash: d.crash,
    secondCrash,
  };
}

/** Opens a crashed directory with the normal file layer and checks (a)-(d); returns lastSeq. */
async function checkRecovery(
  sc: Scenario,
  dir: string,
  run: { acknowledged: number; lastSubmitted: number },
  bad: (what: string) => void,
): Promise<number | null> {
  let e: Engine;
  try {
    e = await Engine.open({ dir, durability: 'durable', wal: { segmentBytes: SEGMENT_BYTES } });
  } catch (err) {
    bad(`recovery refused the directory: ${(err as Error).message}`);
    return null;
  }
  const L = e.lastSeq;
  const r = e.recovery;
  if (L < run.acknowledged) bad(`acknowledged up to seq ${run.acknowledged} but recovered only up to ${L} (report ${JSON.stringify(r)})`);
  if (L > run.lastSubmitted) bad(`recovered up to seq ${L}, past the last seq submitted (${run.lastSubmitted})`);
  const book = bookOf(e);
  if (!isDeepStrictEqual([...e.symbols], SYMBOLS.slice(0, Math.min(L, K)))) {
    bad(`recovered symbols ${JSON.stringify(e.symbols)} at seq ${L}`);
  } else if (L >= K && L <= K + sc.commands.length && !isDeepStrictEqual(book, sc.refs.at(L).depth)) {
    bad(`the recovered book at seq ${L} is not the reference model's replay of seqs 1..${L}`);
  }
  // (d) the log continues from the recovered state.
  try {
    const s = e.cancel({ id: 999_999_999_999 }).seq;
    await e.durable(s);
    await e.close();
    const again = await Engine.open({ dir, durability: 'none' });
    if (again.lastSeq !== L + 1) bad(`after appending seq ${L + 1} and closing, a reopen found lastSeq ${again.lastSeq}`);
    if (!cleanReport(again.recovery)) bad(`the reopen after recovery reported damage: ${JSON.stringify(again.recovery)}`);
    if (!isDeepStrictEqual(bookOf(again), book)) bad('the reopen after recovery has a different book');
    await again.close();
  } catch (err) {
    bad(`the recovered directory does not keep working: ${(err as Error).message}`);
  }
  return L;
}

export interface EnumerationResult {
  /** Mutating calls of the longest counting run (crash points 1..K). */
  K: number;
  /** Mutating calls of each counting run, and of each run whose crash point was not reached. */
  fullRunCalls: number[];
  runs: number;
  /** Runs whose crash point was reached during the workload (the rest lost power at its end). */
  crashedEarly: number;
  /** Crashed runs per policy. */
  policies: Record<string, number>;
  /** Crashed runs per operation that lost power. */
  ops: Record<string, number>;
  /** Mid-run crashes after which recovery came back short of what was submitted (the power loss
   *  took something), and those where it also came back past the acknowledged seq (something
   *  unacknowledged survived). */
  lostSomething: number;
  keptUnacknowledged: number;
  /** Runs that also lost power a second time (during recovery from the first or after it). */
  secondCrashes: number;
  /** Second power losses that struck mid-run, per operation (the first is that run's open()). */
  secondOps: Record<string, number>;
  violations: Violation[];
  durationMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** A second power loss for the runs of one pass (see runCrashPoint). */
export interface SecondCrash {
  /** The pass whose runs get one. */
  pass: number;
  /** Its crash point is drawn from 1..within (recovery, resume, the first commands). */
  within: number;
  /** Commands the second run submits. */
  commands: number;
}

/**
 * Counts the crash points (K: the median of the mutating calls of `countingRuns` runs without a
 * crash, which also warm up the JIT; a loaded machine can make one run sync far more often),
 * then runs every crash point 1..K (or `points`) `passes` times, the policy rotating by point
 * and by pass so that each point meets several policies; the runs of `second.pass` also lose
 * power a second time, in the run that recovers from the first. `stopAtFirst`: return at the
 * first run with a violation (planted-bug tests). `seed` varies the per-run randomness, not the
 * workload.
 */
export async function powerLossEnumeration(
  opts: {
    workload?: Workload;
    points?: number[];
    passes?: number;
    countingRuns?: number;
    second?: SecondCrash;
    seed?: number;
    policies?: readonly CrashPolicy[];
    stopAtFirst?: boolean;
  } = {},
): Promise<EnumerationResult> {
  const t0 = performance.now();
  const sc = new Scenario(opts.workload ?? CI_WORKLOAD);
  const policies = opts.policies ?? CRASH_POLICIES;
  const seed = opts.seed ?? 1;
  const res: EnumerationResult = {
    K: 0,
    fullRunCalls: [],
    runs: 0,
    crashedEarly: 0,
    policies: {},
    ops: {},
    lostSomething: 0,
    keptUnacknowledged: 0,
    secondCrashes: 0,
    secondOps: {},
    violations: [],
    durationMs: 0,
  };
  // Warm-up: a cold JIT submits slowly enough for the writer to sync nearly every command.
  for (let i = 0; i < (opts.countingRuns ?? 3) - 1; i++) {
    await runCrashPoint(sc, { crashAt: 0, policy: 'drop-unsynced', seed });
    removeHarnessDirs();
  }
  for (let i = 0; i < (opts.countingRuns ?? 3); i++) {
    const counting = await runCrashPoint(sc, { crashAt: 0, policy: policies[i % policies.length], seed: seed + i });
    res.runs++;
    res.fullRunCalls.push(counting.calls);
    res.violations.push(...counting.violations);
    removeHarnessDirs();
  }
  res.K = median(res.fullRunCalls);
  const points = opts.points ?? Array.from({ length: res.K }, (_, i) => i + 1);
  for (let pass = 0; pass < (opts.passes ?? 1); pass++) {
    for (const p of points) {
      if (opts.stopAtFirst && res.violations.length > 0) break;
      const policy = policies[(p - 1 + pass) % policies.length];
      const runSeed = (seed * 1_000_003 + p) * 7 + pass;
      const sc2 = opts.second;
      const second =
        sc2 && sc2.pass === pass
          ? {
              crashAt: 1 + (runSeed % sc2.within),
              policy: policies[(p + 2 * pass) % policies.length],
              seed: runSeed + 1,
              commands: sc2.commands,
            }
          : undefined;
      const r = await runCrashPoint(sc, { crashAt: p, policy, seed: runSeed, second });
      res.runs++;
      if (second) res.secondCrashes++;
      if (r.secondCrash && r.secondCrash.atCall > 0) res.secondOps[r.secondCrash.op] = (res.secondOps[r.secondCrash.op] ?? 0) + 1;
      if (r.crashedEarly) {
        res.crashedEarly++;
        res.policies[policy] = (res.policies[policy] ?? 0) + 1;
        res.ops[r.crash!.op] = (res.ops[r.crash!.op] ?? 0) + 1;
        if (r.recovered !== null && r.recovered < r.lastSubmitted) res.lostSomething++;
        if (r.recovered !== null && r.recovered > r.acknowledged) res.keptUnacknowledged++;
      } else {
        res.fullRunCalls.push(r.calls);
      }
      res.violations.push(...r.violations);
      removeHarnessDirs();
    }
  }
  res.durationMs = performance.now() - t0;
  return res;
}

/**
 * One fdatasync fails with EIO (each of `syncs`, or every one of the counting run's), power is
 * lost at the end of the run, and the directory is checked as above.
 */
export async function syncFailureRuns(
  opts: { workload?: Workload; syncs?: number[]; seed?: number; stopAtFirst?: boolean } = {},
): Promise<{ S: number; runs: number; violations: Violation[]; eioFired: number }> {
  const sc = new Scenario(opts.workload ?? CI_WORKLOAD);
  const seed = opts.seed ?? 7;
  const counts: number[] = [];
  const violations: Violation[] = [];
  let runs = 0;
  for (let i = 0; i < (opts.syncs ? 1 : 5); i++) {
    const counting = await runCrashPoint(sc, { crashAt: 0, policy: 'drop-unsynced', seed: seed + i });
    counts.push(counting.syncs);
    violations.push(...counting.violations);
    runs++;
  }
  const S = median(counts.slice(counts.length > 1 ? 2 : 0)); // the first two warm up
  const syncs = opts.syncs ?? Array.from({ length: S }, (_, i) => i + 1);
  let eioFired = 0;
  for (const j of syncs) {
    if (opts.stopAtFirst && violations.length > 0) break;
    const policy = CRASH_POLICIES[(j - 1) % CRASH_POLICIES.length];
    const r = await runCrashPoint(sc, { crashAt: 0, policy, seed: seed * 1_000_003 + j, syncEioAt: j });
    runs++;
    if (r.syncs >= j) eioFired++;
    violations.push(...r.violations);
    removeHarnessDirs();
  }
  return { S, runs, violations, eioFired };
}

/**
 * A closed log of `commands` commands; each trial flips one bit of one record away from the
 * tail (never among the last `tail` records) of a fresh copy and opens it.
 */
export async function damageCheck(
  opts: { trials?: number; seed?: number; commands?: number; tail?: number } = {},
): Promise<{ trials: number; refused: number; violations: string[] }> {
  const trials = opts.trials ?? 40;
  const rng = new Rng(opts.seed ?? 99);
  const baseDir = tempDir();
  const built = await buildDir(baseDir, { count: opts.commands ?? 1500, seed: 777 });
  const refs = new ReferencePrefixes(built.commands);
  const recs: WalRecordInfo[] = [];
  inspectWal(baseDir, {}, (r) => void recs.push(r));
  const candidates = recs.slice(0, Math.max(1, recs.length - (opts.tail ?? 5)));
  const violations: string[] = [];
  let refused = 0;
  for (let t = 0; t < trials; t++) {
    const d = tempDir();
    copyDir(baseDir, d);
    const rec = rng.pick(candidates);
    const off = rec.offset + rng.int(0, rec.size - 1);
    const bit = rng.int(0, 7);
    flipBit(join(d, rec.segment), off, bit);
    const what = `trial ${t}: bit ${bit} of byte ${off} of ${rec.segment} (a ${rec.type} record, seq ${rec.seq})`;
    let e: Engine;
    try {
      e = await Engine.open({ dir: d, durability: 'none' });
    } catch (err) {
      if (err instanceof DurabookError && (err.code === 'WAL_CORRUPT' || err.code === 'WAL_DIVERGED')) {
        refused++;
        continue;
      }
      throw err;
    }
    const L = e.lastSeq;
    if (L < K || L > built.lastSeq) violations.push(`${what}: recovered lastSeq ${L} outside the log`);
    else if (!isDeepStrictEqual(bookOf(e), refs.at(L).depth)) {
      violations.push(`${what}: recovered a book that is not the reference model's after seq ${L}`);
    } else if (L < built.lastSeq && cleanReport(e.recovery)) {
      violations.push(`${what}: recovered to seq ${L} of ${built.lastSeq} and reported nothing`);
    }
    await e.close();
  }
  removeHarnessDirs();
  return { trials, refused, violations };
}

export function describeViolation(v: Violation): string {
  const where = v.syncEioAt ? `fdatasync #${v.syncEioAt} failing, power lost at the end` : `power lost at call ${v.crashAt}`;
  const c = v.crash;
  const how = c ? ` [${c.op} ${c.path}; ${c.details.join('; ')}]` : '';
  return `${where} (policy ${v.policy}, seed ${v.seed}): ${v.what}${how}`;
}
