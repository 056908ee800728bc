#!/usr/bin/env node
// Soak test (issue 7; not in CI): tens of millions of commands through the built package
// (dist/) on a WAL in a temp dir, with periodic snapshots, segment switches (small segments),
// restarts (close + reopen: recovery from the newest snapshot + the WAL after it) and durable()
// acknowledgements, printing resident memory and latency per interval. Checks as it goes:
//  - the book stays near its target size (a controller steers the order mix);
//  - after each restart the recovered engine has exactly the state it had (digest equal);
//  - resident memory stays flat once the book is steady: after the warm-up share of the run,
//    the peak RSS of the second half may not exceed that of the first half by more than
//    --rss-slack MB (default 64); RSS saws with the JS heap's collections, peaks do not drift.
//
//   npm run soak                                   20M commands, durable, ~10 minutes
//   node scripts/soak.mjs --commands 50000000 --durability async --resting 200000
//   node scripts/soak.mjs --minutes 60 --json > soak.json
//
// Options: --commands N (20,000,000) | --minutes M (stop after M minutes, whichever first)
//   --durability durable|async (durable) --resting N (100,000 resting orders targeted)
//   --symbols N (4) --segment-mb N (16) --interval N (1,000,000 commands per printed line)
//   --snapshot-every N (2,000,000) --restart-every N (5,000,000) --ack-every N (1,000: await
//   durable(seq) of every Nth command) --warmup-share F (0.25) --rss-slack MB (64)
// Columns: rate/s excludes the time spent in snapshot() and restarts ('pause s'); 'recov ms' is
// the recovery time of open() after a restart; 'ack' is the wait for durable(seq) of sampled
// commands; 'syncs' counts the interval's fdatasyncs and 'sync ms' is their time-weighted p99
// (walStats({ since }).syncNs.timeP99: the sync a wait ran into), to set beside 'ack99 ms';
// latencies are per call (submit/cancel/modify, report built), in the interval.
//   --dir DIR (default: a temp dir, removed at the end) --seed N (1) --json (one JSON line per
//   interval on stdout, the summary last) --lock-memory all|on-fault (lockMemory() first: the
//   code stays in RAM however long the run; 'majflt' counts the interval's major page faults,
//   the disk reads for pages the kernel had dropped)
// Exit code: 0 when every check held, 1 otherwise.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const { Engine, lockMemory } = await import(join(root, 'dist/lib/index.js')).catch((err) => {
  console.error(`soak: cannot load dist/ (run npm run build first): ${err.message}`);
  process.exit(2);
});
const { summarize } = await import(join(root, 'dist/lib/bench/latency.js'));

// --- options ---------------------------------------------------------------------------------
const opts = {
  commands: 20_000_000,
  minutes: Infinity,
  durability: 'durable',
  resting: 100_000,
  symbols: 4,
  segmentMb: 16,
  interval: 1_000_000,
  snapshotEvery: 2_000_000,
  restartEvery: 5_000_000,
  ackEvery: 1_000,
  warmupShare: 0.25,
  rssSlack: 64,
  dir: undefined,
  lockMemory: undefined,
  seed: 1,
  json: false,
};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (a === '--json') opts.json = true;
  else if (a === '--help' || a === '-h') {
    console.log('usage: node scripts/soak.mjs [--commands N] [--minutes M] [--durability durable|async] [--resting N] ...');
    process.exit(0);
  } else if (a.startsWith('--') && key in opts && i + 1 < args.length) {
    const v = args[++i];
    opts[key] = key === 'durability' || key === 'dir' || key === 'lockMemory' ? v : Number(v);
    if (typeof opts[key] === 'number' && !Number.isFinite(opts[key]) && key !== 'minutes') {
      console.error(`soak: ${a} needs a number, got ${v}`);
      process.exit(2);
    }
  } else {
    console.error(`soak: unknown argument ${a} (--help)`);
    process.exit(2);
  }
}
if (opts.durability !== 'durable' && opts.durability !== 'async') {
  console.error('soak: --durability must be durable or async');
  process.exit(2);
}

const ownDir = opts.dir === undefined;
const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'durabook-soak-'));
const symbols = Array.from({ length: opts.symbols }, (_, i) => `SOAK${i}`);
const engineOptions = {
  dir,
  durability: opts.durability,
  symbols,
  wal: { segmentBytes: opts.segmentMb * 1024 * 1024 },
  // The book is held near opts.resting; generous caps so that limits never cut it.
  limits: { maxOrders: Math.max(1_000_000, opts.resting * 4) },
};

// --- workload --------------------------------------------------------------------------------
// mulberry32: a small seeded PRNG.
let rngState = opts.seed >>> 0;
function rnd() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

// Our view of what rests: id → remaining qty, plus a dense array of the ids for picking.
const remaining = new Map();
const liveIds = [];
const slotOf = new Map();
function addLive(id, qty) {
  if (!remaining.has(id)) {
    slotOf.set(id, liveIds.length);
    liveIds.push(id);
  }
  remaining.set(id, qty);
}
function dropLive(id) {
  if (!remaining.delete(id)) return;
  const i = slotOf.get(id);
  const last = liveIds.pop();
  if (last !== id) {
    liveIds[i] = last;
    slotOf.set(last, i);
  }
  slotOf.delete(id);
}
function applyReport(r, rests) {
  for (const t of r.trades) {
    const left = (remaining.get(t.makerId) ?? 0) - t.qty;
    if (left > 0) remaining.set(t.makerId, left);
    else dropLive(t.makerId);
  }
  if (rests && (r.status === 'new' || r.status === 'partially_filled')) addLive(r.id, r.remainingQty);
  else if (rests) dropLive(r.id);
}

const mids = symbols.map(() => 100_000);
let nextId = 1;
const tally = { new: 0, partially_filled: 0, filled: 0, cancelled: 0, rejected: 0, trades: 0 };

function oneCommand(engine) {
  const s = int(0, symbols.length - 1);
  if (rnd() < 0.001) mids[s] += rnd() < 0.5 ? -1 : 1;
  const mid = mids[s];
  const fill = liveIds.length / opts.resting; // < 1: grow the book, > 1: shrink it
  const u = rnd();
  const side = rnd() < 0.5 ? 'buy' : 'sell';
  let r;
  if (u < 0.2 + 0.1 * Math.min(fill, 2) && liveIds.length > 0) {
    // Cancel a live order (sometimes one that just died: an UNKNOWN_ORDER reject).
    const id = liveIds[int(0, liveIds.length - 1)];
    r = engine.cancel({ id });
    dropLive(id);
  } else if (u < 0.3 + 0.1 * Math.min(fill, 2) && liveIds.length > 0) {
    // Modify: quantity down (keeps priority) or a new price (re-queues, may trade).
    const id = liveIds[int(0, liveIds.length - 1)];
    const o = engine.order(id);
    if (o === undefined) {
      dropLive(id);
      r = engine.cancel({ id });
    } else if (rnd() < 0.5 && o.remainingQty > 1) {
      r = engine.modify({ id, qty: o.remainingQty - 1 });
      addLive(id, r.remainingQty);
    } else {
      const price = o.side === 'buy' ? mids[symbols.indexOf(o.symbol)] - int(0, 50) : mids[symbols.indexOf(o.symbol)] + 1 + int(0, 50);
      dropLive(id);
      r = engine.modify({ id, price });
      applyReport(r, true);
    }
  } else if (u < 0.36) {
    r = engine.submit({ symbol: symbols[s], id: nextId++, side, type: 'market', qty: int(1, 200) });
    applyReport(r, false);
  } else {
    // A limit: passive when the book is short of its target, crossing more often when full.
    const crossing = rnd() < 0.15 + 0.25 * Math.min(fill, 2);
    const off = int(0, 50);
    const price = side === 'buy' ? (crossing ? mid + 1 + int(0, 5) : mid - off) : crossing ? mid - int(0, 5) : mid + 1 + off;
    const tif = crossing && rnd() < 0.3 ? 'ioc' : 'gtc';
    r = engine.submit({ symbol: symbols[s], id: nextId++, side, type: 'limit', price, qty: int(1, 100), tif });
    applyReport(r, tif === 'gtc');
  }
  tally[r.status]++;
  tally.trades += r.trades.length;
  return r.seq;
}

// --- run -------------------------------------------------------------------------------------
const mb = (b) => b / (1024 * 1024);
function walBytes() {
  let n = 0;
  let segments = 0;
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.log')) {
      segments++;
      n += statSync(join(dir, f)).size;
    } else if (f.endsWith('.snap')) n += statSync(join(dir, f)).size;
  }
  return { bytes: n, segments };
}

const lat = new Float64Array(opts.interval);
const acks = [];
let engine = await Engine.open(engineOptions);
const started = performance.now();
const deadline = started + opts.minutes * 60_000;
let done = 0;
let snapshots = 0;
let restarts = 0;
let failures = 0;
let lastRecovery = null;
const rows = [];
let intervalStart = performance.now();
let nextSnapshot = opts.snapshotEvery;
let nextRestart = opts.restartEvery;

const log = (line) => (opts.json ? process.stderr.write(line + '\n') : console.log(line));
if (opts.lockMemory !== undefined) {
  let m;
  try {
    m = lockMemory(opts.lockMemory);
  } catch (err) {
    console.error(`soak: --lock-memory: ${err.message}`); // a bad mode, or the limit to raise
    process.exit(2);
  }
  log(`soak: ${mb(m.bytes).toFixed(1)} MiB of code in ${m.mappings} mappings locked in RAM (${m.mode})`);
}
log(
  `soak: ${opts.commands.toLocaleString('en-US')} commands, ${opts.durability}, ${symbols.length} symbols, book target ${opts.resting.toLocaleString('en-US')}, ` +
    `segments ${opts.segmentMb} MiB, snapshot every ${opts.snapshotEvery.toLocaleString('en-US')}, restart every ${opts.restartEvery.toLocaleString('en-US')}, dir ${dir}`,
);
if (!opts.json) {
  console.log(
    ['commands', 'secs', 'rate/s', 'resting', 'rss MB', 'heap MB', 'v8 MB', 'ext MB', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'ack50 ms', 'ack99 ms', 'syncs', 'sync ms', 'majflt', 'pause s', 'recov ms', 'disk MB', 'segs', 'snaps', 'restarts']
      .map((h) => h.padStart(9))
      .join(''),
  );
}

// The WAL stats at the end of the last interval: each row shows that interval's syncs alone
// (walStats({ since })); after a restart, the new engine's since it opened.
let walMark = engine.walStats();
let faultMark = process.resourceUsage().majorPageFault;

while (done < opts.commands && performance.now() < deadline) {
  const n = Math.min(opts.interval, opts.commands - done);
  let pauses = 0; // ms spent in snapshot() and restarts this interval, not in the command rate
  let recoveryMs = 0; // the longest recovery (open() after a restart) this interval
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const seq = oneCommand(engine);
    lat[i] = (performance.now() - t0) * 1e6;
    const count = done + i + 1;
    if (count % opts.ackEvery === 0) {
      const a0 = performance.now();
      await engine.durable(seq);
      acks.push((performance.now() - a0) * 1e6);
    }
    if (count >= nextSnapshot) {
      nextSnapshot += opts.snapshotEvery;
      const s0 = performance.now();
      await engine.snapshot();
      pauses += performance.now() - s0;
      snapshots++;
    }
    if (count >= nextRestart && count < opts.commands) {
      nextRestart += opts.restartEvery;
      const r0 = performance.now();
      const digest = engine.digest();
      const seq = engine.lastSeq;
      await engine.close();
      engine = await Engine.open(engineOptions);
      walMark = undefined;
      restarts++;
      lastRecovery = engine.recovery;
      recoveryMs = Math.max(recoveryMs, engine.recovery.durationMs);
      if (engine.digest() !== digest || engine.lastSeq !== seq) {
        failures++;
        log(`soak: FAILED: the engine recovered to another state (seq ${engine.lastSeq}, was ${seq})`);
      }
      pauses += performance.now() - r0;
    }
  }
  done += n;
  const now = performance.now();
  const mem = process.memoryUsage();
  const l = summarize(lat, n);
  const a = summarize(Float64Array.from(acks), acks.length);
  acks.length = 0;
  const disk = walBytes();
  const wal = walMark ? engine.walStats({ since: walMark }) : engine.walStats();
  walMark = wal;
  const faults = process.resourceUsage().majorPageFault;
  const row = {
    commands: done,
    secs: (now - started) / 1000,
    rate: n / ((now - intervalStart - pauses) / 1000),
    resting: liveIds.length,
    rssMb: mb(mem.rss),
    heapMb: mb(mem.heapUsed),
    heapTotalMb: mb(mem.heapTotal),
    externalMb: mb(mem.external + mem.arrayBuffers),
    p50Us: l.p50 / 1000,
    p99Us: l.p99 / 1000,
    p999Us: l.p999 / 1000,
    maxUs: l.max / 1000,
    ackP50Ms: a.p50 / 1e6,
    ackP99Ms: a.p99 / 1e6,
    // The interval's fdatasyncs: how many, and the time-weighted p99 (the sync a wait ran into),
    // to set beside ackP99Ms.
    syncs: wal.syncs,
    syncTimeP99Ms: wal.syncNs.timeP99 / 1e6,
    majorFaults: faults - faultMark,
    pauseS: pauses / 1000,
    recoveryMs,
    diskMb: mb(disk.bytes),
    segments: disk.segments,
    snapshots,
    restarts,
  };
  rows.push(row);
  faultMark = faults;
  intervalStart = now;
  if (opts.json) console.log(JSON.stringify(row));
  else {
    const f = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v)).padStart(9);
    console.log(
      [f(row.commands, 0), f(row.secs), f(row.rate, 0), f(row.resting, 0), f(row.rssMb), f(row.heapMb), f(row.heapTotalMb), f(row.externalMb), f(row.p50Us, 2), f(row.p99Us, 2), f(row.p999Us, 1), f(row.maxUs, 0), f(row.ackP50Ms, 2), f(row.ackP99Ms, 2), f(row.syncs, 0), f(row.syncTimeP99Ms, 2), f(row.majorFaults, 0), f(row.pauseS, 2), f(row.recoveryMs, 0), f(row.diskMb), f(row.segments, 0), f(row.snapshots, 0), f(row.restarts, 0)].join(''),
    );
  }
}
const finalDigest = engine.digest();
await engine.close();

// --- verdict ---------------------------------------------------------------------------------
const steady = rows.slice(Math.floor(rows.length * opts.warmupShare));
const rss = steady.map((r) => r.rssMb);
const minRss = Math.min(...rss);
const maxRss = Math.max(...rss);
// Least-squares slope of RSS over commands after the warm-up, in MB per 10M commands.
let slope = 0;
if (steady.length >= 2) {
  const xs = steady.map((r) => r.commands / 1e7);
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = rss.reduce((s, y) => s + y, 0) / rss.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (rss[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  slope = den > 0 ? num / den : 0;
}
// Flat: RSS saws up and down with the JS heap's collections, so compare envelopes: the highest
// RSS of the second half of the steady part may exceed that of the first half by --rss-slack MB
// at most. A leak of that size over the run shows; garbage-collector sawtooth does not.
const half = Math.floor(steady.length / 2);
const firstMax = half > 0 ? Math.max(...rss.slice(0, half)) : maxRss;
const secondMax = half > 0 ? Math.max(...rss.slice(half)) : maxRss;
const growth = secondMax - firstMax;
const resting = steady.map((r) => r.resting);
const flat = growth <= opts.rssSlack;
if (!flat) failures++;
const secs = (performance.now() - started) / 1000;
const all = rows.length ? rows : [{ p99Us: 0, p999Us: 0, maxUs: 0 }];
const summary = {
  commands: done,
  seconds: secs,
  rate: done / secs,
  durability: opts.durability,
  restingTarget: opts.resting,
  restingRange: [Math.min(...resting), Math.max(...resting)],
  rssSteadyMb: [minRss, maxRss],
  rssPeakGrowthMb: growth,
  rssSlopeMbPer10M: slope,
  rssFlat: flat,
  worstIntervalP99Us: Math.max(...all.map((r) => r.p99Us)),
  worstIntervalP999Us: Math.max(...all.map((r) => r.p999Us)),
  maxUs: Math.max(...all.map((r) => r.maxUs)),
  snapshots,
  restarts,
  lastRecovery: lastRecovery && { recordsReplayed: lastRecovery.recordsReplayed, durationMs: lastRecovery.durationMs, snapshot: lastRecovery.snapshot?.seq ?? null },
  statuses: tally,
  finalDigest,
  failures,
};
if (opts.json) console.log(JSON.stringify({ summary }));
else {
  console.log(`\nsoak: ${done.toLocaleString('en-US')} commands in ${secs.toFixed(0)} s (${Math.round(done / secs).toLocaleString('en-US')}/s), ${opts.durability}`);
  console.log(`  resting orders after warm-up: ${summary.restingRange[0].toLocaleString('en-US')} .. ${summary.restingRange[1].toLocaleString('en-US')} (target ${opts.resting.toLocaleString('en-US')})`);
  console.log(
    `  RSS after warm-up: ${minRss.toFixed(1)} .. ${maxRss.toFixed(1)} MB; peak of the 2nd half vs the 1st: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB; ` +
      `slope ${slope.toFixed(2)} MB per 10M commands: ${flat ? 'flat' : `GREW by more than ${opts.rssSlack} MB`}`,
  );
  console.log(`  per-call latency, worst interval: p99 ${summary.worstIntervalP99Us.toFixed(2)} µs, p99.9 ${summary.worstIntervalP999Us.toFixed(1)} µs, max ${summary.maxUs.toFixed(0)} µs`);
  console.log(`  ${snapshots} snapshots, ${restarts} restarts${lastRecovery ? ` (last: ${lastRecovery.recordsReplayed.toLocaleString('en-US')} records replayed after snapshot ${lastRecovery.snapshot?.seq ?? '-'} in ${lastRecovery.durationMs.toFixed(0)} ms)` : ''}, every recovery equal: ${failures === (flat ? 0 : 1) ? 'yes' : 'NO'}`);
  console.log(`  statuses: ${Object.entries(tally).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
}
if (ownDir) rmSync(dir, { recursive: true, force: true });
process.exit(failures === 0 ? 0 : 1);
