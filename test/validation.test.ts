// Bad input: every case throws DurabookError with the right code and a message naming the field and
// the bad value; the engine state (digest, depth, resting orders) is unchanged afterwards and the
// next valid command gets the next seq (a throwing call consumes none).
//
// The decided semantics these tests pin down:
//  - Throws DurabookError (nothing changes, no seq consumed): INVALID_ARGUMENT for wrong types,
//    missing fields, NaN, ±Infinity, non-integers, unsafe integers, qty <= 0, id <= 0, unknown
//    side/type/tif, price missing on limit, tif other than absent or 'ioc' on market, postOnly on
//    market or non-gtc, modify with neither price nor qty, levels not a positive integer;
//    UNKNOWN_SYMBOL for a symbol not added; ENGINE_CLOSED after close().
//  - -0 counts as 0 (so it is a valid price, and an invalid id or qty). Prices may be any safe
//    integer, negative included. Extra unknown fields are ignored, but known optional fields of the
//    wrong type (e.g. postOnly: 'yes', tif: 3) throw.
//  - The value in messages is rendered like lib/errors.ts describe(): strings quoted, objects as
//    JSON, -0 as -0 (for -0 we accept '0' too).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurabookError, Engine, type ErrorCode } from '../lib/index.js';
import { describe as render } from '../lib/errors.js';
import type { Depth, RestingOrder } from '../lib/types.js';

/** Lets a deliberately ill-typed value through the type checker. */
const bad = <T>(v: unknown): T => v as T;

interface Case {
  name: string;
  call: (e: Engine) => unknown;
  code: ErrorCode;
  /** The message must name this field (any of them when several are acceptable). */
  field?: string | string[];
  /** The message must show this value (as describe() renders it); omit to skip the check. */
  value?: unknown;
}

const NO_VALUE = Symbol('no value check');

function expectedValueText(v: unknown): string {
  if (typeof v === 'string') return v; // quoted or not, the text itself must be there
  if (Object.is(v, -0)) return '0';
  return render(v);
}

const LIMIT = { symbol: 'AAPL', id: 50, side: 'buy', type: 'limit', price: 90, qty: 1 } as const;
const MARKET = { symbol: 'AAPL', id: 50, side: 'sell', type: 'market', qty: 1 } as const;

function withField(base: object, field: string, value: unknown): Record<string, unknown> {
  return { ...base, [field]: value };
}

function without(base: object, field: string): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base };
  delete o[field];
  return o;
}

const BAD_POSITIVE: unknown[] = [
  0,
  -0,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 53),
  1e300,
  '10',
  '',
  null,
  true,
  {},
  [5],
  10n,
  Symbol('x'),
];
const BAD_PRICE: unknown[] = [0.5, -1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300, '90', null, false, {}, 90n];

function cases(): Case[] {
  const out: Case[] = [];
  const add = (c: Case) => out.push(c);
  const label = (v: unknown) => (typeof v === 'symbol' ? 'Symbol(x)' : render(v));

  // ---- submit ----
  for (const v of BAD_POSITIVE) {
    add({ name: `submit id=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'id', v))), code: 'INVALID_ARGUMENT', field: 'id', value: v });
    add({ name: `submit qty=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'qty', v))), code: 'INVALID_ARGUMENT', field: 'qty', value: v });
    add({ name: `submit market qty=${label(v)}`, call: (e) => e.submit(bad(withField(MARKET, 'qty', v))), code: 'INVALID_ARGUMENT', field: 'qty', value: v });
  }
  for (const v of BAD_PRICE) {
    add({ name: `submit limit price=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'price', v))), code: 'INVALID_ARGUMENT', field: 'price', value: v });
    add({ name: `submit market price=${label(v)}`, call: (e) => e.submit(bad(withField(MARKET, 'price', v))), code: 'INVALID_ARGUMENT', field: 'price', value: v });
  }
  for (const f of ['id', 'qty', 'price', 'side', 'type', 'symbol']) {
    add({ name: `submit limit without ${f}`, call: (e) => e.submit(bad(without(LIMIT, f))), code: 'INVALID_ARGUMENT', field: f, value: undefined });
  }
  for (const f of ['id', 'qty', 'side', 'type', 'symbol']) {
    add({ name: `submit market without ${f}`, call: (e) => e.submit(bad(without(MARKET, f))), code: 'INVALID_ARGUMENT', field: f, value: undefined });
  }
  for (const v of ['BUY', 'Buy', 'b', 'bid', '', 1, 0, null, true, {}]) {
    add({ name: `submit side=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'side', v))), code: 'INVALID_ARGUMENT', field: 'side', value: v });
  }
  for (const v of ['LIMIT', 'Limit', 'stop', 'stop_limit', '', 0, null, false, []]) {
    add({ name: `submit type=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'type', v))), code: 'INVALID_ARGUMENT', field: 'type', value: v });
  }
  for (const v of ['GTC', 'day', 'gtd', '', 3, null, true, {}]) {
    add({ name: `submit limit tif=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'tif', v))), code: 'INVALID_ARGUMENT', field: 'tif', value: v });
  }
  for (const v of ['gtc', 'fok', 'IOC', 'day', 3, null]) {
    add({ name: `submit market tif=${label(v)}`, call: (e) => e.submit(bad(withField(MARKET, 'tif', v))), code: 'INVALID_ARGUMENT', field: 'tif', value: v });
  }
  for (const v of ['yes', 'true', 1, 0, null, {}]) {
    add({ name: `submit postOnly=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'postOnly', v))), code: 'INVALID_ARGUMENT', field: 'postOnly', value: v });
  }
  add({ name: 'submit market postOnly=true', call: (e) => e.submit(bad({ ...MARKET, postOnly: true })), code: 'INVALID_ARGUMENT', field: 'postOnly' });
  add({ name: 'submit market with price postOnly=true', call: (e) => e.submit(bad({ ...MARKET, price: 80, postOnly: true })), code: 'INVALID_ARGUMENT', field: 'postOnly' });
  add({ name: 'submit limit ioc postOnly=true', call: (e) => e.submit({ ...LIMIT, tif: 'ioc', postOnly: true }), code: 'INVALID_ARGUMENT', field: ['postOnly', 'tif'] });
  add({ name: 'submit limit fok postOnly=true', call: (e) => e.submit({ ...LIMIT, tif: 'fok', postOnly: true }), code: 'INVALID_ARGUMENT', field: ['postOnly', 'tif'] });
  for (const v of [5, null, true, {}, ['AAPL']]) {
    add({ name: `submit symbol=${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'symbol', v))), code: 'INVALID_ARGUMENT', field: 'symbol', value: v });
  }
  for (const v of ['NOPE', 'aapl', 'AAPL ', 'MSFT2']) {
    add({ name: `submit unknown symbol ${label(v)}`, call: (e) => e.submit(bad(withField(LIMIT, 'symbol', v))), code: 'UNKNOWN_SYMBOL', field: 'symbol', value: v });
  }
  for (const v of [null, undefined, [], [LIMIT], 5, 'order', true]) {
    add({ name: `submit(${label(v)})`, call: (e) => e.submit(bad(v)), code: 'INVALID_ARGUMENT', value: v });
  }

  // ---- cancel ----
  for (const v of BAD_POSITIVE) {
    add({ name: `cancel id=${label(v)}`, call: (e) => e.cancel(bad({ id: v })), code: 'INVALID_ARGUMENT', field: 'id', value: v });
  }
  add({ name: 'cancel({})', call: (e) => e.cancel(bad({})), code: 'INVALID_ARGUMENT', field: 'id', value: undefined });
  for (const v of [null, undefined, [], [1], 1, '1']) {
    add({ name: `cancel(${label(v)})`, call: (e) => e.cancel(bad(v)), code: 'INVALID_ARGUMENT', value: v });
  }

  // ---- modify ----
  for (const v of BAD_POSITIVE) {
    add({ name: `modify id=${label(v)}`, call: (e) => e.modify(bad({ id: v, qty: 1 })), code: 'INVALID_ARGUMENT', field: 'id', value: v });
    add({ name: `modify qty=${label(v)}`, call: (e) => e.modify(bad({ id: 1, qty: v })), code: 'INVALID_ARGUMENT', field: 'qty', value: v });
  }
  for (const v of BAD_PRICE) {
    add({ name: `modify price=${label(v)}`, call: (e) => e.modify(bad({ id: 1, price: v })), code: 'INVALID_ARGUMENT', field: 'price', value: v });
    add({ name: `modify price=${label(v)} with a valid qty`, call: (e) => e.modify(bad({ id: 1, price: v, qty: 2 })), code: 'INVALID_ARGUMENT', field: 'price', value: v });
  }
  add({ name: 'modify with neither price nor qty', call: (e) => e.modify({ id: 1 }), code: 'INVALID_ARGUMENT', field: ['price', 'qty'] });
  add({ name: 'modify with neither (explicit undefined)', call: (e) => e.modify({ id: 1, price: undefined, qty: undefined }), code: 'INVALID_ARGUMENT', field: ['price', 'qty'] });
  add({ name: 'modify with neither (only unknown fields)', call: (e) => e.modify(bad({ id: 1, quantity: 3, px: 5 })), code: 'INVALID_ARGUMENT', field: ['price', 'qty'] });
  add({ name: 'modify without id', call: (e) => e.modify(bad({ qty: 3 })), code: 'INVALID_ARGUMENT', field: 'id', value: undefined });
  for (const v of [null, undefined, [], [1, 2], 7, 'modify']) {
    add({ name: `modify(${label(v)})`, call: (e) => e.modify(bad(v)), code: 'INVALID_ARGUMENT', value: v });
  }

  // ---- queries ----
  for (const v of [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, '5', null, true, {}]) {
    add({ name: `depth levels=${label(v)}`, call: (e) => e.depth('AAPL', bad(v)), code: 'INVALID_ARGUMENT', field: 'levels', value: v });
  }
  for (const v of [5, null, {}, ['AAPL']]) {
    add({ name: `depth symbol=${label(v)}`, call: (e) => e.depth(bad(v)), code: 'INVALID_ARGUMENT', field: 'symbol', value: v });
    add({ name: `bbo symbol=${label(v)}`, call: (e) => e.bbo(bad(v)), code: 'INVALID_ARGUMENT', field: 'symbol', value: v });
  }
  add({ name: 'depth() without a symbol', call: (e) => e.depth(bad(undefined)), code: 'INVALID_ARGUMENT', field: 'symbol', value: undefined });
  add({ name: 'depth unknown symbol', call: (e) => e.depth('NOPE'), code: 'UNKNOWN_SYMBOL', field: 'symbol', value: 'NOPE' });
  add({ name: 'bbo unknown symbol', call: (e) => e.bbo('NOPE'), code: 'UNKNOWN_SYMBOL', field: 'symbol', value: 'NOPE' });
  for (const v of [0, -1, 1.5, NaN, Infinity, 2 ** 53, '1', null, undefined, {}]) {
    add({ name: `order(${label(v)})`, call: (e) => e.order(bad(v)), code: 'INVALID_ARGUMENT', field: 'id', value: v });
  }

  // ---- addSymbol ----
  for (const v of [5, null, undefined, {}, ['X'], true]) {
    add({ name: `addSymbol(${label(v)})`, call: (e) => e.addSymbol(bad(v)), code: 'INVALID_ARGUMENT', field: ['symbol', 'name'], value: v });
  }
  // Not spelled out in the semantics file: addSymbol has no report to reject with, so a name already
  // added (or an empty one) can only throw.
  add({ name: 'addSymbol of a symbol already added', call: (e) => e.addSymbol('AAPL'), code: 'INVALID_ARGUMENT', field: 'symbol', value: 'AAPL' });
  add({ name: 'addSymbol of an empty name', call: (e) => e.addSymbol(''), code: 'INVALID_ARGUMENT', field: 'symbol' });
  return out;
}

describe('validation: bad input throws, changes nothing, consumes no seq', () => {
  let engine: Engine;
  let seq: number;

  const state = (e: Engine): { digest: string; depth: Depth[]; orders: (RestingOrder | undefined)[] } => ({
    digest: e.digest(),
    depth: [e.depth('AAPL', 1_000_000), e.depth('MSFT', 1_000_000)],
    orders: [1, 2, 3, 4, 50].map((id) => e.order(id)),
  });

  beforeAll(async () => {
    engine = await Engine.open({ symbols: ['AAPL', 'MSFT'] });
    // Some resting orders for the bad commands to (not) touch.
    expect(engine.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 100, qty: 5 }).seq).toBe(3);
    expect(engine.submit({ symbol: 'AAPL', id: 2, side: 'sell', type: 'limit', price: 105, qty: 5, postOnly: true }).seq).toBe(4);
    expect(engine.submit({ symbol: 'AAPL', id: 3, side: 'sell', type: 'limit', price: 105, qty: 2 }).seq).toBe(5);
    expect(engine.submit({ symbol: 'MSFT', id: 4, side: 'buy', type: 'limit', price: -7, qty: 9 }).seq).toBe(6);
    seq = 6;
  });

  afterAll(async () => {
    await engine.close();
  });

  it.each(cases().map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const before = state(engine);
    let thrown: unknown = NO_VALUE;
    try {
      c.call(engine);
    } catch (err) {
      thrown = err;
    }
    expect(thrown, 'it must throw').not.toBe(NO_VALUE);
    expect(thrown).toBeInstanceOf(DurabookError);
    const err = thrown as DurabookError;
    expect(err.code).toBe(c.code);
    if (c.field !== undefined) {
      const fields = Array.isArray(c.field) ? c.field : [c.field];
      expect(fields.some((f) => err.message.includes(f)), `message ${JSON.stringify(err.message)} names ${fields.join(' or ')}`).toBe(true);
    }
    if ('value' in c) {
      const text = expectedValueText(c.value);
      expect(err.message, `message shows the value ${text}`).toContain(text);
    }
    expect(state(engine)).toEqual(before);
    // The next valid command gets the next seq: the throwing call consumed none.
    const r = engine.cancel({ id: 999_999 });
    expect(r.seq).toBe(++seq);
    expect(r.status).toBe('rejected');
  });
});

describe('validation: edge values that are valid', () => {
  it('-0 as a price is 0; extra unknown fields are ignored; extreme safe integers are accepted', async () => {
    const e = await Engine.open({ symbols: ['AAPL'] });
    const r = e.submit(bad({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: -0, qty: 3, note: 'hello', clientTag: 7 }));
    expect(r).toEqual({ seq: 2, id: 1, status: 'new', filledQty: 0, remainingQty: 3, trades: [], reason: undefined });
    const d = e.depth('AAPL');
    expect(d.bids).toEqual([{ price: 0, qty: 3, orders: 1 }]);
    expect(Object.is(d.bids[0]!.price, 0)).toBe(true);
    expect(Object.is(e.order(1)!.price, 0)).toBe(true);
    expect(e.modify({ id: 1, price: -0, qty: 2 }).status).toBe('new'); // same price, qty down
    expect(e.submit({ symbol: 'AAPL', id: Number.MAX_SAFE_INTEGER, side: 'sell', type: 'limit', price: Number.MAX_SAFE_INTEGER, qty: Number.MAX_SAFE_INTEGER }).status).toBe('new');
    expect(e.order(Number.MAX_SAFE_INTEGER)).toEqual({ id: Number.MAX_SAFE_INTEGER, symbol: 'AAPL', side: 'sell', price: Number.MAX_SAFE_INTEGER, remainingQty: Number.MAX_SAFE_INTEGER });
    expect(e.submit({ symbol: 'AAPL', id: 2, side: 'buy', type: 'limit', price: -Number.MAX_SAFE_INTEGER, qty: 1 }).status).toBe('new');
    expect(e.submit({ symbol: 'AAPL', id: 3, side: 'sell', type: 'market', qty: 1, price: -Number.MAX_SAFE_INTEGER, tif: 'ioc' })).toEqual({
      seq: 6,
      id: 3,
      status: 'filled',
      filledQty: 1,
      remainingQty: 0,
      trades: [{ makerId: 1, takerId: 3, price: 0, qty: 1 }],
      reason: undefined,
    });
    expect(e.modify(bad({ id: 2, qty: 4, extra: 'ignored' })).status).toBe('new');
    expect(e.cancel(bad({ id: 2, reason: 'whatever' })).status).toBe('cancelled');
    expect(e.depth('AAPL', 1).asks).toEqual([{ price: Number.MAX_SAFE_INTEGER, qty: Number.MAX_SAFE_INTEGER, orders: 1 }]);
    expect(e.depth('AAPL', undefined)).toEqual(e.depth('AAPL', 10));
    // Any positive safe integer is a valid number of levels, far beyond 32 bits included.
    for (const n of [2 ** 31, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) expect(e.depth('AAPL', n)).toEqual(e.depth('AAPL', 1_000_000));
    await e.close();
  });
});

describe('validation: calls after close()', () => {
  it('every call throws ENGINE_CLOSED, close() is idempotent', async () => {
    const e = await Engine.open({ symbols: ['AAPL'] });
    e.submit({ symbol: 'AAPL', id: 1, side: 'buy', type: 'limit', price: 1, qty: 1 });
    await e.close();
    await e.close();
    const calls: [string, () => unknown][] = [
      ['submit', () => e.submit({ symbol: 'AAPL', id: 2, side: 'buy', type: 'limit', price: 1, qty: 1 })],
      ['cancel', () => e.cancel({ id: 1 })],
      ['modify', () => e.modify({ id: 1, qty: 1 })],
      ['addSymbol', () => e.addSymbol('MSFT')],
      ['bbo', () => e.bbo('AAPL')],
      ['depth', () => e.depth('AAPL')],
      ['order', () => e.order(1)],
      ['digest', () => e.digest()],
    ];
    for (const [name, call] of calls) {
      let thrown: unknown;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `${name} after close()`).toBeInstanceOf(DurabookError);
      expect((thrown as DurabookError).code, `${name} after close()`).toBe('ENGINE_CLOSED');
    }
  });
});

describe('validation: the per-call fast path agrees with the field-by-field path', () => {
  // submit checks the common order shapes (gtc limits, unprotected market orders, no options) in
  // one inline chain and sends anything else down the field-by-field path. An explicit default
  // option (tif 'gtc' on a limit, 'ioc' on a market order) takes the second path with the same
  // meaning, so two engines fed the same orders, one of them with the option spelled out, must
  // end in the same state having given the same reports and the same errors.
  const values = {
    id: [1, 2, 3, 0, -1, -0, 1.5, NaN, Infinity, '4', 2 ** 53, Number.MAX_SAFE_INTEGER, 2 ** 31, undefined],
    qty: [1, 5, 0, -2, 2.5, NaN, '3', 2 ** 53, 2 ** 31, undefined],
    price: [100, 101, -0, -5, 1.5, NaN, '100', 2 ** 53, -(2 ** 40), null, undefined],
    side: ['buy', 'sell', 'BUY', undefined, 1],
    type: ['limit', 'market', 'stop', undefined],
    symbol: ['AAPL', 'MSFT', 'NOPE', 7],
  };

  type Outcome = { report: unknown } | { code: string; message: string };
  const outcome = (f: () => unknown): Outcome => {
    try {
      return { report: f() };
    } catch (err) {
      expect(err).toBeInstanceOf(DurabookError);
      return { code: (err as DurabookError).code, message: (err as DurabookError).message };
    }
  };

  it('reports, errors and final state match over a grid of field values', async () => {
    const fast = await Engine.open({ symbols: ['AAPL', 'MSFT'] });
    const slow = await Engine.open({ symbols: ['AAPL', 'MSFT'] });
    let n = 0;
    let accepted = 0;
    let nextId = 1000;
    for (const type of values.type) {
      for (const side of values.side) {
        for (const symbol of values.symbol) {
          for (const price of values.price) {
            for (const qty of values.qty) {
              for (const rawId of values.id) {
                // Valid ids are made fresh so that accepted orders do not collide as duplicates.
                const id = rawId === 1 ? nextId++ : rawId;
                const order: Record<string, unknown> = { symbol, id, side, type, qty };
                if (price !== undefined) order.price = price;
                const explicit = { ...order, tif: type === 'market' ? 'ioc' : 'gtc' };
                const a = outcome(() => fast.submit(bad(order)));
                const b = outcome(() => slow.submit(bad(explicit)));
                expect(a, JSON.stringify(order)).toEqual(b);
                if ('report' in a) accepted++;
                n++;
              }
            }
          }
        }
      }
    }
    // Some of each: the grid exercised both acceptance and every kind of refusal.
    expect(accepted).toBeGreaterThan(100);
    expect(n - accepted).toBeGreaterThan(1000);
    expect(fast.digest()).toBe(slow.digest());
    expect(fast.depth('AAPL', 1_000_000)).toEqual(slow.depth('AAPL', 1_000_000));
    await fast.close();
    await slow.close();
  });
});
