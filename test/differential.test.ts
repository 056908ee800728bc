// Differential test: the native engine against the reference model (test/support), on seeded
// random streams of valid commands (test/support/random-commands.ts).
//
// Every report must be identical, field by field, trades included (seq, id, status, filledQty,
// remainingQty, reason, and each trade's makerId, takerId, price, qty, in order). Periodically and
// at the end, depth(symbol, 1e6) and bbo() of every symbol and order(id) of sampled ids must be
// identical too. The first mismatch fails with the seed, the command index, the command and both
// reports.
//
// Semantics relied on (decided): seq +1 per command starting at 1, the symbols of open() being
// seq 1..k and addSymbol taking one too; valid commands never throw; rejects are reports. The
// matching rules themselves are restated in test/support/reference-model.ts.
//
// 5 seeds × 50,000 commands + a 20,000-command seed under small engine limits = 270,000 commands.
// Set DURABOOK_TARGET=model to run the harness model-against-model (a self-check of the harness).

import { describe, expect, it } from 'vitest';
import type { Bbo, CancelOrder, Depth, ModifyOrder, NewOrder, Report, RestingOrder } from '../lib/types.js';
import { ReferenceBook } from './support/reference-model.js';
import { CommandStream, DEFAULT_SYMBOLS, Rng, showCommand, type Command, type StreamOptions } from './support/random-commands.js';

interface Book {
  submit(o: NewOrder): Report;
  cancel(c: CancelOrder): Report;
  modify(m: ModifyOrder): Report;
  addSymbol(name: string): number;
  bbo(symbol: string): Bbo;
  depth(symbol: string, levels?: number): Depth;
  order(id: number): RestingOrder | undefined;
  close?(): Promise<void>;
}

interface OpenOptions {
  symbols?: string[];
  limits?: { maxOrders?: number; maxLevels?: number };
}

const TARGET = process.env.DURABOOK_TARGET === 'model' ? 'model' : 'engine';

async function open(opts: OpenOptions): Promise<Book> {
  if (TARGET === 'model') return new ReferenceBook(opts);
  const { Engine } = await import('../lib/index.js');
  return Engine.open(opts);
}

function apply(b: Book, c: Command): Report {
  if (c.kind === 'submit') return b.submit(c.order);
  if (c.kind === 'cancel') return b.cancel(c.cancel);
  return b.modify(c.modify);
}

/** Cheap exact comparison for the hot loop. */
function sameReport(a: Report, b: Report): boolean {
  if (
    a.seq !== b.seq ||
    a.id !== b.id ||
    a.status !== b.status ||
    a.filledQty !== b.filledQty ||
    a.remainingQty !== b.remainingQty ||
    a.reason !== b.reason ||
    a.trades.length !== b.trades.length
  ) {
    return false;
  }
  for (let i = 0; i < a.trades.length; i++) {
    const x = a.trades[i]!;
    const y = b.trades[i]!;
    if (x.makerId !== y.makerId || x.takerId !== y.takerId || x.price !== y.price || x.qty !== y.qty) return false;
  }
  return true;
}

const REPORT_KEYS = ['filledQty', 'id', 'reason', 'remainingQty', 'seq', 'status', 'trades'];

function showReport(r: Report | RestingOrder | undefined): string {
  return r === undefined ? 'undefined' : JSON.stringify(r, (_k, v: unknown) => (v === undefined ? '<undefined>' : v));
}

/** Where two reports first differ, and both reports with long trade lists cut around that place. */
function explainMismatch(e: Report, m: Report): string {
  let first = 0;
  while (first < e.trades.length && first < m.trades.length) {
    const x = e.trades[first]!;
    const y = m.trades[first]!;
    if (x.makerId !== y.makerId || x.takerId !== y.takerId || x.price !== y.price || x.qty !== y.qty) break;
    first++;
  }
  const cut = (r: Report) => {
    const from = Math.max(0, first - 2);
    const shown = r.trades.slice(from, first + 3);
    const trades = r.trades.length <= 8 ? r.trades : shown;
    const note = r.trades.length <= 8 ? '' : ` (${r.trades.length} trades, showing #${from}..#${from + shown.length - 1})`;
    return showReport({ ...r, trades }) + note;
  };
  const fields = (['seq', 'id', 'status', 'filledQty', 'remainingQty', 'reason'] as const).filter((k) => e[k] !== m[k]);
  const where = fields.length > 0 ? `fields ${fields.join(', ')}` : '';
  const tradeNote = first < Math.max(e.trades.length, m.trades.length) ? `trade #${first}` : '';
  return `  first difference: ${[where, tradeNote].filter(Boolean).join('; ')}\n  engine: ${cut(e)}\n  model:  ${cut(m)}`;
}

interface Run {
  name: string;
  seed: number;
  count: number;
  stream?: StreamOptions;
  limits?: OpenOptions['limits'];
}

const RUNS: Run[] = [
  { name: 'five symbols, default bands', seed: 1, count: 50_000 },
  { name: 'two symbols, one-tick band: very deep levels', seed: 2, count: 50_000, stream: { symbols: DEFAULT_SYMBOLS.slice(0, 2), narrowBand: 1 } },
  { name: 'three symbols incl. negative prices, single-price band', seed: 3, count: 50_000, stream: { symbols: DEFAULT_SYMBOLS.slice(1, 4), narrowBand: 0 } },
  { name: 'wide band: many levels', seed: 4, count: 50_000, stream: { narrowBand: 8, wideBand: 300 } },
  { name: 'fast-drifting mids', seed: 5, count: 50_000, stream: { drift: 0.05 } },
  { name: 'small engine limits (ORDER_LIMIT, LEVEL_LIMIT)', seed: 6, count: 20_000, limits: { maxOrders: 400, maxLevels: 5 }, stream: { narrowBand: 4, wideBand: 12 } },
];

const CHECK_EVERY = 2_500;
const SAMPLED_IDS = 100;

/** Outcomes seen over all runs: every status and every reason must turn up somewhere. */
const seen = new Set<string>();

function compareState(engine: Book, model: ReferenceBook, symbols: string[], ids: number[], rng: Rng, where: string, all: boolean): void {
  for (const s of symbols) {
    const de = engine.depth(s, 1e6);
    const dm = model.depth(s, 1e6);
    if (JSON.stringify(de) !== JSON.stringify(dm)) expect(de, `${where}: depth(${s}) differs`).toEqual(dm);
    const be = engine.bbo(s);
    const bm = model.bbo(s);
    if (JSON.stringify(be) !== JSON.stringify(bm)) expect(be, `${where}: bbo(${s}) differs`).toEqual(bm);
  }
  const check = (id: number) => {
    const oe = engine.order(id);
    const om = model.order(id);
    if (showReport(oe) !== showReport(om)) {
      expect.fail(`${where}: order(${id}) differs\n  engine: ${showReport(oe)}\n  model:  ${showReport(om)}`);
    }
  };
  if (all) {
    for (const id of new Set(ids)) check(id);
  } else {
    for (let k = 0; k < SAMPLED_IDS && ids.length > 0; k++) check(ids[rng.int(0, ids.length - 1)]!);
  }
}

describe(`differential: ${TARGET} vs reference model`, () => {
  it.each(RUNS)('seed $seed: $name ($count commands)', async (run) => {
    const stream = new CommandStream(run.seed, run.stream);
    const symbols = stream.symbolNames;
    // All symbols but the last come from open() (seq 1..k-1), the last from addSymbol (seq k).
    const engine = await open({ symbols: symbols.slice(0, -1), limits: run.limits });
    const model = new ReferenceBook({ symbols: symbols.slice(0, -1), limits: run.limits });
    try {
      const last = symbols[symbols.length - 1]!;
      expect(engine.addSymbol(last)).toBe(symbols.length);
      expect(model.addSymbol(last)).toBe(symbols.length);

      const rng = new Rng(run.seed * 7919);
      const ids: number[] = [];
      const recent: Command[] = [];
      for (let i = 0; i < run.count; i++) {
        const c = stream.next();
        const id = c.kind === 'submit' ? c.order.id : c.kind === 'cancel' ? c.cancel.id : c.modify.id;
        ids.push(id);
        recent.push(c);
        if (recent.length > 6) recent.shift();
        let re: Report;
        try {
          re = apply(engine, c);
        } catch (err) {
          expect.fail(`seed ${run.seed} command #${i}: ${showCommand(c)}\n  engine threw on a valid command: ${String(err)}`);
        }
        const rm = apply(model, c);
        if (!sameReport(re, rm)) {
          const before = recent.slice(0, -1).map((p) => `    ${showCommand(p)}`).join('\n');
          expect.fail(
            `seed ${run.seed} command #${i}: ${showCommand(c)}\n` +
              `${explainMismatch(re, rm)}\n` +
              `  preceding commands:\n${before}`,
          );
        }
        seen.add(rm.status);
        if (rm.reason !== undefined) seen.add(rm.reason);
        if (i % 997 === 0) {
          // Report shape: exactly the documented keys (reason present even when undefined is allowed to be absent).
          const keys = Object.keys(re).sort();
          expect(keys.filter((k) => k !== 'reason'), `seed ${run.seed} command #${i}: report keys`).toEqual(REPORT_KEYS.filter((k) => k !== 'reason'));
          expect(REPORT_KEYS).toEqual(expect.arrayContaining(keys));
        }
        if ((i + 1) % CHECK_EVERY === 0) compareState(engine, model, symbols, ids, rng, `seed ${run.seed} after command #${i}`, false);
      }
      compareState(engine, model, symbols, ids, rng, `seed ${run.seed} at the end`, true);
      expect(model.lastSeq, 'every command ran').toBe(symbols.length + run.count);
    } finally {
      await engine.close?.();
    }
  });

  it('covered every status and every reason', () => {
    expect([...seen].sort()).toEqual([
      'DUPLICATE_ORDER_ID',
      'LEVEL_LIMIT',
      'ORDER_LIMIT',
      'POST_ONLY_WOULD_CROSS',
      'UNKNOWN_ORDER',
      'cancelled',
      'filled',
      'new',
      'partially_filled',
      'rejected',
    ]);
  });
});
