// Matching rules, one test per rule, each against values worked out by hand.
//
// Runs against the real engine (in-memory, `Engine.open({ symbols, limits })`). With
// DURABOOK_TARGET=model it runs against the reference model instead (test/support), which checks
// the model with the same hand-written expectations.
//
// The decided semantics these tests pin down:
//  - seq: every command that passes validation gets the next sequence number, +1 each, starting at
//    1 — rejected reports and addSymbol included; the symbols given to open() are seq 1..k.
//    Commands that throw get none.
//  - Report { seq, id, status, filledQty (filled by THIS command), remainingQty (resting after this
//    command, 0 if not resting), trades (execution order, { makerId, takerId, price, qty } at the
//    maker's price), reason (undefined unless stated) }.
//  - New order, checks in this order: live duplicate id -> 'rejected' DUPLICATE_ORDER_ID (ids of
//    filled/cancelled orders may be reused); postOnly crossing the best opposite price ->
//    'rejected' POST_ONLY_WOULD_CROSS; FOK with less than qty available at crossing prices ->
//    'cancelled', filledQty 0, no trades, no reason. Then match best price first, FIFO in a level,
//    at the maker's price, while the taker's limit crosses (market without price: no limit; market
//    with price: that price is the limit). Remainder: limit gtc rests ('new' / 'partially_filled');
//    IOC and market remainders are killed -> 'cancelled' (filledQty tells how much traded, even 0).
//    Fully filled -> 'filled', remainingQty 0.
//  - Engine limits: a remainder that would rest while the engine already holds maxOrders resting
//    orders -> 'cancelled' ORDER_LIMIT; one that needs a new level on a side that already has
//    maxLevels levels -> 'cancelled' LEVEL_LIMIT; trades already made stand.
//  - Cancel: live -> 'cancelled' (filledQty 0, remainingQty 0); unknown/dead -> 'rejected'
//    UNKNOWN_ORDER.
//  - Modify {id, price?, qty?}: unknown -> 'rejected' UNKNOWN_ORDER. Same price and new qty <= old
//    remaining: reduced in place, keeps priority, 'new', filledQty 0, remainingQty = new qty.
//    Otherwise: postOnly order whose new price would cross -> 'rejected' POST_ONLY_WOULD_CROSS and
//    the order stays exactly as it was; else it leaves the book and re-enters as a fresh gtc limit
//    (same id, side, symbol, postOnly flag) at the back of its level, possibly trading as taker.
//  - Interpretation (the semantics text leaves room): a 'rejected' report always carries
//    filledQty 0, remainingQty 0 and no trades, even when a live order with that id keeps resting.

import { afterEach, describe, expect, it } from 'vitest';
import type {
  Bbo,
  CancelOrder,
  Depth,
  ModifyOrder,
  NewOrder,
  OrderStatus,
  RejectReason,
  Report,
  RestingOrder,
  Side,
  Trade,
} from '../lib/types.js';
import { ReferenceBook } from './support/reference-model.js';

interface Book {
  submit(o: NewOrder): Report;
  cancel(c: CancelOrder): Report;
  modify(m: ModifyOrder): Report;
  addSymbol(name: string): number;
  bbo(symbol: string): Bbo;
  depth(symbol: string, levels?: number): Depth;
  order(id: number): RestingOrder | undefined;
}

interface OpenOptions {
  symbols?: string[];
  limits?: { maxOrders?: number; maxLevels?: number };
}

const TARGET = process.env.DURABOOK_TARGET === 'model' ? 'model' : 'engine';
const opened: { close(): Promise<void> }[] = [];

async function open(opts: OpenOptions = { symbols: ['AAPL', 'MSFT'] }): Promise<Book> {
  if (TARGET === 'model') return new ReferenceBook(opts);
  const { Engine } = await import('../lib/index.js');
  const e = await Engine.open(opts);
  opened.push(e);
  return e;
}

afterEach(async () => {
  for (const e of opened.splice(0)) await e.close();
});

// ---- builders ----

const S = 'AAPL';

function lim(id: number, side: Side, price: number, qty: number, extra: Partial<NewOrder> = {}): NewOrder {
  return { symbol: S, id, side, type: 'limit', price, qty, ...extra };
}

function mkt(id: number, side: Side, qty: number, extra: Partial<NewOrder> = {}): NewOrder {
  return { symbol: S, id, side, type: 'market', qty, ...extra };
}

function t(makerId: number, takerId: number, price: number, qty: number): Trade {
  return { makerId, takerId, price, qty };
}

function rep(
  seq: number,
  id: number,
  status: OrderStatus,
  filledQty: number,
  remainingQty: number,
  trades: Trade[] = [],
  reason?: RejectReason,
): Report {
  return { seq, id, status, filledQty, remainingQty, trades, reason };
}

function lvl(price: number, qty: number, orders: number) {
  return { price, qty, orders };
}

/** Asserts a report, including that `reason` is exactly what is expected (undefined included). */
function expectReport(actual: Report, expected: Report): void {
  expect(actual).toEqual(expected);
  expect(actual.reason).toBe(expected.reason);
}

/** With open() defaults (two symbols), the first command gets seq 3. */
const FIRST = 3;

// ---- tests ----

describe(`matching rules (${TARGET})`, () => {
  it('a limit order on an empty book rests: status new, visible in depth, bbo and order()', async () => {
    const b = await open();
    expectReport(b.submit(lim(1, 'buy', 100, 5)), rep(FIRST, 1, 'new', 0, 5));
    expectReport(b.submit(lim(2, 'sell', 103, 7, { tif: 'gtc', postOnly: false })), rep(FIRST + 1, 2, 'new', 0, 7));
    expect(b.depth(S)).toEqual({ bids: [lvl(100, 5, 1)], asks: [lvl(103, 7, 1)] });
    expect(b.bbo(S)).toEqual({ bid: { price: 100, qty: 5 }, ask: { price: 103, qty: 7 } });
    expect(b.order(1)).toEqual({ id: 1, symbol: S, side: 'buy', price: 100, remainingQty: 5 });
    expect(b.order(2)).toEqual({ id: 2, symbol: S, side: 'sell', price: 103, remainingQty: 7 });
    expect(b.order(3)).toBeUndefined();
    expect(b.bbo('MSFT')).toEqual({ bid: null, ask: null });
    expect(b.depth('MSFT')).toEqual({ bids: [], asks: [] });
  });

  it('depth: bids best (highest) first, asks best (lowest) first, levels aggregate, at most `levels` per side (default 10)', async () => {
    const b = await open();
    let id = 1;
    for (let p = 1; p <= 12; p++) b.submit(lim(id++, 'buy', 100 + p, p)); // bids 101..112
    for (let p = 1; p <= 12; p++) b.submit(lim(id++, 'sell', 200 + p, p)); // asks 201..212
    b.submit(lim(id++, 'buy', 112, 3));
    b.submit(lim(id++, 'sell', 201, 4));
    const d = b.depth(S);
    expect(d.bids).toHaveLength(10);
    expect(d.asks).toHaveLength(10);
    expect(d.bids[0]).toEqual(lvl(112, 15, 2));
    expect(d.bids[9]).toEqual(lvl(103, 3, 1));
    expect(d.asks[0]).toEqual(lvl(201, 5, 2));
    expect(d.asks[9]).toEqual(lvl(210, 10, 1));
    expect(b.depth(S, 2)).toEqual({ bids: [lvl(112, 15, 2), lvl(111, 11, 1)], asks: [lvl(201, 5, 2), lvl(202, 2, 1)] });
    expect(b.depth(S, 1_000_000).bids.map((l) => l.price)).toEqual([112, 111, 110, 109, 108, 107, 106, 105, 104, 103, 102, 101]);
    expect(b.bbo(S)).toEqual({ bid: { price: 112, qty: 15 }, ask: { price: 201, qty: 5 } });
  });

  it('price priority: the best opposite price trades first, whatever the arrival order', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 101, 5));
    b.submit(lim(2, 'sell', 102, 5));
    b.submit(lim(3, 'sell', 100, 5));
    expectReport(
      b.submit(lim(4, 'buy', 102, 12)),
      rep(FIRST + 3, 4, 'filled', 12, 0, [t(3, 4, 100, 5), t(1, 4, 101, 5), t(2, 4, 102, 2)]),
    );
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(102, 3, 1)] });
    expect(b.order(2)?.remainingQty).toBe(3);
    expect(b.order(1)).toBeUndefined();
    expect(b.order(3)).toBeUndefined();
    expect(b.order(4)).toBeUndefined();

    // Same on the other side: highest bid first.
    b.submit(lim(5, 'buy', 90, 1));
    b.submit(lim(6, 'buy', 92, 1));
    b.submit(lim(7, 'buy', 91, 1));
    expectReport(
      b.submit(lim(8, 'sell', 90, 3)),
      rep(FIRST + 7, 8, 'filled', 3, 0, [t(6, 8, 92, 1), t(7, 8, 91, 1), t(5, 8, 90, 1)]),
    );
  });

  it('time priority: FIFO within a level', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 3));
    b.submit(lim(2, 'sell', 100, 4));
    b.submit(lim(3, 'sell', 100, 5));
    expect(b.depth(S).asks).toEqual([lvl(100, 12, 3)]);
    expectReport(b.submit(lim(4, 'buy', 100, 8)), rep(FIRST + 3, 4, 'filled', 8, 0, [t(1, 4, 100, 3), t(2, 4, 100, 4), t(3, 4, 100, 1)]));
    expect(b.order(3)).toEqual({ id: 3, symbol: S, side: 'sell', price: 100, remainingQty: 4 });
    expect(b.depth(S).asks).toEqual([lvl(100, 4, 1)]);
    // A partially filled maker keeps its place at the front.
    b.submit(lim(5, 'sell', 100, 2));
    expectReport(b.submit(lim(6, 'buy', 100, 5)), rep(FIRST + 5, 6, 'filled', 5, 0, [t(3, 6, 100, 4), t(5, 6, 100, 1)]));
  });

  it('trades happen at the maker price, not the taker limit', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 105, 10));
    expectReport(b.submit(lim(2, 'sell', 100, 4)), rep(FIRST + 1, 2, 'filled', 4, 0, [t(1, 2, 105, 4)]));
    expectReport(b.submit(lim(3, 'sell', 95, 6)), rep(FIRST + 2, 3, 'filled', 6, 0, [t(1, 3, 105, 6)]));
    expect(b.order(1)).toBeUndefined();
    b.submit(lim(4, 'sell', 120, 2));
    expectReport(b.submit(lim(5, 'buy', 130, 2)), rep(FIRST + 4, 5, 'filled', 2, 0, [t(4, 5, 120, 2)]));
  });

  it('a crossing gtc limit fills what crosses and rests the rest: partially_filled', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 5));
    b.submit(lim(2, 'sell', 102, 5));
    expectReport(b.submit(lim(3, 'buy', 101, 8)), rep(FIRST + 2, 3, 'partially_filled', 5, 3, [t(1, 3, 100, 5)]));
    expect(b.depth(S)).toEqual({ bids: [lvl(101, 3, 1)], asks: [lvl(102, 5, 1)] });
    expect(b.order(3)).toEqual({ id: 3, symbol: S, side: 'buy', price: 101, remainingQty: 3 });
  });

  it('a limit never trades through its price', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 101, 5));
    expectReport(b.submit(lim(2, 'buy', 100, 5)), rep(FIRST + 1, 2, 'new', 0, 5));
    b.submit(lim(3, 'buy', 99, 5));
    expectReport(b.submit(lim(4, 'sell', 100, 1)), rep(FIRST + 3, 4, 'filled', 1, 0, [t(2, 4, 100, 1)]));
    expectReport(b.submit(lim(5, 'sell', 100, 9)), rep(FIRST + 4, 5, 'partially_filled', 4, 5, [t(2, 5, 100, 4)]));
    expect(b.depth(S)).toEqual({ bids: [lvl(99, 5, 1)], asks: [lvl(100, 5, 1), lvl(101, 5, 1)] });
  });

  it('market without price sweeps every level; the remainder is cancelled, filledQty tells what traded', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 2));
    b.submit(lim(2, 'sell', 105, 3));
    b.submit(lim(3, 'sell', 1_000_000, 1));
    b.submit(lim(4, 'buy', 50, 9));
    expectReport(
      b.submit(mkt(5, 'buy', 10)),
      rep(FIRST + 4, 5, 'cancelled', 6, 0, [t(1, 5, 100, 2), t(2, 5, 105, 3), t(3, 5, 1_000_000, 1)]),
    );
    expect(b.depth(S)).toEqual({ bids: [lvl(50, 9, 1)], asks: [] });
    expect(b.order(5)).toBeUndefined();
  });

  it('one taker can make thousands of trades, all reported in execution order', async () => {
    const b = await open();
    for (let i = 1; i <= 1_500; i++) b.submit(lim(i, 'sell', 100, 1));
    for (let i = 1_501; i <= 2_500; i++) b.submit(lim(i, 'sell', 101, 2));
    const expected: Trade[] = [];
    for (let i = 1; i <= 1_500; i++) expected.push(t(i, 9_999, 100, 1));
    for (let i = 1_501; i <= 2_250; i++) expected.push(t(i, 9_999, 101, 2));
    const r = b.submit(mkt(9_999, 'buy', 3_000));
    expect(r.trades).toHaveLength(2_250);
    expectReport(r, rep(FIRST + 2_500, 9_999, 'filled', 3_000, 0, expected));
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(101, 500, 250)] });
  });

  it('market fully filled: status filled', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    b.submit(lim(2, 'buy', 99, 5));
    expectReport(b.submit(mkt(3, 'sell', 7, { tif: 'ioc' })), rep(FIRST + 2, 3, 'filled', 7, 0, [t(1, 3, 100, 5), t(2, 3, 99, 2)]));
    expect(b.depth(S)).toEqual({ bids: [lvl(99, 3, 1)], asks: [] });
  });

  it('market against an empty side is cancelled with filledQty 0, not rejected', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    expectReport(b.submit(mkt(2, 'buy', 5)), rep(FIRST + 1, 2, 'cancelled', 0, 0));
    expectReport(b.submit(mkt(3, 'buy', 5, { price: 200 })), rep(FIRST + 2, 3, 'cancelled', 0, 0));
    expect(b.depth(S)).toEqual({ bids: [lvl(100, 5, 1)], asks: [] });
  });

  it('market with a protection price trades only up to that price (buy: asks <= price)', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 2));
    b.submit(lim(2, 'sell', 101, 2));
    b.submit(lim(3, 'sell', 102, 2));
    expectReport(b.submit(mkt(4, 'buy', 10, { price: 101 })), rep(FIRST + 3, 4, 'cancelled', 4, 0, [t(1, 4, 100, 2), t(2, 4, 101, 2)]));
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(102, 2, 1)] });
    // Protection price below the best ask: nothing trades.
    expectReport(b.submit(mkt(5, 'buy', 1, { price: 101 })), rep(FIRST + 4, 5, 'cancelled', 0, 0));
    // Filled within protection.
    expectReport(b.submit(mkt(6, 'buy', 2, { price: 102 })), rep(FIRST + 5, 6, 'filled', 2, 0, [t(3, 6, 102, 2)]));
  });

  it('market with a protection price trades only down to that price (sell: bids >= price)', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 50, 1));
    b.submit(lim(2, 'buy', 49, 1));
    b.submit(lim(3, 'buy', 48, 1));
    expectReport(b.submit(mkt(4, 'sell', 5, { price: 49, tif: 'ioc' })), rep(FIRST + 3, 4, 'cancelled', 2, 0, [t(1, 4, 50, 1), t(2, 4, 49, 1)]));
    expect(b.depth(S)).toEqual({ bids: [lvl(48, 1, 1)], asks: [] });
  });

  it('IOC: trades what crosses now, kills the remainder, never rests', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 3));
    b.submit(lim(2, 'sell', 101, 3));
    expectReport(b.submit(lim(3, 'buy', 100, 5, { tif: 'ioc' })), rep(FIRST + 2, 3, 'cancelled', 3, 0, [t(1, 3, 100, 3)]));
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(101, 3, 1)] });
    expectReport(b.submit(lim(4, 'buy', 100, 5, { tif: 'ioc' })), rep(FIRST + 3, 4, 'cancelled', 0, 0));
    expectReport(b.submit(lim(5, 'buy', 101, 2, { tif: 'ioc' })), rep(FIRST + 4, 5, 'filled', 2, 0, [t(2, 5, 101, 2)]));
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(101, 1, 1)] });
    expect(b.order(3)).toBeUndefined();
  });

  it('FOK fills completely when enough quantity crosses its limit', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 3));
    b.submit(lim(2, 'sell', 101, 4));
    b.submit(lim(3, 'sell', 102, 4));
    expectReport(b.submit(lim(4, 'buy', 101, 7, { tif: 'fok' })), rep(FIRST + 3, 4, 'filled', 7, 0, [t(1, 4, 100, 3), t(2, 4, 101, 4)]));
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(102, 4, 1)] });
  });

  it('FOK does nothing when not enough crosses: cancelled, filledQty 0, no trades, no reason, book unchanged', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 3));
    b.submit(lim(2, 'sell', 101, 4));
    b.submit(lim(3, 'sell', 102, 10)); // plenty, but beyond the limit
    const before = b.depth(S);
    expectReport(b.submit(lim(4, 'buy', 101, 8, { tif: 'fok' })), rep(FIRST + 3, 4, 'cancelled', 0, 0));
    expect(b.depth(S)).toEqual(before);
    expectReport(b.submit(lim(5, 'sell', 10, 1, { tif: 'fok' })), rep(FIRST + 4, 5, 'cancelled', 0, 0)); // empty side
    expect(b.depth(S)).toEqual(before);
    // Exactly enough is enough.
    expectReport(b.submit(lim(6, 'buy', 101, 7, { tif: 'fok' })), rep(FIRST + 5, 6, 'filled', 7, 0, [t(1, 6, 100, 3), t(2, 6, 101, 4)]));
  });

  it('postOnly rests when it would not cross (including an empty opposite side)', async () => {
    const b = await open();
    expectReport(b.submit(lim(1, 'buy', 100, 5, { postOnly: true })), rep(FIRST, 1, 'new', 0, 5));
    b.submit(lim(2, 'sell', 102, 5));
    expectReport(b.submit(lim(3, 'buy', 101, 5, { postOnly: true, tif: 'gtc' })), rep(FIRST + 2, 3, 'new', 0, 5));
    expectReport(b.submit(lim(4, 'sell', 102, 1, { postOnly: true })), rep(FIRST + 3, 4, 'new', 0, 1));
    expect(b.depth(S)).toEqual({ bids: [lvl(101, 5, 1), lvl(100, 5, 1)], asks: [lvl(102, 6, 2)] });
  });

  it('postOnly that would cross is rejected with POST_ONLY_WOULD_CROSS and changes nothing', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 101, 5));
    b.submit(lim(2, 'buy', 99, 5));
    expectReport(b.submit(lim(3, 'buy', 101, 5, { postOnly: true })), rep(FIRST + 2, 3, 'rejected', 0, 0, [], 'POST_ONLY_WOULD_CROSS'));
    expectReport(b.submit(lim(4, 'buy', 150, 5, { postOnly: true })), rep(FIRST + 3, 4, 'rejected', 0, 0, [], 'POST_ONLY_WOULD_CROSS'));
    expectReport(b.submit(lim(5, 'sell', 99, 5, { postOnly: true })), rep(FIRST + 4, 5, 'rejected', 0, 0, [], 'POST_ONLY_WOULD_CROSS'));
    expect(b.depth(S)).toEqual({ bids: [lvl(99, 5, 1)], asks: [lvl(101, 5, 1)] });
    expect(b.order(3)).toBeUndefined();
    // The rejected id was never live: it can be used at once.
    expectReport(b.submit(lim(3, 'buy', 100, 1, { postOnly: true })), rep(FIRST + 5, 3, 'new', 0, 1));
  });

  it('cancel of a live order: cancelled, filledQty 0, remainingQty 0, gone from the book', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    b.submit(lim(2, 'buy', 100, 6));
    b.submit(lim(3, 'buy', 99, 7));
    expectReport(b.cancel({ id: 1 }), rep(FIRST + 3, 1, 'cancelled', 0, 0));
    expect(b.order(1)).toBeUndefined();
    expect(b.depth(S).bids).toEqual([lvl(100, 6, 1), lvl(99, 7, 1)]);
    expectReport(b.cancel({ id: 3 }), rep(FIRST + 4, 3, 'cancelled', 0, 0));
    expect(b.depth(S).bids).toEqual([lvl(100, 6, 1)]);
    // A partially filled order cancels its remainder: still filledQty 0 (nothing filled by the cancel).
    b.submit(lim(4, 'sell', 100, 2));
    expectReport(b.cancel({ id: 2 }), rep(FIRST + 6, 2, 'cancelled', 0, 0));
    expect(b.depth(S)).toEqual({ bids: [], asks: [] });
  });

  it('cancel of an unknown id, of a cancelled order and of a filled order: rejected UNKNOWN_ORDER', async () => {
    const b = await open();
    expectReport(b.cancel({ id: 42 }), rep(FIRST, 42, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    b.submit(lim(1, 'buy', 100, 5));
    b.cancel({ id: 1 });
    expectReport(b.cancel({ id: 1 }), rep(FIRST + 3, 1, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    b.submit(lim(2, 'buy', 100, 5));
    b.submit(lim(3, 'sell', 100, 5));
    expectReport(b.cancel({ id: 2 }), rep(FIRST + 6, 2, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    expectReport(b.cancel({ id: 3 }), rep(FIRST + 7, 3, 'rejected', 0, 0, [], 'UNKNOWN_ORDER')); // the filled taker
    b.submit(lim(4, 'sell', 100, 5, { tif: 'ioc' })); // killed IOC
    expectReport(b.cancel({ id: 4 }), rep(FIRST + 9, 4, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    expectReport(b.cancel({ id: Number.MAX_SAFE_INTEGER }), rep(FIRST + 10, Number.MAX_SAFE_INTEGER, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
  });

  it('modify qty down at the same price: in place, keeps time priority, status new', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    b.submit(lim(2, 'buy', 100, 5));
    expectReport(b.modify({ id: 1, qty: 2 }), rep(FIRST + 2, 1, 'new', 0, 2));
    expect(b.depth(S).bids).toEqual([lvl(100, 7, 2)]);
    expect(b.order(1)?.remainingQty).toBe(2);
    expectReport(b.submit(lim(3, 'sell', 100, 3)), rep(FIRST + 3, 3, 'filled', 3, 0, [t(1, 3, 100, 2), t(2, 3, 100, 1)]));
  });

  it('modify with the same price and qty (explicitly) keeps priority; qty down after a partial fill reports new', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 100, 10));
    b.submit(lim(2, 'sell', 100, 10));
    b.submit(lim(3, 'buy', 100, 4)); // id 1 now has 6 left
    expectReport(b.modify({ id: 1, price: 100, qty: 6 }), rep(FIRST + 3, 1, 'new', 0, 6));
    expectReport(b.modify({ id: 1, price: 100 }), rep(FIRST + 4, 1, 'new', 0, 6));
    expectReport(b.modify({ id: 1, qty: 5 }), rep(FIRST + 5, 1, 'new', 0, 5));
    expectReport(b.submit(lim(4, 'buy', 100, 6)), rep(FIRST + 6, 4, 'filled', 6, 0, [t(1, 4, 100, 5), t(2, 4, 100, 1)]));
  });

  it('modify qty up loses time priority (back of the level)', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    b.submit(lim(2, 'buy', 100, 5));
    expectReport(b.modify({ id: 1, qty: 6 }), rep(FIRST + 2, 1, 'new', 0, 6));
    expect(b.depth(S).bids).toEqual([lvl(100, 11, 2)]);
    expectReport(b.submit(lim(3, 'sell', 100, 7)), rep(FIRST + 3, 3, 'filled', 7, 0, [t(2, 3, 100, 5), t(1, 3, 100, 2)]));
    expect(b.order(1)).toEqual({ id: 1, symbol: S, side: 'buy', price: 100, remainingQty: 4 });
  });

  it('modify price change loses priority, even when it comes back to the old price', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    b.submit(lim(2, 'buy', 100, 5));
    expectReport(b.modify({ id: 1, price: 99 }), rep(FIRST + 2, 1, 'new', 0, 5));
    expect(b.depth(S).bids).toEqual([lvl(100, 5, 1), lvl(99, 5, 1)]);
    expect(b.order(1)).toEqual({ id: 1, symbol: S, side: 'buy', price: 99, remainingQty: 5 });
    expectReport(b.modify({ id: 1, price: 100, qty: 3 }), rep(FIRST + 3, 1, 'new', 0, 3));
    expect(b.depth(S).bids).toEqual([lvl(100, 8, 2)]);
    expectReport(b.submit(lim(3, 'sell', 100, 6)), rep(FIRST + 4, 3, 'filled', 6, 0, [t(2, 3, 100, 5), t(1, 3, 100, 1)]));
  });

  it('modify to a crossing price trades as a taker at the makers\' prices; filledQty counts only this command', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 10));
    b.submit(lim(2, 'sell', 100, 4)); // id 1: 6 left
    b.submit(lim(3, 'sell', 102, 3));
    b.submit(lim(4, 'sell', 103, 3));
    expectReport(b.modify({ id: 1, price: 102 }), rep(FIRST + 4, 1, 'partially_filled', 3, 3, [t(3, 1, 102, 3)]));
    expect(b.depth(S)).toEqual({ bids: [lvl(102, 3, 1)], asks: [lvl(103, 3, 1)] });
    expectReport(b.modify({ id: 1, price: 103, qty: 2 }), rep(FIRST + 5, 1, 'filled', 2, 0, [t(4, 1, 103, 2)]));
    expect(b.order(1)).toBeUndefined();
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(103, 1, 1)] });
    // A sell order modified down through the bids.
    b.submit(lim(5, 'buy', 90, 2));
    b.submit(lim(6, 'sell', 95, 5));
    expectReport(b.modify({ id: 6, price: 80, qty: 8 }), rep(FIRST + 8, 6, 'partially_filled', 2, 6, [t(5, 6, 90, 2)]));
    expect(b.depth(S)).toEqual({ bids: [], asks: [lvl(80, 6, 1), lvl(103, 1, 1)] });
  });

  it('modify of an unknown, cancelled or filled id: rejected UNKNOWN_ORDER', async () => {
    const b = await open();
    expectReport(b.modify({ id: 9, qty: 1 }), rep(FIRST, 9, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    b.submit(lim(1, 'buy', 100, 5));
    b.cancel({ id: 1 });
    expectReport(b.modify({ id: 1, price: 101 }), rep(FIRST + 3, 1, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    b.submit(lim(2, 'buy', 100, 5));
    b.submit(mkt(3, 'sell', 5));
    expectReport(b.modify({ id: 2, price: 100, qty: 1 }), rep(FIRST + 6, 2, 'rejected', 0, 0, [], 'UNKNOWN_ORDER'));
    expect(b.depth(S)).toEqual({ bids: [], asks: [] });
  });

  it('modify of a postOnly order to a crossing price is rejected and leaves the order exactly as it was', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5, { postOnly: true }));
    b.submit(lim(2, 'buy', 100, 5));
    b.submit(lim(3, 'sell', 102, 5));
    expectReport(b.modify({ id: 1, price: 102 }), rep(FIRST + 3, 1, 'rejected', 0, 0, [], 'POST_ONLY_WOULD_CROSS'));
    expectReport(b.modify({ id: 1, price: 103, qty: 1 }), rep(FIRST + 4, 1, 'rejected', 0, 0, [], 'POST_ONLY_WOULD_CROSS'));
    expect(b.order(1)).toEqual({ id: 1, symbol: S, side: 'buy', price: 100, remainingQty: 5 });
    expect(b.depth(S)).toEqual({ bids: [lvl(100, 10, 2)], asks: [lvl(102, 5, 1)] });
    // Still first in its level.
    expectReport(b.submit(lim(4, 'sell', 100, 6)), rep(FIRST + 5, 4, 'filled', 6, 0, [t(1, 4, 100, 5), t(2, 4, 100, 1)]));
  });

  it('modify of a postOnly order that does not cross re-enters and stays postOnly', async () => {
    const b = await open();
    b.submit(lim(1, 'sell', 105, 5, { postOnly: true }));
    b.submit(lim(2, 'buy', 100, 5));
    expectReport(b.modify({ id: 1, price: 101, qty: 7 }), rep(FIRST + 2, 1, 'new', 0, 7));
    expect(b.order(1)).toEqual({ id: 1, symbol: S, side: 'sell', price: 101, remainingQty: 7 });
    // The flag survived the re-entry: crossing now is rejected.
    expectReport(b.modify({ id: 1, price: 100 }), rep(FIRST + 3, 1, 'rejected', 0, 0, [], 'POST_ONLY_WOULD_CROSS'));
    // Qty down in place is not a re-entry: no cross check needed, and it is allowed.
    expectReport(b.modify({ id: 1, qty: 3 }), rep(FIRST + 4, 1, 'new', 0, 3));
    expect(b.depth(S)).toEqual({ bids: [lvl(100, 5, 1)], asks: [lvl(101, 3, 1)] });
  });

  it('negative prices order, match and report like any other', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', -5, 3));
    b.submit(lim(2, 'buy', -3, 2));
    b.submit(lim(3, 'sell', -1, 4));
    b.submit(lim(4, 'sell', 2, 4));
    expect(b.depth(S)).toEqual({ bids: [lvl(-3, 2, 1), lvl(-5, 3, 1)], asks: [lvl(-1, 4, 1), lvl(2, 4, 1)] });
    expect(b.bbo(S)).toEqual({ bid: { price: -3, qty: 2 }, ask: { price: -1, qty: 4 } });
    expectReport(b.submit(lim(5, 'sell', -5, 4)), rep(FIRST + 4, 5, 'filled', 4, 0, [t(2, 5, -3, 2), t(1, 5, -5, 2)]));
    expectReport(b.submit(mkt(6, 'buy', 10, { price: 0 })), rep(FIRST + 5, 6, 'cancelled', 4, 0, [t(3, 6, -1, 4)]));
    expectReport(b.submit(lim(7, 'buy', 0, 1)), rep(FIRST + 6, 7, 'new', 0, 1));
    expectReport(b.modify({ id: 7, price: -2 }), rep(FIRST + 7, 7, 'new', 0, 1));
    expect(b.depth(S)).toEqual({ bids: [lvl(-2, 1, 1), lvl(-5, 1, 1)], asks: [lvl(2, 4, 1)] });
  });

  it('extreme safe-integer prices work at both ends', async () => {
    const b = await open();
    const MAX = Number.MAX_SAFE_INTEGER;
    const MIN = -Number.MAX_SAFE_INTEGER;
    b.submit(lim(1, 'sell', MAX, 2));
    b.submit(lim(2, 'buy', MIN, 2));
    expect(b.depth(S)).toEqual({ bids: [lvl(MIN, 2, 1)], asks: [lvl(MAX, 2, 1)] });
    expectReport(b.submit(lim(3, 'buy', MAX, 1)), rep(FIRST + 2, 3, 'filled', 1, 0, [t(1, 3, MAX, 1)]));
    expectReport(b.submit(lim(4, 'sell', MIN, 1)), rep(FIRST + 3, 4, 'filled', 1, 0, [t(2, 4, MIN, 1)]));
    expectReport(b.submit(mkt(5, 'buy', 5)), rep(FIRST + 4, 5, 'cancelled', 1, 0, [t(1, 5, MAX, 1)]));
  });

  it('many symbols: books are isolated, ids are engine-wide', async () => {
    const syms = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'];
    const b = await open({ symbols: syms.slice(0, 4) });
    expect(b.addSymbol('S4')).toBe(5);
    for (const s of syms.slice(5)) b.addSymbol(s);
    let id = 1;
    let seq = 9;
    for (const s of syms) {
      expectReport(b.submit({ symbol: s, id: id++, side: 'sell', type: 'limit', price: 100, qty: 1 }), rep(seq++, id - 1, 'new', 0, 1));
    }
    // A buy at 100 on S3 only trades with S3's ask (id 4).
    expectReport(b.submit({ symbol: 'S3', id: 100, side: 'buy', type: 'limit', price: 100, qty: 2 }), rep(seq++, 100, 'partially_filled', 1, 1, [t(4, 100, 100, 1)]));
    for (const s of syms) {
      if (s === 'S3') expect(b.depth(s)).toEqual({ bids: [lvl(100, 1, 1)], asks: [] });
      else expect(b.depth(s)).toEqual({ bids: [], asks: [lvl(100, 1, 1)] });
    }
    expect(b.order(100)?.symbol).toBe('S3');
    expect(b.order(7)?.symbol).toBe('S6');
    // A market order on a symbol whose own book is empty finds nothing, whatever the other books hold.
    expectReport(b.submit({ symbol: 'S3', id: 101, side: 'buy', type: 'market', qty: 1 }), rep(seq++, 101, 'cancelled', 0, 0));
    // Ids are unique across the engine: id 1 rests on S0, so it cannot be used on S7.
    expectReport(
      b.submit({ symbol: 'S7', id: 1, side: 'buy', type: 'limit', price: 1, qty: 1 }),
      rep(seq++, 1, 'rejected', 0, 0, [], 'DUPLICATE_ORDER_ID'),
    );
    // Cancel by id finds the order whatever its symbol.
    expectReport(b.cancel({ id: 8 }), rep(seq++, 8, 'cancelled', 0, 0));
    expect(b.depth('S7')).toEqual({ bids: [], asks: [] });
  });

  it('a live duplicate id is rejected (DUPLICATE_ORDER_ID) before anything else; ids of dead orders are reusable', async () => {
    const b = await open();
    b.submit(lim(1, 'buy', 100, 5));
    b.submit(lim(2, 'sell', 105, 5));
    const before = b.depth(S);
    // Would cross as a postOnly, would fill: the duplicate check comes first.
    expectReport(b.submit(lim(1, 'buy', 105, 5, { postOnly: true })), rep(FIRST + 2, 1, 'rejected', 0, 0, [], 'DUPLICATE_ORDER_ID'));
    expectReport(b.submit(lim(2, 'buy', 105, 5)), rep(FIRST + 3, 2, 'rejected', 0, 0, [], 'DUPLICATE_ORDER_ID'));
    expectReport(b.submit(mkt(1, 'sell', 1)), rep(FIRST + 4, 1, 'rejected', 0, 0, [], 'DUPLICATE_ORDER_ID'));
    expectReport(b.submit({ symbol: 'MSFT', id: 2, side: 'buy', type: 'limit', price: 1, qty: 1, tif: 'fok' }), rep(FIRST + 5, 2, 'rejected', 0, 0, [], 'DUPLICATE_ORDER_ID'));
    expect(b.depth(S)).toEqual(before);
    expect(b.order(1)).toEqual({ id: 1, symbol: S, side: 'buy', price: 100, remainingQty: 5 });
    // After a fill the id is free again.
    b.submit(mkt(3, 'buy', 5)); // fills id 2
    expectReport(b.submit(lim(2, 'buy', 99, 4)), rep(FIRST + 7, 2, 'new', 0, 4));
    // After a cancel too.
    b.cancel({ id: 1 });
    expectReport(b.submit(lim(1, 'sell', 101, 3)), rep(FIRST + 9, 1, 'new', 0, 3));
    // The taker id of a filled or killed order was never live: reusable at once.
    expectReport(b.submit(lim(3, 'sell', 99, 1)), rep(FIRST + 10, 3, 'filled', 1, 0, [t(2, 3, 99, 1)]));
    expect(b.depth(S)).toEqual({ bids: [lvl(99, 3, 1)], asks: [lvl(101, 3, 1)] });
  });

  it('seq: symbols of open() are 1..k, +1 per command including rejects and addSymbol', async () => {
    const b = await open({ symbols: ['A', 'B', 'C'] });
    expect(b.submit({ symbol: 'A', id: 1, side: 'buy', type: 'limit', price: 1, qty: 1 }).seq).toBe(4);
    expect(b.cancel({ id: 77 }).seq).toBe(5); // rejected
    expect(b.addSymbol('D')).toBe(6);
    expect(b.submit({ symbol: 'D', id: 1, side: 'buy', type: 'limit', price: 1, qty: 1 }).seq).toBe(7); // duplicate
    expect(b.modify({ id: 77, qty: 1 }).seq).toBe(8); // rejected
    expect(b.modify({ id: 1, qty: 1 }).seq).toBe(9);
    expect(b.submit({ symbol: 'D', id: 2, side: 'sell', type: 'market', qty: 1 }).seq).toBe(10);
    expect(b.cancel({ id: 1 }).seq).toBe(11);
    expect(b.depth('A')).toEqual({ bids: [], asks: [] }); // queries take no seq
    b.bbo('A');
    b.order(1);
    expect(b.addSymbol('E')).toBe(12);
  });

  it('seq: an engine opened without symbols starts at 1 with its first addSymbol', async () => {
    const b = await open({});
    expect(b.addSymbol('X')).toBe(1);
    expect(b.submit({ symbol: 'X', id: 1, side: 'sell', type: 'limit', price: 5, qty: 1 }).seq).toBe(2);
  });

  it.skipIf(TARGET === 'model')('seq: commands that throw get none', async () => {
    const b = await open();
    expect(b.submit(lim(1, 'buy', 100, 1)).seq).toBe(3);
    expect(() => b.submit(lim(2, 'buy', 100, 0))).toThrow();
    expect(() => b.submit({ ...lim(2, 'buy', 100, 1), symbol: 'NOPE' })).toThrow();
    expect(() => b.cancel({ id: -1 })).toThrow();
    expect(() => b.modify({ id: 1 })).toThrow();
    expect(b.cancel({ id: 1 }).seq).toBe(4);
  });

  it('ORDER_LIMIT: a remainder that would rest while maxOrders orders rest is cancelled; immediate orders still trade', async () => {
    const b = await open({ symbols: ['AAPL', 'MSFT'], limits: { maxOrders: 2 } });
    expectReport(b.submit(lim(1, 'buy', 100, 5)), rep(FIRST, 1, 'new', 0, 5));
    // The limit is engine-wide: the second resting order is on another symbol.
    expectReport(b.submit({ symbol: 'MSFT', id: 2, side: 'sell', type: 'limit', price: 50, qty: 5 }), rep(FIRST + 1, 2, 'new', 0, 5));
    expectReport(b.submit(lim(3, 'sell', 101, 5)), rep(FIRST + 2, 3, 'cancelled', 0, 0, [], 'ORDER_LIMIT'));
    expect(b.order(3)).toBeUndefined();
    expect(b.depth(S)).toEqual({ bids: [lvl(100, 5, 1)], asks: [] });
    // Joining an existing level does not help: it is about orders.
    expectReport(b.submit(lim(4, 'buy', 100, 1)), rep(FIRST + 3, 4, 'cancelled', 0, 0, [], 'ORDER_LIMIT'));
    // Orders that do not rest are unaffected.
    expectReport(b.submit(lim(5, 'sell', 100, 2, { tif: 'ioc' })), rep(FIRST + 4, 5, 'filled', 2, 0, [t(1, 5, 100, 2)]));
    // A modify that keeps the order resting is fine at the limit (the order leaves before it re-enters).
    expectReport(b.modify({ id: 1, price: 99, qty: 6 }), rep(FIRST + 5, 1, 'new', 0, 6));
    // Room again after a cancel.
    b.cancel({ id: 2 });
    expectReport(b.submit(lim(6, 'sell', 101, 5)), rep(FIRST + 7, 6, 'new', 0, 5));
  });

  it('ORDER_LIMIT is checked before LEVEL_LIMIT', async () => {
    const b = await open({ symbols: ['AAPL'], limits: { maxOrders: 2, maxLevels: 1 } });
    b.submit(lim(1, 'buy', 100, 1));
    b.submit(lim(2, 'sell', 105, 1));
    expectReport(b.submit(lim(3, 'buy', 99, 1)), rep(2 + 2, 3, 'cancelled', 0, 0, [], 'ORDER_LIMIT'));
  });

  it('LEVEL_LIMIT: a remainder needing a new level on a full side is cancelled; trades already made stand', async () => {
    const b = await open({ symbols: ['AAPL', 'MSFT'], limits: { maxLevels: 2 } });
    b.submit(lim(1, 'sell', 100, 5));
    b.submit(lim(2, 'buy', 98, 5));
    b.submit(lim(3, 'buy', 97, 5));
    expectReport(b.submit(lim(4, 'buy', 101, 8)), rep(FIRST + 3, 4, 'cancelled', 5, 0, [t(1, 4, 100, 5)], 'LEVEL_LIMIT'));
    expect(b.depth(S)).toEqual({ bids: [lvl(98, 5, 1), lvl(97, 5, 1)], asks: [] });
    expect(b.order(4)).toBeUndefined();
    expectReport(b.submit(lim(5, 'buy', 99, 1)), rep(FIRST + 4, 5, 'cancelled', 0, 0, [], 'LEVEL_LIMIT'));
    // Joining an existing level is fine, and the other side has its own count.
    expectReport(b.submit(lim(6, 'buy', 98, 1)), rep(FIRST + 5, 6, 'new', 0, 1));
    expectReport(b.submit(lim(7, 'sell', 110, 1)), rep(FIRST + 6, 7, 'new', 0, 1));
    expectReport(b.submit(lim(8, 'sell', 111, 1)), rep(FIRST + 7, 8, 'new', 0, 1));
    expectReport(b.submit(lim(9, 'sell', 112, 1)), rep(FIRST + 8, 9, 'cancelled', 0, 0, [], 'LEVEL_LIMIT'));
    // The limit is per book: another symbol has its own levels.
    for (let i = 0; i < 2; i++) {
      expectReport(b.submit({ symbol: 'MSFT', id: 20 + i, side: 'buy', type: 'limit', price: 10 + i, qty: 1 }), rep(FIRST + 9 + i, 20 + i, 'new', 0, 1));
    }
    // A modify that moves an order to a new level on a full side: it left the book, and its re-entry is cancelled.
    expectReport(b.modify({ id: 6, price: 96 }), rep(FIRST + 11, 6, 'cancelled', 0, 0, [], 'LEVEL_LIMIT'));
    expect(b.order(6)).toBeUndefined();
    expect(b.depth(S).bids).toEqual([lvl(98, 5, 1), lvl(97, 5, 1)]);
    // Emptying a level makes room.
    b.cancel({ id: 3 });
    expectReport(b.modify({ id: 2, price: 96 }), rep(FIRST + 13, 2, 'new', 0, 5));
    expectReport(b.submit(lim(10, 'buy', 99, 1)), rep(FIRST + 14, 10, 'new', 0, 1));
    expect(b.depth(S).bids).toEqual([lvl(99, 1, 1), lvl(96, 5, 1)]);
  });
});
