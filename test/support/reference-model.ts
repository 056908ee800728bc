// A deliberately simple reference model of the durabook matching engine, for differential tests.
//
// Plain arrays, linear scans, no cleverness: it is meant to be read and believed, not to be fast.
// It does NOT validate: every input that reaches it must already be valid (the engine throws on
// invalid input and consumes no seq, so invalid inputs never reach the model in the tests).
//
// The semantics implemented here (decided; the native engine implements exactly this):
//  - seq: every command that passes validation gets the next sequence number, +1 each, starting
//    at 1, including commands whose report is 'rejected' and including addSymbol; the symbols
//    given to the constructor are added in order as seq 1..k.
//  - New order, checks in this order:
//      1. id of a live (resting) order -> 'rejected' DUPLICATE_ORDER_ID (ids of filled/cancelled
//         orders may be reused);
//      2. postOnly that would cross the best opposite price -> 'rejected' POST_ONLY_WOULD_CROSS;
//      3. FOK: quantity available at prices crossing the limit < qty -> 'cancelled', filledQty 0,
//         no trades, reason undefined;
//      4. match: best opposite price first, FIFO within a level, at the maker's price, while the
//         taker's limit crosses (buy: ask <= limit; sell: bid >= limit; market without price: no
//         limit; market with price: that price is the limit);
//      5. remainder: limit gtc rests ('new' if nothing filled, else 'partially_filled'); IOC, FOK
//         and market remainders are killed -> 'cancelled' (filledQty may be 0). Fully filled ->
//         'filled' with remainingQty 0.
//  - Engine limits on resting: if the remainder would rest but the engine already holds maxOrders
//    resting orders -> 'cancelled' ORDER_LIMIT; if it needs a new price level and that side of the
//    book already has maxLevels levels -> 'cancelled' LEVEL_LIMIT. Trades already made stand.
//  - Cancel: live id -> 'cancelled' (filledQty 0, remainingQty 0); otherwise 'rejected'
//    UNKNOWN_ORDER.
//  - Modify {id, price?, qty?}: unknown -> 'rejected' UNKNOWN_ORDER. newPrice = price ?? old price,
//    newQty = qty ?? old remaining. Same price and newQty <= old remaining: reduced in place, keeps
//    time priority, 'new', filledQty 0, remainingQty newQty. Otherwise: a postOnly order whose new
//    price would cross -> 'rejected' POST_ONLY_WOULD_CROSS, order untouched; else the order leaves
//    the book and re-enters as a fresh gtc limit arrival (same id, side, symbol, postOnly flag),
//    at the back of its level, possibly trading as taker.
//
// Interpretation where the semantics text leaves room: every 'rejected' report carries
// filledQty 0, remainingQty 0 and no trades ("rejected: nothing happened"), also for a modify
// rejected with POST_ONLY_WOULD_CROSS whose order keeps resting untouched, and for a duplicate id
// whose live namesake keeps resting.

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
} from '../../lib/types.js';

export interface ReferenceOptions {
  symbols?: string[];
  limits?: { maxOrders?: number; maxLevels?: number };
}

interface ModelOrder {
  id: number;
  symbol: string;
  side: Side;
  price: number;
  remaining: number;
  postOnly: boolean;
}

interface ModelLevel {
  price: number;
  /** FIFO: index 0 is the oldest order. */
  orders: ModelOrder[];
}

interface ModelBook {
  /** Best (highest) first. */
  bids: ModelLevel[];
  /** Best (lowest) first. */
  asks: ModelLevel[];
}

const NO_TRADES: readonly Trade[] = Object.freeze([]);

/** Default engine limits (lib/types.ts EngineLimits). */
const DEFAULT_MAX_ORDERS = 10_000_000;
const DEFAULT_MAX_LEVELS = 1_000_000;

function report(
  seq: number,
  id: number,
  status: OrderStatus,
  filledQty: number,
  remainingQty: number,
  trades: readonly Trade[],
  reason: RejectReason | undefined,
): Report {
  return { seq, id, status, filledQty, remainingQty, trades: trades.length === 0 ? NO_TRADES : trades, reason };
}

/** Does a level at `levelPrice` on the opposite side cross the taker's limit? No limit crosses all. */
function crosses(side: Side, limit: number | undefined, levelPrice: number): boolean {
  if (limit === undefined) return true;
  return side === 'buy' ? levelPrice <= limit : levelPrice >= limit;
}

/** Is level price `a` better than `b` for the side that rests there? */
function better(side: Side, a: number, b: number): boolean {
  return side === 'buy' ? a > b : a < b;
}

export class ReferenceBook {
  private seqNo = 0;
  private readonly books = new Map<string, ModelBook>();
  private readonly live = new Map<number, ModelOrder>();
  private readonly maxOrders: number;
  private readonly maxLevels: number;

  constructor(opts: ReferenceOptions = {}) {
    this.maxOrders = opts.limits?.maxOrders ?? DEFAULT_MAX_ORDERS;
    this.maxLevels = opts.limits?.maxLevels ?? DEFAULT_MAX_LEVELS;
    for (const s of opts.symbols ?? []) this.addSymbol(s);
  }

  get symbols(): readonly string[] {
    return [...this.books.keys()];
  }

  /** The last seq handed out (0 before any command). */
  get lastSeq(): number {
    return this.seqNo;
  }

  /** Number of resting orders in the whole model. */
  get restingCount(): number {
    return this.live.size;
  }

  addSymbol(name: string): number {
    this.books.set(name, { bids: [], asks: [] });
    return ++this.seqNo;
  }

  submit(o: NewOrder): Report {
    const seq = ++this.seqNo;
    if (this.live.has(o.id)) return report(seq, o.id, 'rejected', 0, 0, NO_TRADES, 'DUPLICATE_ORDER_ID');
    const book = this.book(o.symbol);
    const limit = o.price === undefined ? undefined : o.price + 0; // + 0 turns -0 into 0
    const opposite = o.side === 'buy' ? book.asks : book.bids;
    if (o.postOnly === true && opposite.length > 0 && crosses(o.side, limit, opposite[0]!.price)) {
      return report(seq, o.id, 'rejected', 0, 0, NO_TRADES, 'POST_ONLY_WOULD_CROSS');
    }
    const tif = o.type === 'market' ? 'ioc' : (o.tif ?? 'gtc');
    if (tif === 'fok') {
      let available = 0;
      for (const level of opposite) {
        if (!crosses(o.side, limit, level.price)) break;
        for (const m of level.orders) available += m.remaining;
      }
      if (available < o.qty) return report(seq, o.id, 'cancelled', 0, 0, NO_TRADES, undefined);
    }
    return this.enter(seq, {
      id: o.id,
      symbol: o.symbol,
      side: o.side,
      price: limit ?? 0,
      remaining: o.qty,
      postOnly: o.postOnly === true,
    }, limit, o.type === 'limit' && tif === 'gtc');
  }

  cancel(c: CancelOrder): Report {
    const seq = ++this.seqNo;
    const o = this.live.get(c.id);
    if (o === undefined) return report(seq, c.id, 'rejected', 0, 0, NO_TRADES, 'UNKNOWN_ORDER');
    this.remove(o);
    return report(seq, c.id, 'cancelled', 0, 0, NO_TRADES, undefined);
  }

  modify(m: ModifyOrder): Report {
    const seq = ++this.seqNo;
    const o = this.live.get(m.id);
    if (o === undefined) return report(seq, m.id, 'rejected', 0, 0, NO_TRADES, 'UNKNOWN_ORDER');
    const newPrice = m.price === undefined ? o.price : m.price + 0;
    const newQty = m.qty ?? o.remaining;
    if (newPrice === o.price && newQty <= o.remaining) {
      o.remaining = newQty; // in place: keeps its position in the FIFO
      return report(seq, o.id, 'new', 0, newQty, NO_TRADES, undefined);
    }
    if (o.postOnly) {
      const book = this.book(o.symbol);
      const opposite = o.side === 'buy' ? book.asks : book.bids;
      if (opposite.length > 0 && crosses(o.side, newPrice, opposite[0]!.price)) {
        return report(seq, o.id, 'rejected', 0, 0, NO_TRADES, 'POST_ONLY_WOULD_CROSS');
      }
    }
    this.remove(o);
    return this.enter(seq, { ...o, price: newPrice, remaining: newQty }, newPrice, true);
  }

  bbo(symbol: string): Bbo {
    const book = this.book(symbol);
    const top = (levels: ModelLevel[]) => {
      const l = levels[0];
      return l === undefined ? null : { price: l.price, qty: sumQty(l) };
    };
    return { bid: top(book.bids), ask: top(book.asks) };
  }

  depth(symbol: string, levels = 10): Depth {
    const book = this.book(symbol);
    const view = (ls: ModelLevel[]) =>
      ls.slice(0, levels).map((l) => ({ price: l.price, qty: sumQty(l), orders: l.orders.length }));
    return { bids: view(book.bids), asks: view(book.asks) };
  }

  order(id: number): RestingOrder | undefined {
    const o = this.live.get(id);
    if (o === undefined) return undefined;
    return { id: o.id, symbol: o.symbol, side: o.side, price: o.price, remainingQty: o.remaining };
  }

  // ---- internals ----

  private book(symbol: string): ModelBook {
    const b = this.books.get(symbol);
    if (b === undefined) throw new Error(`reference model: unknown symbol ${symbol}`);
    return b;
  }

  /**
   * An arrival (new order or re-entering modify): match against the opposite side while the limit
   * crosses, then rest the remainder if `rests`, else kill it.
   */
  private enter(seq: number, o: ModelOrder, limit: number | undefined, rests: boolean): Report {
    const book = this.book(o.symbol);
    const opposite = o.side === 'buy' ? book.asks : book.bids;
    const trades: Trade[] = [];
    const qty = o.remaining;
    while (o.remaining > 0 && opposite.length > 0 && crosses(o.side, limit, opposite[0]!.price)) {
      const level = opposite[0]!;
      while (o.remaining > 0 && level.orders.length > 0) {
        const maker = level.orders[0]!;
        const q = Math.min(o.remaining, maker.remaining);
        trades.push({ makerId: maker.id, takerId: o.id, price: level.price, qty: q });
        maker.remaining -= q;
        o.remaining -= q;
        if (maker.remaining === 0) {
          level.orders.shift();
          this.live.delete(maker.id);
        }
      }
      if (level.orders.length === 0) opposite.shift();
    }
    const filled = qty - o.remaining;
    if (o.remaining === 0) return report(seq, o.id, 'filled', filled, 0, trades, undefined);
    if (!rests) return report(seq, o.id, 'cancelled', filled, 0, trades, undefined);

    if (this.live.size >= this.maxOrders) return report(seq, o.id, 'cancelled', filled, 0, trades, 'ORDER_LIMIT');
    const own = o.side === 'buy' ? book.bids : book.asks;
    let i = 0;
    while (i < own.length && better(o.side, own[i]!.price, o.price)) i++;
    if (i < own.length && own[i]!.price === o.price) {
      own[i]!.orders.push(o);
    } else {
      if (own.length >= this.maxLevels) return report(seq, o.id, 'cancelled', filled, 0, trades, 'LEVEL_LIMIT');
      own.splice(i, 0, { price: o.price, orders: [o] });
    }
    this.live.set(o.id, o);
    return report(seq, o.id, filled === 0 ? 'new' : 'partially_filled', filled, o.remaining, trades, undefined);
  }

  private remove(o: ModelOrder): void {
    const book = this.book(o.symbol);
    const own = o.side === 'buy' ? book.bids : book.asks;
    const li = own.findIndex((l) => l.price === o.price);
    const level = own[li]!;
    level.orders.splice(level.orders.indexOf(o), 1);
    if (level.orders.length === 0) own.splice(li, 1);
    this.live.delete(o.id);
  }
}

function sumQty(l: ModelLevel): number {
  let q = 0;
  for (const o of l.orders) q += o.remaining;
  return q;
}
