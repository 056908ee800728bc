// Resident memory per resting order: builds a book of N resting orders (default 1,000,000; no
// trades: bids below the mid, asks above, ~1,000 orders per price) and divides the growth of the
// process's resident set by N. Each subject runs in a child process of its own so that one
// does not inherit the other's heap.
//
//   node dist/bench/memory.js [--orders N] [--json]          both subjects, side by side
//   node --expose-gc dist/bench/memory.js --subject durabook|plain [--orders N]   one, as JSON
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine } from '../lib/engine.js';
import { PlainJsBook } from './plain-js-book.js';

export interface MemoryResult {
  subject: string;
  orders: number;
  /** Resident set growth / orders. */
  rssBytesPerOrder: number;
  /** JS heap growth / orders (the native engine keeps its orders outside it). */
  heapBytesPerOrder: number;
  rssBefore: number;
  rssAfter: number;
  seconds: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): void {
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

async function measure(subject: 'durabook' | 'plain', orders: number): Promise<MemoryResult> {
  const levels = Math.max(1, Math.round(orders / 1000));
  const priceOf = (i: number) => {
    const k = i % levels;
    return i & 1 ? 1_000_000 + 1 + (k >> 1) : 1_000_000 - 1 - (k >> 1);
  };
  let engine: Engine | undefined;
  let plain: PlainJsBook | undefined;
  if (subject === 'durabook') engine = await Engine.open({ symbols: ['MEM'] });
  else plain = new PlainJsBook();
  settle();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let resting = 0;
  for (let i = 1; i <= orders; i++) {
    const side = i & 1 ? 'sell' : 'buy';
    const r = engine
      ? engine.submit({ symbol: 'MEM', id: i, side, type: 'limit', price: priceOf(i), qty: 1 + (i % 100) })
      : plain!.submit({ id: i, side, price: priceOf(i), qty: 1 + (i % 100) });
    if (r.status === 'new') resting++;
  }
  const seconds = (performance.now() - t0) / 1000;
  settle();
  const after = process.memoryUsage();
  if (resting !== orders) throw new Error(`expected ${orders} resting orders, got ${resting}`);
  // Keep the book alive until after the measurement.
  if (engine) engine.bbo('MEM');
  else if (plain!.resting !== orders) throw new Error('plain book lost orders');
  return {
    subject: subject === 'durabook' ? 'durabook' : 'plain JS book',
    orders,
    rssBytesPerOrder: (after.rss - before.rss) / orders,
    heapBytesPerOrder: (after.heapUsed - before.heapUsed) / orders,
    rssBefore: before.rss,
    rssAfter: after.rss,
    seconds,
  };
}

/** Runs each subject in a child process (node --expose-gc) and collects the results. */
export function runMemory(orders = 1_000_000): MemoryResult[] {
  const self = fileURLToPath(import.meta.url);
  return (['durabook', 'plain'] as const).map(
    (s) =>
      JSON.parse(
        execFileSync(process.execPath, ['--expose-gc', self, '--subject', s, '--orders', String(orders)], { encoding: 'utf8' }),
      ) as MemoryResult,
  );
}

export function renderMemory(rows: MemoryResult[]): string {
  const out = [`${'subject'.padEnd(16)} ${'orders'.padStart(10)} ${'RSS/order'.padStart(10)} ${'JS heap/order'.padStart(14)} ${'RSS after'.padStart(10)}`];
  for (const r of rows) {
    out.push(
      `${r.subject.padEnd(16)} ${r.orders.toLocaleString('en-US').padStart(10)} ${`${r.rssBytesPerOrder.toFixed(0)} B`.padStart(10)} ${`${r.heapBytesPerOrder.toFixed(0)} B`.padStart(14)} ${`${(r.rssAfter / 2 ** 20).toFixed(0)} MiB`.padStart(10)}`,
    );
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { subject: { type: 'string' }, orders: { type: 'string' }, json: { type: 'boolean' } } });
  const orders = values.orders ? Number(values.orders) : 1_000_000;
  if (values.subject === 'durabook' || values.subject === 'plain') {
    process.stdout.write(`${JSON.stringify(await measure(values.subject, orders))}\n`);
  } else {
    const rows = runMemory(orders);
    process.stdout.write(values.json ? `${JSON.stringify(rows)}\n` : renderMemory(rows));
  }
}
