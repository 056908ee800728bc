// Drivers: run a range of a workload through durabook's per-call API or its batch API, tallying
// what the reports say (so that every report is really read, as a caller would).
//
// The loops are deliberately plain and alike for every engine under comparison (bench/compare.ts
// runs the same shapes over other books): one order object literal per command, one call, the
// report read.
import { performance } from 'node:perf_hooks';
import { BatchResult, CommandBatch } from '../batch.js';
import type { Engine } from '../engine.js';
import type { OrderStatus, Report } from '../types.js';
import { OP_CANCEL, OP_LIMIT, type Workload } from './workload.js';

/** What the reports of a run said. `status` counts by code: new, partially_filled, filled, cancelled, rejected. */
export interface Tally {
  commands: number;
  trades: number;
  tradedQty: number;
  status: Float64Array;
}

export const STATUS_NAMES: readonly OrderStatus[] = ['new', 'partially_filled', 'filled', 'cancelled', 'rejected'];

export function newTally(): Tally {
  return { commands: 0, trades: 0, tradedQty: 0, status: new Float64Array(5) };
}

export function statusRecord(t: Tally): Record<OrderStatus, number> {
  return {
    new: t.status[0],
    partially_filled: t.status[1],
    filled: t.status[2],
    cancelled: t.status[3],
    rejected: t.status[4],
  };
}

function statusCode(s: OrderStatus): number {
  switch (s) {
    case 'new':
      return 0;
    case 'partially_filled':
      return 1;
    case 'filled':
      return 2;
    case 'cancelled':
      return 3;
    default:
      return 4;
  }
}

/** Adds one report to a tally. */
export function tallyReport(t: Tally, r: Report): void {
  t.status[statusCode(r.status)]++;
  const trades = r.trades;
  const n = trades.length;
  if (n > 0) {
    t.trades += n;
    for (let k = 0; k < n; k++) t.tradedQty += trades[k].qty;
  }
}

/** One command of the workload through the per-call API. */
export function callOne(engine: Engine, w: Workload, names: readonly string[], i: number): Report {
  const o = w.op[i];
  if (o === OP_CANCEL) return engine.cancel({ id: w.id[i] });
  if (o === OP_LIMIT) {
    return engine.submit({
      symbol: names[w.sym[i]],
      id: w.id[i],
      side: w.side[i] === 0 ? 'buy' : 'sell',
      type: 'limit',
      price: w.price[i],
      qty: w.qty[i],
    });
  }
  return engine.submit({
    symbol: names[w.sym[i]],
    id: w.id[i],
    side: w.side[i] === 0 ? 'buy' : 'sell',
    type: 'market',
    qty: w.qty[i],
  });
}

/** Commands [from, to) through the per-call API; returns the last seq. */
export function runCalls(engine: Engine, w: Workload, names: readonly string[], from: number, to: number, t: Tally): number {
  let seq = 0;
  for (let i = from; i < to; i++) {
    const r = callOne(engine, w, names, i);
    tallyReport(t, r);
    seq = r.seq;
  }
  t.commands += to - from;
  return seq;
}

/** As runCalls, recording each call's latency (ns, two timer reads around the call) into lat[i - from]. */
export function runCallsTimed(
  engine: Engine,
  w: Workload,
  names: readonly string[],
  from: number,
  to: number,
  t: Tally,
  lat: Float64Array,
): number {
  let seq = 0;
  for (let i = from; i < to; i++) {
    const t0 = performance.now();
    const r = callOne(engine, w, names, i);
    const t1 = performance.now();
    lat[i - from] = (t1 - t0) * 1e6;
    tallyReport(t, r);
    seq = r.seq;
  }
  t.commands += to - from;
  return seq;
}

/** A reusable batch driver: builds CommandBatch objects from workload ranges and reads the results. */
export class BatchDriver {
  readonly batch: CommandBatch;
  readonly result = new BatchResult();
  readonly #symbolIndex: number[];

  constructor(
    readonly engine: Engine,
    readonly w: Workload,
    names: readonly string[],
    readonly batchSize: number,
  ) {
    this.batch = new CommandBatch(batchSize);
    this.#symbolIndex = names.map((n) => engine.symbolIndex(n));
  }

  /** Commands [from, to) as one batch; returns the batch's last seq. */
  one(from: number, to: number, t: Tally): number {
    const { w, batch } = this;
    const sx = this.#symbolIndex;
    batch.clear();
    for (let i = from; i < to; i++) {
      const o = w.op[i];
      if (o === OP_CANCEL) batch.cancel(w.id[i]);
      else if (o === OP_LIMIT) batch.limit(sx[w.sym[i]], w.id[i], w.side[i] === 0 ? 'buy' : 'sell', w.price[i], w.qty[i]);
      else batch.market(sx[w.sym[i]], w.id[i], w.side[i] === 0 ? 'buy' : 'sell', w.qty[i]);
    }
    const res = this.engine.submitBatch(batch, this.result);
    const n = res.count;
    for (let k = 0; k < n; k++) t.status[res.statusCode(k)]++;
    const nt = res.tradeCount;
    t.trades += nt;
    for (let j = 0; j < nt; j++) t.tradedQty += res.qty(j);
    t.commands += n;
    return res.lastSeq;
  }

  /** Commands [from, to) in batches of batchSize; returns the last seq. */
  run(from: number, to: number, t: Tally): number {
    let seq = 0;
    for (let i = from; i < to; i += this.batchSize) seq = this.one(i, Math.min(to, i + this.batchSize), t);
    return seq;
  }

  /** As run, giving every command of a batch the batch's latency (ns) in lat[i - from]. */
  runTimed(from: number, to: number, t: Tally, lat: Float64Array): number {
    let seq = 0;
    for (let i = from; i < to; i += this.batchSize) {
      const end = Math.min(to, i + this.batchSize);
      const t0 = performance.now();
      seq = this.one(i, end, t);
      const ns = (performance.now() - t0) * 1e6;
      for (let k = i; k < end; k++) lat[k - from] = ns;
    }
    return seq;
  }
}

/** Resting orders of the engine, through the public depth() query. */
export function restingOrders(engine: Engine, names: readonly string[]): number {
  let n = 0;
  for (const s of names) {
    const d = engine.depth(s, 1_000_000_000);
    for (const l of d.bids) n += l.orders;
    for (const l of d.asks) n += l.orders;
  }
  return n;
}
