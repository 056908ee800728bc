// Property-based fuzzing of the public API (fast-check): random sequences that mix valid
// commands with malformed ones, against the reference model (test/support/reference-model.ts).
//
// Malformed: wrong types, NaN, ±Infinity, -0, fractions, unsafe and huge integers, bigints,
// symbols, strings where numbers belong, boxed primitives, arrays and null for objects, missing
// and extra fields, unknown symbols, bad symbol names, contradictory flags (postOnly with ioc,
// a market order with tif 'gtc', a limit without price, a modify with neither price nor qty),
// dead and live ids (business rejects, not errors), batches with bad commands, and every call
// after close(). Each malformed call is made with exactly one thing wrong, so the expected code
// is known: UNKNOWN_SYMBOL for a string that names no symbol of the engine, ENGINE_CLOSED after
// close(), INVALID_ARGUMENT otherwise.
//
// Properties, for every call:
//  - a malformed call throws a DurabookError with that code (durable() and snapshot() reject
//    with it instead: they return promises) and leaves the engine exactly as it was: same
//    digest(), same lastSeq, so same books, queues, ids and seq (the digest covers them all);
//  - a valid call returns what the reference model returns (reports field by field, trades
//    included; depth/bbo/order; the seq of addSymbol); batches command by command;
//  - nothing crashes the process, nothing throws anything but a DurabookError.
//
// Volume: DURABOOK_FUZZ_COMMANDS calls in all (default 100,000; `npm run fuzz` runs 10,000,000),
// in sequences of up to 200 calls, each on a fresh engine. Seed: DURABOOK_FUZZ_SEED (default 1;
// 'random' for a fresh one, printed). A failure prints fast-check's shrunk counterexample and
// the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandBatch, DurabookError, Engine, type ErrorCode } from '../../lib/index.js';
import type { Report } from '../../lib/types.js';
import { ReferenceBook } from '../support/reference-model.js';

const TOTAL = Number(process.env.DURABOOK_FUZZ_COMMANDS ?? 100_000);
const SEQUENCE = 200;
const SEED =
  process.env.DURABOOK_FUZZ_SEED === 'random'
    ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
    : Number(process.env.DURABOOK_FUZZ_SEED ?? 1);

const MAX = Number.MAX_SAFE_INTEGER;
const OPEN_SYMBOLS = ['AAPL', 'MSFT', 'SPRD'];
const ADDABLE = ['NEW1', 'NEW2', 'A'.repeat(32), '!~'];
const NEVER = ['XXXX', 'aapl', 'AAPL ', 'AAPL\0', 'ünï'];

// --- values --------------------------------------------------------------------------------

/** Values that are not a number of any kind the API accepts. */
const notANumber: unknown[] = [
  NaN, Infinity, -Infinity, '10', '', '1e3', ' 5', null, true, false, {}, [], [5], 10n, -3n,
  Symbol('x'), () => 1, new Number(5), new Date(0), Object.create(null),
];
/** Numbers that are not safe integers. */
const notAnInteger: unknown[] = [0.5, -1.5, 1e-300, Number.MIN_VALUE, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e300, -1e300, Number.MAX_VALUE, 99.999];
const badPositive: unknown[] = [...notANumber, ...notAnInteger, 0, -0, -1, -MAX];
const badPrice: unknown[] = [...notANumber, ...notAnInteger];
const badString: unknown[] = [null, 1, 0, true, {}, [], ['buy'], new String('buy'), Symbol('buy'), 'BUY', 'Buy', ' buy', 'b', ''];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const idArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 30 }) },
  { weight: 1, arbitrary: pick([MAX, MAX - 1, 2 ** 31, 2 ** 32 + 1]) },
);
const priceArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 97, max: 103 }) },
  { weight: 1, arbitrary: pick([0, -0, -7, MAX, -MAX, MAX - 1]) },
);
// Resting quantities stay small (level totals far from 2^53, a cap the model does not have).
const restQtyArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) });
const takeQtyArb = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 60 }) }, { weight: 1, arbitrary: pick([MAX, 1_000_000]) });
const sideArb = pick(['buy', 'sell'] as const);
const symbolArb = fc.oneof({ weight: 6, arbitrary: pick(OPEN_SYMBOLS) }, { weight: 1, arbitrary: pick(ADDABLE) });
const extraArb = fc.dictionary(pick(['extra', 'note', 'clientId', 'price2', 'Id', 'qty ', '__proto__x']), fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxKeys: 2 });

// --- operations ----------------------------------------------------------------------------

/** 'ok', or the one code the call must fail with (UNKNOWN_SYMBOL is decided at run time too). */
type Want = 'ok' | ErrorCode;

type Op =
  | { k: 'submit'; order: unknown; want: Want }
  | { k: 'cancel'; arg: unknown; want: Want }
  | { k: 'modify'; arg: unknown; want: Want }
  | { k: 'addSymbol'; name: unknown; want: Want }
  | { k: 'depth'; symbol: unknown; levels: unknown; want: Want }
  | { k: 'bbo'; symbol: unknown; want: Want }
  | { k: 'order'; id: unknown; want: Want }
  | { k: 'symbolIndex'; symbol: unknown; want: Want }
  | { k: 'durable'; seq: unknown; want: Want }
  | { k: 'snapshot' }
  | { k: 'batch'; cmds: BatchCmd[] }
  | { k: 'close' };

type BatchCmd =
  | { t: 'limit'; symbol: BatchSymbol; id: unknown; side: unknown; price: unknown; qty: unknown; tif?: unknown; postOnly?: unknown; ok: boolean }
  | { t: 'market'; symbol: BatchSymbol; id: unknown; side: unknown; qty: unknown; price?: unknown; ok: boolean }
  | { t: 'cancel'; id: unknown; ok: boolean }
  | { t: 'modify'; id: unknown; price: unknown; qty: unknown; ok: boolean };

/** A symbol name (mapped through engine.symbolIndex(), or to an unused index if the engine lacks it) or a raw index. */
type BatchSymbol = string | { index: unknown };

interface Order {
  symbol: unknown;
  id: unknown;
  side: unknown;
  type: unknown;
  price?: unknown;
  qty: unknown;
  tif?: unknown;
  postOnly?: unknown;
  [k: string]: unknown;
}

const limitArb = (symbol: fc.Arbitrary<string>) =>
  fc
    .record(
      {
        symbol,
        id: idArb,
        side: sideArb,
        type: fc.constant('limit'),
        price: priceArb,
        qty: restQtyArb,
        tif: fc.constantFrom(undefined, 'gtc', 'gtc', 'ioc', 'fok'),
        postOnly: fc.constantFrom(undefined, false, false, true),
      },
      { requiredKeys: ['symbol', 'id', 'side', 'type', 'price', 'qty'] },
    )
    .map((o) => {
      const r = o as Order;
      if (r.postOnly === true && r.tif !== undefined && r.tif !== 'gtc') r.postOnly = false;
      if (r.tif === 'ioc' || r.tif === 'fok') r.qty = ((r.qty as number) % 61) + 1;
      return r;
    });

const marketArb = (symbol: fc.Arbitrary<string>) =>
  fc
    .record(
      { symbol, id: idArb, side: sideArb, type: fc.constant('market'), price: priceArb, qty: takeQtyArb, tif: fc.constantFrom(undefined, 'ioc'), postOnly: fc.constantFrom(undefined, false) },
      { requiredKeys: ['symbol', 'id', 'side', 'type', 'qty'] },
    )
    .map((o) => o as Order);

// Valid orders name any symbol, added or not (an unknown one is then the one fault); the bases
// of malformed orders name only symbols the engine always has, so that the fault is theirs.
const validLimit = limitArb(symbolArb);
const validMarket = marketArb(symbolArb);
const validOrder = fc.oneof({ weight: 4, arbitrary: validLimit }, { weight: 1, arbitrary: validMarket });
const openSymbol = pick(OPEN_SYMBOLS);
const baseLimit = limitArb(openSymbol);
const baseMarket = marketArb(openSymbol);
const baseOrder = fc.oneof({ weight: 4, arbitrary: baseLimit }, { weight: 1, arbitrary: baseMarket });

/** A valid order with one thing wrong, and the code that must come back. */
const badOrder: fc.Arbitrary<{ order: unknown; want: Want }> = fc.oneof(
  fc.tuple(baseOrder, pick(badPositive)).map(([o, v]) => ({ order: { ...o, id: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseOrder, pick(badPositive)).map(([o, v]) => ({ order: { ...o, qty: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseLimit, pick(badPrice)).map(([o, v]) => ({ order: { ...o, price: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseMarket, pick(badPrice.filter((v) => v !== undefined))).map(([o, v]) => ({ order: { ...o, price: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseOrder, pick(badString)).map(([o, v]) => ({ order: { ...o, side: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseOrder, pick([...badString, 'Limit', 'stop', 'market '])).map(([o, v]) => ({ order: { ...o, type: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseLimit, pick([null, 'GTC', 'day', 'ioc ', 1, true, {}])).map(([o, v]) => ({ order: { ...o, tif: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseOrder, pick([null, 1, 0, 'true', 'false', {}, [], new Boolean(true)])).map(([o, v]) => ({ order: { ...o, postOnly: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseOrder, pick([null, 1, {}, [], new String('AAPL'), Symbol('AAPL'), ['AAPL'], true])).map(([o, v]) => ({ order: { ...o, symbol: v }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseOrder, pick(NEVER)).map(([o, v]) => ({ order: { ...o, symbol: v }, want: 'UNKNOWN_SYMBOL' as Want })),
  // Missing required fields.
  fc.tuple(baseOrder, pick(['symbol', 'id', 'side', 'type', 'qty'])).map(([o, f]) => {
    const c: Record<string, unknown> = { ...o };
    delete c[f];
    return { order: c, want: 'INVALID_ARGUMENT' as Want };
  }),
  baseLimit.map((o) => {
    const c: Record<string, unknown> = { ...o };
    delete c.price;
    return { order: c, want: 'INVALID_ARGUMENT' as Want };
  }),
  // Contradictions.
  baseLimit.map((o) => ({ order: { ...o, tif: o.postOnly === undefined ? 'ioc' : 'fok', postOnly: true }, want: 'INVALID_ARGUMENT' as Want })),
  fc.tuple(baseMarket, pick(['gtc', 'fok'])).map(([o, t]) => ({ order: { ...o, tif: t }, want: 'INVALID_ARGUMENT' as Want })),
  baseMarket.map((o) => ({ order: { ...o, postOnly: true }, want: 'INVALID_ARGUMENT' as Want })),
  // Not an order at all.
  pick([null, undefined, 0, 'order', [], [{ symbol: 'AAPL' }], true, 5n, () => ({})]).map((v) => ({ order: v, want: 'INVALID_ARGUMENT' as Want })),
);

const cancelOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: idArb.map((id): Op => ({ k: 'cancel', arg: { id }, want: 'ok' })) },
  { weight: 1, arbitrary: fc.tuple(idArb, extraArb).map(([id, x]): Op => ({ k: 'cancel', arg: { ...x, id }, want: 'ok' })) },
  { weight: 2, arbitrary: pick(badPositive).map((v): Op => ({ k: 'cancel', arg: { id: v }, want: 'INVALID_ARGUMENT' })) },
  { weight: 1, arbitrary: pick([null, undefined, 5, '5', [], [5], {}]).map((v): Op => ({ k: 'cancel', arg: v, want: 'INVALID_ARGUMENT' })) },
);

const modifyOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({ id: idArb, price: priceArb, qty: restQtyArb }, { requiredKeys: ['id'] })
      .filter((m) => m.price !== undefined || m.qty !== undefined)
      .map((m): Op => ({ k: 'modify', arg: m, want: 'ok' })),
  },
  { weight: 1, arbitrary: fc.tuple(idArb, pick(badPositive)).map(([id, v]): Op => ({ k: 'modify', arg: { id, qty: v }, want: 'INVALID_ARGUMENT' })) },
  { weight: 1, arbitrary: fc.tuple(idArb, pick(badPrice), restQtyArb).map(([id, v, q]): Op => ({ k: 'modify', arg: { id, price: v, qty: q }, want: 'INVALID_ARGUMENT' })) },
  { weight: 1, arbitrary: fc.tuple(pick(badPositive), priceArb).map(([v, p]): Op => ({ k: 'modify', arg: { id: v, price: p }, want: 'INVALID_ARGUMENT' })) },
  { weight: 1, arbitrary: idArb.map((id): Op => ({ k: 'modify', arg: { id }, want: 'INVALID_ARGUMENT' })) },
  { weight: 1, arbitrary: pick([null, undefined, 7, [], 'modify']).map((v): Op => ({ k: 'modify', arg: v, want: 'INVALID_ARGUMENT' })) },
);

const addSymbolOp: fc.Arbitrary<Op> = fc.oneof(
  pick([...ADDABLE, ...OPEN_SYMBOLS]).map((name): Op => ({ k: 'addSymbol', name, want: 'ok' })),
  pick(['', ' ', 'A B', 'A'.repeat(33), 'é', 'x\n', '\t', 'a\0b', 5, null, undefined, ['X'], new String('Y')]).map((name): Op => ({ k: 'addSymbol', name, want: 'INVALID_ARGUMENT' })),
);

const queryOp: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(symbolArb, fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined })).map(([symbol, levels]): Op => ({ k: 'depth', symbol, levels, want: 'ok' })),
  fc.tuple(openSymbol, pick(badPositive)).map(([symbol, levels]): Op => ({ k: 'depth', symbol, levels, want: 'INVALID_ARGUMENT' })),
  pick(NEVER).map((symbol): Op => ({ k: 'depth', symbol, levels: 5, want: 'UNKNOWN_SYMBOL' })),
  pick([null, 1, {}, [], undefined]).map((symbol): Op => ({ k: 'depth', symbol, levels: 5, want: 'INVALID_ARGUMENT' })),
  symbolArb.map((symbol): Op => ({ k: 'bbo', symbol, want: 'ok' })),
  pick(NEVER).map((symbol): Op => ({ k: 'bbo', symbol, want: 'UNKNOWN_SYMBOL' })),
  pick([null, 0, {}, undefined, Symbol('AAPL')]).map((symbol): Op => ({ k: 'bbo', symbol, want: 'INVALID_ARGUMENT' })),
  idArb.map((id): Op => ({ k: 'order', id, want: 'ok' })),
  pick(badPositive).map((id): Op => ({ k: 'order', id, want: 'INVALID_ARGUMENT' })),
  symbolArb.map((symbol): Op => ({ k: 'symbolIndex', symbol, want: 'ok' })),
  pick([...NEVER, null, 3]).map((symbol): Op => ({ k: 'symbolIndex', symbol, want: typeof symbol === 'string' ? 'UNKNOWN_SYMBOL' : 'INVALID_ARGUMENT' })),
);

const durableOp: fc.Arbitrary<Op> = fc.oneof(
  pick(['last', 'first']).map((seq): Op => ({ k: 'durable', seq, want: 'ok' })),
  pick(['next', ...badPositive]).map((seq): Op => ({ k: 'durable', seq, want: 'INVALID_ARGUMENT' })),
);

const batchCmd: fc.Arbitrary<BatchCmd> = fc.oneof(
  { weight: 6, arbitrary: validLimit.map((o): BatchCmd => ({ t: 'limit', symbol: o.symbol as string, id: o.id, side: o.side, price: o.price, qty: o.qty, tif: o.tif, postOnly: o.postOnly, ok: true })) },
  { weight: 2, arbitrary: validMarket.map((o): BatchCmd => ({ t: 'market', symbol: o.symbol as string, id: o.id, side: o.side, qty: o.qty, price: o.price, ok: true })) },
  { weight: 2, arbitrary: idArb.map((id): BatchCmd => ({ t: 'cancel', id, ok: true })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ id: idArb, price: fc.option(priceArb, { nil: undefined }), qty: fc.option(restQtyArb, { nil: undefined }) })
      .map((m): BatchCmd => ({ t: 'modify', id: m.id, price: m.price, qty: m.qty, ok: m.price !== undefined || m.qty !== undefined })),
  },
  { weight: 1, arbitrary: fc.tuple(baseLimit, pick(badPositive)).map(([o, v]): BatchCmd => ({ t: 'limit', symbol: o.symbol as string, id: v, side: o.side, price: o.price, qty: o.qty, ok: false })) },
  { weight: 1, arbitrary: fc.tuple(baseLimit, pick(badPrice)).map(([o, v]): BatchCmd => ({ t: 'limit', symbol: o.symbol as string, id: o.id, side: o.side, price: v, qty: o.qty, ok: false })) },
  { weight: 1, arbitrary: fc.tuple(baseLimit, pick(badString)).map(([o, v]): BatchCmd => ({ t: 'limit', symbol: o.symbol as string, id: o.id, side: v, price: o.price, qty: o.qty, ok: false })) },
  { weight: 1, arbitrary: baseLimit.map((o): BatchCmd => ({ t: 'limit', symbol: o.symbol as string, id: o.id, side: o.side, price: o.price, qty: o.qty, tif: 'ioc', postOnly: true, ok: false })) },
  { weight: 1, arbitrary: fc.tuple(baseMarket, pick(badPositive)).map(([o, v]): BatchCmd => ({ t: 'market', symbol: o.symbol as string, id: o.id, side: o.side, qty: v, ok: false })) },
  { weight: 1, arbitrary: pick([-1, 1.5, NaN, 2 ** 32, '0', null]).map((s): BatchCmd => ({ t: 'market', symbol: { index: s }, id: 1, side: 'buy', qty: 1, ok: false })) },
  // A well-formed index of a symbol the engine does not have: the native side refuses the batch.
  { weight: 1, arbitrary: fc.integer({ min: 7, max: 1000 }).map((s): BatchCmd => ({ t: 'market', symbol: { index: s }, id: 1, side: 'buy', qty: 1, ok: true })) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: validOrder.map((order): Op => ({ k: 'submit', order, want: 'ok' })) },
  { weight: 4, arbitrary: fc.tuple(validOrder, extraArb).map(([o, x]): Op => ({ k: 'submit', order: { ...x, ...o }, want: 'ok' })) },
  { weight: 14, arbitrary: badOrder.map(({ order, want }): Op => ({ k: 'submit', order, want })) },
  { weight: 8, arbitrary: cancelOp },
  { weight: 8, arbitrary: modifyOp },
  { weight: 2, arbitrary: addSymbolOp },
  { weight: 6, arbitrary: queryOp },
  { weight: 2, arbitrary: durableOp },
  { weight: 1, arbitrary: fc.constant<Op>({ k: 'snapshot' }) },
  { weight: 2, arbitrary: fc.array(batchCmd, { minLength: 1, maxLength: 12 }).map((cmds): Op => ({ k: 'batch', cmds })) },
);

/** A sequence; one in four closes the engine 90% of the way through (and calls on after it). */
const sequenceArb = fc
  .tuple(fc.array(opArb, { minLength: 1, maxLength: SEQUENCE, size: 'max' }), fc.nat({ max: 3 }))
  .map(([ops, c]) => {
    if (c === 0) ops.splice(Math.floor(ops.length * 0.9), 0, { k: 'close' });
    return ops;
  });

// --- running -------------------------------------------------------------------------------

function norm(r: Report): string {
  return JSON.stringify([r.seq, r.id, r.status, r.filledQty, r.remainingQty, r.reason ?? null, r.trades.map((t) => [t.makerId, t.takerId, t.price, t.qty])]);
}

function show(v: unknown): string {
  return fc.stringify(v);
}

class Failure extends Error {}

/** Calls f, which must throw a DurabookError with `code`. */
function mustThrow(what: string, code: ErrorCode, f: () => unknown): void {
  let threw: unknown = undefined;
  let result: unknown;
  try {
    result = f();
  } catch (err) {
    threw = err;
  }
  if (threw === undefined) throw new Failure(`${what}: expected ${code}, returned ${show(result)}`);
  if (!(threw instanceof DurabookError)) throw new Failure(`${what}: expected DurabookError ${code}, threw ${String(threw)}`);
  if (threw.code !== code) throw new Failure(`${what}: expected ${code}, got ${threw.code} (${threw.message})`);
}

/** Calls f, which must not throw. */
function mustReturn<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const e = err as DurabookError;
    throw new Failure(`${what}: threw ${e?.code ?? ''} ${e?.message ?? String(err)}`);
  }
}

interface Counts {
  calls: number;
  valid: number;
  malformed: number;
  afterClose: number;
  batches: number;
  byCode: Record<string, number>;
}
const counts: Counts = { calls: 0, valid: 0, malformed: 0, afterClose: 0, batches: 0, byCode: {} };

async function runSequence(ops: Op[]): Promise<void> {
  const engine = await Engine.open({ symbols: OPEN_SYMBOLS });
  const model = new ReferenceBook({ symbols: OPEN_SYMBOLS });
  const known = new Set(OPEN_SYMBOLS);
  const promises: { what: string; want: Want; p: Promise<unknown> }[] = [];
  let closed = false;
  try {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      counts.calls++;
      const what = `#${i} ${op.k} ${show(op)}`;
      if (op.k === 'close') {
        await engine.close();
        await engine.close(); // idempotent
        closed = true;
        continue;
      }
      if (op.k === 'durable') {
        const seq = op.seq === 'last' ? (closed ? 1 : engine.lastSeq) : op.seq === 'first' ? 1 : op.seq === 'next' ? (closed ? 1e9 : engine.lastSeq + 1) : op.seq;
        let p: Promise<unknown>;
        try {
          p = engine.durable(seq as number);
        } catch (err) {
          throw new Failure(`${what}: durable() threw instead of rejecting: ${String(err)}`);
        }
        // After close() an in-memory engine has nothing durable: any well-formed seq rejects
        // with ENGINE_CLOSED (the argument is checked first).
        const wellFormed = typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0;
        const want: Want = closed ? (wellFormed ? 'ENGINE_CLOSED' : 'INVALID_ARGUMENT') : op.want;
        promises.push({ what, want, p });
        continue;
      }
      if (op.k === 'snapshot') {
        let p: Promise<unknown>;
        try {
          p = engine.snapshot();
        } catch (err) {
          throw new Failure(`${what}: snapshot() threw instead of rejecting: ${String(err)}`);
        }
        promises.push({ what, want: closed ? 'ENGINE_CLOSED' : 'INVALID_ARGUMENT', p }); // in-memory: no dir
        continue;
      }
      if (closed) {
        counts.afterClose++;
        const call = closedCall(engine, op);
        mustThrow(what, 'ENGINE_CLOSED', call);
        continue;
      }
      if (op.k === 'batch') {
        runBatch(engine, model, known, op.cmds, what);
        continue;
      }
      // A valid call naming a symbol the engine has not (yet) got has that one fault.
      let want = op.want;
      const sym = op.k === 'submit' ? (op.order as Order | null | undefined)?.symbol : op.k === 'depth' || op.k === 'bbo' || op.k === 'symbolIndex' ? op.symbol : undefined;
      if (want === 'ok' && typeof sym === 'string' && !known.has(sym)) want = 'UNKNOWN_SYMBOL';
      if (op.k === 'addSymbol' && want === 'ok' && known.has(op.name as string)) want = 'INVALID_ARGUMENT';
      if (want !== 'ok') {
        counts.malformed++;
        counts.byCode[want] = (counts.byCode[want] ?? 0) + 1;
        const digest = engine.digest();
        const seq = engine.lastSeq;
        mustThrow(what, want, () => call(engine, op));
        const after = engine.digest();
        if (after !== digest || engine.lastSeq !== seq) throw new Failure(`${what}: the throwing call changed the engine (seq ${seq} → ${engine.lastSeq})`);
        continue;
      }
      counts.valid++;
      switch (op.k) {
        case 'submit':
        case 'cancel':
        case 'modify': {
          const re = mustReturn(what, () => call(engine, op) as Report);
          const rm = op.k === 'submit' ? model.submit(op.order as never) : op.k === 'cancel' ? model.cancel(op.arg as never) : model.modify(op.arg as never);
          if (norm(re) !== norm(rm)) throw new Failure(`${what}:\n  engine ${norm(re)}\n  model  ${norm(rm)}`);
          break;
        }
        case 'addSymbol': {
          const seq = mustReturn(what, () => engine.addSymbol(op.name as string));
          const ms = model.addSymbol(op.name as string);
          known.add(op.name as string);
          if (seq !== ms) throw new Failure(`${what}: seq ${seq}, model ${ms}`);
          break;
        }
        case 'depth': {
          const de = mustReturn(what, () => engine.depth(op.symbol as string, op.levels as number));
          const dm = model.depth(op.symbol as string, (op.levels as number | undefined) ?? 10);
          if (JSON.stringify(de) !== JSON.stringify(dm)) throw new Failure(`${what}:\n  engine ${JSON.stringify(de)}\n  model  ${JSON.stringify(dm)}`);
          break;
        }
        case 'bbo': {
          const be = mustReturn(what, () => engine.bbo(op.symbol as string));
          const bm = model.bbo(op.symbol as string);
          if (JSON.stringify(be) !== JSON.stringify(bm)) throw new Failure(`${what}:\n  engine ${JSON.stringify(be)}\n  model  ${JSON.stringify(bm)}`);
          break;
        }
        case 'order': {
          const oe = mustReturn(what, () => engine.order(op.id as number));
          const om = model.order(op.id as number);
          if (JSON.stringify(oe) !== JSON.stringify(om)) throw new Failure(`${what}:\n  engine ${JSON.stringify(oe)}\n  model  ${JSON.stringify(om)}`);
          break;
        }
        case 'symbolIndex': {
          const ix = mustReturn(what, () => engine.symbolIndex(op.symbol as string));
          if (engine.symbols[ix] !== op.symbol) throw new Failure(`${what}: index ${ix} names ${engine.symbols[ix]}`);
          break;
        }
      }
    }
    if (!closed) {
      for (const s of known) {
        const de = engine.depth(s, 1e6);
        const dm = model.depth(s, 1e6);
        if (JSON.stringify(de) !== JSON.stringify(dm)) throw new Failure(`at the end: depth(${s}) differs`);
      }
      if (engine.lastSeq !== model.lastSeq) throw new Failure(`at the end: lastSeq ${engine.lastSeq}, model ${model.lastSeq}`);
    }
    for (const { what, want, p } of promises) {
      const outcome = await p.then(
        () => 'ok',
        (err: unknown) => (err instanceof DurabookError ? err.code : `non-DurabookError ${String(err)}`),
      );
      if (outcome !== want) throw new Failure(`${what}: the promise settled with ${outcome}, expected ${want}`);
    }
  } finally {
    await engine.close();
  }
}

function call(engine: Engine, op: Op): unknown {
  switch (op.k) {
    case 'submit':
      return engine.submit(op.order as never);
    case 'cancel':
      return engine.cancel(op.arg as never);
    case 'modify':
      return engine.modify(op.arg as never);
    case 'addSymbol':
      return engine.addSymbol(op.name as never);
    case 'depth':
      return op.levels === undefined ? engine.depth(op.symbol as never) : engine.depth(op.symbol as never, op.levels as never);
    case 'bbo':
      return engine.bbo(op.symbol as never);
    case 'order':
      return engine.order(op.id as never);
    case 'symbolIndex':
      return engine.symbolIndex(op.symbol as never);
    default:
      throw new Error(`not a synchronous call: ${op.k}`);
  }
}

function closedCall(engine: Engine, op: Op): () => unknown {
  if (op.k === 'batch') return () => engine.submitBatch(new CommandBatch().cancel(1));
  return () => call(engine, op);
}

function runBatch(engine: Engine, model: ReferenceBook, known: Set<string>, cmds: BatchCmd[], what: string): void {
  counts.batches++;
  const batch = new CommandBatch(4);
  const applied: BatchCmd[] = [];
  let nativeRefusal = false;
  for (const c of cmds) {
    const index = (s: BatchSymbol) => (typeof s === 'string' ? (known.has(s) ? engine.symbolIndex(s) : 999) : (s.index as number));
    const build = () => {
      if (c.t === 'limit') batch.limit(index(c.symbol), c.id as number, c.side as never, c.price as number, c.qty as number, c.tif as never, c.postOnly as never);
      else if (c.t === 'market') batch.market(index(c.symbol), c.id as number, c.side as never, c.qty as number, c.price as number);
      else if (c.t === 'cancel') batch.cancel(c.id as number);
      else batch.modify(c.id as number, c.price as number, c.qty as number);
    };
    if (!c.ok) {
      mustThrow(`${what}: building ${show(c)}`, 'INVALID_ARGUMENT', build);
      continue;
    }
    mustReturn(`${what}: building ${show(c)}`, build);
    applied.push(c);
    if ((c.t === 'limit' || c.t === 'market') && (typeof c.symbol !== 'string' || !known.has(c.symbol))) nativeRefusal = true;
  }
  if (nativeRefusal) {
    const digest = engine.digest();
    const seq = engine.lastSeq;
    mustThrow(`${what}: a batch naming a symbol index the engine has not got`, 'INVALID_ARGUMENT', () => engine.submitBatch(batch));
    if (engine.digest() !== digest || engine.lastSeq !== seq) throw new Failure(`${what}: a refused batch changed the engine`);
    return;
  }
  const res = mustReturn(what, () => engine.submitBatch(batch));
  if (res.count !== applied.length) throw new Failure(`${what}: ${res.count} results for ${applied.length} commands`);
  for (let i = 0; i < applied.length; i++) {
    const c = applied[i]!;
    let rm: Report;
    if (c.t === 'limit') rm = model.submit({ symbol: c.symbol as string, id: c.id as number, side: c.side as never, type: 'limit', price: c.price as number, qty: c.qty as number, tif: c.tif as never, postOnly: c.postOnly as never });
    else if (c.t === 'market') rm = model.submit({ symbol: c.symbol as string, id: c.id as number, side: c.side as never, type: 'market', qty: c.qty as number, price: c.price as number | undefined });
    else if (c.t === 'cancel') rm = model.cancel({ id: c.id as number });
    else rm = model.modify({ id: c.id as number, price: c.price as number | undefined, qty: c.qty as number | undefined });
    const trades = [];
    for (let j = res.tradeStart(i); j < res.tradeEnd(i); j++) trades.push({ makerId: res.makerId(j), takerId: res.takerId(j), price: res.price(j), qty: res.qty(j) });
    const re: Report = { seq: res.seq(i), id: rm.id, status: res.status(i), filledQty: res.filledQty(i), remainingQty: res.remainingQty(i), trades, reason: res.reason(i) };
    if (norm(re) !== norm(rm)) throw new Failure(`${what}: batch command ${i} ${show(c)}:\n  engine ${norm(re)}\n  model  ${norm(rm)}`);
  }
}

describe('public API fuzzing (fast-check)', () => {
  it(`${TOTAL} calls: malformed calls throw the right code and change nothing; valid ones match the model`, async () => {
    const started = Date.now();
    // Chunks of 100 sequences (up to 200 calls each, mostly near 200), seed SEED + chunk, until
    // TOTAL calls have run. A failing sequence is shrunk to a short counterexample.
    for (let chunk = 0; counts.calls < TOTAL; chunk++) {
      await fc.assert(
        fc.asyncProperty(sequenceArb, async (ops) => {
          await runSequence(ops);
        }),
        { numRuns: 100, seed: SEED + chunk },
      );
    }
    const s = (Date.now() - started) / 1000;
    console.log(
      `api fuzz: seed ${SEED}, ${counts.calls} calls in ${s.toFixed(1)} s: ${counts.valid} valid, ${counts.malformed} malformed ` +
        `(${Object.entries(counts.byCode).map(([c, n]) => `${c} ${n}`).join(', ')}), ${counts.afterClose} after close, ${counts.batches} batches`,
    );
    expect(counts.calls).toBeGreaterThanOrEqual(TOTAL);
    expect(counts.malformed).toBeGreaterThan(counts.calls / 10);
  }, Math.max(300_000, TOTAL * 2));
});

describe('the batch API with things that are not batches', () => {
  // Fixed in 07a5b7c; kept as a regression test.
  // BUG (lib/engine.ts submitBatch, lib/batch.ts CommandBatch constructor; found while writing
  // this fuzzer): DESIGN.md §1 says wrong types throw DurabookError, but submitBatch() takes
  // whatever it is given: submitBatch(null) throws a TypeError ("Cannot read properties of
  // null"), submitBatch({}) a TypeError from the addon ("submitBatch(cmds, count, out,
  // trades)"), a lookalike with a bad length a RangeError ("batch count out of range for its
  // buffers"), submitBatch(batch, {}) a TypeError ("result.prepare is not a function"), and
  // new CommandBatch(1e12) a RangeError ("Invalid typed array length"). Nothing changes and
  // nothing crashes, but the error is not the documented one. Expected: INVALID_ARGUMENT.
  it('throws INVALID_ARGUMENT and changes nothing', async () => {
    const engine = await Engine.open({ symbols: OPEN_SYMBOLS });
    const digest = engine.digest();
    const bad: [string, () => unknown][] = [
      ['submitBatch(null)', () => engine.submitBatch(null as never)],
      ['submitBatch({})', () => engine.submitBatch({} as never)],
      ['submitBatch(lookalike)', () => engine.submitBatch({ length: 3, buffer: new Float64Array(2) } as never)],
      ['submitBatch(batch, {})', () => engine.submitBatch(new CommandBatch().cancel(1), {} as never)],
      ['new CommandBatch(1e12)', () => new CommandBatch(1e12)],
    ];
    const wrong: string[] = [];
    for (const [what, f] of bad) {
      try {
        f();
        wrong.push(`${what}: returned`);
      } catch (err) {
        if (!(err instanceof DurabookError) || err.code !== 'INVALID_ARGUMENT') wrong.push(`${what}: ${(err as Error).constructor.name} ${(err as Error).message}`);
      }
    }
    expect(engine.digest()).toBe(digest);
    await engine.close();
    expect(wrong).toEqual([]);
  });
});
