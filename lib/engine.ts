// Engine: the public API over the native matching core.
//
// Per-call path: validate in JS, write the command into the shared `cmd` Float64Array, make one
// argument-free native call, read the report from `res` and build the report object here.
// No JS object is built in native code (that costs ~225 ns a time there, a few ns here).
import { DurabookError, describe, invalid } from './errors.js';
import { native, type NativeEngine, type NativeStatus } from './native.js';
import type {
  Bbo,
  CancelOrder,
  Depth,
  EngineOptions,
  Level,
  ModifyOrder,
  NewOrder,
  RecoveryReport,
  SnapshotInfo,
  WalStats,
  WalStatsOptions,
  Durability,
  Report,
  RestingOrder,
  Trade,
} from './types.js';
import { isPlainObject, isSafeInteger, object, optionalBoolean, positiveInteger, safeInteger } from './validate.js';
import { DEFAULT_LIMITS, resolveOptions, type ResolvedOptions } from './options.js';
import { recover } from './recovery.js';
import { DurableWaiters } from './waiters.js';
import { pruneAfterSnapshot, readEngineMeta, removeSnapshotTemps, snapshotName, writeEngineMeta } from './files.js';
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BatchResult, CommandBatch } from './batch.js';
import { COMMAND_ERROR_FIELDS, REASONS as REASON, STATUSES as STATUS } from './codes.js';

const INVARIANT_BROKEN = -255;
const ENGINE_FAILED = -254;

const FRESH_RECOVERY: RecoveryReport = Object.freeze({
  snapshot: null,
  snapshotsSkipped: [],
  recordsScanned: 0,
  recordsReplayed: 0,
  tradesVerified: 0,
  bytesTruncated: 0,
  tornTail: false,
  lastSeq: 0,
  dropped: null,
  durationMs: 0,
});

// NEW-record flag bits (native/core/wal_format.h): bit0 sell, bits1-2 tif, bit3 market,
// bit4 postOnly, bit5 hasPrice.
const SELL = 1;
const IOC = 1 << 1;
const FOK = 2 << 1;
const MARKET = 1 << 3;
const POST_ONLY = 1 << 4;
const HAS_PRICE = 1 << 5;

const EMPTY_TRADES: readonly Trade[] = Object.freeze([]);
// Report and trade fields are integers read from a Float64Array, which V8 hands over as heap
// numbers: a field first given one takes V8's double representation, and every report then
// allocates a box per such field. Math.trunc (identity on these values) hands V8 a small integer
// instead, so the fields keep the small-integer representation and a report allocates no boxes
// (a value of 2^31 or more is stored boxed, as before).
const int = Math.trunc;
const RES_TRADE_CAPACITY = 1024;
// The symbol cache's initial key: equal to nothing a caller can pass.
const NO_SYMBOL: unique symbol = Symbol('no symbol');

export class Engine {
  readonly #native: NativeEngine;
  // The per-command native functions (one object each, shared by every engine: a call site sees
  // one target and TurboFan calls it directly) and this engine's slot, which each call writes
  // into the addon's callSlot first.
  readonly #nativeSubmit: () => void;
  readonly #nativeCancel: () => void;
  readonly #nativeModify: () => void;
  readonly #slot: number;
  readonly #callSlot: Float64Array;
  readonly #cmd: Float64Array;
  readonly #res: Float64Array;
  readonly #resHeader: number;
  readonly #symbolIds = new Map<string, number>();
  readonly #symbols: string[] = [];
  // The last symbol looked up and its id: most callers send runs of one symbol.
  #lastSymbol: unknown = NO_SYMBOL;
  #lastSymbolId = 0;
  readonly #batchResult = new BatchResult();
  // The raw counters behind each WalStats this engine returned, for a later walStats({ since }).
  readonly #walStatsRaw = new WeakMap<object, Float64Array>();
  readonly #walStatsLength: number;
  readonly #dir: string | undefined;
  readonly #durability: Durability;
  readonly #waiters: DurableWaiters;
  #recovery: RecoveryReport = FRESH_RECOVERY;
  readonly #snapshotEvery: number;
  readonly #maxSymbols: number;
  #snapshotAt = Infinity; // seq at which the next automatic snapshot starts
  #lastSnapshot: SnapshotInfo | undefined;
  #snapshotting: Promise<void> | undefined;
  #autoSnapshotError: DurabookError | undefined;
  #walOpen = false;
  #closed = false;
  // False once closed or failed: the one test the hot paths make before #checkOpen().
  #usable = true;
  #closing: Promise<void> | undefined;
  #failure: DurabookError | undefined;

  private constructor(opts: ResolvedOptions) {
    const addon = native();
    this.#resHeader = addon.resHeader;
    this.#walStatsLength = addon.walStatsLength;
    this.#cmd = new Float64Array(8);
    this.#res = new Float64Array(this.#resHeader + 3 * RES_TRADE_CAPACITY);
    this.#native = addon.createEngine({ ...opts.limits, preciseClock: opts.preciseClock }, this.#cmd, this.#res);
    this.#nativeSubmit = this.#native.submit;
    this.#nativeCancel = this.#native.cancel;
    this.#nativeModify = this.#native.modify;
    this.#slot = this.#native.slot;
    this.#callSlot = addon.callSlot;
    this.#dir = opts.dir;
    this.#durability = opts.durability;
    this.#snapshotEvery = opts.snapshotEvery;
    this.#maxSymbols = opts.limits.maxSymbols ?? DEFAULT_LIMITS.maxSymbols;
    this.#waiters = new DurableWaiters(this.#native);
  }

  /**
   * Opens an engine. Without `dir` it is in-memory with durability 'none'. With `dir` it
   * recovers what the directory holds (newest valid snapshot, then the WAL after it) and, unless
   * durability is 'none', logs every command from then on.
   */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const opts = resolveOptions(options);
    if (opts.dir !== undefined) opts.limits = limitsForDir(opts.dir, opts.limits);
    const engine = new Engine(opts);
    try {
      return await engine.#start(opts);
    } catch (err) {
      // An open() that throws leaves nothing running: no writer thread, no open segment.
      await engine.close().catch(() => undefined);
      throw err;
    }
  }

  async #start(opts: ResolvedOptions): Promise<Engine> {
    const engine = this;
    const n = engine.#native;
    if (opts.checkInvariants) n.setCheckInvariants(true);
    if (opts.faultInjection) {
      if (!n.enableFaults) throw new DurabookError('INVALID_ARGUMENT', 'faultInjection needs a test build of the addon');
      n.enableFaults();
    }
    if (opts.crashSim) {
      const { attach, ...sim } = opts.crashSim;
      if (!n.enableCrashSim) throw new DurabookError('INVALID_ARGUMENT', 'crashSim needs a test build of the addon');
      if (!n.enableCrashSim(sim)) throw new DurabookError('INVALID_ARGUMENT', 'crashSim refused by the addon');
      attach?.(n);
    }
    if (opts.dir !== undefined) engine.#openDir(opts, opts.dir);
    for (const s of opts.symbols) if (!engine.#symbolIds.has(s)) engine.addSymbol(s);
    if (opts.snapshotEvery > 0) engine.#snapshotAt = n.lastSeq() + opts.snapshotEvery;
    return engine;
  }

  #openDir(opts: ResolvedOptions, dir: string): void {
    const n = this.#native;
    try {
      createDirDurably(dir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new DurabookError('IO_ERROR', `cannot create dir ${JSON.stringify(dir)}: ${e.code ?? e.message}`, {
        path: dir,
        code: e.code,
      });
    }
    // Before anything is logged: the limits every command of this log applies under.
    if (!readEngineMeta(dir)) writeEngineMeta(dir, { format: 1, limits: { ...DEFAULT_LIMITS, ...opts.limits } });
    removeSnapshotTemps(dir);
    const { report, native: rec } = recover(n, dir, opts.recovery);
    this.#recovery = report;
    for (const name of n.symbolNames()) {
      this.#symbolIds.set(name, this.#symbols.length);
      this.#symbols.push(name);
    }
    if (opts.durability === 'none') return;
    const w = opts.wal;
    const st = n.openWal(
      {
        dir,
        durable: opts.durability === 'durable',
        segmentBytes: w.segmentBytes,
        ringCapacity: w.ringCapacity,
        asyncFlushMs: w.asyncFlushMs,
        asyncFlushRecords: w.asyncFlushRecords,
        writerCpu: w.writerCpu ?? -1,
        logTrades: w.logTrades,
        resumeSegment: rec.resumeSegment || undefined,
        resumeOffset: rec.resumeOffset,
        nextSeq: n.lastSeq() + 1,
      },
      () => this.#onWake(),
    );
    if (!st.ok) throw ioError('cannot open the WAL', st);
    this.#walOpen = true;
  }

  /** Symbols in the order they were added. */
  get symbols(): readonly string[] {
    return this.#symbols;
  }

  /** Adds a symbol (a logged command); returns its seq. */
  addSymbol(name: string): number {
    this.#checkOpen();
    if (typeof name !== 'string' || !/^[\x21-\x7e]{1,32}$/.test(name)) {
      throw invalid('symbol', name, 'a string of 1 to 32 printable ASCII characters');
    }
    if (this.#symbolIds.has(name)) throw invalid('symbol', name, 'a symbol not added yet');
    if (this.#symbols.length >= this.#maxSymbols) {
      throw new DurabookError(
        'LIMIT_EXCEEDED',
        `cannot add symbol ${describe(name)}: the engine holds limits.maxSymbols = ${this.#maxSymbols} symbols already`,
        { field: 'limits.maxSymbols', limit: this.#maxSymbols },
      );
    }
    this.#native.addSymbol(name);
    const res = this.#res;
    if (res[1] < 0) this.#refused(res[1], { symbol: name });
    this.#symbolIds.set(name, this.#symbols.length);
    this.#symbols.push(name);
    return res[0];
  }

  // submit's hot path checks the common well-formed orders (gtc limits and unprotected market
  // orders, no options given) in one chain of inline tests; anything else, an error included,
  // takes #submitSlow, which checks field by field in the documented order and names the first
  // bad field. Its bytecode is kept small so that V8 inlines submit into a caller's loop
  // (TurboFan inlines at most ~460 bytes of bytecode per callee and ~920 into one function);
  // inlined, the order literal a caller passes need not be allocated at all.

  /** Submits a new order; returns its report. Throws DurabookError on invalid input. */
  submit(order: NewOrder): Report {
    if (this.#usable && isPlainObject(order) && order.tif === undefined && order.postOnly === undefined) {
      const sym = this.#symbolId(order.symbol);
      const id = order.id;
      const qty = order.qty;
      const side = order.side;
      // 32 = HAS_PRICE (a gtc limit), 10 = MARKET | IOC; | 1 = SELL.
      const kind = order.type === 'limit' ? 32 : order.type === 'market' && order.price === undefined ? 10 : -1;
      const flags = side === 'buy' ? kind : side === 'sell' ? kind | 1 : -1;
      if (flags >= 0 && isSafeInteger(id) && id > 0 && isSafeInteger(qty) && qty > 0) {
        const price = kind === 32 ? order.price : 0;
        if (isSafeInteger(price)) return this.#submitChecked(sym, id, price, qty, flags);
      }
    }
    return this.#submitSlow(order);
  }

  #submitSlow(order: NewOrder): Report {
    if (!this.#usable) this.#checkOpen();
    if (!isPlainObject(order)) throw invalid('order', order, 'an object');
    const sym = this.#symbolId(order.symbol);
    const id = positiveInteger(order.id, 'id');
    const qty = positiveInteger(order.qty, 'qty');
    let flags: number;
    const side = order.side;
    if (side === 'buy') flags = 0;
    else if (side === 'sell') flags = SELL;
    else throw invalid('side', side, "'buy' or 'sell'");
    let price = 0;
    const type = order.type;
    const tif = order.tif;
    const postOnly = optionalBoolean(order.postOnly, 'postOnly');
    if (type === 'limit') {
      price = safeInteger(order.price, 'price');
      flags |= HAS_PRICE;
      if (tif === 'ioc') flags |= IOC;
      else if (tif === 'fok') flags |= FOK;
      else if (tif !== undefined && tif !== 'gtc') throw invalid('tif', tif, "'gtc', 'ioc' or 'fok'");
      if (postOnly) {
        if (flags & (IOC | FOK)) throw invalid('postOnly', postOnly, "false unless tif is 'gtc'");
        flags |= POST_ONLY;
      }
    } else if (type === 'market') {
      if (tif !== undefined && tif !== 'ioc') throw invalid('tif', tif, "absent or 'ioc' on a market order");
      if (postOnly) throw invalid('postOnly', postOnly, 'false on a market order');
      flags |= MARKET | IOC;
      if (order.price !== undefined) {
        price = safeInteger(order.price, 'price');
        flags |= HAS_PRICE;
      }
    } else {
      throw invalid('type', type, "'limit' or 'market'");
    }
    return this.#submitChecked(sym, id, price, qty, flags);
  }

  #submitChecked(sym: number, id: number, price: number, qty: number, flags: number): Report {
    const cmd = this.#cmd;
    cmd[0] = sym;
    cmd[1] = id;
    cmd[2] = price;
    cmd[3] = qty;
    cmd[4] = flags;
    this.#callSlot[0] = this.#slot;
    this.#nativeSubmit();
    return this.#report(id);
  }

  /** Cancels a resting order: 'cancelled', or 'rejected' with UNKNOWN_ORDER. */
  cancel(cancel: CancelOrder): Report {
    if (!this.#usable) this.#checkOpen();
    const id = positiveInteger(object(cancel, 'cancel').id, 'id');
    this.#cmd[1] = id;
    this.#callSlot[0] = this.#slot;
    this.#nativeCancel();
    return this.#report(id);
  }

  /**
   * Modifies a resting order. `qty` is the new remaining quantity: down at the same price keeps
   * time priority; a price change or quantity up re-queues at the back and may trade.
   */
  modify(modify: ModifyOrder): Report {
    if (!this.#usable) this.#checkOpen();
    const m = object(modify, 'modify');
    const id = positiveInteger(m.id, 'id');
    let flags = 0;
    const cmd = this.#cmd;
    if (m.price !== undefined) {
      cmd[2] = safeInteger(m.price, 'price');
      flags |= 1;
    }
    if (m.qty !== undefined) {
      cmd[3] = positiveInteger(m.qty, 'qty');
      flags |= 2;
    }
    if (flags === 0) throw invalid('modify', modify, 'an object with price or qty');
    cmd[1] = id;
    cmd[4] = flags;
    this.#callSlot[0] = this.#slot;
    this.#nativeModify();
    return this.#report(id);
  }

  /** Index of a symbol, for CommandBatch. */
  symbolIndex(symbol: string): number {
    this.#checkOpen();
    return this.#symbolId(symbol);
  }

  /**
   * Applies a batch in one native call. Results land in `result` (or in an engine-owned
   * BatchResult reused by the next call). A batch with a refused command applies nothing.
   */
  submitBatch(batch: CommandBatch, result: BatchResult = this.#batchResult): BatchResult {
    this.#checkOpen();
    if (!(batch instanceof CommandBatch)) throw invalid('batch', batch, 'a CommandBatch');
    if (!(result instanceof BatchResult)) throw invalid('result', result, 'a BatchResult');
    const count = batch.length;
    result.prepare(count);
    const trades = this.#native.submitBatch(batch.buffer, count, result.out, result.tradeBuf);
    if (trades < 0) {
      if (result.out[0] === ENGINE_FAILED) this.#refused(ENGINE_FAILED, {});
      const index = -1 - trades;
      const field = COMMAND_ERROR_FIELDS[result.out[0]] ?? 'command';
      throw new DurabookError('INVALID_ARGUMENT', `batch command ${index} refused: bad ${field}`, { index, field });
    }
    if (result.ensureTrades(trades)) this.#native.copyBatchTrades(result.tradeBuf);
    if (count > 0 && result.out[(count - 1) * 6] >= this.#snapshotAt) this.#autoSnapshot();
    result.settle(count, trades);
    return result;
  }

  /** Best bid and offer. */
  bbo(symbol: string): Bbo {
    this.#checkOpen();
    this.#cmd[0] = this.#symbolId(symbol);
    this.#native.bbo();
    const r = this.#res;
    return {
      bid: r[0] ? { price: r[1], qty: r[2] } : null,
      ask: r[3] ? { price: r[4], qty: r[5] } : null,
    };
  }

  /** Top `levels` price levels per side, best first. */
  depth(symbol: string, levels = 10): Depth {
    this.#checkOpen();
    const sym = this.#symbolId(symbol);
    const n = positiveInteger(levels, 'levels');
    this.#cmd[0] = sym;
    this.#cmd[1] = n;
    const got = this.#native.depth();
    const d = got === true ? this.#res : got;
    if (!d) throw new DurabookError('INVALID_ARGUMENT', `depth(${describe(symbol)}, ${n}) refused`);
    const nb = d[0];
    const na = d[1];
    const bids: Level[] = new Array(nb);
    const asks: Level[] = new Array(na);
    let k = 2;
    for (let i = 0; i < nb; i++, k += 3) bids[i] = { price: d[k], qty: d[k + 1], orders: d[k + 2] };
    for (let i = 0; i < na; i++, k += 3) asks[i] = { price: d[k], qty: d[k + 1], orders: d[k + 2] };
    return { bids, asks };
  }

  /** A resting order by id, or undefined. */
  order(id: number): RestingOrder | undefined {
    this.#checkOpen();
    this.#cmd[1] = positiveInteger(id, 'id');
    if (!this.#native.order()) return undefined;
    const r = this.#res;
    return {
      id,
      symbol: this.#symbols[r[1]],
      side: r[2] === 0 ? 'buy' : 'sell',
      price: r[3],
      remainingQty: r[4],
    };
  }

  /** Hex digest of the whole engine state: equal digests mean equal books, queues, ids and seq. */
  digest(): string {
    this.#checkOpen();
    return this.#native.digest();
  }

  /** Sequence number of the last accepted command. */
  get lastSeq(): number {
    this.#checkOpen();
    return this.#native.lastSeq();
  }

  // Automatic snapshots: one at a time, started from the command path without waiting for it.
  #autoSnapshot(): void {
    this.#snapshotAt = Infinity;
    this.#snapshotting = this.snapshot().then(
      () => {
        this.#autoSnapshotError = undefined;
      },
      (err: unknown) => {
        this.#autoSnapshotError = err instanceof DurabookError ? err : new DurabookError('IO_ERROR', String(err));
      },
    ).finally(() => {
      if (!this.#closed) this.#snapshotAt = this.#native.lastSeq() + this.#snapshotEvery;
    });
  }

  /** The last snapshot written by snapshot() or by `snapshotEvery`, if any. */
  get lastSnapshot(): SnapshotInfo | undefined {
    return this.#lastSnapshot;
  }

  /** Why the last automatic snapshot failed, if it did (the engine keeps running: the WAL holds everything). */
  get autoSnapshotError(): DurabookError | undefined {
    return this.#autoSnapshotError;
  }

  /** @internal The native engine, for tests (fault injection). */
  get _native(): NativeEngine {
    return this.#native;
  }

  /** What open() recovered from `dir`. */
  get recovery(): RecoveryReport {
    return this.#recovery;
  }

  /** The durability mode this engine runs in. */
  get durability(): Durability {
    return this.#durability;
  }

  /**
   * WAL writer counters, or undefined without a WAL. With `since` (stats this engine returned
   * before), the counters and sync times of what happened after those stats only:
   *
   *     let last = engine.walStats();
   *     setInterval(() => { const s = engine.walStats({ since: last }); report(s); last = s; }, 60_000);
   */
  walStats(options?: WalStatsOptions): WalStats | undefined {
    let since: Float64Array | undefined;
    if (options !== undefined) {
      const earlier = object(options, 'options').since;
      if (earlier !== undefined) {
        // WeakMap.get is undefined for anything it does not hold, primitives included.
        since = this.#walStatsRaw.get(earlier as object);
        if (since === undefined) throw invalid('since', earlier, 'stats this engine\'s walStats() returned');
      }
    }
    const raw = new Float64Array(this.#walStatsLength);
    const stats = this.#native.walStats(raw, since);
    if (stats !== undefined) this.#walStatsRaw.set(stats, raw);
    return stats;
  }

  /**
   * Resolves once the command `seq` is on disk: the fdatasync that covers it has returned.
   * Resolves at once with durability 'none'. Rejects with WAL_FAILED if the WAL fails first.
   */
  durable(seq: number): Promise<void> {
    try {
      positiveInteger(seq, 'seq');
      if (this.#failure) throw this.#failure;
      if (this.#closed) {
        // After close() the log is synced to its end: what it holds is durable, nothing more comes.
        if (this.#durability !== 'none' && seq <= this.#waiters.watermark()) return Promise.resolve();
        throw new DurabookError('ENGINE_CLOSED', 'the engine is closed');
      }
      if (seq > this.#native.lastSeq()) {
        throw invalid('seq', seq, `a sequence number already assigned (last is ${this.#native.lastSeq()})`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.#walOpen) return Promise.resolve();
    return this.#waiters.wait(seq);
  }

  /**
   * Writes a snapshot of the whole engine: serialized at once (the only pause in matching),
   * then, once the WAL covers it, written to a temp file, synced, renamed into place and the
   * directory synced. Older snapshots and WAL segments no longer needed are deleted.
   */
  async snapshot(): Promise<SnapshotInfo> {
    this.#checkOpen();
    const dir = this.#dir;
    if (dir === undefined) throw new DurabookError('INVALID_ARGUMENT', 'snapshot() needs an engine opened with a dir');
    const t0 = performance.now();
    const seq = this.#native.lastSeq();
    const data = this.#native.serializeSnapshot();
    const pauseMs = performance.now() - t0;
    // The snapshot must never be ahead of the log it continues.
    if (seq > 0 && this.#walOpen) await this.#waiters.wait(seq);
    const name = snapshotName(seq);
    await new Promise<void>((resolve, reject) => {
      this.#native.writeDurableFile(dir, name, data, (err) => {
        if (err) reject(ioError('cannot write snapshot', err));
        else resolve();
      });
    });
    pruneAfterSnapshot(dir);
    const info = { seq, path: join(dir, name), bytes: data.length, pauseMs, durationMs: performance.now() - t0 };
    this.#lastSnapshot = info;
    return info;
  }

  /** Drains the WAL, syncs it, joins the writer thread; later calls throw ENGINE_CLOSED. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#usable = false;
    this.#closing = (async () => {
      // An automatic snapshot under way finishes first (it waits for the WAL to cover it).
      if (this.#snapshotting) await this.#snapshotting;
      if (!this.#walOpen) return;
      const st = this.#native.closeWal();
      this.#walOpen = false;
      if (!st.ok) this.#fail(st);
      else this.#waiters.settle();
      if (this.#failure) this.#waiters.rejectAll(this.#failure);
    })();
    return this.#closing;
  }

  #onWake(): void {
    // settle() first: it acknowledges the wake (ackWake) before it reads anything, so a failure
    // that lands after the check below finds no wake queued and queues one of its own. Checked
    // before the acknowledgement, a failure landing in between found the wake still queued, was
    // never delivered, and left every pending durable() waiting for good. What settle()
    // resolves was durable before the failure: the watermark only covers synced records.
    this.#waiters.settle();
    const err = this.#native.walError();
    if (err) this.#fail(err);
  }

  #fail(st: NativeStatus): void {
    this.#usable = false;
    if (!this.#failure) {
      this.#failure = new DurabookError('WAL_FAILED', `the WAL failed: ${st.message}`, {
        code: st.code,
        op: st.op,
        path: st.path,
      });
    }
    this.#waiters.rejectAll(this.#failure);
  }

  #checkOpen(): void {
    if (this.#closed) throw new DurabookError('ENGINE_CLOSED', 'the engine is closed');
    if (this.#failure) {
      throw new DurabookError('ENGINE_FAILED', `the engine failed and must be reopened: ${this.#failure.message}`, {
        ...this.#failure.details,
      });
    }
  }

  #symbolId(symbol: unknown): number {
    return symbol === this.#lastSymbol ? this.#lastSymbolId : this.#lookUpSymbol(symbol);
  }

  #lookUpSymbol(symbol: unknown): number {
    const s = this.#symbolIds.get(symbol as string);
    if (s !== undefined) {
      this.#lastSymbol = symbol;
      this.#lastSymbolId = s;
      return s;
    }
    if (typeof symbol !== 'string') throw invalid('symbol', symbol, 'a string');
    throw new DurabookError('UNKNOWN_SYMBOL', `symbol ${describe(symbol)} is not in this engine`, { symbol });
  }

  #report(id: number): Report {
    const r = this.#res;
    const status = r[1];
    if (status < 0) this.#refused(status, { id });
    if (r[0] >= this.#snapshotAt) this.#autoSnapshot();
    const n = r[5];
    return {
      seq: int(r[0]),
      id: int(id),
      status: STATUS[status],
      filledQty: int(r[3]),
      remainingQty: int(r[4]),
      trades: n === 0 ? EMPTY_TRADES : this.#trades(id, n),
      reason: REASON[r[2]],
    };
  }

  #trades(takerId: number, n: number): Trade[] {
    const r = this.#res;
    const base = this.#resHeader;
    const taker = int(takerId);
    if (n === 1) return [{ makerId: int(r[base]), takerId: taker, price: int(r[base + 1]), qty: int(r[base + 2]) }];
    const out: Trade[] = new Array(n);
    // Trades past the result buffer's capacity come RES_TRADE_CAPACITY at a time.
    for (let from = 0; from < n; from += RES_TRADE_CAPACITY) {
      if (from > 0) {
        this.#cmd[0] = from;
        this.#native.readTrades();
      }
      const end = Math.min(n, from + RES_TRADE_CAPACITY);
      for (let i = from, k = base; i < end; i++, k += 3) {
        out[i] = { makerId: int(r[k]), takerId: taker, price: int(r[k + 1]), qty: int(r[k + 2]) };
      }
    }
    return out;
  }

  // The native side refused a command that passed the JS checks: a bug in one of the two
  // layers, or a broken invariant in a checked (test) engine. Either way nothing was applied.
  #refused(code: number, what: Record<string, unknown>): never {
    if (code === ENGINE_FAILED) {
      const st = this.#native.walError();
      if (st) this.#fail(st);
      throw new DurabookError('ENGINE_FAILED', `the engine failed and must be reopened: ${st?.message ?? 'WAL failure'}`, {
        code: st?.code,
        op: st?.op,
        path: st?.path,
      });
    }
    if (code === INVARIANT_BROKEN) {
      throw new DurabookError('ENGINE_FAILED', `engine invariant broken: ${this.#native.checkInvariants()}`);
    }
    const field = COMMAND_ERROR_FIELDS[-code] ?? 'command';
    throw new DurabookError('INVALID_ARGUMENT', `native engine refused ${field} of ${describe(what)}`, what);
  }
}

function ioError(what: string, st: NativeStatus): DurabookError {
  return new DurabookError('IO_ERROR', `${what}: ${st.message ?? 'unknown error'}`, {
    code: st.code,
    op: st.op,
    path: st.path,
  });
}

// Creates `dir` (and missing parents) and fsyncs the parent of every directory it created, so
// that the directory itself survives a power loss, not only the files the WAL syncs in it.
function createDirDurably(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  const top = resolve(first);
  for (let d = resolve(dir); ; d = dirname(d)) {
    const fd = openSync(dirname(d), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (d === top || dirname(d) === d) break;
  }
}

// The limits an engine on `dir` runs with. They govern how commands apply (an order past a cap
// is cut), so replay must use the ones the log was written with: a directory keeps them in
// engine.json, and open() refuses different ones rather than replay into another state.
function limitsForDir(dir: string, given: ResolvedOptions['limits']): ResolvedOptions['limits'] {
  let meta;
  try {
    meta = readEngineMeta(dir);
  } catch (err) {
    throw new DurabookError('IO_ERROR', `cannot read ${join(dir, 'engine.json')}: ${(err as Error).message}`, { path: dir });
  }
  if (!meta) return given;
  for (const key of ['maxOrders', 'maxLevels', 'maxSymbols'] as const) {
    const v = given[key];
    if (v !== undefined && v !== meta.limits[key]) {
      throw new DurabookError(
        'INVALID_ARGUMENT',
        `limits.${key} must be ${meta.limits[key]} for ${JSON.stringify(dir)}, got ${v}: its log was written under that limit and replays only under it`,
        { field: `limits.${key}` },
      );
    }
  }
  return { ...meta.limits };
}
