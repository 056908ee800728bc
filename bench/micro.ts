// tinybench microbenchmarks of single API calls on a steady book of ~10,000 resting orders
// (built by the workload generator's warmup), plus the native micro benchmarks (WAL record
// encoding, CRC32C) from native/bench/micro_bench.cc when that binary is built.
//
//   node --expose-gc dist/bench/micro.js [--time MS] [--json] [--micro-bin PATH]
//
// Each task keeps the book steady: what a timed call adds, an untimed hook takes away (and the
// other way round). An iteration makes K calls, so the timer's cost is spread over them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { Engine } from '../lib/engine.js';
import { BatchDriver, callOne, newTally, runCalls } from '../lib/bench/drivers.js';
import { generateWorkload, type Workload } from '../lib/bench/workload.js';
import { PlainJsBook } from './plain-js-book.js';

/**
 * One task. A tinybench iteration makes `callsPerIteration` calls (K, or a whole batch), so the
 * timer's own cost (~50 ns a read here) is spread over them; tinybench's latency statistics
 * (ms per iteration) are divided by that count: p50/p99/p999 are of per-call means over one
 * iteration, in ns.
 */
export interface MicroRow {
  name: string;
  callsPerIteration: number;
  nsPerCall: number;
  callsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  /** Iterations measured. */
  samples: number;
}

export interface NativeMicroRow {
  name: string;
  ns: number;
  bytes: number;
  GBps: number;
}

const SYMBOL = 'BENCH';
const MID = 10_000;
const BATCH = 256;
const K = 32;

function findBin(name: string, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  for (const p of [`build/${name}`, `build/Release/${name}`, `build-bench/${name}`, `build-core/${name}`]) {
    if (existsSync(join(root, p))) return join(root, p);
  }
  return undefined;
}

/** Runs the native micro benchmarks (record encoding, CRC32C) if the binary is built. */
export function runNativeMicro(bin?: string): NativeMicroRow[] | null {
  const b = findBin('micro_bench', bin);
  if (!b) return null;
  return JSON.parse(execFileSync(b, ['--json'], { encoding: 'utf8' })) as NativeMicroRow[];
}

export async function runMicro(timeMs = 1000): Promise<MicroRow[]> {
  const w: Workload = generateWorkload({ ops: 3_000_000 });
  const names = [SYMBOL];
  const steady = async () => {
    const e = await Engine.open({ symbols: names });
    runCalls(e, w, names, 0, w.warmup, newTally());
    return e;
  };
  let engine = await steady();
  let nextId = 100_000_000;
  let first = 0; // first id of the group the hooks prepared
  const bench = new Bench({ time: timeMs, warmupIterations: 200 });
  // Each iteration makes K calls; its hooks (untimed) prepare and undo them.
  const add = (name: string, fn: () => void, hooks: { beforeEach?: () => unknown; afterEach?: () => unknown } = {}) =>
    bench.add(name, fn, hooks as Parameters<Bench['add']>[2]);
  const restK = (side: 'buy' | 'sell', priceOf: (id: number) => number) => {
    first = nextId + 1;
    for (let j = 0; j < K; j++) {
      const id = ++nextId;
      engine.submit({ symbol: SYMBOL, id, side, type: 'limit', price: priceOf(id), qty: 10 });
    }
  };
  const cancelK = () => {
    for (let j = 0; j < K; j++) engine.cancel({ id: first + j });
  };
  const passiveBuy = (id: number) => MID - 30 - (id & 7);
  const passiveSell = (id: number) => MID + 5 + (id & 15);

  add(
    'submit: limit that rests',
    () => {
      for (let j = 0; j < K; j++) {
        const id = first + j;
        engine.submit({ symbol: SYMBOL, id, side: 'buy', type: 'limit', price: passiveBuy(id), qty: 10 });
      }
    },
    {
      beforeEach: () => {
        first = nextId + 1;
        nextId += K;
      },
      afterEach: cancelK,
    },
  );
  // The hook adds K makers at the back of the best level; the timed orders take the same
  // quantity from the front (1-2 trades each), so the book stays as it was.
  const refill = (side: 'buy' | 'sell') => {
    const d = engine.bbo(SYMBOL);
    const level = side === 'sell' ? d.ask : d.bid;
    const price = level ? level.price : side === 'sell' ? MID + 1 : MID - 1;
    for (let j = 0; j < K; j++) engine.submit({ symbol: SYMBOL, id: ++nextId, side, type: 'limit', price, qty: 20 });
    first = nextId + 1;
    nextId += K;
  };
  add(
    'submit: limit that trades',
    () => {
      for (let j = 0; j < K; j++) engine.submit({ symbol: SYMBOL, id: first + j, side: 'buy', type: 'limit', price: MID + 50, qty: 20 });
    },
    { beforeEach: () => refill('sell') },
  );
  add(
    'submit: market order',
    () => {
      for (let j = 0; j < K; j++) engine.submit({ symbol: SYMBOL, id: first + j, side: 'sell', type: 'market', qty: 20 });
    },
    { beforeEach: () => refill('buy') },
  );
  add('cancel', cancelK, { beforeEach: () => restK('sell', passiveSell) });
  add(
    'modify: qty down (keeps priority)',
    () => {
      for (let j = 0; j < K; j++) engine.modify({ id: first + j, qty: 5 });
    },
    { beforeEach: () => restK('sell', passiveSell), afterEach: cancelK },
  );
  add(
    'modify: price change (re-queues)',
    () => {
      for (let j = 0; j < K; j++) engine.modify({ id: first + j, price: MID + 20 + ((first + j) & 7) });
    },
    { beforeEach: () => restK('sell', passiveSell), afterEach: cancelK },
  );

  // The workload itself, K commands per iteration; a fresh steady book when it runs out.
  let cursor = w.count;
  add(
    'per-call: workload command',
    () => {
      for (let j = 0; j < K; j++) callOne(engine, w, names, cursor++);
    },
    {
      beforeEach: async () => {
        if (cursor + K > w.count) {
          engine = await steady();
          cursor = w.warmup;
        }
      },
    },
  );
  let plain = new PlainJsBook();
  let plainCursor = w.count;
  const plainOne = (i: number) => {
    if (w.op[i] === 1) plain.cancel({ id: w.id[i] });
    else plain.submit({ id: w.id[i], side: w.side[i] === 0 ? 'buy' : 'sell', price: w.op[i] === 0 ? w.price[i] : undefined, qty: w.qty[i] });
  };
  add(
    'plain JS book: workload command',
    () => {
      for (let j = 0; j < K; j++) plainOne(plainCursor++);
    },
    {
      beforeEach: () => {
        if (plainCursor + K > w.count) {
          plain = new PlainJsBook();
          for (let i = 0; i < w.warmup; i++) plainOne(i);
          plainCursor = w.warmup;
        }
      },
    },
  );
  let driver: BatchDriver | undefined;
  let batchCursor = w.count;
  const tally = newTally();
  add(
    `batch: ${BATCH} workload commands`,
    () => {
      driver!.one(batchCursor, batchCursor + BATCH, tally);
      batchCursor += BATCH;
    },
    {
      beforeEach: async () => {
        if (!driver || batchCursor + BATCH > w.count) {
          const e = await steady();
          driver = new BatchDriver(e, w, names, BATCH);
          batchCursor = w.warmup;
        }
      },
    },
  );

  await bench.run();
  const rows: MicroRow[] = [];
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state}${'error' in r ? `: ${String(r.error)}` : ''}`);
    const per = t.name.startsWith('batch') ? BATCH : K;
    rows.push({
      name: t.name,
      callsPerIteration: per,
      nsPerCall: (r.latency.mean * 1e6) / per,
      callsPerSec: (per * 1000) / r.latency.mean,
      p50: (r.latency.p50 * 1e6) / per,
      p99: (r.latency.p99 * 1e6) / per,
      p999: (r.latency.p999 * 1e6) / per,
      samples: r.latency.samplesCount,
    });
  }
  return rows;
}

export function renderMicro(rows: MicroRow[], native: NativeMicroRow[] | null): string {
  const ns = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} µs` : `${Math.round(x)} ns`);
  const out = [
    `${'task (per call; iterations of K calls)'.padEnd(38)} ${'calls/s'.padStart(12)} ${'mean'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'p99.9'.padStart(8)}  iterations`,
  ];
  for (const r of rows) {
    out.push(
      `${`${r.name} (K=${r.callsPerIteration})`.padEnd(38)} ${Math.round(r.callsPerSec).toLocaleString('en-US').padStart(12)} ${ns(r.nsPerCall).padStart(8)} ${ns(r.p50).padStart(8)} ${ns(r.p99).padStart(8)} ${ns(r.p999).padStart(8)}  ${r.samples}`,
    );
  }
  out.push('');
  if (native) {
    out.push('native (micro_bench, best of 5 rounds):');
    for (const r of native) out.push(`  ${r.name.padEnd(34)} ${r.ns.toFixed(2).padStart(12)} ns${r.bytes ? `   ${r.GBps.toFixed(2)} GB/s` : ''}`);
  } else {
    out.push('native micro benchmarks: micro_bench not built (npm run build builds it into build/)');
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { time: { type: 'string' }, json: { type: 'boolean' }, 'micro-bin': { type: 'string' } } });
  const rows = await runMicro(values.time ? Number(values.time) : 1000);
  const native = runNativeMicro(values['micro-bin']);
  process.stdout.write(values.json ? `${JSON.stringify({ tasks: rows, native })}\n` : renderMicro(rows, native));
}
