// The per-command native functions (native/addon/binding.cc): one function object each, shared
// by every engine of the addon instance, told which engine a call is for by the slot written into
// the addon's callSlot[0] just before it.
import { describe, expect, it } from 'vitest';
import { Engine } from '../lib/index.js';
import { native } from '../lib/native.js';

const limit = (id: number, side: 'buy' | 'sell', price: number, qty: number) =>
  ({ symbol: 'X', id, side, type: 'limit', price, qty }) as const;

describe('native binding: per-command calls', () => {
  it('route each command to the engine whose slot was written, with calls interleaved', async () => {
    const a = await Engine.open({ symbols: ['X'] });
    const b = await Engine.open({ symbols: ['X'] });
    expect(a._native.slot).not.toBe(b._native.slot);
    for (let i = 1; i <= 50; i++) {
      a.submit(limit(i, 'buy', 100 - (i % 5), i));
      b.submit(limit(i, 'sell', 200 + (i % 7), 2 * i));
      if (i % 10 === 0) {
        a.cancel({ id: i - 1 });
        b.modify({ id: i - 2, qty: 1 });
      }
    }
    const da = a.depth('X', 100);
    const db = b.depth('X', 100);
    expect(da.asks).toEqual([]);
    expect(db.bids).toEqual([]);
    expect(da.bids.reduce((n, l) => n + l.orders, 0)).toBe(45);
    expect(db.asks.reduce((n, l) => n + l.orders, 0)).toBe(50);
    expect(a.lastSeq).toBe(b.lastSeq);
    await a.close();
    await b.close();
  });

  it('refuse a callSlot that is not the slot of a live engine, changing nothing', async () => {
    const e = await Engine.open({ symbols: ['X'] });
    e.submit(limit(1, 'buy', 100, 5));
    const before = { digest: e.digest(), seq: e.lastSeq };
    const addon = native();
    const n = e._native;
    for (const bad of [-1, 0.5, n.slot + 0.5, NaN, Infinity, 2 ** 32, 1e300]) {
      addon.callSlot[0] = bad;
      for (const call of [() => n.submit(), () => n.cancel(), () => n.modify()]) {
        expect(call, `callSlot ${bad}`).toThrow(TypeError);
      }
    }
    expect({ digest: e.digest(), seq: e.lastSeq }).toEqual(before);
    // The engine's own calls write its slot first, so they work again at once.
    expect(e.submit(limit(2, 'sell', 100, 2)).status).toBe('filled');
    expect(e.lastSeq).toBe(before.seq + 1);
    await e.close();
  });
});
