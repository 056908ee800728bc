// Engine.open() options: defaults, and checks that name the field and the bad value.
import { DurabookError, invalid } from './errors.js';
import type { NativeEngine } from './native.js';
import type { Durability, EngineOptions, RecoveryMode } from './types.js';
import { isPlainObject, positiveInteger } from './validate.js';

export interface ResolvedWal {
  segmentBytes: number;
  ringCapacity: number;
  asyncFlushMs: number;
  asyncFlushRecords: number;
  writerCpu: number | null;
  logTrades: boolean;
}

export interface ResolvedOptions {
  dir: string | undefined;
  durability: Durability;
  symbols: string[];
  recovery: RecoveryMode;
  /** Limits given to open() (fields not given are absent). */
  limits: { maxOrders?: number; maxLevels?: number; maxSymbols?: number };
  wal: ResolvedWal;
  preciseClock: boolean;
  /** Commands between automatic snapshots, or 0 for none. */
  snapshotEvery: number;
  /** Test option: check every book invariant after every command. */
  checkInvariants: boolean;
  /** Test option: route file calls through the fault-injecting layer (test builds only). */
  faultInjection: boolean;
  /** Test option: simulate a power loss (test builds only; native/core/crash_sim_file_layer.h). */
  crashSim: CrashSimOptions | undefined;
}

export const CRASH_POLICIES = ['drop-unsynced', 'keep-prefix', 'torn-write', 'extend-zeros', 'lose-names'] as const;
export type CrashPolicy = (typeof CRASH_POLICIES)[number];

/**
 * Test option `crashSim`: file calls go through a CrashSimFileLayer (which is also the fault
 * layer). Power is lost at the `crashAt`-th mutating file call (0: only when the test calls
 * `_native.crashSimCrash()`), and the directory is left as `policy` and `seed` decide.
 */
export interface CrashSimOptions {
  crashAt: number;
  policy: CrashPolicy;
  seed: number;
  /** Also pass fdatasync/fsync to the disk (default false: the simulation decides). */
  realSync: boolean;
  /** A simulated sync takes this many microseconds (default 0). */
  syncLatencyUs: number;
  /** Called with the native engine once the layer is in place (before the dir is opened). */
  attach?: (native: NativeEngine) => void;
}

function resolveCrashSim(v: unknown): CrashSimOptions | undefined {
  if (v === undefined) return undefined;
  if (!isPlainObject(v)) throw invalid('crashSim', v, 'an object');
  const policy = v.policy ?? 'drop-unsynced';
  if (!CRASH_POLICIES.includes(policy as CrashPolicy)) throw invalid('crashSim.policy', policy, CRASH_POLICIES.join(', '));
  if (v.attach !== undefined && typeof v.attach !== 'function') throw invalid('crashSim.attach', v.attach, 'a function');
  if (v.realSync !== undefined && typeof v.realSync !== 'boolean') throw invalid('crashSim.realSync', v.realSync, 'a boolean');
  return {
    crashAt: v.crashAt === undefined ? 0 : intInRange(v.crashAt, 'crashSim.crashAt', 0, Number.MAX_SAFE_INTEGER),
    policy: policy as CrashPolicy,
    seed: v.seed === undefined ? 1 : intInRange(v.seed, 'crashSim.seed', 0, 2 ** 53 - 1),
    realSync: v.realSync === true,
    syncLatencyUs: v.syncLatencyUs === undefined ? 0 : intInRange(v.syncLatencyUs, 'crashSim.syncLatencyUs', 0, 1_000_000),
    attach: v.attach as CrashSimOptions['attach'],
  };
}

const WAL_DEFAULTS: ResolvedWal = {
  segmentBytes: 64 * 1024 * 1024,
  ringCapacity: 65536,
  asyncFlushMs: 5,
  asyncFlushRecords: 2000,
  writerCpu: null,
  logTrades: true,
};

function intInRange(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function resolveWal(wal: unknown): ResolvedWal {
  if (wal === undefined) return { ...WAL_DEFAULTS };
  if (!isPlainObject(wal)) throw invalid('wal', wal, 'an object');
  const w = { ...WAL_DEFAULTS };
  if (wal.segmentBytes !== undefined) {
    w.segmentBytes = intInRange(wal.segmentBytes, 'wal.segmentBytes', 65536, 2 ** 30);
    if (w.segmentBytes % 8 !== 0) throw invalid('wal.segmentBytes', wal.segmentBytes, 'a multiple of 8');
  }
  if (wal.ringCapacity !== undefined) w.ringCapacity = intInRange(wal.ringCapacity, 'wal.ringCapacity', 16, 2 ** 24);
  if (wal.asyncFlushMs !== undefined) w.asyncFlushMs = intInRange(wal.asyncFlushMs, 'wal.asyncFlushMs', 1, 60_000);
  if (wal.asyncFlushRecords !== undefined) {
    w.asyncFlushRecords = intInRange(wal.asyncFlushRecords, 'wal.asyncFlushRecords', 1, 2 ** 24);
  }
  if (wal.writerCpu !== undefined && wal.writerCpu !== null) w.writerCpu = intInRange(wal.writerCpu, 'wal.writerCpu', 0, 4095);
  if (wal.logTrades !== undefined) {
    if (typeof wal.logTrades !== 'boolean') throw invalid('wal.logTrades', wal.logTrades, 'a boolean');
    w.logTrades = wal.logTrades;
  }
  return w;
}

const U32_MAX = 4294967295;

/** The engine's default caps (native/core/types.h EngineLimits). */
export const DEFAULT_LIMITS = { maxOrders: 10_000_000, maxLevels: 1_000_000, maxSymbols: 65_536 } as const;

export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw invalid('options', options, 'an object');
  const o = options as EngineOptions & { checkInvariants?: unknown; faultInjection?: unknown; crashSim?: unknown };
  const dir = o.dir;
  if (dir !== undefined && (typeof dir !== 'string' || dir.length === 0)) {
    throw invalid('dir', dir, 'a non-empty path string');
  }
  const durability = o.durability ?? (dir === undefined ? 'none' : 'durable');
  if (durability !== 'durable' && durability !== 'async' && durability !== 'none') {
    throw invalid('durability', durability, "'durable', 'async' or 'none'");
  }
  if (durability !== 'none' && dir === undefined) {
    throw new DurabookError('INVALID_ARGUMENT', `durability ${JSON.stringify(durability)} needs a dir to write the WAL to`, {
      field: 'durability',
    });
  }
  const symbols = o.symbols ?? [];
  if (!Array.isArray(symbols)) throw invalid('symbols', symbols, 'an array of strings');
  const recovery = o.recovery ?? 'tolerate-tail';
  if (recovery !== 'tolerate-tail' && recovery !== 'strict' && recovery !== 'point-in-time') {
    throw invalid('recovery', recovery, "'tolerate-tail', 'strict' or 'point-in-time'");
  }
  const limits: ResolvedOptions['limits'] = {};
  if (o.limits !== undefined) {
    if (!isPlainObject(o.limits)) throw invalid('limits', o.limits, 'an object');
    for (const key of ['maxOrders', 'maxLevels', 'maxSymbols'] as const) {
      const v = o.limits[key];
      if (v === undefined) continue;
      const n = positiveInteger(v, `limits.${key}`);
      if (n > U32_MAX) throw invalid(`limits.${key}`, n, `at most ${U32_MAX}`);
      limits[key] = n;
    }
  }
  for (const key of ['checkInvariants', 'faultInjection', 'preciseClock'] as const) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined && typeof v !== 'boolean') throw invalid(key, v, 'a boolean');
  }
  let snapshotEvery = 0;
  if (o.snapshotEvery !== undefined) {
    snapshotEvery = intInRange(o.snapshotEvery, 'snapshotEvery', 1, Number.MAX_SAFE_INTEGER);
    if (dir === undefined) throw invalid('snapshotEvery', o.snapshotEvery, 'used only with a dir');
  }
  return {
    dir,
    durability,
    snapshotEvery,
    symbols: [...symbols],
    recovery,
    limits,
    wal: resolveWal(o.wal),
    preciseClock: o.preciseClock === true,
    checkInvariants: o.checkInvariants === true,
    faultInjection: o.faultInjection === true,
    crashSim: resolveCrashSim(o.crashSim),
  };
}
