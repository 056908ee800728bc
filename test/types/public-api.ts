// Type test of the public API, checked by `tsc -p tsconfig.test.json` (npm test), never run.
// It uses the package the way the README shows, through its own name ('durabook' resolves via
// package.json `exports`), pins the shapes users rely on with exact-type assertions, and proves
// with `@ts-expect-error` that wrong usages do not compile. If a type drifts, this file fails:
// an expectation that no longer errors is itself an error.
import {
  BatchResult,
  CommandBatch,
  DurabookError,
  Engine,
  lockMemory,
  unlockMemory,
  type Bbo,
  type Depth,
  type Durability,
  type EngineOptions,
  type ErrorCode,
  type Level,
  type MemoryLock,
  type MemoryLockMode,
  type NewOrder,
  type OrderStatus,
  type RejectReason,
  type Report,
  type RestingOrder,
  type Side,
  type SyncLatency,
  type TimeInForce,
  type Trade,
  type WalStats,
  type WalStatsOptions,
} from 'durabook';

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): void {}

// --- Shapes the README and DESIGN.md promise -------------------------------------------------

assertType<Equal<Side, 'buy' | 'sell'>>();
assertType<Equal<TimeInForce, 'gtc' | 'ioc' | 'fok'>>();
assertType<Equal<OrderStatus, 'new' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected'>>();
assertType<Equal<Durability, 'durable' | 'async' | 'none'>>();
assertType<Equal<Report['seq'], number>>();
assertType<Equal<Report['reason'], RejectReason | undefined>>();
assertType<Equal<Report['trades'], readonly Trade[]>>();
assertType<Equal<Trade, { makerId: number; takerId: number; price: number; qty: number }>>();
assertType<Equal<Level, { price: number; qty: number; orders: number }>>();
assertType<Equal<Bbo['bid'], { price: number; qty: number } | null>>();
assertType<Equal<Depth['bids'], Level[]>>();
assertType<Equal<RestingOrder['side'], Side>>();
assertType<Equal<DurabookError['code'], ErrorCode>>();
assertType<Equal<WalStats['syncNs'], SyncLatency>>();
assertType<Equal<Pick<WalStats, 'writeNs' | 'zeroFillNs' | 'producerWaitNs'>, { writeNs: number; zeroFillNs: number; producerWaitNs: number }>>();
assertType<Equal<keyof SyncLatency, 'count' | 'mean' | 'p50' | 'p99' | 'p999' | 'max' | 'timeP50' | 'timeP99'>>();
assertType<Equal<WalStatsOptions, { since?: WalStats }>>();
assertType<Equal<Parameters<Engine['walStats']>, [options?: WalStatsOptions]>>();
assertType<Equal<ReturnType<Engine['walStats']>, WalStats | undefined>>();

export function walStatsInterval(engine: Engine): void {
  const last = engine.walStats();
  if (last) {
    const s: WalStats | undefined = engine.walStats({ since: last });
    void s;
  }
  // @ts-expect-error since takes stats, not a number
  engine.walStats({ since: 5 });
}

// --- The README example ----------------------------------------------------------------------

export async function readmeExample(): Promise<void> {
  const engine: Engine = await Engine.open({ symbols: ['AAPL'] }); // in-memory
  engine.submit({ symbol: 'AAPL', id: 1, side: 'sell', type: 'limit', price: 10050, qty: 100 });
  const r = engine.submit({ symbol: 'AAPL', id: 2, side: 'buy', type: 'limit', price: 10050, qty: 40 });
  assertType<Equal<typeof r, Report>>();
  const status: OrderStatus = r.status;
  const filled: number = r.filledQty + r.remainingQty;
  for (const t of r.trades) {
    const n: number = t.makerId + t.takerId + t.price + t.qty;
    void n;
  }
  if (r.reason !== undefined) {
    const reason: RejectReason = r.reason;
    void reason;
  }
  engine.modify({ id: 1, qty: 30 }); // quantity down keeps time priority
  engine.modify({ id: 1, price: 10049 });
  const c: Report = engine.cancel({ id: 1 });
  const depth: Depth = engine.depth('AAPL', 10);
  const best: Level | undefined = depth.bids[0];
  const bbo: Bbo = engine.bbo('AAPL');
  const bid = bbo.bid?.price;
  const resting: RestingOrder | undefined = engine.order(2);
  await engine.durable(r.seq);
  await engine.close();
  void [status, filled, c, best, bid, resting];
}

// --- Durable engine options (DESIGN.md section 1) --------------------------------------------

export async function durableOptions(): Promise<void> {
  const options: EngineOptions = {
    dir: './book-data',
    durability: 'durable',
    symbols: ['AAPL', 'MSFT'],
    wal: { segmentBytes: 64 << 20, ringCapacity: 65536, asyncFlushMs: 5, asyncFlushRecords: 2000, writerCpu: null, logTrades: true },
    recovery: 'tolerate-tail',
    limits: { maxOrders: 1_000_000, maxLevels: 100_000, maxSymbols: 16 },
  };
  const engine = await Engine.open(options);
  const order: NewOrder = { symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 10050, qty: 100, tif: 'gtc', postOnly: false };
  const r = engine.submit(order);
  await engine.durable(r.seq);
  engine.submit({ symbol: 'AAPL', id: 2, side: 'sell', type: 'market', qty: 50 });
  const seq: number = engine.addSymbol('GOOG');
  await engine.close();
  void seq;
}

// --- Memory lock -------------------------------------------------------------------------------

assertType<Equal<MemoryLockMode, 'all' | 'on-fault'>>();
assertType<Equal<MemoryLock, { readonly mode: MemoryLockMode; readonly bytes: number; readonly mappings: number }>>();
export function memoryLock(): void {
  const lock: MemoryLock = lockMemory();
  lockMemory('on-fault');
  // @ts-expect-error: not a mode
  lockMemory('current');
  const none: void = unlockMemory();
  void [lock, none];
}

// --- Errors ------------------------------------------------------------------------------------

export function errors(engine: Engine): void {
  try {
    engine.submit({ symbol: 'NOPE', id: 1, side: 'buy', type: 'limit', price: 1, qty: 1 });
  } catch (err) {
    if (err instanceof DurabookError) {
      const code: ErrorCode = err.code;
      if (err.code === 'UNKNOWN_SYMBOL') void code;
      // @ts-expect-error: not an error code
      if (err.code === 'NO_SUCH_CODE') void code;
      const message: string = err.message;
      const details: Readonly<Record<string, unknown>> | undefined = err.details;
      void [message, details];
    }
  }
}

// --- Batch fast path -----------------------------------------------------------------------------

export function batch(engine: Engine): void {
  const b = new CommandBatch(1024);
  const aapl: number = engine.symbolIndex('AAPL');
  b.limit(aapl, 1, 'buy', 10050, 100).limit(aapl, 2, 'sell', 10050, 40, 'ioc').market(aapl, 3, 'sell', 10).cancel(1);
  const res: BatchResult = engine.submitBatch(b);
  for (let i = 0; i < res.count; i++) {
    const s: OrderStatus = res.status(i);
    const reason: RejectReason | undefined = res.reason(i);
    void [s, reason, res.seq(i), res.filledQty(i), res.remainingQty(i)];
  }
  // @ts-expect-error: symbols are indices in a batch, not names
  b.limit('AAPL', 1, 'buy', 10050, 100);
  // @ts-expect-error: side must be 'buy' | 'sell'
  b.market(aapl, 4, 'up', 10);
}

// --- Wrong usages that must not compile -------------------------------------------------------

export async function wrongUsages(engine: Engine): Promise<void> {
  // @ts-expect-error: side must be 'buy' | 'sell'
  engine.submit({ symbol: 'AAPL', id: 1, side: 'up', type: 'limit', price: 10050, qty: 100 });
  // @ts-expect-error: qty is required
  engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 10050 });
  // @ts-expect-error: symbol is required
  engine.submit({ id: 1, side: 'buy', type: 'limit', price: 10050, qty: 100 });
  // @ts-expect-error: no 'stop' order type
  engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'stop', price: 10050, qty: 100 });
  // @ts-expect-error: no 'day' time in force
  engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 10050, qty: 100, tif: 'day' });
  // @ts-expect-error: ids are numbers, not strings
  engine.submit({ symbol: 'AAPL', id: '1', side: 'buy', type: 'limit', price: 10050, qty: 100 });
  // @ts-expect-error: prices are integer ticks as numbers, not bigint
  engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 10050n, qty: 100 });
  // @ts-expect-error: unknown field (excess property)
  engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 10050, qty: 100, stopPrice: 1 });

  const r = engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 10050, qty: 100 });
  // @ts-expect-error: a report has no such field
  void r.fills;
  // @ts-expect-error: the status union has no 'open'
  if (r.status === 'open') void r;
  // @ts-expect-error: trades are read-only
  r.trades.push({ makerId: 1, takerId: 2, price: 1, qty: 1 });
  // @ts-expect-error: reason may be undefined
  const reason: RejectReason = r.reason;

  // @ts-expect-error: cancel takes { id }
  engine.cancel(1);
  // @ts-expect-error: id is required
  engine.cancel({});
  // @ts-expect-error: modify has no side
  engine.modify({ id: 1, side: 'sell' });
  // @ts-expect-error: the best bid may be null
  void engine.bbo('AAPL').bid.price;
  // @ts-expect-error: the order may not be resting
  void engine.order(1).remainingQty;
  // @ts-expect-error: durable() needs a seq
  await engine.durable();

  // @ts-expect-error: no 'fast' durability
  await Engine.open({ durability: 'fast' });
  // @ts-expect-error: no 'lenient' recovery
  await Engine.open({ recovery: 'lenient' });
  // @ts-expect-error: symbols is a list
  await Engine.open({ symbols: 'AAPL' });
  // @ts-expect-error: engines come from Engine.open(), the constructor is private
  new Engine({});
  void reason;
}

// @ts-expect-error: internals are not exported
import { native } from 'durabook';
// @ts-expect-error: deep imports are closed by package.json `exports`
import type { NativeAddon } from 'durabook/dist/lib/native.js';
void native;
export type { NativeAddon };
