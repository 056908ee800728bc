// LOBSTER replay on synthetic files the tests write themselves (no market data needed): each
// message type, seeding, unseen orders, levels coming into view, execution groups, priority
// disagreements and their fix-up, mismatches, malformed files and the CLI.
//
// The files are built by a Tape: it keeps the exchange's true book (quantity per price, plus any
// activity the file does not report) and writes each message with the orderbook row it leaves,
// exactly as LOBSTER does (row i is the book after message i, top L levels, dummy levels padded).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DurabookError } from '../../lib/errors.js';
import { Engine } from '../../lib/index.js';
import { runReplayLobster } from '../../lib/cli/replay-lobster.js';
import {
  parseLobsterBookRow,
  parseLobsterMessage,
  replayLobster,
  type LobsterMismatch,
  type LobsterReplayEngine,
  type LobsterReport,
} from '../../lib/replay/lobster.js';

const dir = mkdtempSync(join(tmpdir(), 'durabook-lobster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUY = 1;
const SELL = -1;
type Dir = 1 | -1;

/** The exchange's book as price -> quantity per side, and the two files it produces. */
class Tape {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  readonly messages: string[] = [];
  readonly rows: string[] = [];
  private clock = 34200;

  constructor(
    readonly levels: number,
    start: { bids?: Array<[number, number]>; asks?: Array<[number, number]> } = {},
  ) {
    for (const [p, q] of start.bids ?? []) this.bids.set(p, q);
    for (const [p, q] of start.asks ?? []) this.asks.set(p, q);
  }

  private side(dir: Dir): Map<number, number> {
    return dir === BUY ? this.bids : this.asks;
  }

  /** Changes the true book without a message: activity outside the file's levels. */
  unseen(dir: Dir, price: number, delta: number): this {
    const s = this.side(dir);
    const q = (s.get(price) ?? 0) + delta;
    if (q < 0) throw new Error(`unseen change leaves ${q} at ${price}`);
    if (q === 0) s.delete(price);
    else s.set(price, q);
    return this;
  }

  /** Writes a message and the row after it; types 1-4 change the book as the LOBSTER ReadMe says. */
  msg(type: number, id: number, size: number, price: number, dir: Dir, time?: string): this {
    if (type === 1) this.unseen(dir, price, size);
    else if (type >= 2 && type <= 4) this.unseen(dir, price, -size);
    return this.emit(type, id, size, price, dir, time);
  }

  /** Writes a message and the current book as its row, without applying the message. */
  emit(type: number, id: number, size: number, price: number, dir: Dir, time?: string): this {
    const t = time ?? this.tick();
    this.messages.push(`${t},${type},${id},${size},${price},${dir}`);
    this.rows.push(this.row());
    return this;
  }

  /** Writes a message line and an orderbook row as given (for files that contradict themselves). */
  raw(message: string, asks: Array<[number, number]>, bids: Array<[number, number]>): this {
    this.messages.push(message.replace('T', this.tick()));
    this.rows.push(Tape.line(this.levels, asks, bids));
    return this;
  }

  tick(): string {
    return (this.clock += 1.5).toFixed(9);
  }

  /** Consecutive executions at one timestamp: one aggressor. */
  sweep(dir: Dir, fills: Array<[id: number, size: number, price: number]>): this {
    const t = this.tick();
    for (const [id, size, price] of fills) this.msg(4, id, size, price, dir, t);
    return this;
  }

  /** Writes a raw orderbook row instead of the true book (for inconsistent files). */
  override(asks: Array<[number, number]>, bids: Array<[number, number]>): this {
    this.rows[this.rows.length - 1] = Tape.line(this.levels, asks, bids);
    return this;
  }

  row(): string {
    const asks = [...this.asks].sort((a, b) => a[0] - b[0]);
    const bids = [...this.bids].sort((a, b) => b[0] - a[0]);
    return Tape.line(this.levels, asks, bids);
  }

  static line(levels: number, asks: Array<[number, number]>, bids: Array<[number, number]>): string {
    const f: number[] = [];
    for (let l = 0; l < levels; l++) {
      const a = asks[l] ?? [9999999999, 0];
      const b = bids[l] ?? [-9999999999, 0];
      f.push(a[0], a[1], b[0], b[1]);
    }
    return f.join(',');
  }

  write(name: string): { message: string; orderbook: string } {
    const message = join(dir, `${name}_2012-06-21_34200000_57600000_message_${this.levels}.csv`);
    const orderbook = join(dir, `${name}_2012-06-21_34200000_57600000_orderbook_${this.levels}.csv`);
    writeFileSync(message, this.messages.join('\n') + '\n');
    writeFileSync(orderbook, this.rows.join('\n') + '\n');
    return { message, orderbook };
  }
}

let fileNo = 0;
async function replay(tape: Tape, options: Parameters<typeof replayLobster>[2] = {}): Promise<LobsterReport> {
  const f = tape.write(`T${++fileNo}`);
  return replayLobster(f.message, f.orderbook, { keep: 50, ...options });
}

/** The report fields every clean replay shares. */
function expectClean(r: LobsterReport): void {
  expect(r.firstMismatches).toEqual([]);
  expect(r.mismatches).toBe(0);
  expect(r.anomaliesByKind.engine).toBe(0);
}

describe('parsing', () => {
  it('reads a message line, keeping the time as written', () => {
    expect(parseLobsterMessage('34200.004241176,1,16113575,18,5853300,1')).toEqual({
      time: '34200.004241176',
      type: 1,
      orderId: 16113575,
      size: 18,
      price: 5853300,
      direction: 1,
    });
    expect(parseLobsterMessage('36023,7,0,0,-1,-1')).toMatchObject({ type: 7, price: -1, direction: -1 });
  });

  it('reads an orderbook line and drops dummy levels', () => {
    expect(parseLobsterBookRow('5859400,200,5853300,18,9999999999,0,-9999999999,0', 2)).toEqual({
      asks: [{ price: 5859400, qty: 200 }],
      bids: [{ price: 5853300, qty: 18 }],
    });
    expect(parseLobsterBookRow('9999999999,0,-9999999999,0', 1)).toEqual({ asks: [], bids: [] });
  });

  it.each([
    ['34200.1,1,5,18,5853300', 'expected 6 fields'],
    ['34200.1,8,5,18,5853300,1', 'type must be 1..7'],
    ['34200.1,1,5,18,5853300,0', 'direction must be 1 or -1'],
    ['34200.1,1,5,1e3,5853300,1', 'size must be an integer, got "1e3"'],
    ['34200.1,1,5, 18,5853300,1', 'size must be an integer'],
    ['34200.1,1,5,,5853300,1', 'size must be an integer, got ""'],
    ['34200.1,3,5,0,5853300,1', 'size must be positive for type 3'],
    ['34200.1,1,5,18,58533.5,1', 'price must be an integer'],
    ['9:30,1,5,18,5853300,1', 'time must be seconds after midnight'],
    ['34200.1,1,12345678901234567,18,5853300,1', 'order id must be an integer'],
  ])('rejects the message line %j', (line, text) => {
    expect(() => parseLobsterMessage(line, 'm.csv', 7)).toThrow(text);
    try {
      parseLobsterMessage(line, 'm.csv', 7);
    } catch (e) {
      expect(e).toBeInstanceOf(DurabookError);
      expect((e as DurabookError).code).toBe('INVALID_ARGUMENT');
      expect((e as DurabookError).message).toMatch(/^m\.csv:7: /);
    }
  });

  it.each([
    ['5859400,200,5853300', 1, 'expected 4 fields'],
    ['5859400,-5,5853300,18', 1, 'ask size 1 must be a non-negative integer, got "-5"'],
    ['5859400,200,x,18', 1, 'bid price 1 must be an integer, got "x"'],
    ['9999999999,10,5853300,18', 1, 'ask level 1 has the dummy price'],
    ['5859400,200,5853300,18,5859500,1,-9999999999,3', 2, 'bid level 2 has the dummy price'],
  ])('rejects the orderbook line %j', (line, levels, text) => {
    expect(() => parseLobsterBookRow(line, levels, 'o.csv', 3)).toThrow(text);
  });
});

describe('seeding from the first row', () => {
  it('undoes a first new order: its quantity is not seeded', async () => {
    const t = new Tape(1, { bids: [[10000, 300]], asks: [[10100, 200]] }).msg(1, 501, 100, 10000, BUY).msg(3, 501, 100, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.seed).toEqual({ bidLevels: 1, askLevels: 1, bidQty: 300, askQty: 200 });
    expect(r.rowsCompared).toBe(2);
    expect(r.unknownOrderMessages).toBe(0);
  });

  it('undoes a first delete of an order that predates the file: its quantity is seeded', async () => {
    const t = new Tape(1, { bids: [[10000, 300]], asks: [[10100, 200]] }).msg(3, 7, 100, 10000, BUY).msg(3, 8, 200, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.seed.bidQty).toBe(300);
    expect(r.unknownOrderMessages).toBe(2);
  });

  it('undoes a first execution that emptied the best level the row no longer shows', async () => {
    // Row 1 shows 9900 only: 10000 was emptied by message 1, so the seed has both levels.
    const t = new Tape(1, { bids: [[10000, 50], [9900, 80]], asks: [[10100, 200]] }).msg(4, 7, 50, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.seed).toMatchObject({ bidLevels: 2, bidQty: 130 });
    expect(r.priorityDisagreements).toBe(0);
  });

  it('seeds an empty book and a one-sided book from dummy levels', async () => {
    const t = new Tape(2).msg(1, 1, 10, 10000, BUY).msg(1, 2, 20, 10100, SELL).msg(3, 1, 10, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.seed).toEqual({ bidLevels: 0, askLevels: 0, bidQty: 0, askQty: 0 });
  });
});

describe('message types', () => {
  it('type 1 rests, type 2 lowers in place, type 3 deletes; 5, 6 and 7 change nothing', async () => {
    const t = new Tape(2, { bids: [[10000, 100]], asks: [[10100, 100]] })
      .msg(1, 11, 40, 10000, BUY)
      .msg(1, 12, 60, 10050, BUY)
      .msg(2, 11, 15, 10000, BUY)
      .msg(5, 0, 30, 10070, SELL)
      .msg(6, 0, 0, 10075, BUY)
      .msg(7, 0, 0, -1, SELL)
      .msg(7, 0, 0, 0, SELL)
      .msg(7, 0, 0, 1, SELL)
      .msg(3, 12, 60, 10050, BUY)
      .msg(3, 11, 25, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.messages).toBe(10);
    expect(r.messagesByType).toEqual({ newOrder: 2, partialCancel: 1, delete: 2, execution: 0, hiddenExecution: 1, cross: 1, halt: 3 });
    expect(r.halts.map((h) => h.kind)).toEqual(['halt', 'quoting', 'resume']);
    expect(r.rowsCompared).toBe(10);
    expect(r.levelsCompared).toBe(40);
    expect(r.anomalies).toBe(0);
  });

  it('a partial cancel keeps time priority: the order is still first to execute', async () => {
    const t = new Tape(1, { bids: [[9000, 10]] })
      .msg(1, 21, 100, 10100, SELL)
      .msg(1, 22, 100, 10100, SELL)
      .msg(2, 21, 40, 10100, SELL)
      .msg(4, 21, 60, 10100, SELL)
      .msg(4, 22, 100, 10100, SELL);
    const r = await replay(t);
    expectClean(r);
    expect(r.priorityDisagreements).toBe(0);
    expect(r.executionGroups).toBe(2);
  });

  it('messages naming orders the file never introduced reduce the seeded quantity at their price', async () => {
    const t = new Tape(2, { bids: [[10000, 500], [9900, 300]], asks: [[10100, 400]] })
      .msg(2, 901, 50, 10000, BUY)
      .msg(4, 902, 100, 10000, BUY)
      .msg(3, 903, 300, 9900, BUY)
      .msg(3, 904, 150, 10100, SELL);
    const r = await replay(t);
    expectClean(r);
    expect(r.unknownOrderMessages).toBe(4);
    expect(r.priorityDisagreements).toBe(0);
    expect(r.anomalies).toBe(0);
  });

  it('seeded quantity stays ahead of every order the file introduces', async () => {
    // 10000 holds 200 that predates the file; a new order joins behind it. An execution naming an
    // unseen order takes the seeded quantity first, then the known order is executed by name.
    const t = new Tape(1, { bids: [[10000, 200]], asks: [[10100, 100]] })
      .msg(1, 31, 50, 10000, BUY)
      .msg(4, 900, 200, 10000, BUY)
      .msg(4, 31, 50, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.priorityDisagreements).toBe(0);
  });

  it('LOBSTER ids that are not valid engine ids (0, beyond 2^48) still work', async () => {
    const big = Number.MAX_SAFE_INTEGER;
    const t = new Tape(1, { bids: [[10000, 10]], asks: [[10100, 10]] })
      .msg(1, 0, 5, 10050, BUY)
      .msg(1, big, 7, 10060, BUY)
      .msg(2, big, 2, 10060, BUY)
      .msg(3, big, 5, 10060, BUY)
      .msg(4, 0, 5, 10050, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.unknownOrderMessages).toBe(0);
    expect(r.priorityDisagreements).toBe(0);
  });
});

describe('executions', () => {
  it('rows with one timestamp and direction are one aggressor, even across price levels', async () => {
    const t = new Tape(2, { bids: [[9900, 10]] })
      .msg(1, 41, 100, 10100, SELL)
      .msg(1, 42, 50, 10100, SELL)
      .msg(1, 43, 70, 10200, SELL)
      .sweep(SELL, [
        [41, 100, 10100],
        [42, 50, 10100],
        [43, 30, 10200],
      ])
      .msg(3, 43, 40, 10200, SELL);
    const r = await replay(t);
    expectClean(r);
    expect(r.messagesByType.execution).toBe(3);
    expect(r.executionGroups).toBe(1);
    // The two inner rows of the group have no engine state of their own.
    expect(r.rowsCompared).toBe(t.messages.length - 2);
    expect(r.priorityDisagreements).toBe(0);
  });

  it('the same timestamp with the other direction is another aggressor', async () => {
    const t = new Tape(1, {})
      .msg(1, 51, 10, 10100, SELL)
      .msg(1, 52, 10, 10000, BUY);
    t.msg(4, 51, 10, 10100, SELL, '34300.000000001').msg(4, 52, 10, 10000, BUY, '34300.000000001');
    const r = await replay(t);
    expectClean(r);
    expect(r.executionGroups).toBe(2);
  });

  it('counts a priority disagreement, shows it, and restores the level so later rows still match', async () => {
    // 61 is older than 62, but the file executes 62: the engine fills 61 (FIFO) instead.
    const t = new Tape(1, { bids: [[9900, 10]] })
      .msg(1, 61, 100, 10100, SELL)
      .msg(1, 62, 50, 10100, SELL)
      .msg(4, 62, 50, 10100, SELL)
      .msg(2, 61, 30, 10100, SELL)
      .msg(4, 61, 70, 10100, SELL);
    const r = await replay(t);
    expectClean(r);
    expect(r.priorityDisagreements).toBe(1);
    expect(r.firstPriorityDisagreements).toEqual([
      {
        row: 3,
        time: expect.any(String),
        side: 'ask',
        price: 10100,
        size: 50,
        namedOrder: 62,
        known: true,
        filled: [{ order: 61, qty: 50 }],
        // Both orders were introduced by the file and never out of view: a real disagreement.
        firm: true,
      },
    ]);
    expect(r.firmPriorityDisagreements).toBe(1);
    // 61 got its 100 back in first place: the last execution of 61 agrees.
    expect(r.repairs).toBe(1);
  });

  it('an execution reaching a level deeper than anything seeded takes it from the inner row', async () => {
    // Level-1 file: 9900 is out of view until the sweep empties 10000.
    const t = new Tape(1, { bids: [[10000, 100], [9900, 300]], asks: [[10100, 50]] })
      .msg(1, 71, 10, 10100, SELL)
      .sweep(BUY, [
        [801, 100, 10000],
        [802, 120, 9900],
      ]);
    const r = await replay(t);
    expectClean(r);
    expect(r.priorityDisagreements).toBe(0);
    expect(r.reveals).toBeGreaterThanOrEqual(1);
  });

  it('reports an execution the engine cannot fill in full', async () => {
    const t = new Tape(1, { asks: [[10100, 50]], bids: [[9900, 10]] })
      .msg(4, 999, 50, 10100, SELL)
      .raw('T,4,998,80,10100,-1', [], [[9900, 10]]); // 80 more than the book ever held
    const r = await replay(t);
    expect(r.anomaliesByKind['unfilled-execution']).toBe(1);
    expect(r.priorityDisagreements).toBe(1);
    expect(r.firstPriorityDisagreements[0]).toMatchObject({ row: 2, namedOrder: 998, known: false, filled: [] });
    expect(r.mismatches).toBe(0);
  });
});

describe('levels out of view', () => {
  it('a level that comes into view is taken from the row, not counted as a mismatch', async () => {
    // Row 1 defines the seed, so the level must come into view later than that.
    const t = new Tape(1, { bids: [[10000, 100], [9900, 300]], asks: [[10100, 50]] })
      .msg(5, 0, 10, 10050, SELL)
      .msg(3, 7, 100, 10000, BUY) // 9900 appears
      .msg(4, 8, 50, 9900, BUY)
      .msg(3, 9, 250, 9900, BUY); // the bid side empties: dummy level
    const r = await replay(t);
    expectClean(r);
    expect(r.reveals).toBe(1);
    expect(r.priorityDisagreements).toBe(0);
    expect(r.unknownOrderMessages).toBe(3);
  });

  it('activity out of view is picked up when the level returns (orders left, others arrived)', async () => {
    const t = new Tape(1, { asks: [[10100, 10]] })
      .msg(1, 91, 100, 10000, BUY)
      .msg(1, 92, 100, 10000, BUY)
      .msg(1, 93, 10, 10050, BUY) // 10000 goes out of view
      .unseen(BUY, 10000, -100) // 91 is cancelled out of view ...
      .unseen(BUY, 10000, 40) // ... and 40 unseen arrives
      .msg(3, 93, 10, 10050, BUY) // 10000 back in view with 140
      .msg(3, 92, 100, 10000, BUY)
      .msg(4, 777, 40, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.reveals).toBeGreaterThanOrEqual(1);
  });

  it('when the replay guessed the wrong order gone, a later message for it is absorbed', async () => {
    // 101 and 102 go out of view and 102 leaves unseen. The level returns with 100: the replay
    // cannot tell which one left and guesses the older, 101. The file then deletes 101.
    const t = new Tape(1, { asks: [[10100, 10]] })
      .msg(1, 101, 100, 10000, BUY)
      .msg(1, 102, 100, 10000, BUY)
      .msg(1, 103, 10, 10050, BUY)
      .unseen(BUY, 10000, -100)
      .msg(3, 103, 10, 10050, BUY)
      .msg(3, 101, 100, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.reveals).toBe(1);
    expect(r.removedOrderMessages).toBe(1);
    expect(r.unknownOrderMessages).toBe(0);
  });

  it('an execution of an order for more than a guess left it moves the quantity back first', async () => {
    const t = new Tape(1, { asks: [[10100, 10]] })
      .msg(1, 111, 100, 10000, BUY)
      .msg(1, 112, 10, 10050, BUY) // 10000 goes out of view ...
      .unseen(BUY, 10000, 30) // ... an unseen order of 30 joins behind 111 ...
      .msg(3, 112, 10, 10050, BUY) // ... and 10000 returns with 130
      // The unseen order leaves: the replay takes the 30 from the front of the level, from 111.
      .msg(3, 666, 30, 10000, BUY)
      // 111 executes in full: the replay gives it its 30 back before the aggressor runs.
      .msg(4, 111, 100, 10000, BUY);
    const r = await replay(t);
    expectClean(r);
    expect(r.reattributions).toBe(1);
    expect(r.priorityDisagreements).toBe(0);
  });
});

describe('anomalies and mismatches', () => {
  it('a row that disagrees with the messages is a mismatch, shown in full, and counted once', async () => {
    const t = new Tape(1, { bids: [[10000, 100]], asks: [[10100, 100]] })
      .msg(5, 0, 10, 10050, SELL) // row 1 defines the seed: the error must come later
      .msg(1, 121, 50, 10000, BUY)
      .override([[10100, 100]], [[10000, 200]]) // the file says 200, the messages 150
      .unseen(BUY, 10000, 50) // later rows follow the file's 200
      .msg(1, 122, 10, 10000, BUY)
      .msg(3, 122, 10, 10000, BUY);
    const seen: LobsterMismatch[] = [];
    const r = await replay(t, { onMismatch: (m) => seen.push(m) });
    expect(r.mismatches).toBe(1);
    expect(r.mismatchedLevels).toBe(1);
    expect(seen).toEqual(r.firstMismatches);
    expect(r.firstMismatches[0]).toEqual({
      row: 2,
      message: { time: expect.any(String), type: 1, orderId: 121, size: 50, price: 10000, direction: 1 },
      expected: { bids: [{ price: 10000, qty: 200 }], asks: [{ price: 10100, qty: 100 }] },
      engine: { bids: [{ price: 10000, qty: 150 }], asks: [{ price: 10100, qty: 100 }] },
      differences: [{ side: 'bid', price: 10000, expectedQty: 200, engineQty: 150 }],
    });
    expect(r.anomaliesByKind.engine).toBe(0);
  });

  it('reports a new order that would trade on arrival, and places it after removing what it crossed', async () => {
    const t = new Tape(1, { bids: [[9900, 10]], asks: [[10100, 100]] })
      .msg(5, 0, 5, 10000, BUY)
      .raw('T,1,131,50,10100,1', [], [[10100, 50]]) // the file has it rest where 100 was offered
      .raw('T,3,131,50,10100,1', [], [[9900, 10]]);
    const r = await replay(t);
    expect(r.crossingArrivals).toBe(1);
    expect(r.anomaliesByKind['crossing-arrival']).toBe(1);
    expect(r.firstAnomalies[0]).toMatchObject({ row: 2, kind: 'crossing-arrival' });
    expectClean(r);
  });

  it('a cancel of an unseen order where nothing unseen rests is a shortfall and a mismatch', async () => {
    const t = new Tape(1, { bids: [[9900, 10]], asks: [[10100, 100]] })
      .msg(1, 141, 50, 10000, BUY)
      .msg(3, 999, 50, 10000, BUY); // the file never introduced 999; 10000 holds only 141
    const r = await replay(t);
    expect(r.anomaliesByKind['phantom-shortfall']).toBe(1);
    expect(r.mismatches).toBe(1);
    expect(r.firstMismatches[0]!.differences).toEqual([{ side: 'bid', price: 10000, expectedQty: 0, engineQty: 50 }]);
  });

  it('compares what the engine holds, not the replay’s own bookkeeping', async () => {
    const engine = await Engine.open({});
    // An engine whose depth and bbo overstate the best bid by one lot.
    const lying: LobsterReplayEngine = {
      submit: (o) => engine.submit(o),
      cancel: (c) => engine.cancel(c),
      modify: (m) => engine.modify(m),
      addSymbol: (s) => engine.addSymbol(s),
      get symbols() {
        return engine.symbols;
      },
      close: () => engine.close(),
      depth: (s, n) => {
        const d = engine.depth(s, n);
        if (d.bids[0]) d.bids[0] = { ...d.bids[0], qty: d.bids[0].qty + 1 };
        return d;
      },
    };
    try {
      const t = new Tape(1, { bids: [[10000, 100]], asks: [[10100, 100]] }).msg(1, 151, 5, 10000, BUY).msg(3, 151, 5, 10000, BUY);
      const r = await replay(t, { engine: lying });
      expect(r.mismatches).toBe(2);
      expect(r.anomaliesByKind.engine).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });

  it('--levels compares fewer levels than the file has', async () => {
    const t = new Tape(3, { bids: [[10000, 1], [9900, 2], [9800, 3]], asks: [[10100, 4]] }).msg(1, 161, 5, 9700, BUY).msg(3, 161, 5, 9700, BUY);
    const r = await replay(t, { levels: 1 });
    expectClean(r);
    expect(r.fileLevels).toBe(3);
    expect(r.levels).toBe(1);
    expect(r.levelsCompared).toBe(2 * r.rowsCompared);
  });
});

describe('bad input', () => {
  const good = new Tape(1, { bids: [[10000, 10]] }).msg(1, 1, 5, 10000, BUY).write('GOOD');

  it.each([
    ['a missing message file', () => replayLobster(join(dir, 'nope.csv'), good.orderbook), /message file .*nope\.csv.* no such file/],
    ['a missing orderbook file', () => replayLobster(good.message, join(dir, 'nope.csv')), /orderbook file .* no such file/],
    ['a directory', () => replayLobster(dir, good.orderbook), /is not a file/],
    ['levels 0', () => replayLobster(good.message, good.orderbook, { levels: 0 }), /levels must be a positive integer, got 0/],
    ['levels beyond the file', () => replayLobster(good.message, good.orderbook, { levels: 2 }), /levels must be at most 1/],
  ])('rejects %s with INVALID_ARGUMENT', async (_name, run, text) => {
    await expect(run()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(text) });
  });

  it('rejects files of different lengths, an empty file and a malformed row, naming file and line', async () => {
    const m = join(dir, 'len_message.csv');
    const o = join(dir, 'len_orderbook.csv');
    writeFileSync(m, '34200.1,1,1,5,10000,1\n34200.2,3,1,5,10000,1\n');
    writeFileSync(o, '10100,5,10000,5\n');
    await expect(replayLobster(m, o)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/ends after 1 row but/) });
    writeFileSync(m, '');
    writeFileSync(o, '');
    await expect(replayLobster(m, o)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is empty/) });
    writeFileSync(m, '34200.1,1,1,5,10000,1\r\n34200.2,3,1,five,10000,1\r\n');
    writeFileSync(o, '10100,5,10000,10\r\n10100,5,10000,5\r\n');
    await expect(replayLobster(m, o)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `${m}:2: size must be an integer, got "five"`,
    });
  });
});

describe('generated exchange with activity out of view', () => {
  // A price-time-priority exchange with orders that predate the file, orders placed and
  // cancelled outside the visible levels, sweeps across levels and hidden executions. Only
  // events inside the top L levels are written, as LOBSTER does. Every row must match.
  function generate(levels: number, steps: number, seed: number): Tape {
    let state = seed >>> 0;
    const rnd = (n: number): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state >>> 8) % n;
    };
    type Q = Array<{ id: number; qty: number }>;
    const book: [Map<number, Q>, Map<number, Q>] = [new Map(), new Map()];
    const tape = new Tape(levels);
    const dirOf = (side: 0 | 1): Dir => (side === 0 ? BUY : SELL);
    const prices = (side: 0 | 1): number[] => [...book[side].keys()].sort((a, b) => (side === 0 ? b - a : a - b));
    const inView = (side: 0 | 1, price: number): boolean => {
      const p = prices(side);
      return p.length < levels || (side === 0 ? price >= p[levels - 1]! : price <= p[levels - 1]!);
    };
    // The Tape's own maps mirror the true book, so that each row it writes is the true top L.
    const sync = (side: 0 | 1): void => {
      const m = side === 0 ? tape.bids : tape.asks;
      m.clear();
      for (const [p, q] of book[side]) m.set(p, q.reduce((a, o) => a + o.qty, 0));
    };
    let nextId = 1;
    const add = (side: 0 | 1, price: number, qty: number): number => {
      let q = book[side].get(price);
      if (q === undefined) book[side].set(price, (q = []));
      q.push({ id: nextId, qty });
      sync(side);
      return nextId++;
    };
    const take = (side: 0 | 1, price: number, o: { id: number; qty: number }, size: number): void => {
      const q = book[side].get(price)!;
      o.qty -= size;
      if (o.qty === 0) q.splice(q.indexOf(o), 1);
      if (q.length === 0) book[side].delete(price);
      sync(side);
    };
    // Orders resting before the file starts: never introduced by any message.
    for (let i = 0; i < 8; i++) {
      add(0, 10000 - 10 * i, 10 + rnd(90));
      add(1, 10010 + 10 * i, 10 + rnd(90));
    }
    while (tape.messages.length < steps) {
      const side = rnd(2) as 0 | 1;
      const best = prices(side)[0] ?? (side === 0 ? 10000 : 10010);
      const bestOpp = prices((1 - side) as 0 | 1)[0];
      const kind = rnd(100);
      if (kind < 45) {
        // New order from 2 ticks inside the best to 5 ticks behind it, never crossing.
        let price = best + (side === 0 ? -1 : 1) * (rnd(8) - 2) * 10;
        if (bestOpp !== undefined && (side === 0 ? price >= bestOpp : price <= bestOpp)) price = bestOpp + (side === 0 ? -10 : 10);
        const qty = 1 + rnd(100);
        const id = add(side, price, qty);
        // LOBSTER writes only the events inside the requested levels.
        if (inView(side, price)) tape.emit(1, id, qty, price, dirOf(side));
      } else if (kind < 85) {
        const all = [...book[side]].flatMap(([p, q]) => q.map((o) => ({ p, o })));
        if (all.length === 0) continue;
        const { p, o } = all[rnd(all.length)]!;
        const shown = inView(side, p);
        const size = rnd(4) === 0 && o.qty > 1 ? 1 + rnd(o.qty - 1) : o.qty;
        const whole = size === o.qty;
        take(side, p, o, size);
        if (shown) tape.emit(whole ? 3 : 2, o.id, size, p, dirOf(side));
      } else if (kind < 95) {
        // A marketable order from the other side: FIFO from the best level, one row per fill.
        let want = 1 + rnd(250);
        const t = tape.tick();
        while (want > 0 && book[side].size > 0) {
          const p = prices(side)[0]!;
          const o = book[side].get(p)![0]!;
          const x = Math.min(o.qty, want);
          want -= x;
          take(side, p, o, x);
          tape.emit(4, o.id, x, p, dirOf(side), t);
        }
      } else if (kind < 99) {
        tape.emit(5, 0, 1 + rnd(50), best, dirOf(side));
      } else {
        tape.emit(7, 0, 0, rnd(3) - 1, SELL);
      }
    }
    return tape;
  }

  it.each([
    [1, 1],
    [2, 2],
    [5, 3],
    [10, 4],
  ])('level-%i file (seed %i): no mismatches, no engine anomalies', async (levels, seed) => {
    const t = generate(levels, 5000, seed);
    const r = await replay(t);
    expectClean(r);
    expect(r.messages).toBe(t.messages.length);
    expect(r.anomaliesByKind['phantom-shortfall']).toBe(0);
    expect(r.anomaliesByKind['crossing-arrival']).toBe(0);
    // The exchange is strictly FIFO, so between orders whose place is certain the engine must
    // agree every time; the other disagreements come from guesses about activity out of view.
    expect(r.firmPriorityDisagreements).toBe(0);
    expect(r.priorityDisagreements).toBeLessThanOrEqual(Math.ceil(r.messagesByType.execution * 0.02));
  });
});

describe('durabook replay lobster (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function capture(): { text: () => string } {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    return { text: () => out };
  }

  const clean = new Tape(1, { bids: [[10000, 100]], asks: [[10100, 100]] })
    .msg(1, 1, 50, 10000, BUY)
    .msg(4, 77, 50, 10000, BUY)
    .msg(7, 0, 0, -1, SELL)
    .write('CLI');
  const bad = new Tape(1, { bids: [[10000, 100]], asks: [[10100, 100]] })
    .msg(1, 1, 50, 10000, BUY)
    .msg(1, 2, 10, 10000, BUY)
    .override([[10100, 100]], [[10000, 99]])
    .write('BAD');

  it('prints a human summary and exits 0 when every row matches', async () => {
    const out = capture();
    expect(await runReplayLobster([clean.message, clean.orderbook])).toBe(0);
    const text = out.text();
    expect(text).toContain('LOBSTER replay of CLI: 1 level per side compared');
    expect(text).toMatch(/messages +3 replayed in [\d.]+ s: [\d,]+ messages\/s/);
    expect(text).toContain('3 rows compared, 6 levels: 0 mismatches');
    expect(text).toContain('1 row in 1 aggressor: 0 priority disagreements (0.00%), 0 firm');
    expect(text).toMatch(/halts +halt at /);
  });

  it('--json prints the report; mismatches exit 1 and are shown', async () => {
    const out = capture();
    expect(await runReplayLobster([bad.message, bad.orderbook, '--json', '--levels', '1'])).toBe(1);
    const r = JSON.parse(out.text()) as LobsterReport;
    expect(r.mismatches).toBe(1);
    expect(r.firstMismatches[0]!.differences).toEqual([{ side: 'bid', price: 10000, expectedQty: 99, engineQty: 160 }]);
    const human = capture();
    expect(await runReplayLobster([bad.message, bad.orderbook])).toBe(1);
    expect(human.text()).toContain('first mismatches:\n  row 2: ');
    expect(human.text()).toContain('bid 10000: file 99, engine 160');
  });

  it('--help prints the usage', async () => {
    const out = capture();
    expect(await runReplayLobster(['--help'])).toBe(0);
    expect(out.text()).toMatch(/^usage: durabook replay lobster MESSAGE\.csv ORDERBOOK\.csv/);
  });

  it.each([
    [[], /expected MESSAGE\.csv and ORDERBOOK\.csv, got neither/],
    [['a.csv'], /got only "a\.csv"/],
    [['a', 'b', 'c'], /expected two files, got 3 arguments/],
    [['a', 'b', '--levels', 'x'], /--levels must be a non-negative integer, got "x"/],
    [['a', 'b', '--levels', '0'], /--levels must be at least 1/],
    [['a', 'b', '--levels'], /--levels/],
    [['a', 'b', '--nope'], /Unknown option '--nope'/],
    [['missing_message.csv', 'missing_orderbook.csv'], /message file "missing_message\.csv" cannot be read: no such file/],
  ])('rejects %j with INVALID_ARGUMENT', async (argv, text) => {
    const out = capture();
    await expect(runReplayLobster(argv as string[])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(text),
    });
    expect(out.text()).toBe('');
  });
});
