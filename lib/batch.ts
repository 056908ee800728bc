// The batch fast path: commands packed into a reusable Float64Array, one native call per batch,
// results read through typed accessors. No JS object is created per command or per trade.
//
// Command layout (5 numbers each; native/addon/batch.cc draws the same layout):
//   op (= kind | flags << 2), symbol index, id, price, qty
import { invalid } from './errors.js';
import type { OrderStatus, RejectReason, Side, TimeInForce } from './types.js';
import { isSafeInteger, positiveInteger, safeInteger } from './validate.js';
import { REASONS, STATUSES } from './codes.js';

const CMD_STRIDE = 5;
const MAX_INITIAL_CAPACITY = 1 << 24;
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

// The op codes of the hot paths (kind NEW = 0, so op = flags << 2), written as literals there:
//   limit gtc buy 128, sell 132 (HAS_PRICE [| SELL]); market buy 40, sell 44 (MARKET | ioc [| SELL]).

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
    // The initial room only (the batch grows as needed): bounded so that a typo cannot ask for
    // terabytes.
    if (positiveInteger(capacity, 'capacity') > MAX_INITIAL_CAPACITY) {
      throw invalid('capacity', capacity, `at most ${MAX_INITIAL_CAPACITY} (the batch grows as commands are added)`);
    }
    this.#buf = new Float64Array(CMD_STRIDE * capacity);
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

  // The hot methods check a well-formed call in one chain of inline tests and write it straight
  // into the buffer; anything else (an error, or a less common option such as an explicit tif)
  // takes the #…Slow path, which checks field by field in the documented order and names the
  // first bad field. Their bytecode is kept small (literals for the strides and op codes, no
  // default parameters) so that V8 inlines all of them into a caller's loop: TurboFan inlines
  // at most ~920 bytes of bytecode into one function.

  /** A limit order. */
  limit(symbol: number, id: number, side: Side, price: number, qty: number, tif?: TimeInForce, postOnly?: boolean): this {
    if (
      tif === undefined &&
      postOnly === undefined &&
      isSafeInteger(symbol) && symbol >>> 0 === symbol &&
      isSafeInteger(id) && id > 0 &&
      isSafeInteger(price) &&
      isSafeInteger(qty) && qty > 0
    ) {
      // Literals, not the named constants: smaller bytecode (see above). 5 = CMD_STRIDE,
      // 128/132 = OP_LIMIT_BUY/OP_LIMIT_SELL.
      const op = side === 'buy' ? 128 : side === 'sell' ? 132 : 0;
      if (op !== 0) {
        const n = this.#count;
        const k = n * 5;
        let b = this.#buf;
        if (k + 5 > b.length) b = this.#grow();
        b[k] = op;
        b[k + 1] = symbol;
        b[k + 2] = id;
        b[k + 3] = price;
        b[k + 4] = qty;
        this.#count = n + 1;
        return this;
      }
    }
    return this.#limitSlow(symbol, id, side, price, qty, tif, postOnly);
  }

  /** A market order; `protectionPrice` is an optional limit it will not trade beyond. */
  market(symbol: number, id: number, side: Side, qty: number, protectionPrice?: number): this {
    if (
      protectionPrice === undefined &&
      isSafeInteger(symbol) && symbol >>> 0 === symbol &&
      isSafeInteger(id) && id > 0 &&
      isSafeInteger(qty) && qty > 0
    ) {
      // 40/44 = OP_MARKET_BUY/OP_MARKET_SELL.
      const op = side === 'buy' ? 40 : side === 'sell' ? 44 : 0;
      if (op !== 0) {
        const n = this.#count;
        const k = n * 5;
        let b = this.#buf;
        if (k + 5 > b.length) b = this.#grow();
        b[k] = op;
        b[k + 1] = symbol;
        b[k + 2] = id;
        b[k + 3] = 0;
        b[k + 4] = qty;
        this.#count = n + 1;
        return this;
      }
    }
    return this.#marketSlow(symbol, id, side, qty, protectionPrice);
  }

  /** Cancels a resting order. */
  cancel(id: number): this {
    if (isSafeInteger(id) && id > 0) {
      const n = this.#count;
      const k = n * 5;
      let b = this.#buf;
      if (k + 5 > b.length) b = this.#grow();
      b[k] = 1; // KIND_CANCEL
      b[k + 1] = 0;
      b[k + 2] = id;
      b[k + 3] = 0;
      b[k + 4] = 0;
      this.#count = n + 1;
      return this;
    }
    return this.#cancelSlow(id);
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

  #limitSlow(symbol: number, id: number, side: Side, price: number, qty: number, tif: TimeInForce = 'gtc', postOnly = false): this {
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

  #marketSlow(symbol: number, id: number, side: Side, qty: number, protectionPrice: number | undefined): this {
    let flags = sideBit(side) | MARKET | (1 << TIF_SHIFT);
    let price = 0;
    if (protectionPrice !== undefined) {
      price = safeInteger(protectionPrice, 'price');
      flags |= HAS_PRICE;
    }
    return this.#push(KIND_NEW | (flags << 2), symbolIndex(symbol), positiveInteger(id, 'id'), price, positiveInteger(qty, 'qty'));
  }

  #cancelSlow(id: number): this {
    return this.#push(KIND_CANCEL, 0, positiveInteger(id, 'id'), 0, 0);
  }

  #grow(): Float64Array {
    const bigger = new Float64Array(this.#buf.length * 2);
    bigger.set(this.#buf);
    this.#buf = bigger;
    return bigger;
  }

  #push(op: number, symbol: number, id: number, price: number, qty: number): this {
    const n = this.#count;
    const k = n * CMD_STRIDE;
    let b = this.#buf;
    if (k + CMD_STRIDE > b.length) b = this.#grow();
    b[k] = op;
    b[k + 1] = symbol;
    b[k + 2] = id;
    b[k + 3] = price;
    b[k + 4] = qty;
    this.#count = n + 1;
    return this;
  }
}

function badIndex(i: number, count: number): never {
  throw invalid('index', i, `a command index below ${count}`);
}

function badTradeIndex(j: number, trades: number): never {
  throw invalid('trade index', j, `a trade index below ${trades}`);
}

/**
 * Results of one `submitBatch()`, read by command index i and trade index j. Reused: the next
 * submitBatch() with the same result object overwrites it.
 *
 * An index is valid when it is an integer with 0 <= i < count (0 <= j < tradeCount); any other
 * value (negative, fractional, NaN, not a number) throws INVALID_ARGUMENT. Each accessor checks
 * it with one unsigned compare: `(i >>> 0) === i` holds only for integers in [0, 2^32).
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
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return this.out[i * 6];
  }
  /** Status code: 0 new, 1 partially_filled, 2 filled, 3 cancelled, 4 rejected. */
  statusCode(i: number): number {
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return this.out[i * 6 + 1];
  }
  status(i: number): OrderStatus {
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return STATUSES[this.out[i * 6 + 1]];
  }
  reason(i: number): RejectReason | undefined {
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return REASONS[this.out[i * 6 + 2]];
  }
  filledQty(i: number): number {
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return this.out[i * 6 + 3];
  }
  remainingQty(i: number): number {
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return this.out[i * 6 + 4];
  }
  /** Trades of command i are tradeStart(i) <= j < tradeEnd(i). */
  tradeStart(i: number): number {
    if (i === 0) return 0;
    const p = i - 1;
    if ((p >>> 0) !== p || p >= this.#count) badIndex(p, this.#count);
    return this.out[p * 6 + 5];
  }
  tradeEnd(i: number): number {
    if ((i >>> 0) !== i || i >= this.#count) badIndex(i, this.#count);
    return this.out[i * 6 + 5];
  }
  makerId(j: number): number {
    if ((j >>> 0) !== j || j >= this.#trades) badTradeIndex(j, this.#trades);
    return this.tradeBuf[j * 4];
  }
  takerId(j: number): number {
    if ((j >>> 0) !== j || j >= this.#trades) badTradeIndex(j, this.#trades);
    return this.tradeBuf[j * 4 + 1];
  }
  price(j: number): number {
    if ((j >>> 0) !== j || j >= this.#trades) badTradeIndex(j, this.#trades);
    return this.tradeBuf[j * 4 + 2];
  }
  qty(j: number): number {
    if ((j >>> 0) !== j || j >= this.#trades) badTradeIndex(j, this.#trades);
    return this.tradeBuf[j * 4 + 3];
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
}
