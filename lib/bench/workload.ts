// Benchmark workloads: a seeded generator and the CSV workload format of DESIGN.md §5.
//
// A workload is a struct of typed arrays (one entry per command), so that drivers read it with
// no allocation and every engine under comparison sees exactly the same commands:
//
//   op     OP_LIMIT (GTC limit) | OP_CANCEL | OP_MARKET
//   side   0 buy, 1 sell (unused for cancels)
//   sym    symbol index (0 .. symbols-1; a CSV workload has one symbol)
//   id     order id; market orders get a fresh id too ("the replaying tool gives it a fresh id")
//   price  limit price in ticks (0 for cancels and market orders)
//   qty    lots (0 for cancels)
//
// The first `warmup` commands build the book (passive limits only) and are not measured.
//
// The generator keeps a small book simulation of its own (price-time matching, the semantics of
// DESIGN.md §2) so that cancels name orders that are really live, and so that it can hold the
// book at a steady size: the share of aggressive limits rises when the book is larger than the
// target and falls when it is smaller. Default mix: 70% GTC limits (about a third of them priced
// at or through the opposite best), 20% cancels of live orders, 10% market orders; sizes 1-100;
// prices within ±50 ticks of the mid.
import { readFileSync } from 'node:fs';

export const OP_LIMIT = 0;
export const OP_CANCEL = 1;
export const OP_MARKET = 2;

export interface Workload {
  /** Total commands, warmup included. */
  readonly count: number;
  /** Leading commands that build the book and are not measured. */
  readonly warmup: number;
  /** Number of symbols the commands use (indices 0 .. symbols-1). */
  readonly symbols: number;
  readonly op: Uint8Array;
  readonly side: Uint8Array;
  readonly sym: Uint32Array;
  readonly id: Float64Array;
  readonly price: Float64Array;
  readonly qty: Float64Array;
  /** Where it came from: 'generated' or the file path. */
  readonly source: string;
  /** Generator parameters (absent for files). */
  readonly params?: Readonly<Required<GenerateOptions>>;
}

export interface GenerateOptions {
  /** Measured commands. Default 1,000,000. */
  ops?: number;
  seed?: number;
  symbols?: number;
  /** Resting orders the generator holds the book at (all symbols together). Default 10,000. */
  restingTarget?: number;
  /** Warmup commands (passive limits) before the measured ones. Default = restingTarget. */
  warmup?: number;
  /** Mid price in ticks; every price is within ±50 ticks of it. Default 10,000. */
  mid?: number;
  /** Shares of the measured commands; the rest are GTC limits. Defaults 0.2 and 0.1. */
  cancelShare?: number;
  marketShare?: number;
  /** Baseline share of limits priced at or through the opposite best. Default 1/3. */
  aggressiveShare?: number;
}

export const DEFAULT_OPS = 1_000_000;
export const DEFAULT_SEED = 1;
const BAND = 50;

/** mulberry32: small, fast, well-known; floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkCount(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

function checkShare(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  return v;
}

// One side of one symbol in the generator's simulation: FIFO queues of ids per price offset
// (lazily compacted), total quantity per offset, and the best offset.
class SimSide {
  readonly queues: number[][] = [];
  readonly heads = new Int32Array(2 * BAND + 1);
  readonly totals = new Float64Array(2 * BAND + 1);
  constructor() {
    for (let i = 0; i <= 2 * BAND; i++) this.queues.push([]);
  }
}

/** Generates a seeded workload; the same options always give the same commands. */
export function generateWorkload(options: GenerateOptions = {}): Workload {
  const ops = checkCount('ops', options.ops ?? DEFAULT_OPS, 1);
  const seed = options.seed ?? DEFAULT_SEED;
  const symbols = checkCount('symbols', options.symbols ?? 1, 1);
  const restingTarget = checkCount('restingTarget', options.restingTarget ?? 10_000, 1);
  const warmup = checkCount('warmup', options.warmup ?? restingTarget, 0);
  const mid = options.mid ?? 10_000;
  if (!Number.isSafeInteger(mid) || Math.abs(mid) > Number.MAX_SAFE_INTEGER - 2 * BAND) {
    throw new RangeError(`mid must be a safe integer, got ${mid}`);
  }
  const cancelShare = checkShare('cancelShare', options.cancelShare ?? 0.2);
  const marketShare = checkShare('marketShare', options.marketShare ?? 0.1);
  const aggressiveShare = checkShare('aggressiveShare', options.aggressiveShare ?? 1 / 3);
  if (cancelShare + marketShare > 1) throw new RangeError('cancelShare + marketShare must be <= 1');
  const params = { ops, seed, symbols, restingTarget, warmup, mid, cancelShare, marketShare, aggressiveShare };

  const count = warmup + ops;
  const op = new Uint8Array(count);
  const side = new Uint8Array(count);
  const sym = new Uint32Array(count);
  const id = new Float64Array(count);
  const price = new Float64Array(count);
  const qty = new Float64Array(count);

  const rnd = mulberry32(seed);
  const lo = mid - BAND;
  // Simulation state. Ids are 1..count (at most one new id per command).
  const liveQty = new Float64Array(count + 1); // remaining qty of a live order, 0 otherwise
  const livePos = new Int32Array(count + 1); // index in `live`
  const live = new Float64Array(count); // ids of live orders, for uniform random cancels
  let liveN = 0;
  const orderSide = new Uint8Array(count + 1);
  const orderSym = new Uint32Array(count + 1);
  const orderOff = new Uint8Array(count + 1);
  const books: [SimSide, SimSide][] = [];
  for (let s = 0; s < symbols; s++) books.push([new SimSide(), new SimSide()]);
  let nextId = 1;

  const removeLive = (oid: number): void => {
    const p = livePos[oid];
    const last = live[--liveN];
    live[p] = last;
    livePos[last] = p;
    liveQty[oid] = 0;
  };
  // Best offset of a side (bids: highest offset with quantity; asks: lowest), or -1.
  const best = (b: SimSide, s: number): number => {
    if (s === 0) {
      for (let o = 2 * BAND; o >= 0; o--) if (b.totals[o] > 0) return o;
    } else {
      for (let o = 0; o <= 2 * BAND; o++) if (b.totals[o] > 0) return o;
    }
    return -1;
  };
  // Matches a taker against the opposite side up to limit offset `lim` (-1: no limit).
  const match = (s: number, takerSide: number, q: number, lim: number): number => {
    const opp = books[s][1 - takerSide];
    while (q > 0) {
      const o = best(opp, 1 - takerSide);
      if (o < 0) break;
      if (lim >= 0 && (takerSide === 0 ? o > lim : o < lim)) break;
      const queue = opp.queues[o];
      let h = opp.heads[o];
      while (q > 0 && h < queue.length) {
        const m = queue[h];
        const mq = liveQty[m];
        if (mq === 0) {
          h++;
          continue;
        }
        const t = mq < q ? mq : q;
        q -= t;
        opp.totals[o] -= t;
        if (t === mq) {
          removeLive(m);
          h++;
        } else {
          liveQty[m] = mq - t;
        }
      }
      if (h >= queue.length) {
        queue.length = 0;
        h = 0;
      }
      opp.heads[o] = h;
    }
    return q;
  };
  const rest = (s: number, sd: number, oid: number, off: number, q: number): void => {
    const b = books[s][sd];
    const queue = b.queues[off];
    let h = b.heads[off];
    if (h > 64 && h * 2 > queue.length) {
      queue.splice(0, h);
      h = 0;
      b.heads[off] = 0;
    }
    queue.push(oid);
    b.totals[off] += q;
    liveQty[oid] = q;
    orderSide[oid] = sd;
    orderSym[oid] = s;
    orderOff[oid] = off;
    livePos[oid] = liveN;
    live[liveN++] = oid;
  };
  // Passive price offset: the touch side of the mid, geometric-ish distance (mean ~6 ticks),
  // so that the levels near the top hold hundreds of orders.
  const passiveOffset = (sd: number): number => {
    let d = Math.floor(-Math.log(1 - rnd()) * 6);
    if (d > BAND - 1) d = BAND - 1;
    return sd === 0 ? BAND - 1 - d : BAND + 1 + d;
  };
  const limit = (i: number, s: number, sd: number, off: number): void => {
    const oid = nextId++;
    const q = 1 + Math.floor(rnd() * 100);
    op[i] = OP_LIMIT;
    side[i] = sd;
    sym[i] = s;
    id[i] = oid;
    price[i] = lo + off;
    qty[i] = q;
    const left = match(s, sd, q, off);
    if (left > 0) rest(s, sd, oid, off, left);
  };

  for (let i = 0; i < warmup; i++) {
    const s = symbols === 1 ? 0 : Math.floor(rnd() * symbols);
    const sd = rnd() < 0.5 ? 0 : 1;
    limit(i, s, sd, passiveOffset(sd));
  }
  for (let i = warmup; i < count; i++) {
    const r = rnd();
    if (r < cancelShare && liveN > 0) {
      const oid = live[Math.floor(rnd() * liveN)];
      const b = books[orderSym[oid]][orderSide[oid]];
      b.totals[orderOff[oid]] -= liveQty[oid];
      removeLive(oid);
      op[i] = OP_CANCEL;
      id[i] = oid;
      sym[i] = orderSym[oid];
      side[i] = orderSide[oid];
      continue;
    }
    const s = symbols === 1 ? 0 : Math.floor(rnd() * symbols);
    const sd = rnd() < 0.5 ? 0 : 1;
    if (r < cancelShare + marketShare) {
      const oid = nextId++;
      const q = 1 + Math.floor(rnd() * 100);
      op[i] = OP_MARKET;
      side[i] = sd;
      sym[i] = s;
      id[i] = oid;
      qty[i] = q;
      match(s, sd, q, -1);
      continue;
    }
    // Steady size: more crossing when the book is above target, less when below.
    let pAggr = aggressiveShare + (aggressiveShare * (liveN - restingTarget)) / restingTarget;
    if (pAggr < 0.05) pAggr = 0.05;
    else if (pAggr > 0.9) pAggr = 0.9;
    let off: number;
    if (rnd() < pAggr) {
      // At or up to two ticks through the opposite best (at the mid when that side is empty).
      const ob = best(books[s][1 - sd], 1 - sd);
      const k = Math.floor(rnd() * 3);
      if (sd === 0) off = ob < 0 ? BAND : Math.min(2 * BAND, ob + k);
      else off = ob < 0 ? BAND : Math.max(0, ob - k);
    } else {
      off = passiveOffset(sd);
    }
    limit(i, s, sd, off);
  }
  return { count, warmup, symbols, op, side, sym, id, price, qty, source: 'generated', params };
}

/** A bad row in a workload file: the message names the 1-based line number. */
export class WorkloadError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'WorkloadError';
  }
}

const INT = /^-?\d+$/;

/**
 * Parses the CSV workload format of DESIGN.md §5. Header `op,id,side,price,qty`, then rows
 *   L,<id>,<B|S>,<price>,<qty>   C,<id>,,,   M,,<B|S>,,<qty>
 * Blank lines are skipped. Market orders get fresh ids above every limit id in the file.
 */
export function parseWorkloadCsv(text: string, file = '<workload>', warmup = 0): Workload {
  const lines = text.split('\n');
  let n = 0;
  const rows: number[] = []; // line index of each command
  let header = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '') continue;
    if (header < 0) {
      header = i;
      if (l.replace(/\s+/g, '') !== 'op,id,side,price,qty') {
        throw new WorkloadError(file, i + 1, `expected the header "op,id,side,price,qty", got ${JSON.stringify(l.slice(0, 60))}`);
      }
      continue;
    }
    rows.push(i);
    n++;
  }
  if (header < 0) throw new WorkloadError(file, 1, 'empty file: expected the header "op,id,side,price,qty"');
  if (!Number.isSafeInteger(warmup) || warmup < 0 || warmup > n) {
    throw new RangeError(`warmup must be an integer in [0, ${n}], got ${warmup}`);
  }
  const op = new Uint8Array(n);
  const side = new Uint8Array(n);
  const sym = new Uint32Array(n);
  const id = new Float64Array(n);
  const price = new Float64Array(n);
  const qty = new Float64Array(n);
  let maxId = 0;
  const int = (line: number, field: string, s: string, min: number): number => {
    const t = s.trim();
    const v = INT.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(v) || v < min) {
      const want = min > 0 ? 'a positive safe integer' : 'a safe integer';
      throw new WorkloadError(file, line, `${field} must be ${want}, got ${JSON.stringify(s)}`);
    }
    return v;
  };
  const sideOf = (line: number, s: string): number => {
    const t = s.trim();
    if (t === 'B') return 0;
    if (t === 'S') return 1;
    throw new WorkloadError(file, line, `side must be B or S, got ${JSON.stringify(s)}`);
  };
  const empty = (line: number, field: string, s: string, what: string): void => {
    if (s.trim() !== '') throw new WorkloadError(file, line, `${field} must be empty on ${what}, got ${JSON.stringify(s)}`);
  };
  for (let k = 0; k < n; k++) {
    const line = rows[k] + 1;
    const f = lines[rows[k]].trim().split(',');
    if (f.length !== 5) throw new WorkloadError(file, line, `expected 5 fields (op,id,side,price,qty), got ${f.length}`);
    const o = f[0].trim();
    if (o === 'L') {
      op[k] = OP_LIMIT;
      id[k] = int(line, 'id', f[1], 1);
      side[k] = sideOf(line, f[2]);
      price[k] = int(line, 'price', f[3], -Number.MAX_SAFE_INTEGER);
      qty[k] = int(line, 'qty', f[4], 1);
      if (id[k] > maxId) maxId = id[k];
    } else if (o === 'C') {
      op[k] = OP_CANCEL;
      id[k] = int(line, 'id', f[1], 1);
      empty(line, 'side', f[2], 'a cancel');
      empty(line, 'price', f[3], 'a cancel');
      empty(line, 'qty', f[4], 'a cancel');
    } else if (o === 'M') {
      op[k] = OP_MARKET;
      empty(line, 'id', f[1], 'a market order (the replay gives it a fresh id)');
      side[k] = sideOf(line, f[2]);
      empty(line, 'price', f[3], 'a market order');
      qty[k] = int(line, 'qty', f[4], 1);
    } else {
      throw new WorkloadError(file, line, `op must be L, C or M, got ${JSON.stringify(f[0])}`);
    }
  }
  let fresh = maxId;
  for (let k = 0; k < n; k++) {
    if (op[k] !== OP_MARKET) continue;
    if (++fresh > Number.MAX_SAFE_INTEGER) throw new WorkloadError(file, rows[k] + 1, 'no fresh id left for a market order');
    id[k] = fresh;
  }
  return { count: n, warmup, symbols: 1, op, side, sym, id, price, qty, source: file };
}

export function readWorkloadFile(path: string, warmup = 0): Workload {
  return parseWorkloadCsv(readFileSync(path, 'utf8'), path, warmup);
}

/** The workload as CSV (DESIGN.md §5). Symbols are dropped: the format has a single book. */
export function workloadToCsv(w: Workload): string {
  const parts: string[] = ['op,id,side,price,qty\n'];
  let chunk = '';
  for (let i = 0; i < w.count; i++) {
    const s = w.side[i] === 0 ? 'B' : 'S';
    if (w.op[i] === OP_LIMIT) chunk += `L,${w.id[i]},${s},${w.price[i]},${w.qty[i]}\n`;
    else if (w.op[i] === OP_CANCEL) chunk += `C,${w.id[i]},,,\n`;
    else chunk += `M,,${s},,${w.qty[i]}\n`;
    if (chunk.length > 1 << 16) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

/** Counts of each command kind in [from, to). */
export function countOps(w: Workload, from = w.warmup, to = w.count): { limits: number; cancels: number; markets: number } {
  let limits = 0;
  let cancels = 0;
  let markets = 0;
  for (let i = from; i < to; i++) {
    const o = w.op[i];
    if (o === OP_LIMIT) limits++;
    else if (o === OP_CANCEL) cancels++;
    else markets++;
  }
  return { limits, cancels, markets };
}

/** Symbol names the drivers use for a workload's symbol indices. */
export function symbolNames(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(n === 1 ? 'BENCH' : `S${i}`);
  return out;
}
