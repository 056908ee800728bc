// Engine limits instead of collapse (issue 7): every configurable cap, hit on purpose.
//
//  - limits.maxOrders (resting orders in the engine): a remainder that would rest past it is
//    'cancelled' with reason ORDER_LIMIT; trades already made stand; capacity freed by a cancel
//    or a fill is usable again.
//  - limits.maxLevels (price levels per side of one book): a remainder that needs a new level on
//    a full side is 'cancelled' with LEVEL_LIMIT; existing levels, the other side and other
//    books are unaffected; a modify that re-queues at a new price on a full side loses the order.
//  - a level's total quantity stays a safe integer: an order that would push it past 2^53 - 1 is
//    cut with LEVEL_LIMIT (README).
//  - limits.maxSymbols: addSymbol past it is refused with a DurabookError and changes nothing.
//
// Each case is also run through the reference model (test/support/reference-model.ts), which
// implements ORDER_LIMIT/LEVEL_LIMIT the same way.
//
// Three tests here pin bugs found while writing this file, all fixed since (see each): a
// refused symbol at open() leaked the WAL writer thread (Linux only: counts /proc threads);
// reopening a directory with lower limits replayed the log into another state (open() now
// refuses limits other than the ones the log was written under); the error for maxSymbols
// did not name the limit (now LIMIT_EXCEEDED).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandBatch, DurabookError, Engine, type EngineOptions } from '../lib/index.js';
import type { NewOrder, Report } from '../lib/types.js';
import { ReferenceBook } from './support/reference-model.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'durabook-limits-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MAX = Number.MAX_SAFE_INTEGER;

function limit(symbol: string, id: number, side: 'buy' | 'sell', price: number, qty: number, extra: Partial<NewOrder> = {}): NewOrder {
  return { symbol, id, side, type: 'limit', price, qty, ...extra };
}

/** Opens an engine and a model with the same symbols and limits; `both` applies a command to each and compares. */
async function pair(opts: { symbols: string[]; limits: EngineOptions['limits'] }) {
  const engine = await Engine.open(opts);
  const model = new ReferenceBook({ symbols: opts.symbols, limits: opts.limits as { maxOrders?: number; maxLevels?: number } });
  const norm = (r: Report) => ({ ...r, trades: [...r.trades] });
  return {
    engine,
    model,
    submit(o: NewOrder): Report {
      const r = engine.submit(o);
      expect(norm(r), `submit ${JSON.stringify(o)}`).toEqual(norm(model.submit(o)));
      return r;
    },
    cancel(id: number): Report {
      const r = engine.cancel({ id });
      expect(norm(r)).toEqual(norm(model.cancel({ id })));
      return r;
    },
    modify(m: { id: number; price?: number; qty?: number }): Report {
      const r = engine.modify(m);
      expect(norm(r), `modify ${JSON.stringify(m)}`).toEqual(norm(model.modify(m)));
      return r;
    },
    same(): void {
      for (const s of opts.symbols) expect(engine.depth(s, 1000)).toEqual(model.depth(s, 1000));
    },
  };
}

async function thrown(f: () => unknown): Promise<DurabookError> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(DurabookError);
    return err as DurabookError;
  }
  return expect.fail('expected a DurabookError');
}

describe('limits.maxOrders', () => {
  it('a remainder past the cap is cancelled with ORDER_LIMIT; IOC/FOK/market are untouched; freed capacity is reused', async () => {
    const p = await pair({ symbols: ['A', 'B'], limits: { maxOrders: 4 } });
    for (let i = 1; i <= 3; i++) expect(p.submit(limit('A', i, 'buy', 100 - i, 5)).status).toBe('new');
    expect(p.submit(limit('B', 4, 'sell', 200, 5)).status).toBe('new'); // the cap is engine-wide
    const cut = p.submit(limit('A', 5, 'buy', 90, 7));
    expect(cut).toMatchObject({ status: 'cancelled', reason: 'ORDER_LIMIT', filledQty: 0, remainingQty: 0 });
    expect(p.engine.order(5)).toBeUndefined();
    // A crossing order with a remainder has filled its makers completely (or it would have
    // no remainder), so each fill frees a slot: at the cap, such a remainder still rests.
    const partial = p.submit(limit('A', 6, 'sell', 98, 12)); // fills #1 (5 @ 99), #2 (5 @ 98)
    expect(partial).toMatchObject({ status: 'partially_filled', filledQty: 10, remainingQty: 2 });
    expect(p.submit(limit('A', 7, 'buy', 90, 1)).status).toBe('new'); // #3, #4, #6, #7: the cap again
    const atCap = p.submit(limit('B', 8, 'buy', 200, 8)); // fills #4 (5 @ 200), rests 3 in its slot
    expect(atCap).toMatchObject({ status: 'partially_filled', filledQty: 5, remainingQty: 3 });
    expect(p.submit(limit('A', 9, 'buy', 80, 1)).reason).toBe('ORDER_LIMIT');
    // IOC, FOK and market orders never rest, so the cap never touches them.
    expect(p.submit(limit('A', 10, 'buy', 200, 1, { tif: 'ioc' })).status).toBe('filled');
    expect(p.submit({ symbol: 'A', id: 11, side: 'sell', type: 'market', qty: 1 }).status).toBe('filled');
    expect(p.submit(limit('A', 13, 'sell', 90, 100, { tif: 'fok' })).status).toBe('cancelled');
    // A cancel frees capacity.
    expect(p.submit(limit('B', 12, 'sell', 300, 1)).reason).toBe('ORDER_LIMIT');
    p.cancel(8);
    expect(p.submit(limit('B', 12, 'sell', 300, 1)).status).toBe('new');
    p.same();
    await p.engine.close();
  });

  it('at the cap, a modify that re-queues keeps its slot (the order leaves before it re-enters)', async () => {
    const p = await pair({ symbols: ['A'], limits: { maxOrders: 2 } });
    p.submit(limit('A', 1, 'buy', 100, 5));
    p.submit(limit('A', 2, 'buy', 99, 5));
    expect(p.submit(limit('A', 3, 'buy', 98, 5)).reason).toBe('ORDER_LIMIT');
    expect(p.modify({ id: 1, price: 101 })).toMatchObject({ status: 'new', remainingQty: 5 });
    expect(p.modify({ id: 2, qty: 50 })).toMatchObject({ status: 'new', remainingQty: 50 });
    p.same();
    await p.engine.close();
  });

  it('in a batch: the same outcome per command', async () => {
    const engine = await Engine.open({ symbols: ['A'], limits: { maxOrders: 2 } });
    const a = engine.symbolIndex('A');
    const res = engine.submitBatch(new CommandBatch().limit(a, 1, 'buy', 10, 1).limit(a, 2, 'buy', 9, 1).limit(a, 3, 'buy', 8, 1));
    expect([0, 1, 2].map((i) => [res.status(i), res.reason(i)])).toEqual([
      ['new', undefined],
      ['new', undefined],
      ['cancelled', 'ORDER_LIMIT'],
    ]);
    await engine.close();
  });
});

describe('limits.maxLevels', () => {
  it('a remainder that needs a new level on a full side is cancelled with LEVEL_LIMIT; other sides and books are free', async () => {
    const p = await pair({ symbols: ['A', 'B'], limits: { maxLevels: 2 } });
    p.submit(limit('A', 1, 'buy', 100, 1));
    p.submit(limit('A', 2, 'buy', 99, 1));
    expect(p.submit(limit('A', 3, 'buy', 98, 1))).toMatchObject({ status: 'cancelled', reason: 'LEVEL_LIMIT' });
    expect(p.submit(limit('A', 4, 'buy', 101, 1)).reason).toBe('LEVEL_LIMIT'); // better prices too
    expect(p.submit(limit('A', 5, 'buy', 100, 7)).status).toBe('new'); // an existing level
    expect(p.submit(limit('A', 6, 'sell', 110, 1)).status).toBe('new'); // the other side
    expect(p.submit(limit('A', 7, 'sell', 111, 1)).status).toBe('new');
    expect(p.submit(limit('A', 8, 'sell', 112, 1)).reason).toBe('LEVEL_LIMIT');
    expect(p.submit(limit('B', 9, 'buy', 98, 1)).status).toBe('new'); // another book
    // A taker that sweeps the best bid level trades, but its remainder needs a third ask level.
    const sweep = p.submit(limit('A', 10, 'sell', 100, 9));
    expect(sweep).toMatchObject({ status: 'cancelled', reason: 'LEVEL_LIMIT', filledQty: 8, remainingQty: 0 });
    // The swept level is free again.
    expect(p.submit(limit('A', 11, 'buy', 98, 1)).status).toBe('new');
    expect(p.engine.depth('A').bids.map((l) => l.price)).toEqual([99, 98]);
    p.same();
    await p.engine.close();
  });

  it('a modify to a new price on a full side loses the order (cancelled, LEVEL_LIMIT), unless it leaves a level of its own', async () => {
    const p = await pair({ symbols: ['A'], limits: { maxLevels: 2 } });
    p.submit(limit('A', 1, 'buy', 100, 1));
    p.submit(limit('A', 2, 'buy', 100, 1));
    p.submit(limit('A', 3, 'buy', 99, 1));
    expect(p.modify({ id: 3, price: 97 })).toMatchObject({ status: 'new', remainingQty: 1 }); // its level empties first
    expect(p.modify({ id: 2, price: 98 })).toMatchObject({ status: 'cancelled', reason: 'LEVEL_LIMIT' });
    expect(p.engine.order(2)).toBeUndefined();
    p.same();
    await p.engine.close();
  });
});

describe('level totals stay safe integers', () => {
  it('an order that would push a level past 2^53 - 1 is cut with LEVEL_LIMIT; depth stays exact', async () => {
    // Engine only: the reference model does not model this cap.
    const e = await Engine.open({ symbols: ['A'] });
    expect(e.submit(limit('A', 1, 'sell', 5, MAX - 10)).status).toBe('new');
    expect(e.submit(limit('A', 2, 'sell', 5, 10)).status).toBe('new'); // exactly 2^53 - 1
    const digest = e.digest();
    expect(e.submit(limit('A', 3, 'sell', 5, 1))).toMatchObject({ status: 'cancelled', reason: 'LEVEL_LIMIT', filledQty: 0 });
    expect(e.depth('A').asks).toEqual([{ price: 5, qty: MAX, orders: 2 }]);
    expect(e.submit(limit('A', 4, 'sell', 6, MAX)).status).toBe('new'); // another level has its own total
    // A modify up re-queues at the back: the same cap, and the order is lost.
    expect(e.modify({ id: 2, qty: 11 })).toMatchObject({ status: 'cancelled', reason: 'LEVEL_LIMIT' });
    expect(e.order(2)).toBeUndefined();
    expect(e.digest()).not.toBe(digest);
    // A taker for all of it: quantities stay exact.
    const t = e.submit({ symbol: 'A', id: 5, side: 'buy', type: 'market', qty: MAX });
    expect(t).toMatchObject({ status: 'filled', filledQty: MAX });
    expect(t.trades.map((x) => [x.makerId, x.qty])).toEqual([
      [1, MAX - 10],
      [4, 10],
    ]);
    expect(e.depth('A').asks).toEqual([{ price: 6, qty: MAX - 10, orders: 1 }]);
    await e.close();
  });
});

describe('limits.maxSymbols', () => {
  it('addSymbol past the cap throws a DurabookError and changes nothing (no seq, no symbol, same digest)', async () => {
    const e = await Engine.open({ symbols: ['A', 'B'], limits: { maxSymbols: 2 } });
    const digest = e.digest();
    const err = await thrown(() => e.addSymbol('C'));
    expect(err.message).toContain('C');
    expect(e.symbols).toEqual(['A', 'B']);
    expect(e.lastSeq).toBe(2);
    expect(e.digest()).toBe(digest);
    await thrown(() => e.submit(limit('C', 1, 'buy', 1, 1))); // still unknown
    expect(e.submit(limit('A', 1, 'buy', 1, 1)).seq).toBe(3);
    await e.close();
  });

  // The argument is fine, the engine is full: LIMIT_EXCEEDED, naming the limit and its value.
  it('addSymbol past the cap is LIMIT_EXCEEDED naming limits.maxSymbols', async () => {
    const e = await Engine.open({ symbols: ['A'], limits: { maxSymbols: 1 } });
    try {
      const err = await thrown(() => e.addSymbol('B'));
      expect(err.code).toBe('LIMIT_EXCEEDED');
      expect(err.message).toMatch(/maxSymbols/);
      expect(err.message).toMatch(/\b1\b/);
    } finally {
      await e.close();
    }
  });

  it('symbols given to open() past the cap make open() reject', async () => {
    const err = await thrown(() => Engine.open({ symbols: ['A', 'B', 'C'], limits: { maxSymbols: 2 } }));
    expect(err.message).toContain('C');
  });

  // Fixed in 07a5b7c; kept as a regression test.
  // BUG (lib/engine.ts, Engine.open: the symbols loop after #openDir): when adding one of the
  // `symbols` throws after the WAL was opened (maxSymbols here; an invalid name does the same),
  // open() rejects without closing the engine: its WAL writer thread and segment file stay
  // open for the life of the process, one more per failed open(), all on the same segment.
  // (The symbols before the refused one are logged as well.) Expected: open() that throws
  // leaves nothing running. Linux only (counts /proc/self/task).
  it.runIf(process.platform === 'linux')('an open() refused for its symbols leaves no writer thread behind', async () => {
    const dir = tempDir();
    const threads = () => readdirSync('/proc/self/task').length;
    const before = threads();
    for (let i = 0; i < 3; i++) {
      await thrown(() => Engine.open({ dir, symbols: ['A', 'B', 'C'], limits: { maxSymbols: 2 } }));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(threads() - before, 'threads left running by rejected open() calls').toBe(0);
  });
});

describe('limits and recovery', () => {
  // Fixed in 07a5b7c; kept as a regression test.
  // BUG (lib/options.ts / lib/recovery.ts / native recovery: limits are not part of the logged
  // state): the limits given to open() also govern the replay of the WAL. Reopening a directory
  // with lower limits than it was written with replays resting orders into ORDER_LIMIT /
  // LEVEL_LIMIT cancels: orders whose durable() resolved are silently gone, with a clean
  // recovery report (no error, no dropped range). From a snapshot they are all restored instead
  // (restoreOrder ignores limits), so the same directory recovers differently depending on
  // whether a snapshot exists. Expected: recovery reproduces the logged state whatever the
  // limits (or open() refuses limits the recovered state does not fit, saying so).
  it('reopening with lower limits recovers every durable order (WAL replay)', async () => {
    const dir = tempDir();
    const e = await Engine.open({ dir, symbols: ['A'], limits: { maxOrders: 10, maxLevels: 10 } });
    for (let i = 1; i <= 10; i++) e.submit(limit('A', i, 'buy', 100 - i, 1));
    await e.durable(e.lastSeq);
    const depth = e.depth('A', 100);
    await e.close();
    let reopened: Engine | undefined;
    try {
      reopened = await Engine.open({ dir, symbols: ['A'], limits: { maxOrders: 5, maxLevels: 3 } });
    } catch (err) {
      // Refusing to open with limits the log does not fit would be acceptable too.
      expect((err as DurabookError).message).toMatch(/limit/i);
      return;
    }
    try {
      expect(reopened.depth('A', 100), 'the book after recovery').toEqual(depth);
    } finally {
      await reopened.close();
    }
  });
});

describe('limits options', () => {
  it.each([
    ['maxOrders', 0],
    ['maxLevels', -1],
    ['maxSymbols', 1.5],
    ['maxOrders', 2 ** 32],
    ['maxLevels', '10'],
    ['maxSymbols', NaN],
  ])('limits.%s = %s → INVALID_ARGUMENT naming the field', async (key, value) => {
    const err = await thrown(() => Engine.open({ limits: { [key]: value } as EngineOptions['limits'] }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(`limits.${key}`);
  });

  it('the largest caps (2^32 - 1) are accepted', async () => {
    const e = await Engine.open({ symbols: ['A'], limits: { maxOrders: 2 ** 32 - 1, maxLevels: 2 ** 32 - 1, maxSymbols: 2 ** 32 - 1 } });
    expect(e.submit(limit('A', 1, 'buy', 1, 1)).status).toBe('new');
    await e.close();
  });
});
