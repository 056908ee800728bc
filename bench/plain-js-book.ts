// A straightforward plain-JavaScript limit order book, as a careful JS developer would write one
// without native code: the baseline durabook's per-call API is compared against.
//
// Price-time priority, GTC limits and market orders, O(1) cancel (a Map from id to order and a
// doubly linked FIFO per level), price levels in a Map plus a sorted price array per side (best
// at the end, so the top of the book is popped and pushed in O(1)). It returns report objects of
// durabook's shape (seq, id, status, filledQty, remainingQty, trades, reason), trades included.
import type { Report, Side, Trade } from '../lib/types.js';

interface Order {
  id: number;
  side: Side;
  price: number;
  qty: number;
  level: Level;
  prev: Order | null;
  next: Order | null;
}

interface Level {
  price: number;
  qty: number;
  count: number;
  head: Order | null;
  tail: Order | null;
}

interface BookSide {
  /** Sorted so that the best price is last: ascending for bids, descending for asks. */
  prices: number[];
  levels: Map<number, Level>;
}

const NO_TRADES: readonly Trade[] = Object.freeze([]);

export class PlainJsBook {
  #seq = 0;
  readonly #orders = new Map<number, Order>();
  readonly #bids: BookSide = { prices: [], levels: new Map() };
  readonly #asks: BookSide = { prices: [], levels: new Map() };

  get resting(): number {
    return this.#orders.size;
  }

  /** A GTC limit order (price given) or a market order (price undefined). */
  submit(o: { id: number; side: Side; price?: number; qty: number }): Report {
    const seq = ++this.#seq;
    if (this.#orders.has(o.id)) {
      return { seq, id: o.id, status: 'rejected', filledQty: 0, remainingQty: 0, trades: NO_TRADES, reason: 'DUPLICATE_ORDER_ID' };
    }
    const buy = o.side === 'buy';
    const opp = buy ? this.#asks : this.#bids;
    const limit = o.price;
    let qty = o.qty;
    let trades: Trade[] | null = null;
    while (qty > 0 && opp.prices.length > 0) {
      const price = opp.prices[opp.prices.length - 1];
      if (limit !== undefined && (buy ? price > limit : price < limit)) break;
      const level = opp.levels.get(price)!;
      while (qty > 0 && level.head !== null) {
        const m = level.head;
        const q = m.qty < qty ? m.qty : qty;
        (trades ??= []).push({ makerId: m.id, takerId: o.id, price, qty: q });
        qty -= q;
        m.qty -= q;
        level.qty -= q;
        if (m.qty === 0) {
          level.head = m.next;
          if (m.next !== null) m.next.prev = null;
          else level.tail = null;
          level.count--;
          this.#orders.delete(m.id);
        }
      }
      if (level.count === 0) {
        opp.prices.pop();
        opp.levels.delete(price);
      }
    }
    const filledQty = o.qty - qty;
    const tr = trades ?? NO_TRADES;
    if (qty === 0) return { seq, id: o.id, status: 'filled', filledQty, remainingQty: 0, trades: tr, reason: undefined };
    if (limit === undefined) return { seq, id: o.id, status: 'cancelled', filledQty, remainingQty: 0, trades: tr, reason: undefined };
    this.#rest(o.id, o.side, limit, qty);
    const status = filledQty > 0 ? 'partially_filled' : 'new';
    return { seq, id: o.id, status, filledQty, remainingQty: qty, trades: tr, reason: undefined };
  }

  cancel(c: { id: number }): Report {
    const seq = ++this.#seq;
    const o = this.#orders.get(c.id);
    if (o === undefined) {
      return { seq, id: c.id, status: 'rejected', filledQty: 0, remainingQty: 0, trades: NO_TRADES, reason: 'UNKNOWN_ORDER' };
    }
    this.#orders.delete(c.id);
    const level = o.level;
    if (o.prev !== null) o.prev.next = o.next;
    else level.head = o.next;
    if (o.next !== null) o.next.prev = o.prev;
    else level.tail = o.prev;
    level.qty -= o.qty;
    if (--level.count === 0) {
      const side = o.side === 'buy' ? this.#bids : this.#asks;
      side.levels.delete(level.price);
      side.prices.splice(this.#position(side.prices, level.price, o.side === 'buy'), 1);
    }
    return { seq, id: c.id, status: 'cancelled', filledQty: 0, remainingQty: 0, trades: NO_TRADES, reason: undefined };
  }

  #rest(id: number, side: Side, price: number, qty: number): void {
    const buy = side === 'buy';
    const s = buy ? this.#bids : this.#asks;
    let level = s.levels.get(price);
    if (level === undefined) {
      level = { price, qty: 0, count: 0, head: null, tail: null };
      s.levels.set(price, level);
      s.prices.splice(this.#position(s.prices, price, buy), 0, price);
    }
    const o: Order = { id, side, price, qty, level, prev: level.tail, next: null };
    if (level.tail !== null) level.tail.next = o;
    else level.head = o;
    level.tail = o;
    level.qty += qty;
    level.count++;
    this.#orders.set(id, o);
  }

  // Index of `price` in (or where it goes into) a side's sorted prices: binary search.
  #position(prices: number[], price: number, ascending: boolean): number {
    let lo = 0;
    let hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ascending ? prices[mid] < price : prices[mid] > price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
