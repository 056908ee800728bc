// Loads the compiled addon with node-gyp-build: a prebuild from prebuilds/ when one fits this
// platform, else build/Release from a local compile. The package root is found by walking up
// from this file, so the same code works from lib/ (tests) and dist/lib/ (the package).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DurabookError } from './errors.js';

/** The per-engine methods the addon binds (see native/addon/binding.cc for the buffer layouts). */
export interface NativeEngine {
  /**
   * This engine's slot. submit/cancel/modify are functions shared by all engines: write the slot
   * into the addon's callSlot[0] before calling one.
   */
  readonly slot: number;
  submit(): void;
  cancel(): void;
  modify(): void;
  addSymbol(name: string): void;
  readTrades(): void;
  bbo(): boolean;
  depth(): Float64Array | true | undefined;
  order(): boolean;
  digest(): string;
  checkInvariants(): string;
  setCheckInvariants(on: boolean): void;
  lastSeq(): number;
  submitBatch(cmds: Float64Array, count: number, out: Float64Array, trades: Float64Array): number;
  copyBatchTrades(trades: Float64Array): void;
  // durability (native/addon/durability.cc)
  openWal(options: NativeWalOptions, onWake: () => void): NativeStatus;
  ackWake(): void;
  durableSeq(): number;
  requestWake(seq: number): boolean;
  refWake(on: boolean): void;
  walError(): NativeStatus | undefined;
  /** `out` (walStatsLength numbers) receives the raw counters; with `since` (an earlier `out`) the stats are the interval's. */
  walStats(out?: Float64Array, since?: Float64Array): import('./types.js').WalStats | undefined;
  closeWal(): NativeStatus;
  recover(options: { dir: string; mode: string; repair?: boolean }): NativeRecovery;
  loadSnapshot(path: string): NativeSnapshotLoad;
  resetEngine(): void;
  symbolNames(): string[];
  serializeSnapshot(): Uint8Array;
  writeDurableFile(dir: string, name: string, data: Uint8Array, cb: (err: NativeStatus | null) => void): void;
  // test builds only
  enableFaults?(): void;
  addFault?(rule: { op: string; errno?: number; nth?: number; andAfter?: boolean; path?: string }): boolean;
  faultCalls?(op: string): number;
  enableCrashSim?(options: { crashAt: number; policy: string; seed: number; realSync: boolean; syncLatencyUs: number }): boolean;
  /** Mutating file calls so far (the crash points passed). */
  crashSimCalls?(): number;
  crashSimCrashed?(): boolean;
  /** Power loss now (if it has not happened yet); returns what it did. */
  crashSimCrash?(): NativeCrashReport;
  crashSimReport?(): NativeCrashReport;
}

/** What a simulated power loss did (native/core/crash_sim_file_layer.h, CrashReport). */
export interface NativeCrashReport {
  crashed: boolean;
  /** The mutating call that lost power; 0 if crashSimCrash() did. */
  atCall: number;
  op: string;
  path: string;
  /** The engine's durable watermark when power went: every seq up to it must be recovered. */
  acknowledged: number;
  writesKept: number;
  writesLost: number;
  writesTorn: number;
  writesLostBySyncError: number;
  namesKept: number;
  namesUndone: number;
  rewriteError: number;
  details: string[];
}

export interface NativeStatus {
  ok: boolean;
  errno?: number;
  code?: string;
  op?: string;
  path?: string;
  message?: string;
}

export interface NativeWalOptions {
  dir: string;
  durable: boolean;
  segmentBytes: number;
  ringCapacity: number;
  asyncFlushMs: number;
  asyncFlushRecords: number;
  writerCpu: number;
  logTrades: boolean;
  resumeSegment?: string;
  resumeOffset?: number;
  nextSeq: number;
}

export interface NativeRecovery {
  status: 'ok' | 'corrupt' | 'diverged' | 'io error';
  recordsScanned: number;
  commandsReplayed: number;
  tradesVerified: number;
  lastSeq: number;
  bytesTruncated: number;
  tornTail: boolean;
  damageFile: string;
  damageOffset: number;
  damageSeq: number;
  damage: string;
  droppedFirstSeq: number;
  droppedLastSeq: number;
  errno: number;
  errCode: string;
  errMessage: string;
  resumeSegment: string;
  resumeOffset: number;
  segments: string[];
}

export interface NativeSnapshotLoad {
  status: string;
  why: string;
  seq: number;
  orders: number;
  symbols: number;
  bytes: number;
  errno?: number;
}

export interface NativeAddon {
  createEngine(
    options: { maxOrders?: number; maxLevels?: number; maxSymbols?: number; preciseClock?: boolean },
    cmd: Float64Array,
    res: Float64Array,
  ): NativeEngine;
  resHeader: number;
  /** callSlot[0]: the slot of the engine the next submit/cancel/modify call is for. */
  callSlot: Float64Array;
  /** Length of walStats()'s raw counters (native/addon/durability.cc). */
  walStatsLength: number;
  /** Pins the calling thread to one CPU (Linux); 0, or the errno. Used by `durabook bench --main-cpu`. */
  pinCurrentThread(cpu: number): number;
  /** Locks the process's file-backed mappings (native/core/memory_lock.h); errno 0 when locked. */
  lockMemory(onFault: boolean): {
    errno: number;
    bytes: number;
    mappings: number;
    capable: boolean;
    limitBytes: number;
  };
  /** Unlocks them; 0, or the errno. */
  unlockMemory(): number;
  /** Test builds only: switch planted bugs on (native/core/test_bugs.h); returns the old mask. */
  setPlantedBugs?(mask: number): number;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'durabook') return dir;
    const up = dirname(dir);
    if (up === dir) throw new DurabookError('NATIVE_UNAVAILABLE', 'cannot find the durabook package root');
    dir = up;
  }
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as (dir: string) => NativeAddon;
  try {
    addon = load(packageRoot());
  } catch (err) {
    throw new DurabookError(
      'NATIVE_UNAVAILABLE',
      `the durabook native addon could not be loaded: ${(err as Error).message}`,
    );
  }
  return addon;
}
