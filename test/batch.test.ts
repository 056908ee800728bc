// The batch fast path (CommandBatch + engine.submitBatch + BatchResult): the behaviour its fast
// paths must keep — builder calls checked at once, naming the field; a refused batch applies
// nothing; result accessors refuse any index that is not an integer in range; results equal to
// the per-call API's, whatever the batch and trade counts (buffers grow past their defaults).
import { describe, expect, it } from 'vitest';
import { BatchResult, CommandBatch, DurabookError, Engine, type Report } from '../lib/index.js';

const S = 'BTC-USD';

async function open(): Promise<{ engine: Engine; sym: number }> {
  const engine = await Engine.open({ symbols: [S] });
  return { engine, sym: engine.symbolIndex(S) };
}

function invalidField(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DurabookError);
    expect((e as DurabookError).code).toBe('INVALID_ARGUMENT');
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

describe('CommandBatch builder', () => {
  const bad: unknown[] = [NaN, Infinity, -Infinity, 1.5, 2 ** 53, '1', null, undefined, {}, { valueOf: () => 1 }];

  it('limit: each bad field throws at once, naming it, and adds nothing', () => {
    const b = new CommandBatch(4);
    for (const v of bad) {
      expect(invalidField(() => b.limit(v as number, 1, 'buy', 10, 1))).toMatch(/symbol/);
      expect(invalidField(() => b.limit(0, v as number, 'buy', 10, 1))).toMatch(/\bid\b/);
      expect(invalidField(() => b.limit(0, 1, 'buy', v as number, 1))).toMatch(/price/);
      expect(invalidField(() => b.limit(0, 1, 'buy', 10, v as number))).toMatch(/qty/);
    }
    expect(invalidField(() => b.limit(-1, 1, 'buy', 10, 1))).toMatch(/symbol/);
    expect(invalidField(() => b.limit(2 ** 32, 1, 'buy', 10, 1))).toMatch(/symbol/);
    expect(invalidField(() => b.limit(0, 0, 'buy', 10, 1))).toMatch(/\bid\b/);
    expect(invalidField(() => b.limit(0, -1, 'buy', 10, 1))).toMatch(/\bid\b/);
    expect(invalidField(() => b.limit(0, 1, 'buy', 10, 0))).toMatch(/qty/);
    expect(invalidField(() => b.limit(0, 1, 'BUY' as 'buy', 10, 1))).toMatch(/side/);
    expect(invalidField(() => b.limit(0, 1, 'buy', 10, 1, 'day' as 'gtc'))).toMatch(/tif/);
    expect(invalidField(() => b.limit(0, 1, 'buy', 10, 1, null as unknown as 'gtc'))).toMatch(/tif/);
    expect(invalidField(() => b.limit(0, 1, 'buy', 10, 1, 'gtc', 1 as unknown as boolean))).toMatch(/postOnly/);
    expect(invalidField(() => b.limit(0, 1, 'buy', 10, 1, 'ioc', true))).toMatch(/postOnly/);
    // The side is checked before the numbers, as it always was.
    expect(invalidField(() => b.limit(-1, NaN, 'x' as 'buy', NaN, NaN))).toMatch(/side/);
    expect(b.length).toBe(0);
  });

  it('market and cancel: each bad field throws at once, naming it', () => {
    const b = new CommandBatch(4);
    for (const v of bad) {
      expect(invalidField(() => b.market(v as number, 1, 'sell', 1))).toMatch(/symbol/);
      expect(invalidField(() => b.market(0, v as number, 'sell', 1))).toMatch(/\bid\b/);
      expect(invalidField(() => b.market(0, 1, 'sell', v as number))).toMatch(/qty/);
      if (v !== undefined) expect(invalidField(() => b.market(0, 1, 'sell', 1, v as number))).toMatch(/price/);
      expect(invalidField(() => b.cancel(v as number))).toMatch(/\bid\b/);
    }
    expect(invalidField(() => b.market(0, 1, 'up' as 'buy', 1))).toMatch(/side/);
    expect(invalidField(() => b.cancel(0))).toMatch(/\bid\b/);
    expect(b.length).toBe(0);
  });

  it('explicit defaults, tif, postOnly and protection prices build the same commands as the per-call API', async () => {
    const viaBatch = await open();
    const viaCalls = await open();
    const b = new CommandBatch(2); // grows
    b.limit(viaBatch.sym, 1, 'sell', 100, 5, 'gtc', false)
      .limit(viaBatch.sym, 2, 'sell', 101, 5, 'gtc', true)
      .limit(viaBatch.sym, 3, 'buy', 101, 3, 'ioc')
      .limit(viaBatch.sym, 4, 'buy', 101, 100, 'fok')
      .market(viaBatch.sym, 5, 'buy', 4, 100)
      .market(viaBatch.sym, 6, 'buy', 2)
      .modify(2, 102, undefined)
      .cancel(2)
      .cancel(99);
    const res = viaBatch.engine.submitBatch(b);
    const reports: Report[] = [
      viaCalls.engine.submit({ symbol: S, id: 1, side: 'sell', type: 'limit', price: 100, qty: 5, tif: 'gtc', postOnly: false }),
      viaCalls.engine.submit({ symbol: S, id: 2, side: 'sell', type: 'limit', price: 101, qty: 5, postOnly: true }),
      viaCalls.engine.submit({ symbol: S, id: 3, side: 'buy', type: 'limit', price: 101, qty: 3, tif: 'ioc' }),
      viaCalls.engine.submit({ symbol: S, id: 4, side: 'buy', type: 'limit', price: 101, qty: 100, tif: 'fok' }),
      viaCalls.engine.submit({ symbol: S, id: 5, side: 'buy', type: 'market', qty: 4, price: 100 }),
      viaCalls.engine.submit({ symbol: S, id: 6, side: 'buy', type: 'market', qty: 2 }),
      viaCalls.engine.modify({ id: 2, price: 102 }),
      viaCalls.engine.cancel({ id: 2 }),
      viaCalls.engine.cancel({ id: 99 }),
    ];
    expect(res.count).toBe(reports.length);
    reports.forEach((r, i) => {
      expect([res.seq(i), res.status(i), res.reason(i), res.filledQty(i), res.remainingQty(i)]).toEqual([
        r.seq,
        r.status,
        r.reason,
        r.filledQty,
        r.remainingQty,
      ]);
      const trades = [];
      for (let j = res.tradeStart(i); j < res.tradeEnd(i); j++) {
        trades.push({ makerId: res.makerId(j), takerId: res.takerId(j), price: res.price(j), qty: res.qty(j) });
      }
      expect(trades).toEqual(r.trades);
    });
    expect(viaBatch.engine.digest()).toBe(viaCalls.engine.digest());
  });
});

describe('submitBatch', () => {
  it('a batch with a refused command applies nothing', async () => {
    const { engine, sym } = await open();
    engine.submitBatch(new CommandBatch().limit(sym, 1, 'sell', 100, 5));
    const before = engine.digest();
    const b = new CommandBatch().limit(sym, 2, 'buy', 100, 5).limit(sym + 7, 3, 'buy', 100, 1).cancel(1);
    let err: unknown;
    try {
      engine.submitBatch(b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DurabookError);
    expect((err as DurabookError).code).toBe('INVALID_ARGUMENT');
    expect((err as DurabookError).message).toMatch(/batch command 1 refused/);
    expect(engine.digest()).toBe(before);
    expect(engine.lastSeq).toBe(2);
  });

  it('more than 1024 commands and 4096 trades in one batch; a result object reused', async () => {
    const { engine, sym } = await open();
    const b = new CommandBatch(16);
    for (let i = 1; i <= 5000; i++) b.limit(sym, i, 'sell', 100 + (i % 7), 1);
    const result = new BatchResult();
    let res = engine.submitBatch(b, result);
    expect(res).toBe(result);
    expect(res.count).toBe(5000);
    expect(res.tradeCount).toBe(0);
    b.clear().market(sym, 10_000, 'buy', 4500).cancel(5000).cancel(1);
    res = engine.submitBatch(b, result);
    expect(res.count).toBe(3);
    expect(res.tradeCount).toBe(4500);
    expect(res.status(0)).toBe('filled');
    expect(res.tradeStart(0)).toBe(0);
    expect(res.tradeEnd(0)).toBe(4500);
    let qty = 0;
    for (let j = 0; j < res.tradeCount; j++) {
      qty += res.qty(j);
      expect(res.takerId(j)).toBe(10_000);
    }
    expect(qty).toBe(4500);
    expect(res.price(0)).toBe(100);
    expect(res.price(4499)).toBe(106);
    expect(res.lastSeq).toBe(res.seq(2));
    expect(() => res.seq(3)).toThrow(DurabookError);
    expect(() => res.qty(4500)).toThrow(DurabookError);
  });
});

describe('BatchResult accessors', () => {
  it('throw INVALID_ARGUMENT for any index that is not an integer in range', async () => {
    const { engine, sym } = await open();
    const res = engine.submitBatch(new CommandBatch().limit(sym, 1, 'sell', 100, 5).limit(sym, 2, 'buy', 100, 2));
    expect(res.count).toBe(2);
    expect(res.tradeCount).toBe(1);
    type Accessor = (this: BatchResult, i: number) => unknown;
    const cmd: Accessor[] = [res.seq, res.statusCode, res.status, res.reason, res.filledQty, res.remainingQty, res.tradeEnd];
    const trade: Accessor[] = [res.makerId, res.takerId, res.price, res.qty];
    for (const i of [NaN, -1, -0.5, 0.5, 2, 3, 2 ** 32, Infinity, -Infinity, '0', null, undefined]) {
      for (const f of cmd) expect(invalidField(() => f.call(res, i as number))).toMatch(/index/);
    }
    for (const j of [NaN, -1, 0.5, 1, 2 ** 32, '0', undefined]) {
      for (const f of trade) expect(invalidField(() => f.call(res, j as number))).toMatch(/trade index/);
    }
    expect(() => res.tradeStart(NaN)).toThrow(DurabookError);
    expect(() => res.tradeStart(3)).toThrow(DurabookError);
    expect(res.tradeStart(0)).toBe(0);
    expect(res.tradeStart(1)).toBe(0);
    expect(res.tradeStart(2)).toBe(1); // = tradeEnd(1), as before
    expect([res.statusCode(1), res.filledQty(1), res.remainingQty(1), res.tradeEnd(1)]).toEqual([2, 2, 0, 1]);
    expect([res.makerId(0), res.takerId(0), res.price(0), res.qty(0)]).toEqual([1, 2, 100, 2]);
    expect(res.seq(-0)).toBe(res.seq(0));
  });
});
