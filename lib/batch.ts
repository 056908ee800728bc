// The batch fast path: commands packed into a reusable Float64Array, one native call per batch,
// results read through typed accessors. No JS object is created per command or per trade.
//
// Command layout (5 numbers each; native/addon/batch.cc draws the same layout):
//   op (= kind | flags << 2), symbol index, id, price, qty
import { invalid } from './errors.js';
import type { OrderStatus, RejectReason, Side, TimeInForce } from './types.js';
import { positiveInteger, safeInteger } from './validate.js';
import { REASONS, STATUSES } from './codes.js';

const CMD_STRIDE = 5;
const OUT_STRIDE = 6;
const TRADE_STRIDE = 4;

const KIND_NEW = 0;
const KIND_CANCEL = 1;
const KIND_MODIFY = 2;

// NEW flag bits, as in the WAL record (native/core/wal_format.h).
const SELL = 1;
const TIF_SHIFT = 1;
const MARKET = 1 << 3;
const POST_ONLY = 1 << 4;
const HAS_PRICE = 1 << 5;

function sideBit(side: Side): number {
  if (side === 'buy') return 0;
  if (side === 'sell') return SELL;
  throw invalid('side', side, "'buy' or 'sell'");
}

function symbolIndex(symbol: number): number {
  if (typeof symbol !== 'number' || !Number.isInteger(symbol) || symbol < 0 || symbol > 0xffffffff) {
    throw invalid('symbol', symbol, 'a symbol index from engine.symbolIndex()');
  }
  return symbol;
}

/**
 * A reusable batch of commands for `engine.submitBatch()`. Symbols are given by index
 * (`engine.symbolIndex(name)`). Each method checks its arguments and throws
 * INVALID_ARGUMENT at once, so a built batch holds only well-formed commands.
 */
export class CommandBatch {
  #buf: Float64Array;
  #count = 0;

  constructor(capacity = 1024) {
    this.#buf = new Float64Array(CMD_STRIDE * positiveInteger(capacity, 'capacity'));
  }

  /** Number of commands in the batch. */
  get length(): number {
    return this.#count;
  }

  /** Empties the batch, keeping its buffer. */
  clear(): this {
    this.#count = 0;
    return this;
  }

  /** A limit order. */
  limit(symbol: number, id: number, side: Side, price: number, qty: number, tif: TimeInForce = 'gtc', postOnly = false): this {
    let flags = sideBit(side) | HAS_PRICE;
    if (tif === 'ioc') flags |= 1 << TIF_SHIFT;
    else if (tif === 'fok') flags |= 2 << TIF_SHIFT;
    else if (tif !== 'gtc') throw invalid('tif', tif, "'gtc', 'ioc' or 'fok'");
    if (postOnly === true) {
      if (tif !== 'gtc') throw invalid('postOnly', postOnly, "false unless tif is 'gtc'");
      flags |= POST_ONLY;
    } else if (postOnly !== false) {
      throw invalid('postOnly', postOnly, 'a boolean');
    }
    return this.#push(KIND_NEW | (flags << 2), symbolIndex(symbol), positiveInteger(id, 'id'), safeInteger(price, 'price'), positiveInteger(qty, 'qty'));
  }

  /** A market order; `protectionPrice` is an optional limit it will not trade beyond. */
  market(symbol: number, id: number, side: Side, qty: number, protectionPrice?: number): this {
    let flags = sideBit(side) | MARKET | (1 << TIF_SHIFT);
    let price = 0;
    if (protectionPrice !== undefined) {
      price = safeInteger(protectionPrice, 'price');
      flags |= HAS_PRICE;
    }
    return this.#push(KIND_NEW | (flags << 2), symbolIndex(symbol), positiveInteger(id, 'id'), price, positiveInteger(qty, 'qty'));
  }

  /** Cancels a resting order. */
  cancel(id: number): this {
    return this.#push(KIND_CANCEL, 0, positiveInteger(id, 'id'), 0, 0);
  }

  /** Modifies a resting order (`qty` is the new remaining quantity); give price, qty or both. */
  modify(id: number, price: number | undefined, qty: number | undefined): this {
    let flags = 0;
    let p = 0;
    let q = 0;
    if (price !== undefined) {
      p = safeInteger(price, 'price');
      flags |= 1;
    }
    if (qty !== undefined) {
      q = positiveInteger(qty, 'qty');
      flags |= 2;
    }
    if (flags === 0) throw invalid('modify', { price, qty }, 'price or qty');
    return this.#push(KIND_MODIFY | (flags << 2), 0, positiveInteger(id, 'id'), p, q);
  }

  /** @internal The packed commands (read by Engine.submitBatch). */
  get buffer(): Float64Array {
    return this.#buf;
  }

  #push(op: number, symbol: number, id: number, price: number, qty: number): this {
    let k = this.#count * CMD_STRIDE;
    if (k + CMD_STRIDE > this.#buf.length) {
      const bigger = new Float64Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const b = this.#buf;
    b[k++] = op;
    b[k++] = symbol;
    b[k++] = id;
    b[k++] = price;
    b[k] = qty;
    this.#count++;
    return this;
  }
}

/**
 * Results of one `submitBatch()`, read by command index i and trade index j. Reused: the next
 * submitBatch() with the same result object overwrites it.
 */
export class BatchResult {
  /** @internal */ out = new Float64Array(OUT_STRIDE * 1024);
  /** @internal */ tradeBuf = new Float64Array(TRADE_STRIDE * 4096);
  #count = 0;
  #trades = 0;

  /** Number of commands reported. */
  get count(): number {
    return this.#count;
  }
  /** Total trades of the batch. */
  get tradeCount(): number {
    return this.#trades;
  }
  /** Sequence number of the batch's last command: await engine.durable(lastSeq) for all of it. */
  get lastSeq(): number {
    return this.#count === 0 ? 0 : this.out[(this.#count - 1) * OUT_STRIDE];
  }
  seq(i: number): number {
    return this.out[this.#at(i)];
  }
  /** Status code: 0 new, 1 partially_filled, 2 filled, 3 cancelled, 4 rejected. */
  statusCode(i: number): number {
    return this.out[this.#at(i) + 1];
  }
  status(i: number): OrderStatus {
    return STATUSES[this.out[this.#at(i) + 1]];
  }
  reason(i: number): RejectReason | undefined {
    return REASONS[this.out[this.#at(i) + 2]];
  }
  filledQty(i: number): number {
    return this.out[this.#at(i) + 3];
  }
  remainingQty(i: number): number {
    return this.out[this.#at(i) + 4];
  }
  /** Trades of command i are tradeStart(i) <= j < tradeEnd(i). */
  tradeStart(i: number): number {
    return i === 0 ? 0 : this.out[this.#at(i - 1) + 5];
  }
  tradeEnd(i: number): number {
    return this.out[this.#at(i) + 5];
  }
  makerId(j: number): number {
    return this.tradeBuf[this.#trade(j)];
  }
  takerId(j: number): number {
    return this.tradeBuf[this.#trade(j) + 1];
  }
  price(j: number): number {
    return this.tradeBuf[this.#trade(j) + 2];
  }
  qty(j: number): number {
    return this.tradeBuf[this.#trade(j) + 3];
  }

  /** @internal Makes room for `count` commands before a native call. */
  prepare(count: number): void {
    if (this.out.length < count * OUT_STRIDE) this.out = new Float64Array(count * OUT_STRIDE * 2);
    this.#count = 0;
    this.#trades = 0;
  }
  /** @internal Makes room for `trades` trades; returns true when the buffer was replaced. */
  ensureTrades(trades: number): boolean {
    if (this.tradeBuf.length >= trades * TRADE_STRIDE) return false;
    this.tradeBuf = new Float64Array(trades * TRADE_STRIDE * 2);
    return true;
  }
  /** @internal */
  settle(count: number, trades: number): void {
    this.#count = count;
    this.#trades = trades;
  }

  #at(i: number): number {
    if (!(i >= 0 && i < this.#count)) throw invalid('index', i, `a command index below ${this.#count}`);
    return i * OUT_STRIDE;
  }
  #trade(j: number): number {
    if (!(j >= 0 && j < this.#trades)) throw invalid('trade index', j, `a trade index below ${this.#trades}`);
    return j * TRADE_STRIDE;
  }
}
