// Engine.open() options: defaults, and checks that name the field and the bad value.
import { DurabookError, invalid } from './errors.js';
import type { Durability, EngineOptions, RecoveryMode } from './types.js';
import { isPlainObject, positiveInteger } from './validate.js';

export interface ResolvedOptions {
  dir: string | undefined;
  durability: Durability;
  symbols: string[];
  recovery: RecoveryMode;
  limits: { maxOrders?: number; maxLevels?: number; maxSymbols?: number };
  /** Test option: check every book invariant after every command. */
  checkInvariants: boolean;
}

const U32_MAX = 4294967295;

export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw invalid('options', options, 'an object');
  const o = options as EngineOptions & { checkInvariants?: unknown };
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
  if (o.checkInvariants !== undefined && typeof o.checkInvariants !== 'boolean') {
    throw invalid('checkInvariants', o.checkInvariants, 'a boolean');
  }
  return {
    dir,
    durability,
    symbols: [...symbols],
    recovery,
    limits,
    checkInvariants: o.checkInvariants === true,
  };
}
