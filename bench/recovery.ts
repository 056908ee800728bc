// Recovery and snapshot speed.
//  - replay: a WAL of N commands (default workload, async mode so that building it is quick,
//    trades logged), reopened: records replayed per second, without a snapshot and with one
//    taken at 90% of the log (so 10% is replayed after loading it);
//  - snapshot: a book of 100,000 resting orders, engine.snapshot(): the pause in matching
//    (serialization on the JS thread) and the whole write (temp file, sync, rename, dir sync).
//
//   node dist/bench/recovery.js [--ops N] [--orders N] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../lib/engine.js';
import { callOne } from '../lib/bench/drivers.js';
import { generateWorkload, symbolNames } from '../lib/bench/workload.js';

export interface RecoveryBenchResult {
  commands: number;
  /** Reopen with no snapshot: every command replayed. */
  fullReplay: { seconds: number; commandsReplayed: number; recordsScanned: number; recordsPerSec: number; commandsPerSec: number };
  /** Reopen from a snapshot at 90% of the log. */
  fromSnapshot: { seconds: number; snapshotOrders: number; commandsReplayed: number; commandsPerSec: number };
  snapshot: { restingOrders: number; bytes: number; pauseMs: number; durationMs: number };
}

async function buildLog(dir: string, ops: number, snapshotAt: number | null): Promise<number> {
  const w = generateWorkload({ ops });
  const names = symbolNames(w.symbols);
  const e = await Engine.open({ dir, durability: 'async', symbols: names });
  const total = w.warmup + ops;
  for (let i = 0; i < total; i++) {
    callOne(e, w, names, i);
    if (snapshotAt !== null && i === snapshotAt) await e.snapshot();
  }
  await e.close();
  return total;
}

async function reopen(dir: string): Promise<{ seconds: number; engine: Engine }> {
  const t0 = performance.now();
  const engine = await Engine.open({ dir });
  return { seconds: (performance.now() - t0) / 1000, engine };
}

export async function runRecoveryBench(ops: number, orders: number): Promise<RecoveryBenchResult> {
  const base = mkdtempSync(join(tmpdir(), 'durabook-recovery-bench-'));
  try {
    const fullDir = join(base, 'full');
    const commands = await buildLog(fullDir, ops, null);
    const full = await reopen(fullDir);
    const r1 = full.engine.recovery;
    await full.engine.close();

    const snapDir = join(base, 'snap');
    await buildLog(snapDir, ops, Math.floor(commands * 0.9));
    const fromSnap = await reopen(snapDir);
    const r2 = fromSnap.engine.recovery;
    await fromSnap.engine.close();

    // A book of `orders` resting orders, no trades: bids below the mid, asks above.
    const bookDir = join(base, 'book');
    const e = await Engine.open({ dir: bookDir, durability: 'async', symbols: ['SNAP'] });
    for (let i = 1; i <= orders; i++) {
      const sell = (i & 1) === 1;
      e.submit({ symbol: 'SNAP', id: i, side: sell ? 'sell' : 'buy', type: 'limit', price: sell ? 10_001 + (i % 100) : 9_999 - (i % 100), qty: 1 + (i % 50) });
    }
    await e.durable(e.lastSeq);
    const snap = await e.snapshot();
    await e.close();

    return {
      commands,
      fullReplay: {
        seconds: full.seconds,
        commandsReplayed: r1.recordsReplayed,
        recordsScanned: r1.recordsScanned,
        recordsPerSec: r1.recordsScanned / full.seconds,
        commandsPerSec: r1.recordsReplayed / full.seconds,
      },
      fromSnapshot: {
        seconds: fromSnap.seconds,
        snapshotOrders: r2.snapshot?.orders ?? 0,
        commandsReplayed: r2.recordsReplayed,
        commandsPerSec: r2.recordsReplayed / fromSnap.seconds,
      },
      snapshot: { restingOrders: orders, bytes: snap.bytes, pauseMs: snap.pauseMs, durationMs: snap.durationMs },
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ops: { type: 'string', default: '1000000' }, orders: { type: 'string', default: '100000' }, json: { type: 'boolean', default: false } },
  });
  const r = await runRecoveryBench(Number(values.ops), Number(values.orders));
  if (values.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const m = (x: number) => `${(x / 1e6).toFixed(2)}M/s`;
  console.log(`replay of ${r.commands.toLocaleString('en-US')} commands (no snapshot): ${r.fullReplay.seconds.toFixed(3)} s, ` +
    `${m(r.fullReplay.commandsPerSec)} commands, ${m(r.fullReplay.recordsPerSec)} records (trades and clocks included)`);
  console.log(`reopen from a snapshot at 90%: ${r.fromSnapshot.seconds.toFixed(3)} s (${r.fromSnapshot.snapshotOrders} orders loaded, ` +
    `${r.fromSnapshot.commandsReplayed.toLocaleString('en-US')} commands replayed)`);
  console.log(`snapshot of ${r.snapshot.restingOrders.toLocaleString('en-US')} resting orders: ${(r.snapshot.bytes / 1e6).toFixed(1)} MB, ` +
    `matching paused ${r.snapshot.pauseMs.toFixed(2)} ms, written and synced in ${r.snapshot.durationMs.toFixed(1)} ms`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
