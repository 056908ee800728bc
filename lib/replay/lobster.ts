// Replay of LOBSTER market data (NASDAQ TotalView-ITCH reconstructions) through the engine, comparing
// the engine's book with the exchange's own book after every message.
//
// A LOBSTER sample is a pair of CSV files with one row per event:
//   message:   time, type, order id, size, price (dollars x 10000), direction (1 buy, -1 sell)
//   orderbook: ask price, ask size, bid price, bid size, repeated for each of L levels; row i is the
//              book AFTER message i. Missing levels are dummies: price +/-9999999999 with size 0.
// Prices stay integer ticks (dollars x 10000) all the way into the engine.
//
// How the replay rebuilds a book it can only partly see
// -----------------------------------------------------
// Seed. The first orderbook row already holds orders no message introduced, and it shows the book
// after message 1, not before. The seed is row 1 with message 1 undone (type 1: its size taken
// off its price; types 2, 3, 4: its size added back at its price; 5, 6, 7: nothing), one phantom
// order per level. Message 1 is then replayed like any other, so row 1 is compared too (and
// matches by construction: it cannot reveal an error, only later rows can).
//
// Window. A level-L file only has the events inside the top L levels (checked on the samples: no
// type 1-4 message lies outside the previous row's window). Outside it orders arrive, shrink and
// leave unreported, so the replay meets three kinds of resting quantity:
//   - known orders, introduced by a type 1 and never out of view since: certain;
//   - phantoms: quantity no message introduced, either seeded from row 1 (ahead of every known
//     order at its price, since it predates them) or taken from a later row (see reveals);
//   - suspects: known orders whose level went out of view and came back. The level's total is
//     certain again (the row shows it) but which orders make it up is a guess.
// Phantoms and suspects are "unattributed": a message naming an order the replay does not hold
// (never introduced, or guessed gone) takes its size from them, front first (the oldest goes
// first in a FIFO book; for cancels nothing says which, so the same rule serves). A cancel whose
// size differs from what a suspect holds moves the difference to or from unattributed quantity,
// so the level's total stays what the file says.
//
// Reveals. When a level empties, the next row can show a level further out. Any price strictly
// worse than the deepest level the previous row showed (when that side showed all L levels) is
// such a reveal: its known orders become suspects and its quantity is set from the row (a phantom
// added at the back, or unattributed quantity then the newest known orders removed). Reveals are
// counted, not reported as mismatches; everything at or inside the previous window must agree.
//
// Executions. Consecutive type-4 rows with the same timestamp and direction are one aggressor:
// an IOC limit order on the opposite side, at the worst of their prices, for their total size.
// Before it runs, the group's inner rows reveal the levels the sweep reaches, and a suspect named
// for more than the replay left it gets quantity back from its unattributed neighbours (a
// reattribution: an earlier guess took it from the wrong order). The engine's fills are then
// compared with the rows per price: each row, in file order, must get its size from the order it
// names (a row naming an order the replay does not hold, from unattributed quantity, which
// includes what a named suspect gets beyond its own rows). A row that does not is a priority
// disagreement; it is firm when the named order and an order the engine filled instead are both
// certain, i.e. when the exchange's priority and the engine's FIFO really differ. After a
// disagreement the level is put back as the file describes: named orders reduced, the orders the
// engine filled instead restored at their old place in the queue (the tail of the level is
// cancelled and resubmitted in order, which keeps both sizes and time priority right for later
// messages). The inner rows of a group have no engine state of their own and are not compared.
//
// Mismatches. When the engine's levels differ from the row beyond reveals, the row is a mismatch:
// counted, reported in full, then the level is forced to the row's quantity so that one error is
// counted once instead of on every later row.
//
// The replay keeps its own list of the orders it gave the engine, in queue order, to know which
// orders a repair must touch. Every engine report and book is checked against that list (FIFO,
// price priority, report fields, depth): any departure is an engine anomaly.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DurabookError, describe } from '../errors.js';
import type { Bbo, CancelOrder, Depth, ModifyOrder, NewOrder, Report } from '../types.js';

// ---------------------------------------------------------------------------------------------
// Public types

/** One row of a LOBSTER message file. */
export interface LobsterMessage {
  /** Seconds after midnight, exactly as written in the file (kept as text so that equal stamps compare equal). */
  time: string;
  /** 1 new limit order, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden execution, 6 cross, 7 halt. */
  type: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  orderId: number;
  size: number;
  /** Dollars x 10000. */
  price: number;
  /** 1 buy, -1 sell; for executions the side of the resting order. */
  direction: 1 | -1;
}

/** One row of a LOBSTER orderbook file: occupied levels only, best first. */
export interface LobsterBookRow {
  bids: Array<{ price: number; qty: number }>;
  asks: Array<{ price: number; qty: number }>;
}

/** A row where the engine's top levels differed from the exchange's. */
export interface LobsterMismatch {
  /** 1-based row number (= message number) in both files. */
  row: number;
  message: LobsterMessage;
  /** The orderbook row's top `levels` levels. */
  expected: LobsterBookRow;
  /** The engine's top `levels` levels, before the replay repaired them. */
  engine: LobsterBookRow;
  /** The prices that differ (reveals excluded). */
  differences: Array<{ side: 'bid' | 'ask'; price: number; expectedQty: number; engineQty: number }>;
}

/** Who an order is, in a report: its LOBSTER id, or the kind of phantom quantity it stood for. */
export type LobsterOrderRef = number | 'seeded' | 'unseen';

/** An execution row whose named resting order did not receive the row's size from the engine. */
export interface LobsterPriorityDisagreement {
  row: number;
  time: string;
  /** Side of the resting order the row names. */
  side: 'bid' | 'ask';
  price: number;
  size: number;
  /** LOBSTER id the file names. */
  namedOrder: number;
  /** False when the replay does not hold the named order (never introduced, or guessed gone). */
  known: boolean;
  /** What the engine's aggressor filled at this price, in execution order. */
  filled: Array<{ order: LobsterOrderRef; qty: number }>;
  /**
   * The named order and an order the engine filled instead were both introduced by the file and
   * never out of view since: both places in the queue are certain, so the exchange and the
   * engine's FIFO really disagree. Otherwise the replay's guesses about unseen activity are
   * involved.
   */
  firm: boolean;
}

/**
 * Something the replay noticed on the way. Kinds:
 * - crossing-arrival: a type 1 order would have traded on arrival (the replay held stale quantity);
 * - phantom-shortfall: a message named an unseen order, but less unattributed quantity was there;
 * - size-disagreement: a cancel's size differs from what the named order holds in the replay
 *   (usually an earlier guess of which order left a level out of view);
 * - unfilled-execution: the aggressor found less than the execution rows traded;
 * - duplicate-order: a type 1 reused the id of an order still resting;
 * - inconsistent-order: a message put a known order at another price or side, or the first row
 *   could not be seeded;
 * - engine: an engine report or book that contradicts the commands it was given (FIFO, price
 *   priority, report fields, depth): these point at the engine, not at the data.
 */
export interface LobsterAnomaly {
  row: number;
  kind:
    | 'crossing-arrival'
    | 'phantom-shortfall'
    | 'size-disagreement'
    | 'unfilled-execution'
    | 'duplicate-order'
    | 'inconsistent-order'
    | 'engine';
  text: string;
}

export interface LobsterReport {
  symbol: string;
  messageFile: string;
  orderbookFile: string;
  /** Levels per side in the orderbook file. */
  fileLevels: number;
  /** Levels per side compared. */
  levels: number;
  messages: number;
  messagesByType: {
    newOrder: number;
    partialCancel: number;
    delete: number;
    execution: number;
    hiddenExecution: number;
    cross: number;
    halt: number;
  };
  /** Rows compared with the engine: every row except the inner rows of execution groups. */
  rowsCompared: number;
  /** Per-side level slots compared (2 x levels per compared row). */
  levelsCompared: number;
  /** Rows where the engine's top levels differed from the file. */
  mismatches: number;
  /** Differing price levels over all mismatched rows. */
  mismatchedLevels: number;
  firstMismatches: LobsterMismatch[];
  /** Aggressors: visible-execution rows grouped by timestamp and direction. */
  executionGroups: number;
  /** Visible-execution rows whose named order did not get exactly the row's size. */
  priorityDisagreements: number;
  /** Of those, the firm ones (see LobsterPriorityDisagreement.firm). */
  firmPriorityDisagreements: number;
  firstPriorityDisagreements: LobsterPriorityDisagreement[];
  /**
   * Type 1 orders that would have traded on arrival: post-only made the engine refuse them, and
   * they were placed after the stale quantity they crossed was removed.
   */
  crossingArrivals: number;
  /** Messages naming an order the file never introduced (it predates the file or arrived out of view). */
  unknownOrderMessages: number;
  /**
   * Messages naming an order the replay had already taken off when a level came back into view
   * holding less than it had there: the guess of which order had left was wrong, and the
   * message's size came off the unattributed quantity instead.
   */
  removedOrderMessages: number;
  halts: Array<{ row: number; time: string; kind: 'halt' | 'quoting' | 'resume' }>;
  seed: { bidLevels: number; askLevels: number; bidQty: number; askQty: number };
  /** Levels that came into view and were taken from the row (orders the file could not show). */
  reveals: number;
  /**
   * Executions of a suspect order (one on a level that had been out of view) for more than the
   * replay left it: quantity a guess had taken from it was moved back from its neighbours first.
   */
  reattributions: number;
  /** Levels forced to the file's quantity after a mismatch or a priority disagreement. */
  repairs: number;
  /** Engine commands the replay issued (messages, aggressors, seeds, reveals, repairs). */
  engineCommands: number;
  /** Things the replay noticed that are neither mismatches nor disagreements (see LobsterAnomaly). */
  anomalies: number;
  anomaliesByKind: Record<LobsterAnomaly['kind'], number>;
  firstAnomalies: LobsterAnomaly[];
  /** Wall time from seeding to the last row: reading, parsing, engine commands, comparisons. */
  elapsedMs: number;
  messagesPerSecond: number;
}

/** The engine calls the replay makes; `Engine` satisfies it. */
export interface LobsterReplayEngine {
  submit(o: NewOrder): Report;
  cancel(c: CancelOrder): Report;
  modify(m: ModifyOrder): Report;
  depth(symbol: string, levels?: number): Depth;
  bbo?(symbol: string): Bbo;
  addSymbol(name: string): number;
  readonly symbols: readonly string[];
  close(): Promise<void>;
}

export interface LobsterReplayOptions {
  /** Levels per side to compare (default: all levels of the orderbook file). */
  levels?: number;
  /** Called for every mismatching row, with the row's details. */
  onMismatch?: (m: LobsterMismatch) => void;
  /** How many mismatches, disagreements and anomalies the report keeps in full (default 5). */
  keep?: number;
  /** Symbol to replay under (default: the ticker at the start of the message file's name). */
  symbol?: string;
  /** An open engine to replay into (it is not closed); default: a fresh in-memory engine. */
  engine?: LobsterReplayEngine;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const DUMMY_PRICE = 9999999999;

function fileError(path: string, line: number, text: string): DurabookError {
  return new DurabookError('INVALID_ARGUMENT', `${path}:${line}: ${text}`, { file: path, line });
}

// The parsers scan character codes instead of split() + Number(): a full day is millions of
// fields, and Number() would also accept '', ' 1', '1e3' or '0x10' as data.

/** Integer in text[start, end), or NaN unless it is an optional '-' and digits making a safe integer. */
function intAt(text: string, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && text.charCodeAt(i) === 45 /* - */) {
    neg = true;
    i++;
  }
  if (i === end || end - i > 16) return NaN;
  let v = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  // Every partial value below 2^53 is exact, so a result past it is the only way to be wrong.
  if (!Number.isSafeInteger(v)) return NaN;
  return neg ? -v : v;
}

/** Seconds after midnight: digits, optionally a dot and more digits. */
function isTime(text: string, start: number, end: number): boolean {
  let digits = 0;
  let dot = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */ && !dot && digits > 0 && i < end - 1) dot = true;
    else if (c >= 48 && c <= 57) digits++;
    else return false;
  }
  return digits > 0;
}

/** Field boundaries: ends[k] is the index of the comma (or end of text) closing field k. */
function fieldEnds(text: string, ends: number[]): number {
  let n = 0;
  let at = text.indexOf(',');
  while (at !== -1) {
    ends[n++] = at;
    at = text.indexOf(',', at + 1);
  }
  ends[n++] = text.length;
  return n;
}

const msgEnds: number[] = [];

/** Parses one message-file line. `path` and `line` only label errors. */
export function parseLobsterMessage(text: string, path = 'message', line = 0): LobsterMessage {
  const e = msgEnds;
  const n = fieldEnds(text, e);
  if (n !== 6) throw fileError(path, line, `expected 6 fields, got ${n}: ${describe(text)}`);
  const field = (k: number): number => {
    const v = intAt(text, k === 0 ? 0 : e[k - 1]! + 1, e[k]!);
    if (Number.isNaN(v)) {
      const names = ['time', 'type', 'order id', 'size', 'price', 'direction'];
      throw fileError(path, line, `${names[k]} must be an integer, got ${describe(text.slice(e[k - 1]! + 1, e[k]!))}`);
    }
    return v;
  };
  if (!isTime(text, 0, e[0]!)) {
    throw fileError(path, line, `time must be seconds after midnight, got ${describe(text.slice(0, e[0]!))}`);
  }
  const type = field(1);
  if (type < 1 || type > 7) throw fileError(path, line, `type must be 1..7, got ${type}`);
  const orderId = field(2);
  const size = field(3);
  const price = field(4);
  const direction = field(5);
  if (direction !== 1 && direction !== -1) throw fileError(path, line, `direction must be 1 or -1, got ${direction}`);
  if (type <= 4) {
    if (size <= 0) throw fileError(path, line, `size must be positive for type ${type}, got ${size}`);
    if (orderId < 0) throw fileError(path, line, `order id must not be negative, got ${orderId}`);
  }
  return { time: text.slice(0, e[0]!), type: type as LobsterMessage['type'], orderId, size, price, direction };
}

const rowEnds: number[] = [];
const ROW_FIELDS = ['ask price', 'ask size', 'bid price', 'bid size'];

/** Parses one orderbook-file line of `levels` levels (dummy levels dropped). */
export function parseLobsterBookRow(text: string, levels: number, path = 'orderbook', line = 0): LobsterBookRow {
  const e = rowEnds;
  const n = fieldEnds(text, e);
  if (n !== 4 * levels) throw fileError(path, line, `expected ${4 * levels} fields (${levels} levels), got ${n}`);
  const row: LobsterBookRow = { bids: [], asks: [] };
  let start = 0;
  for (let k = 0; k < n; k += 2) {
    const mid = e[k]!;
    const price = intAt(text, start, mid);
    const qty = intAt(text, mid + 1, e[k + 1]!);
    if (Number.isNaN(price) || Number.isNaN(qty) || qty < 0) {
      const bad = Number.isNaN(price) ? k : k + 1;
      throw fileError(
        path,
        line,
        `${ROW_FIELDS[bad % 4]} ${Math.floor(bad / 4) + 1} must be ${bad % 2 ? 'a non-negative' : 'an'} integer, ` +
          `got ${describe(text.slice(bad === k ? start : mid + 1, e[bad]!))}`,
      );
    }
    start = e[k + 1]! + 1;
    // A size of 0 is LOBSTER's dummy (price +/-9999999999): the side has fewer levels than asked.
    if (qty === 0) continue;
    const ask = k % 4 === 0;
    if (price === (ask ? DUMMY_PRICE : -DUMMY_PRICE)) {
      const level = Math.floor(k / 4) + 1;
      throw fileError(path, line, `${ask ? 'ask' : 'bid'} level ${level} has the dummy price with size ${qty}`);
    }
    (ask ? row.asks : row.bids).push({ price, qty });
  }
  return row;
}

/**
 * Lines of a file in chunks, so that a full day is never held in memory and the consumer awaits
 * once per chunk, not once per line.
 */
class LineReader {
  private readonly it: AsyncIterator<string>;
  private buf: string[] = [];
  private pos = 0;
  private rest = '';
  private ended = false;
  line = 0;

  constructor(readonly path: string) {
    this.it = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })[Symbol.asyncIterator]();
  }

  /** The next non-empty line, or undefined at the end of the file. */
  async next(): Promise<string | undefined> {
    for (;;) {
      while (this.pos < this.buf.length) {
        const s = this.buf[this.pos++]!;
        this.line++;
        if (s.length > 0) return s;
      }
      if (this.ended) return undefined;
      const r = await this.it.next();
      this.pos = 0;
      if (r.done) {
        this.ended = true;
        this.buf = this.rest.length > 0 ? [this.rest] : [];
        this.rest = '';
        continue;
      }
      const parts = (this.rest + (r.value as string)).split('\n');
      this.rest = parts.pop()!;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p.endsWith('\r')) parts[i] = p.slice(0, -1);
      }
      if (this.rest.endsWith('\r')) this.rest = this.rest.slice(0, -1);
      this.buf = parts;
    }
  }

  close(): void {
    void this.it.return?.();
  }
}

interface Item {
  row: number;
  msg: LobsterMessage;
  book: LobsterBookRow;
}

/** Message and orderbook rows in lockstep, with one row of lookahead for execution groups. */
class PairReader {
  private readonly m: LineReader;
  private readonly o: LineReader;
  private peeked: Item | undefined;
  private count = 0;
  fileLevels = 0;

  constructor(
    readonly messagePath: string,
    readonly orderbookPath: string,
  ) {
    this.m = new LineReader(messagePath);
    this.o = new LineReader(orderbookPath);
  }

  async peek(): Promise<Item | undefined> {
    if (this.peeked === undefined) this.peeked = await this.read();
    return this.peeked;
  }

  async next(): Promise<Item | undefined> {
    const p = this.peeked ?? (await this.read());
    this.peeked = undefined;
    return p;
  }

  private async read(): Promise<Item | undefined> {
    const ml = await this.m.next();
    const ol = await this.o.next();
    if (ml === undefined && ol === undefined) return undefined;
    if (ml === undefined || ol === undefined) {
      const [short, long] =
        ml === undefined ? [this.messagePath, this.orderbookPath] : [this.orderbookPath, this.messagePath];
      const rows = `${this.count} row${this.count === 1 ? '' : 's'}`;
      throw new DurabookError(
        'INVALID_ARGUMENT',
        `${short} ends after ${rows} but ${long} has more: the files are not a LOBSTER pair`,
        { file: short },
      );
    }
    if (this.fileLevels === 0) {
      const n = ol.split(',').length;
      if (n === 0 || n % 4 !== 0) {
        throw fileError(this.orderbookPath, this.o.line, `an orderbook row has 4 fields per level, got ${n} fields`);
      }
      this.fileLevels = n / 4;
    }
    this.count++;
    return {
      row: this.count,
      msg: parseLobsterMessage(ml, this.messagePath, this.m.line),
      book: parseLobsterBookRow(ol, this.fileLevels, this.orderbookPath, this.o.line),
    };
  }

  close(): void {
    this.m.close();
    this.o.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The replay's own view of the orders it placed

const BID = 0;
const ASK = 1;
type SideIx = 0 | 1;

// LOBSTER ids are used as engine ids when they fit below this; the rare id that does not
// (0, or a full 64-bit ITCH reference) is remapped into the range above it. Phantoms and
// aggressors take ids from a third range, so no two sources can collide.
const DIRECT_LIMIT = 2 ** 48;
const REMAP_BASE = 2 ** 48;
const SYNTH_BASE = 2 ** 50;

// Ord.lob for phantom quantity: seeded from the first row, or taken from a later row.
const SEEDED = -1;
const UNSEEN = -2;

interface Ord {
  id: number;
  side: SideIx;
  price: number;
  qty: number;
  /** LOBSTER id, or SEEDED/UNSEEN for phantom quantity. */
  lob: number;
  /**
   * A known order whose level came back into view after being out of it: events at that level
   * went unreported meanwhile, so whether this order (rather than its neighbours) is still
   * there is a guess.
   */
  suspect: boolean;
}

interface Lvl {
  qty: number;
  /** Queue order, oldest first, as the engine should hold it. */
  q: Ord[];
}

/** Quantity the file has not pinned to an order: phantoms and suspects. */
function unattributed(o: Ord): boolean {
  return o.lob < 0 || o.suspect;
}

function statusText(rep: Report): string {
  return rep.reason === undefined ? rep.status : `${rep.status} ${rep.reason}`;
}

function better(side: SideIx, a: number, b: number): boolean {
  return side === BID ? a > b : a < b;
}

function sideName(side: SideIx): 'bid' | 'ask' {
  return side === BID ? 'bid' : 'ask';
}

function engineSide(side: SideIx): 'buy' | 'sell' {
  return side === BID ? 'buy' : 'sell';
}

function rowSide(row: LobsterBookRow, side: SideIx): Array<{ price: number; qty: number }> {
  return side === BID ? row.bids : row.asks;
}

function topOf(row: LobsterBookRow, n: number): LobsterBookRow {
  return { bids: row.bids.slice(0, n), asks: row.asks.slice(0, n) };
}

function depthRow(d: Depth, n: number): LobsterBookRow {
  return {
    bids: d.bids.slice(0, n).map((l) => ({ price: l.price, qty: l.qty })),
    asks: d.asks.slice(0, n).map((l) => ({ price: l.price, qty: l.qty })),
  };
}

function sameLevels(
  a: ReadonlyArray<{ price: number; qty: number }>,
  b: ReadonlyArray<{ price: number; qty: number }>,
  n: number,
): boolean {
  const la = Math.min(a.length, n);
  if (la !== Math.min(b.length, n)) return false;
  for (let i = 0; i < la; i++) {
    if (a[i]!.price !== b[i]!.price || a[i]!.qty !== b[i]!.qty) return false;
  }
  return true;
}

function sameTop(b: Bbo, row: LobsterBookRow): boolean {
  const rb = row.bids[0];
  const ra = row.asks[0];
  return (
    (b.bid === null ? rb === undefined : rb !== undefined && b.bid.price === rb.price && b.bid.qty === rb.qty) &&
    (b.ask === null ? ra === undefined : ra !== undefined && b.ask.price === ra.price && b.ask.qty === ra.qty)
  );
}

/**
 * The deepest price a row shows on a side when that side is full, or an infinity meaning the
 * whole side was visible (so nothing beyond it can exist).
 */
function windowEdge(row: LobsterBookRow, side: SideIx, fileLevels: number): number {
  const lv = rowSide(row, side);
  if (lv.length < fileLevels) return side === BID ? -Infinity : Infinity;
  return lv[lv.length - 1]!.price;
}

class Replayer {
  private readonly orders = new Map<number, Ord>();
  private readonly byLob = new Map<number, Ord>();
  private readonly introduced = new Set<number>();
  private readonly remap = new Map<number, number>();
  private readonly book: [Map<number, Lvl>, Map<number, Lvl>] = [new Map(), new Map()];
  private nextRemap = REMAP_BASE;
  private nextSynth = SYNTH_BASE;
  /** Deepest visible price per side in the previous compared row (see windowEdge). */
  private edge: [number, number] = [-Infinity, Infinity];
  private row = 0;

  constructor(
    private readonly engine: LobsterReplayEngine,
    private readonly symbol: string,
    private readonly fileLevels: number,
    private readonly levels: number,
    private readonly keep: number,
    private readonly onMismatch: ((m: LobsterMismatch) => void) | undefined,
    readonly r: LobsterReport,
  ) {}

  // ----- bookkeeping -------------------------------------------------------------------------

  private anomaly(kind: LobsterAnomaly['kind'], text: string): void {
    this.r.anomalies++;
    this.r.anomaliesByKind[kind]++;
    if (this.r.firstAnomalies.length < this.keep) this.r.firstAnomalies.push({ row: this.row, kind, text });
  }

  private engineIdFor(lob: number): number {
    if (lob >= 1 && lob < DIRECT_LIMIT) return lob;
    let id = this.remap.get(lob);
    if (id === undefined) {
      id = this.nextRemap++;
      this.remap.set(lob, id);
    }
    return id;
  }

  private ref(o: Ord): LobsterOrderRef {
    return o.lob === SEEDED ? 'seeded' : o.lob === UNSEEN ? 'unseen' : o.lob;
  }

  private lvlQty(side: SideIx, price: number): number {
    return this.book[side].get(price)?.qty ?? 0;
  }

  private attach(o: Ord): void {
    const m = this.book[o.side];
    let l = m.get(o.price);
    if (l === undefined) {
      l = { qty: 0, q: [] };
      m.set(o.price, l);
    }
    l.q.push(o);
    l.qty += o.qty;
    this.orders.set(o.id, o);
    if (o.lob >= 0) this.byLob.set(o.lob, o);
  }

  private detach(o: Ord): void {
    const m = this.book[o.side];
    const l = m.get(o.price);
    if (l !== undefined) {
      const i = l.q.indexOf(o);
      if (i >= 0) l.q.splice(i, 1);
      l.qty -= o.qty;
      if (l.q.length === 0) m.delete(o.price);
    }
    this.orders.delete(o.id);
    if (o.lob >= 0 && this.byLob.get(o.lob) === o) this.byLob.delete(o.lob);
  }

  // ----- engine commands, each checked against the replay's own view -------------------------

  /** Rests `o` as a post-only gtc limit. False if the engine refused (it would have crossed). */
  private rest(o: Ord): boolean {
    this.r.engineCommands++;
    const rep = this.engine.submit({
      symbol: this.symbol,
      id: o.id,
      side: engineSide(o.side),
      type: 'limit',
      price: o.price,
      qty: o.qty,
      tif: 'gtc',
      // LOBSTER limit orders never trade on arrival; post-only makes the engine say so if ours would.
      postOnly: true,
    });
    if (rep.status === 'new' && rep.remainingQty === o.qty && rep.filledQty === 0 && rep.trades.length === 0) {
      this.attach(o);
      return true;
    }
    if (rep.status === 'rejected' && rep.reason === 'POST_ONLY_WOULD_CROSS' && rep.trades.length === 0) return false;
    this.anomaly(
      'engine',
      `submit of resting order ${o.id} (${o.qty} @ ${o.price}) returned ${statusText(rep)}, ` +
        `filled ${rep.filledQty}, remaining ${rep.remainingQty}, ${rep.trades.length} trades`,
    );
    return false;
  }

  private cancel(o: Ord): void {
    this.r.engineCommands++;
    const rep = this.engine.cancel({ id: o.id });
    if (rep.status !== 'cancelled' || rep.filledQty !== 0 || rep.remainingQty !== 0) {
      this.anomaly('engine', `cancel of live order ${o.id} returned ${statusText(rep)}`);
    }
    this.detach(o);
  }

  /** Quantity down in place (priority kept), or cancel when nothing is left. */
  private reduceTo(o: Ord, qty: number): void {
    if (qty <= 0) {
      this.cancel(o);
      return;
    }
    if (qty >= o.qty) return;
    this.r.engineCommands++;
    const rep = this.engine.modify({ id: o.id, qty });
    if (rep.status !== 'new' || rep.remainingQty !== qty || rep.filledQty !== 0 || rep.trades.length !== 0) {
      this.anomaly(
        'engine',
        `modify of order ${o.id} down to ${qty} returned ${statusText(rep)}, remaining ${rep.remainingQty}`,
      );
    }
    this.book[o.side].get(o.price)!.qty -= o.qty - qty;
    o.qty = qty;
  }

  /**
   * Takes `amount` off the unattributed quantity at a price, front first (in a FIFO book the
   * oldest goes first; for cancels nothing says which, so the same rule serves). Returns what
   * it could not find.
   */
  private takeUnattributed(side: SideIx, price: number, amount: number): number {
    const l = this.book[side].get(price);
    if (l === undefined) return amount;
    for (const o of [...l.q]) {
      if (amount === 0) break;
      if (!unattributed(o)) continue;
      const take = Math.min(o.qty, amount);
      this.reduceTo(o, o.qty - take);
      amount -= take;
    }
    return amount;
  }

  /** Adds phantom quantity at the back of a level (it arrived while nobody could see it). */
  private addUnseen(side: SideIx, price: number, qty: number): void {
    const o: Ord = { id: this.nextSynth++, side, price, qty, lob: UNSEEN, suspect: false };
    if (!this.rest(o)) {
      this.anomaly('engine', `could not place ${qty} unseen at ${sideName(side)} ${price}: it would cross`);
    }
  }

  /**
   * Brings the quantity at a price to `target`: more as a phantom at the back; less from the
   * unattributed quantity first, then from known orders, newest first.
   */
  private setLevel(side: SideIx, price: number, target: number): void {
    const cur = this.lvlQty(side, price);
    if (target > cur) {
      this.addUnseen(side, price, target - cur);
      return;
    }
    if (target === cur) return;
    let excess = this.takeUnattributed(side, price, cur - target);
    const l = this.book[side].get(price);
    for (let i = (l?.q.length ?? 0) - 1; i >= 0 && excess > 0; i--) {
      const o = l!.q[i]!;
      const take = Math.min(o.qty, excess);
      this.reduceTo(o, o.qty - take);
      excess -= take;
    }
  }

  /** A level back in view: the known orders on it may have changed unseen. */
  private markRevealed(side: SideIx, price: number): void {
    const l = this.book[side].get(price);
    if (l !== undefined) for (const o of l.q) if (o.lob >= 0) o.suspect = true;
  }

  /** The live order a message names; undefined (and counted) when never introduced or removed by the replay. */
  private resolve(m: LobsterMessage, side: SideIx): Ord | undefined {
    const o = this.byLob.get(m.orderId);
    if (o === undefined) {
      if (this.introduced.has(m.orderId)) this.r.removedOrderMessages++;
      else this.r.unknownOrderMessages++;
      return undefined;
    }
    if (o.price !== m.price || o.side !== side) {
      this.anomaly(
        'inconsistent-order',
        `order ${m.orderId} rests at ${sideName(o.side)} ${o.price} but the message says ${sideName(side)} ${m.price}`,
      );
      return undefined;
    }
    return o;
  }

  // ----- seeding -----------------------------------------------------------------------------

  seed(first: Item): void {
    this.row = first.row;
    const seeds: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
    for (const side of [BID, ASK] as const) {
      for (const lv of rowSide(first.book, side)) seeds[side].set(lv.price, lv.qty);
    }
    // Row 1 is the book after message 1: undo message 1 to get the book it found.
    const m = first.msg;
    if (m.type >= 1 && m.type <= 4) {
      const side: SideIx = m.direction === 1 ? BID : ASK;
      const s = seeds[side];
      const q = (s.get(m.price) ?? 0) + (m.type === 1 ? -m.size : m.size);
      if (q < 0) {
        const text = `row 1 holds less at ${sideName(side)} ${m.price} than message 1 adds there`;
        this.anomaly('inconsistent-order', text);
      }
      if (q > 0) s.set(m.price, q);
      else s.delete(m.price);
    }
    for (const side of [BID, ASK] as const) {
      const prices = [...seeds[side].keys()].sort((a, b) => (side === BID ? b - a : a - b));
      for (const p of prices) {
        const qty = seeds[side].get(p)!;
        const o: Ord = { id: this.nextSynth++, side, price: p, qty, lob: SEEDED, suspect: false };
        if (!this.rest(o)) {
          this.anomaly('inconsistent-order', `the first row is crossed: cannot seed ${qty} at ${sideName(side)} ${p}`);
          continue;
        }
        if (side === BID) {
          this.r.seed.bidLevels++;
          this.r.seed.bidQty += qty;
        } else {
          this.r.seed.askLevels++;
          this.r.seed.askQty += qty;
        }
      }
      this.edge[side] = windowEdge(first.book, side, this.fileLevels);
    }
  }

  // ----- messages ----------------------------------------------------------------------------

  apply(it: Item): void {
    this.row = it.row;
    const m = it.msg;
    const side: SideIx = m.direction === 1 ? BID : ASK;
    switch (m.type) {
      case 1:
        this.r.messagesByType.newOrder++;
        this.newOrder(m, side);
        return;
      case 2:
        this.r.messagesByType.partialCancel++;
        this.remove(m, side, false);
        return;
      case 3:
        this.r.messagesByType.delete++;
        this.remove(m, side, true);
        return;
      case 4:
        throw new Error('executions go through applyExecutions');
      case 5:
        this.r.messagesByType.hiddenExecution++;
        return;
      case 6:
        this.r.messagesByType.cross++;
        return;
      case 7:
        this.r.messagesByType.halt++;
        // The ReadMe's price codes: -1 halt, 0 quoting resumes, 1 trading resumes.
        const kind = m.price === -1 ? 'halt' : m.price === 0 ? 'quoting' : 'resume';
        this.r.halts.push({ row: it.row, time: m.time, kind });
        return;
    }
  }

  private newOrder(m: LobsterMessage, side: SideIx): void {
    const old = this.byLob.get(m.orderId);
    if (old !== undefined) {
      // LOBSTER ids are unique within a day; a live duplicate means the first left unseen.
      this.anomaly('duplicate-order', `order ${m.orderId} introduced again while ${old.qty} of it rests`);
      this.cancel(old);
    }
    this.introduced.add(m.orderId);
    const id = this.engineIdFor(m.orderId);
    const o: Ord = { id, side, price: m.price, qty: m.size, lob: m.orderId, suspect: false };
    if (this.rest(o)) return;
    this.r.crossingArrivals++;
    const opp: SideIx = side === BID ? ASK : BID;
    const stale = [...this.book[opp].keys()].filter((p) => (side === BID ? p <= m.price : p >= m.price));
    this.anomaly(
      'crossing-arrival',
      `new ${sideName(side)} order ${m.orderId} ${m.size} @ ${m.price} would trade against ` +
        `${stale.length} level(s) the replay holds: they are removed`,
    );
    for (const p of stale) this.setLevel(opp, p, 0);
    this.r.repairs += stale.length;
    if (!this.rest(o)) this.anomaly('engine', `order ${m.orderId} still refused after removing the crossing levels`);
  }

  /** Type 2 (partial) and 3 (whole) cancellations. */
  private remove(m: LobsterMessage, side: SideIx, whole: boolean): void {
    const o = this.resolve(m, side);
    if (o === undefined) {
      const short = this.takeUnattributed(side, m.price, m.size);
      if (short > 0) {
        this.anomaly(
          'phantom-shortfall',
          `${whole ? 'delete' : 'partial cancel'} of ${m.size} from unseen order ${m.orderId}: ` +
            `only ${m.size - short} unattributed at ${sideName(side)} ${m.price}`,
        );
      }
      return;
    }
    if (!whole && m.size < o.qty) {
      this.reduceTo(o, o.qty - m.size);
      return;
    }
    if (whole ? m.size !== o.qty : true) {
      this.anomaly(
        'size-disagreement',
        `${whole ? 'delete' : 'partial cancel'} of ${m.size} from order ${m.orderId}, ` +
          `which holds ${o.qty} in the replay`,
      );
    }
    // The level's total is what the file pins down; a size that disagrees with the order's means
    // an earlier guess moved quantity between this order and unattributed neighbours.
    const surplus = o.qty - m.size;
    this.cancel(o);
    if (surplus > 0 && whole) this.addUnseen(side, m.price, surplus);
    if (surplus < 0) this.takeUnattributed(side, m.price, -surplus);
  }

  /** A row inside an execution group: levels it brings into view, as they were before the group. */
  private revealBefore(side: SideIx, book: LobsterBookRow, executedSoFar: Map<number, number>): void {
    const edge = this.edge[side];
    const newEdge = windowEdge(book, side, this.fileLevels);
    const shown = new Set<number>();
    for (const { price, qty } of rowSide(book, side)) {
      if (!better(side, edge, price)) continue;
      shown.add(price);
      this.markRevealed(side, price);
      const target = qty + (executedSoFar.get(price) ?? 0);
      if (this.lvlQty(side, price) !== target) {
        this.setLevel(side, price, target);
        this.r.reveals++;
      }
    }
    for (const p of [...this.book[side].keys()]) {
      if (better(side, edge, p) && !better(side, newEdge, p) && !shown.has(p)) {
        this.setLevel(side, p, executedSoFar.get(p) ?? 0);
        this.r.reveals++;
      }
    }
    if (better(side, edge, newEdge)) this.edge[side] = newEdge;
  }

  applyExecutions(group: Item[]): void {
    const first = group[0]!.msg;
    const side: SideIx = first.direction === 1 ? BID : ASK;
    this.r.executionGroups++;
    this.r.messagesByType.execution += group.length;

    const executed = new Map<number, number>();
    for (let i = 0; i < group.length - 1; i++) {
      this.row = group[i]!.row;
      const m = group[i]!.msg;
      executed.set(m.price, (executed.get(m.price) ?? 0) + m.size);
      this.revealBefore(side, group[i]!.book, executed);
    }
    this.row = group[group.length - 1]!.row;

    const named = group.map(({ msg }) => this.resolve(msg, side));
    const namedSet = new Set<Ord>();
    for (const o of named) if (o !== undefined) namedSet.add(o);
    let worst = first.price;
    let total = 0;
    const namedSize = new Map<Ord, number>();
    group.forEach(({ msg }, i) => {
      if (better(side, worst, msg.price)) worst = msg.price;
      total += msg.size;
      const o = named[i];
      if (o !== undefined) namedSize.set(o, (namedSize.get(o) ?? 0) + msg.size);
    });
    for (const [o, size] of namedSize) if (o.suspect && size > o.qty) this.reattribute(o, size - o.qty, namedSet);
    // The queues before the aggressor, to restore any level the engine fills differently.
    const before = new Map<number, Array<{ o: Ord; qty: number }>>();
    for (const { msg } of group) {
      if (!before.has(msg.price)) {
        before.set(msg.price, (this.book[side].get(msg.price)?.q ?? []).map((o) => ({ o, qty: o.qty })));
      }
    }

    const trades = this.aggress(side === BID ? 'sell' : 'buy', worst, total);

    // Per price, quantity per key: a named order's id, or 0 for whatever unattributed quantity
    // serves a row naming an order the replay does not hold.
    // A named suspect's fills beyond what the rows name for it count as unattributed too: its
    // quantity was a guess, and an unseen order may well have been the one holding it.
    const want = new Map<number, Map<number, number>>();
    group.forEach(({ msg }, i) => {
      let w = want.get(msg.price);
      if (w === undefined) want.set(msg.price, (w = new Map()));
      const k = named[i]?.id ?? 0;
      w.set(k, (w.get(k) ?? 0) + msg.size);
    });
    const got = new Map<number, Map<number, number>>();
    const fills = new Map<number, Array<{ order: LobsterOrderRef; qty: number }>>();
    const certainFills = new Map<number, Set<Ord>>();
    for (const t of trades) {
      if (t.maker.lob >= 0 && !t.maker.suspect) {
        let c = certainFills.get(t.price);
        if (c === undefined) certainFills.set(t.price, (c = new Set()));
        c.add(t.maker);
      }
      let g = got.get(t.price);
      if (g === undefined) got.set(t.price, (g = new Map()));
      const o = t.maker;
      if (namedSet.has(o)) {
        const named = Math.min(t.qty, Math.max(0, (want.get(t.price)?.get(o.id) ?? 0) - (g.get(o.id) ?? 0)));
        const rest = t.qty - named;
        if (named > 0) g.set(o.id, (g.get(o.id) ?? 0) + named);
        const k = o.suspect ? 0 : o.id;
        if (rest > 0) g.set(k, (g.get(k) ?? 0) + rest);
      } else {
        const k = unattributed(o) ? 0 : o.id;
        g.set(k, (g.get(k) ?? 0) + t.qty);
      }
      let f = fills.get(t.price);
      if (f === undefined) fills.set(t.price, (f = []));
      f.push({ order: this.ref(t.maker), qty: t.qty });
    }
    // Rows take what the engine gave their key in file order (the exchange's order): when several
    // rows share a key (unseen orders at one price), a shortfall lands on the last of them.
    const left = new Map<number, Map<number, number>>();
    for (const [p, g] of got) left.set(p, new Map(g));
    const bad = new Set<number>();
    group.forEach(({ msg, row }, i) => {
      const k = named[i]?.id ?? 0;
      const l = left.get(msg.price);
      const have = l?.get(k) ?? 0;
      l?.set(k, Math.max(0, have - msg.size));
      if (have >= msg.size) return;
      bad.add(msg.price);
      this.r.priorityDisagreements++;
      const o = named[i];
      // Firm: a certain order other than the named one took more than its own rows name.
      const g = got.get(msg.price);
      const w = want.get(msg.price)!;
      const firm =
        o !== undefined &&
        !o.suspect &&
        [...(certainFills.get(msg.price) ?? [])].some((m) => m !== o && (g?.get(m.id) ?? 0) > (w.get(m.id) ?? 0));
      if (firm) this.r.firmPriorityDisagreements++;
      if (this.r.firstPriorityDisagreements.length < this.keep) {
        this.r.firstPriorityDisagreements.push({
          row,
          time: msg.time,
          side: sideName(side),
          price: msg.price,
          size: msg.size,
          namedOrder: msg.orderId,
          known: named[i] !== undefined,
          filled: fills.get(msg.price) ?? [],
          firm,
        });
      }
    });
    for (const p of got.keys()) {
      if (!want.has(p)) {
        bad.add(p);
        this.anomaly('engine', `the aggressor traded at ${p}, a price no execution row names`);
      }
    }
    const filled = trades.reduce((s, t) => s + t.qty, 0);
    if (filled < total) {
      const text = `execution of ${total} at ${sideName(side)} up to ${worst} found only ${filled}`;
      this.anomaly('unfilled-execution', text);
    }

    for (const p of bad) {
      const desired = (before.get(p) ?? []).map((e) => ({ o: e.o, qty: e.qty }));
      // Named orders first, so that what unattributed rows take from a named suspect is only
      // what its own rows leave.
      let unnamed = 0;
      group.forEach(({ msg }, i) => {
        if (msg.price !== p) return;
        const o = named[i];
        let left = msg.size;
        const e = o === undefined ? undefined : desired.find((d) => d.o === o);
        if (e !== undefined) {
          const take = Math.min(e.qty, left);
          e.qty -= take;
          left -= take;
        }
        unnamed += left;
      });
      for (const e of desired) {
        if (unnamed === 0) break;
        if (!unattributed(e.o)) continue;
        const take = Math.min(e.qty, unnamed);
        e.qty -= take;
        unnamed -= take;
      }
      this.rebuild(side, p, desired.filter((e) => e.qty > 0));
      this.r.repairs++;
    }
  }

  /**
   * A suspect order executes for more than the replay left it: an earlier guess took quantity
   * from it that belonged to a neighbour which had really left. Moves `need` back to it from the
   * other unattributed quantity at its level, keeping every order's place in the queue.
   */
  private reattribute(o: Ord, need: number, keepOut: Set<Ord>): void {
    const l = this.book[o.side].get(o.price)!;
    const desired = l.q.map((x) => ({ o: x, qty: x.qty }));
    let moved = 0;
    for (const e of desired) {
      if (moved === need) break;
      if (e.o === o || keepOut.has(e.o) || !unattributed(e.o)) continue;
      const take = Math.min(e.qty, need - moved);
      e.qty -= take;
      moved += take;
    }
    if (moved === 0) return;
    desired.find((e) => e.o === o)!.qty += moved;
    this.rebuild(o.side, o.price, desired.filter((e) => e.qty > 0));
    this.r.reattributions++;
  }

  /** Sends the aggressor and mirrors its trades, checking that the engine filled as FIFO says. */
  private aggress(side: 'buy' | 'sell', price: number, qty: number): Array<{ maker: Ord; price: number; qty: number }> {
    const id = this.nextSynth++;
    this.r.engineCommands++;
    const rep = this.engine.submit({ symbol: this.symbol, id, side, type: 'limit', price, qty, tif: 'ioc' });
    const resting: SideIx = side === 'buy' ? ASK : BID;
    const out: Array<{ maker: Ord; price: number; qty: number }> = [];
    let sum = 0;
    for (const t of rep.trades) {
      sum += t.qty;
      const maker = this.orders.get(t.makerId);
      if (maker === undefined || maker.side !== resting) {
        this.anomaly('engine', `aggressor ${id} traded with ${t.makerId}, not a resting ${sideName(resting)} order`);
        continue;
      }
      if (t.takerId !== id || t.price !== maker.price || t.qty <= 0 || t.qty > maker.qty) {
        const text = `trade ${JSON.stringify(t)} does not fit maker ${maker.id} (${maker.qty} @ ${maker.price})`;
        this.anomaly('engine', text);
      }
      const l = this.book[resting].get(maker.price)!;
      if (l.q[0] !== maker) {
        const text = `FIFO: aggressor ${id} filled order ${maker.id} at ${maker.price} ahead of ${l.q[0]!.id}`;
        this.anomaly('engine', text);
      }
      for (const p of this.book[resting].keys()) {
        if (better(resting, p, maker.price)) {
          this.anomaly('engine', `price priority: aggressor ${id} filled at ${maker.price} while ${p} rested`);
          break;
        }
      }
      const x = Math.min(t.qty, maker.qty);
      out.push({ maker, price: t.price, qty: t.qty });
      if (x === maker.qty) this.detach(maker);
      else {
        maker.qty -= x;
        l.qty -= x;
      }
    }
    const status = sum === qty ? 'filled' : 'cancelled';
    if (rep.status !== status || rep.filledQty !== sum || rep.remainingQty !== 0 || rep.id !== id) {
      this.anomaly(
        'engine',
        `IOC aggressor ${id} for ${qty}: status ${rep.status}, filledQty ${rep.filledQty}, ` +
          `remainingQty ${rep.remainingQty}; its trades sum to ${sum}`,
      );
    }
    return out;
  }

  /** Makes the engine's queue at a price equal `desired` by resubmitting its tail in order. */
  private rebuild(side: SideIx, price: number, desired: Array<{ o: Ord; qty: number }>): void {
    const actual = [...(this.book[side].get(price)?.q ?? [])];
    let i = 0;
    const same = (k: number): boolean => actual[k] === desired[k]!.o && actual[k]!.qty === desired[k]!.qty;
    while (i < actual.length && i < desired.length && same(i)) i++;
    for (let k = i; k < actual.length; k++) this.cancel(actual[k]!);
    for (let k = i; k < desired.length; k++) {
      const { o, qty } = desired[k]!;
      const live = this.orders.get(o.id);
      if (live !== undefined) this.cancel(live);
      o.qty = qty;
      if (!this.rest(o)) this.anomaly('engine', `could not restore order ${o.id} (${qty} @ ${price})`);
    }
  }

  // ----- comparison --------------------------------------------------------------------------

  compare(it: Item): void {
    this.row = it.row;
    const n = this.levels;
    const L = this.fileLevels;
    this.r.rowsCompared++;
    this.r.levelsCompared += 2 * n;
    for (const side of [BID, ASK] as const) {
      const lv = rowSide(it.book, side);
      for (let i = lv.length - 1; i >= 0 && better(side, this.edge[side], lv[i]!.price); i--) {
        this.markRevealed(side, lv[i]!.price);
      }
    }
    // Level 1: bbo() reads the engine's shared result buffer, where depth() allocates a snapshot.
    if (L === 1 && this.engine.bbo !== undefined && sameTop(this.engine.bbo(this.symbol), it.book)) {
      this.edge = [windowEdge(it.book, BID, L), windowEdge(it.book, ASK, L)];
      return;
    }
    const d = this.engine.depth(this.symbol, L);
    if (sameLevels(d.bids, it.book.bids, L) && sameLevels(d.asks, it.book.asks, L)) {
      this.edge = [windowEdge(it.book, BID, L), windowEdge(it.book, ASK, L)];
      return;
    }
    const topMatches = sameLevels(d.bids, it.book.bids, n) && sameLevels(d.asks, it.book.asks, n);
    const differences: LobsterMismatch['differences'] = [];
    const fixes: Array<{ side: SideIx; price: number; target: number; reveal: boolean }> = [];
    for (const side of [BID, ASK] as const) {
      const lv = rowSide(it.book, side);
      const deepest = lv.length >= L ? lv[lv.length - 1]!.price : side === BID ? -Infinity : Infinity;
      const nth = lv.length >= n ? lv[n - 1]!.price : side === BID ? -Infinity : Infinity;
      const inRegion = (p: number): boolean => !better(side, deepest, p);
      // Stale levels the replay still holds may sit between the row's: fetch the engine's levels
      // until its last one lies beyond the row's deepest.
      let eng = side === BID ? d.bids : d.asks;
      for (let k = L; eng.length === k && inRegion(eng[k - 1]!.price); ) {
        k *= 2;
        const dd = this.engine.depth(this.symbol, k);
        eng = side === BID ? dd.bids : dd.asks;
      }
      const engQty = new Map<number, number>();
      for (const l of eng) if (inRegion(l.price)) engQty.set(l.price, l.qty);
      const rowQty = new Map<number, number>();
      for (const l of lv) rowQty.set(l.price, l.qty);
      const prices = new Set<number>([...engQty.keys(), ...rowQty.keys()]);
      for (const p of this.book[side].keys()) if (inRegion(p)) prices.add(p);
      for (const p of prices) {
        const e = engQty.get(p) ?? 0;
        const w = rowQty.get(p) ?? 0;
        const mine = this.lvlQty(side, p);
        if (e !== mine) {
          this.anomaly('engine', `the engine holds ${e} at ${sideName(side)} ${p} where the replay placed ${mine}`);
        }
        if (e === w && mine === w) continue;
        const reveal = better(side, this.edge[side], p);
        fixes.push({ side, price: p, target: w, reveal });
        if (!reveal && e !== w && !better(side, nth, p)) {
          differences.push({ side: sideName(side), price: p, expectedQty: w, engineQty: e });
        }
      }
    }
    if (!topMatches && differences.length === 0 && !fixes.some((f) => f.reveal)) {
      this.anomaly('engine', `the engine's top levels differ from row ${it.row} at no price the replay can name`);
    }
    if (differences.length > 0) {
      this.r.mismatches++;
      this.r.mismatchedLevels += differences.length;
      const mm: LobsterMismatch = {
        row: it.row,
        message: it.msg,
        expected: topOf(it.book, n),
        engine: depthRow(d, n),
        differences: differences.sort((a, b) => (a.side === b.side ? 0 : a.side === 'bid' ? -1 : 1)),
      };
      if (this.r.firstMismatches.length < this.keep) this.r.firstMismatches.push(mm);
      this.onMismatch?.(mm);
    }
    for (const f of fixes) {
      this.setLevel(f.side, f.price, f.target);
      if (f.reveal) this.r.reveals++;
      else this.r.repairs++;
    }
    const after = this.engine.depth(this.symbol, L);
    if (!sameLevels(after.bids, it.book.bids, L) || !sameLevels(after.asks, it.book.asks, L)) {
      this.anomaly('engine', `the engine's book still differs from row ${it.row} after the replay repaired it`);
    }
    this.edge = [windowEdge(it.book, BID, L), windowEdge(it.book, ASK, L)];
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point

function tickerOf(path: string): string {
  const m = /^([A-Za-z][A-Za-z0-9.]*)_\d{4}-\d{2}-\d{2}_/.exec(basename(path));
  return m ? m[1]! : 'LOBSTER';
}

async function checkFile(path: unknown, what: string): Promise<string> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new DurabookError('INVALID_ARGUMENT', `${what} must be a file path, got ${describe(path)}`, { field: what });
  }
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DurabookError(
      'INVALID_ARGUMENT',
      `${what} ${describe(path)} cannot be read: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`,
      { field: what, file: path },
    );
  }
  if (!st.isFile()) {
    throw new DurabookError('INVALID_ARGUMENT', `${what} ${describe(path)} is not a file`, { field: what, file: path });
  }
  return path;
}

function emptyReport(symbol: string, messageFile: string, orderbookFile: string): LobsterReport {
  return {
    symbol,
    messageFile,
    orderbookFile,
    fileLevels: 0,
    levels: 0,
    messages: 0,
    messagesByType: { newOrder: 0, partialCancel: 0, delete: 0, execution: 0, hiddenExecution: 0, cross: 0, halt: 0 },
    rowsCompared: 0,
    levelsCompared: 0,
    mismatches: 0,
    mismatchedLevels: 0,
    firstMismatches: [],
    executionGroups: 0,
    priorityDisagreements: 0,
    firmPriorityDisagreements: 0,
    firstPriorityDisagreements: [],
    crossingArrivals: 0,
    unknownOrderMessages: 0,
    removedOrderMessages: 0,
    halts: [],
    seed: { bidLevels: 0, askLevels: 0, bidQty: 0, askQty: 0 },
    reveals: 0,
    reattributions: 0,
    repairs: 0,
    engineCommands: 0,
    anomalies: 0,
    anomaliesByKind: {
      'crossing-arrival': 0,
      'phantom-shortfall': 0,
      'size-disagreement': 0,
      'unfilled-execution': 0,
      'duplicate-order': 0,
      'inconsistent-order': 0,
      engine: 0,
    },
    firstAnomalies: [],
    elapsedMs: 0,
    messagesPerSecond: 0,
  };
}

/**
 * Replays a LOBSTER message/orderbook pair through the engine and compares the engine's top
 * levels with the orderbook file after every message. Files are streamed line by line.
 * Throws DurabookError INVALID_ARGUMENT for unreadable files, malformed rows, files of different
 * lengths or a bad `levels`.
 */
export async function replayLobster(
  messagePath: string,
  orderbookPath: string,
  options: LobsterReplayOptions = {},
): Promise<LobsterReport> {
  await checkFile(messagePath, 'message file');
  await checkFile(orderbookPath, 'orderbook file');
  const { levels, onMismatch, keep = 5 } = options;
  if (levels !== undefined && !(Number.isSafeInteger(levels) && levels > 0)) {
    throw new DurabookError('INVALID_ARGUMENT', `levels must be a positive integer, got ${describe(levels)}`, {
      field: 'levels',
    });
  }
  if (!(Number.isSafeInteger(keep) && keep >= 0)) {
    throw new DurabookError('INVALID_ARGUMENT', `keep must be a non-negative integer, got ${describe(keep)}`, {
      field: 'keep',
    });
  }
  const symbol = options.symbol ?? tickerOf(messagePath);
  const report = emptyReport(symbol, messagePath, orderbookPath);
  const reader = new PairReader(messagePath, orderbookPath);
  let engine = options.engine;
  const owned = engine === undefined;
  try {
    const first = await reader.peek();
    if (first === undefined) {
      throw new DurabookError('INVALID_ARGUMENT', `${messagePath} is empty`, { file: messagePath });
    }
    const L = reader.fileLevels;
    if (levels !== undefined && levels > L) {
      const text = `levels must be at most ${L}, the levels in ${orderbookPath}, got ${levels}`;
      throw new DurabookError('INVALID_ARGUMENT', text, { field: 'levels' });
    }
    report.fileLevels = L;
    report.levels = levels ?? L;
    if (engine === undefined) {
      const { Engine } = await import('../engine.js');
      engine = (await Engine.open({ symbols: [symbol] })) as LobsterReplayEngine;
    } else if (!engine.symbols.includes(symbol)) {
      engine.addSymbol(symbol);
    }

    const rp = new Replayer(engine, symbol, L, report.levels, keep, onMismatch, report);
    const t0 = performance.now();
    rp.seed(first);
    for (;;) {
      const it = await reader.next();
      if (it === undefined) break;
      report.messages++;
      if (it.msg.type !== 4) {
        rp.apply(it);
        rp.compare(it);
        continue;
      }
      const group = [it];
      for (;;) {
        const nx = await reader.peek();
        const m = nx?.msg;
        if (m === undefined || m.type !== 4 || m.time !== it.msg.time || m.direction !== it.msg.direction) break;
        group.push((await reader.next())!);
        report.messages++;
      }
      rp.applyExecutions(group);
      rp.compare(group[group.length - 1]!);
    }
    report.elapsedMs = performance.now() - t0;
    report.messagesPerSecond = report.elapsedMs > 0 ? Math.round((report.messages * 1000) / report.elapsedMs) : 0;
    return report;
  } finally {
    reader.close();
    if (owned && engine !== undefined) await engine.close();
  }
}
