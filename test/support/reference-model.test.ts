// Checks of the reference model itself on a few hand-worked cases (the full rule suite runs against
// it too with DURABOOK_TARGET=model npx vitest run test/matching.test.ts), and of the command
// generator: deterministic, and every command valid and varied.

import { describe, expect, expect as expectReal, it } from 'vitest';
import { ReferenceBook } from './reference-model.js';
import { CommandStream, generateCommands, mulberry32 } from './random-commands.js';

describe('reference model', () => {
  it('numbers constructor symbols 1..k and every command after them', () => {
    const m = new ReferenceBook({ symbols: ['A', 'B'] });
    expect(m.lastSeq).toBe(2);
    expect(m.addSymbol('C')).toBe(3);
    expect(m.cancel({ id: 1 })).toEqual({ seq: 4, id: 1, status: 'rejected', filledQty: 0, remainingQty: 0, trades: [], reason: 'UNKNOWN_ORDER' });
    expect(m.symbols).toEqual(['A', 'B', 'C']);
  });

  it('matches price-time, at the maker price, and rests the remainder', () => {
    const m = new ReferenceBook({ symbols: ['A'] });
    m.submit({ symbol: 'A', id: 1, side: 'sell', type: 'limit', price: 11, qty: 2 });
    m.submit({ symbol: 'A', id: 2, side: 'sell', type: 'limit', price: 10, qty: 2 });
    m.submit({ symbol: 'A', id: 3, side: 'sell', type: 'limit', price: 10, qty: 2 });
    const r = m.submit({ symbol: 'A', id: 4, side: 'buy', type: 'limit', price: 11, qty: 7 });
    expect(r).toEqual({
      seq: 5,
      id: 4,
      status: 'partially_filled',
      filledQty: 6,
      remainingQty: 1,
      trades: [
        { makerId: 2, takerId: 4, price: 10, qty: 2 },
        { makerId: 3, takerId: 4, price: 10, qty: 2 },
        { makerId: 1, takerId: 4, price: 11, qty: 2 },
      ],
      reason: undefined,
    });
    expect(m.depth('A')).toEqual({ bids: [{ price: 11, qty: 1, orders: 1 }], asks: [] });
    expect(m.bbo('A')).toEqual({ bid: { price: 11, qty: 1 }, ask: null });
    expect(m.order(4)).toEqual({ id: 4, symbol: 'A', side: 'buy', price: 11, remainingQty: 1 });
    expect(m.restingCount).toBe(1);
  });

  it('FOK checks availability within its limit only; postOnly modify reject leaves the order in place', () => {
    const m = new ReferenceBook({ symbols: ['A'] });
    m.submit({ symbol: 'A', id: 1, side: 'buy', type: 'limit', price: 10, qty: 2 });
    m.submit({ symbol: 'A', id: 2, side: 'buy', type: 'limit', price: 9, qty: 9 });
    expect(m.submit({ symbol: 'A', id: 3, side: 'sell', type: 'limit', price: 10, qty: 3, tif: 'fok' }).status).toBe('cancelled');
    expect(m.submit({ symbol: 'A', id: 3, side: 'sell', type: 'limit', price: 9, qty: 3, tif: 'fok' }).filledQty).toBe(3);
    m.submit({ symbol: 'A', id: 4, side: 'sell', type: 'limit', price: 12, qty: 1, postOnly: true });
    expect(m.modify({ id: 4, price: 9 }).reason).toBe('POST_ONLY_WOULD_CROSS');
    expect(m.order(4)).toEqual({ id: 4, symbol: 'A', side: 'sell', price: 12, remainingQty: 1 });
  });

  it('enforces maxOrders and maxLevels', () => {
    const m = new ReferenceBook({ symbols: ['A'], limits: { maxOrders: 3, maxLevels: 2 } });
    m.submit({ symbol: 'A', id: 1, side: 'buy', type: 'limit', price: 10, qty: 1 });
    m.submit({ symbol: 'A', id: 2, side: 'buy', type: 'limit', price: 9, qty: 1 });
    expect(m.submit({ symbol: 'A', id: 3, side: 'buy', type: 'limit', price: 8, qty: 1 }).reason).toBe('LEVEL_LIMIT');
    m.submit({ symbol: 'A', id: 4, side: 'buy', type: 'limit', price: 9, qty: 1 });
    expect(m.submit({ symbol: 'A', id: 5, side: 'sell', type: 'limit', price: 20, qty: 1 }).reason).toBe('ORDER_LIMIT');
  });
});

describe('command generator', () => {
  it('mulberry32 is deterministic and spread over [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    let sum = 0;
    let bad = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = a();
      if (x !== b() || !(x >= 0 && x < 1)) bad++;
      sum += x;
    }
    expect(bad).toBe(0);
    expect(sum / 10_000).toBeGreaterThan(0.45);
    expect(sum / 10_000).toBeLessThan(0.55);
  });

  it('produces the same stream for the same seed and a different one for another seed', () => {
    expect(generateCommands(3, 2_000)).toEqual(generateCommands(3, 2_000));
    expect(generateCommands(3, 2_000)).not.toEqual(generateCommands(4, 2_000));
  });

  it('produces only valid commands, of every kind', () => {
    const g = new CommandStream(11);
    const symbols = new Set(g.symbolNames);
    const safe = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n);
    const kinds = new Set<string>();
    const bad: string[] = [];
    // A cheap stand-in for expect() in the loop: collect failures, assert once at the end.
    const expect = (v: unknown) => ({
      toBe: (w: unknown) => void (v !== w && bad.push(`#${bad.length}: ${String(v)} !== ${String(w)}`)),
      toBeUndefined: () => void (v !== undefined && bad.push(`${String(v)} !== undefined`)),
    });
    for (let i = 0; i < 20_000; i++) {
      const c = g.next();
      if (c.kind === 'submit') {
        const o = c.order;
        expect(symbols.has(o.symbol)).toBe(true);
        expect(safe(o.id) && o.id > 0).toBe(true);
        expect(safe(o.qty) && o.qty > 0).toBe(true);
        if (o.type === 'limit') {
          expect(safe(o.price)).toBe(true);
          if (o.postOnly) expect(o.tif ?? 'gtc').toBe('gtc');
          kinds.add(`limit/${o.tif ?? 'gtc'}${o.postOnly ? '/po' : ''}`);
        } else {
          expect(o.tif === undefined || o.tif === 'ioc').toBe(true);
          expect(o.postOnly).toBeUndefined();
          if (o.price !== undefined) expect(safe(o.price)).toBe(true);
          kinds.add(`market/${o.price === undefined ? 'noprice' : 'price'}`);
          if (o.price !== undefined && o.price < 0) kinds.add('negative');
        }
        if (o.price !== undefined && o.price < 0) kinds.add('negative');
      } else if (c.kind === 'cancel') {
        expect(safe(c.cancel.id) && c.cancel.id > 0).toBe(true);
        kinds.add('cancel');
      } else {
        const m = c.modify;
        expect(safe(m.id) && m.id > 0).toBe(true);
        expect(m.price !== undefined || m.qty !== undefined).toBe(true);
        if (m.price !== undefined) expect(safe(m.price)).toBe(true);
        if (m.qty !== undefined) expect(safe(m.qty) && m.qty > 0).toBe(true);
        kinds.add(`modify/${m.price === undefined ? '' : 'price'}${m.qty === undefined ? '' : 'qty'}`);
      }
    }
    expectReal(bad).toEqual([]);
    expectReal([...kinds].sort()).toEqual([
      'cancel',
      'limit/fok',
      'limit/gtc',
      'limit/gtc/po',
      'limit/ioc',
      'market/noprice',
      'market/price',
      'modify/price',
      'modify/priceqty',
      'modify/qty',
      'negative',
    ]);
  });
});
