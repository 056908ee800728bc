// Seeded random streams of valid durabook commands, for differential tests.
//
// Every command produced here passes validation (so the engine never throws on it and it always
// consumes exactly one seq); what it does to the book is random: rests, crosses, sweeps, rejects
// (duplicate ids, post-only crossing, unknown ids), FOK both ways, ids reused after they died.
//
// Prices are drawn in a narrow band around a per-symbol mid that random-walks, so hundreds of
// orders share a level and sweeps cross many levels; one symbol sits around 0 (negative prices),
// two sit near the ends of the safe-integer range.

import type { CancelOrder, ModifyOrder, NewOrder, Side, TimeInForce } from '../../lib/types.js';

export type Command =
  | { kind: 'submit'; order: NewOrder }
  | { kind: 'cancel'; cancel: CancelOrder }
  | { kind: 'modify'; modify: ModifyOrder };

/** mulberry32: a tiny, well-known 32-bit PRNG. Returns floats in [0, 1). */
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

export class Rng {
  private readonly f: () => number;
  constructor(seed: number) {
    this.f = mulberry32(seed);
  }
  /** Float in [0, 1). */
  next(): number {
    return this.f();
  }
  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.f() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.f() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.f() * items.length)]!;
  }
}

export interface SymbolSpec {
  name: string;
  /** Starting mid price (ticks); the mid random-walks by ±1 from there. */
  mid: number;
}

export const DEFAULT_SYMBOLS: readonly SymbolSpec[] = [
  { name: 'AAPL', mid: 10_000 },
  { name: 'MSFT', mid: 250 },
  { name: 'SPRD', mid: 0 }, // a spread: the band covers negative and positive prices
  { name: 'HIGH', mid: Number.MAX_SAFE_INTEGER - 1_000 },
  { name: 'LOW', mid: -Number.MAX_SAFE_INTEGER + 1_000 },
];

export interface StreamOptions {
  symbols?: readonly SymbolSpec[];
  /** Price offsets from the mid are mostly in [0, narrowBand]; default 2. */
  narrowBand?: number;
  /** Occasionally offsets go up to this; default 40. */
  wideBand?: number;
  /** Chance per use of a symbol that its mid moves by one tick; default 0.002. */
  drift?: number;
}

/** Probabilities of each kind of command (the rest are modifies). */
interface Mix {
  passive: number;
  aggressive: number;
  market: number;
  sweep: number;
  reuse: number;
  cancel: number;
}
const BUILD: Mix = { passive: 0.8, aggressive: 0.02, market: 0.005, sweep: 0.0003, reuse: 0.01, cancel: 0.08 };
const NORMAL: Mix = { passive: 0.5, aggressive: 0.08, market: 0.03, sweep: 0.0035, reuse: 0.02, cancel: 0.19 };
const DRAIN: Mix = { passive: 0.3, aggressive: 0.25, market: 0.1, sweep: 0.02, reuse: 0.02, cancel: 0.15 };

/** A generator of valid command streams; call next() for each command. Deterministic per seed. */
export class CommandStream {
  private readonly rng: Rng;
  private readonly symbols: { name: string; mid: number }[];
  private readonly narrow: number;
  private readonly wide: number;
  private readonly drift: number;
  private nextId = 1;
  private count = 0;
  private regime: Mix = BUILD;
  /** Ids of gtc limit orders we sent: probably resting, maybe filled/cancelled since. */
  private readonly maybeLive: number[] = [];
  /** Every id we ever sent (including those we know are dead). */
  private readonly issued: number[] = [];
  /** The symbol each id was last sent on, so modifies move prices within the right band. */
  private readonly symbolOf = new Map<number, { name: string; mid: number }>();

  constructor(seed: number, opts: StreamOptions = {}) {
    this.rng = new Rng(seed);
    this.symbols = (opts.symbols ?? DEFAULT_SYMBOLS).map((s) => ({ ...s }));
    this.narrow = opts.narrowBand ?? 2;
    this.drift = opts.drift ?? 0.002;
    this.wide = opts.wideBand ?? 40;
  }

  get symbolNames(): string[] {
    return this.symbols.map((s) => s.name);
  }

  next(): Command {
    const r = this.rng;
    if (this.count++ % 2_500 === 0) {
      // Regimes: build deep books, trade around the mid, or drain the books with big takers.
      this.regime = this.count <= 5_000 ? BUILD : r.pick([BUILD, BUILD, NORMAL, NORMAL, DRAIN]);
    }
    const p = this.regime;
    let u = r.next();
    if ((u -= p.passive) < 0) return this.passive();
    if ((u -= p.aggressive) < 0) return this.aggressive();
    if ((u -= p.market) < 0) return this.market();
    if ((u -= p.sweep) < 0) return this.sweep();
    if ((u -= p.reuse) < 0) return this.reuse();
    if ((u -= p.cancel) < 0) return this.cancel();
    return this.modify();
  }

  // ---- pieces ----

  private sym(): { name: string; mid: number } {
    const s = this.rng.pick(this.symbols);
    if (this.rng.chance(this.drift)) s.mid += this.rng.chance(0.5) ? 1 : -1; // drift the band
    return s;
  }

  private offset(): number {
    return this.rng.chance(0.9) ? this.rng.int(0, this.narrow) : this.rng.int(0, this.wide);
  }

  private qty(): number {
    const r = this.rng;
    if (r.chance(0.85)) return r.int(1, 100);
    if (r.chance(0.9)) return r.int(1, 1_000);
    return r.int(1, 20_000);
  }

  private side(): Side {
    return this.rng.chance(0.5) ? 'buy' : 'sell';
  }

  /** A price that does not cross a book centred on mid: buys at or below mid, sells above. */
  private passivePrice(side: Side, mid: number): number {
    return side === 'buy' ? mid - this.offset() : mid + 1 + this.offset();
  }

  /** A price on the other side of mid, likely to cross. */
  private aggressivePrice(side: Side, mid: number): number {
    return side === 'buy' ? mid + 1 + this.offset() : mid - this.offset();
  }

  private freshId(): number {
    const id = this.nextId++;
    this.issued.push(id);
    return id;
  }

  /** An id never sent (and, being far above the counter, not sent for a long time). */
  private unknownId(): number {
    const r = this.rng;
    if (r.chance(0.1)) return Number.MAX_SAFE_INTEGER - r.int(0, 5);
    return this.nextId + 1_000_000_000 + r.int(0, 1_000_000);
  }

  private restingLimit(id: number, side: Side, s: { name: string; mid: number }, price: number, postOnly: boolean): Command {
    const r = this.rng;
    // Mostly small resting orders, so that many of them share a level and takers walk long FIFOs.
    const qty = r.chance(0.8) ? r.int(1, 20) : this.qty();
    const order: NewOrder = { symbol: s.name, id, side, type: 'limit', price, qty };
    this.symbolOf.set(id, s);
    // Spell the default out sometimes, leave it implicit other times.
    if (r.chance(0.5)) order.tif = 'gtc';
    if (postOnly) order.postOnly = true;
    else if (r.chance(0.2)) order.postOnly = false;
    this.maybeLive.push(id);
    return { kind: 'submit', order };
  }

  private passive(): Command {
    const s = this.sym();
    const side = this.side();
    return this.restingLimit(this.freshId(), side, s, this.passivePrice(side, s.mid), this.rng.chance(0.12));
  }

  private aggressive(): Command {
    const r = this.rng;
    const s = this.sym();
    const side = this.side();
    const price = this.aggressivePrice(side, s.mid);
    const tif: TimeInForce = r.pick(['gtc', 'ioc', 'fok'] as const);
    if (tif === 'gtc') return this.restingLimit(this.freshId(), side, s, price, r.chance(0.2));
    const qty = r.chance(0.3) ? r.int(100, 3_000) : this.qty(); // FOK: both fillable and not
    return { kind: 'submit', order: { symbol: s.name, id: this.freshId(), side, type: 'limit', price, qty, tif } };
  }

  private market(): Command {
    const r = this.rng;
    const s = this.sym();
    const side = this.side();
    const order: NewOrder = { symbol: s.name, id: this.freshId(), side, type: 'market', qty: this.qty() };
    if (r.chance(0.5)) order.price = r.chance(0.5) ? this.aggressivePrice(side, s.mid) : this.passivePrice(side, s.mid);
    if (r.chance(0.3)) order.tif = 'ioc';
    return { kind: 'submit', order };
  }

  /** A large taker crossing many levels; very rarely one that clears a whole side. */
  private sweep(): Command {
    const r = this.rng;
    const s = this.sym();
    const side = this.side();
    const id = this.freshId();
    if (r.chance(0.01)) {
      return { kind: 'submit', order: { symbol: s.name, id, side, type: 'market', qty: 1_000_000_000 } };
    }
    const qty = r.int(2_000, 30_000);
    const price = side === 'buy' ? s.mid + 1 + r.int(0, this.wide) : s.mid - r.int(0, this.wide);
    const kind = r.int(0, 3);
    if (kind === 0) return { kind: 'submit', order: { symbol: s.name, id, side, type: 'market', qty } };
    if (kind === 1) return { kind: 'submit', order: { symbol: s.name, id, side, type: 'market', price, qty } };
    if (kind === 2) return { kind: 'submit', order: { symbol: s.name, id, side, type: 'limit', price, qty, tif: 'ioc' } };
    // a gtc sweep: its remainder rests deep on the other side of the mid
    return this.restingLimit(id, side, s, price, false);
  }

  /** A new order with an id sent before: a live duplicate (rejected) or a dead id (reused). */
  private reuse(): Command {
    const r = this.rng;
    if (this.issued.length === 0) return this.passive();
    const id = r.chance(0.5) && this.maybeLive.length > 0 ? r.pick(this.maybeLive) : r.pick(this.issued);
    const s = this.sym();
    const side = this.side();
    if (r.chance(0.3)) {
      return { kind: 'submit', order: { symbol: s.name, id, side, type: 'limit', price: this.aggressivePrice(side, s.mid), qty: this.qty(), tif: 'ioc' } };
    }
    return this.restingLimit(id, side, s, r.chance(0.8) ? this.passivePrice(side, s.mid) : this.aggressivePrice(side, s.mid), r.chance(0.1));
  }

  /** Mostly an id that is probably live; sometimes a dead one or one never sent. */
  private targetId(forget: boolean): number {
    const r = this.rng;
    const u = r.next();
    if (u < 0.75 && this.maybeLive.length > 0) {
      // Recent orders are more likely to still rest: bias towards the tail.
      const n = this.maybeLive.length;
      const i = r.chance(0.7) ? n - 1 - r.int(0, Math.min(n - 1, 2_000)) : r.int(0, n - 1);
      const id = this.maybeLive[i]!;
      if (forget) {
        this.maybeLive[i] = this.maybeLive[n - 1]!;
        this.maybeLive.pop();
      }
      return id;
    }
    if (u < 0.9 && this.issued.length > 0) return r.pick(this.issued);
    return this.unknownId();
  }

  private cancel(): Command {
    return { kind: 'cancel', cancel: { id: this.targetId(true) } };
  }

  private modify(): Command {
    const r = this.rng;
    const id = this.targetId(false);
    const s = this.symbolOf.get(id) ?? this.sym();
    const u = r.next();
    const side = this.side();
    if (u < 0.3) return { kind: 'modify', modify: { id, qty: r.int(1, 60) } }; // mostly down, sometimes up
    if (u < 0.4) return { kind: 'modify', modify: { id, qty: r.int(50, 2_000) } }; // mostly up
    if (u < 0.6) return { kind: 'modify', modify: { id, price: this.passivePrice(side, s.mid) } };
    if (u < 0.75) return { kind: 'modify', modify: { id, price: this.aggressivePrice(side, s.mid), qty: this.qty() } };
    if (u < 0.85) return { kind: 'modify', modify: { id, price: this.passivePrice(side, s.mid), qty: this.qty() } };
    // Price given but likely equal to the current one (the order rests near this mid).
    return { kind: 'modify', modify: { id, price: s.mid - r.int(0, 1), qty: r.int(1, 30) } };
  }
}

/** `count` commands of the stream for `seed`. */
export function generateCommands(seed: number, count: number, opts: StreamOptions = {}): Command[] {
  const g = new CommandStream(seed, opts);
  const out: Command[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = g.next();
  return out;
}

/** Renders a command for failure messages. */
export function showCommand(c: Command): string {
  const body = c.kind === 'submit' ? c.order : c.kind === 'cancel' ? c.cancel : c.modify;
  return `${c.kind} ${JSON.stringify(body)}`;
}
