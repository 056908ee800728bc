// Child process of the kill -9 test (test/recovery/kill9.test.ts): opens a durable engine on a
// directory, applies the commands the parent feeds it on stdin, and tells the parent on stdout
// what it is doing, so that the parent can SIGKILL it at chosen moments and check recovery.
//
//   node kill9-child.mjs '<json config>'
//   config: { lib: path of the compiled lib/index.js, dir, symbols: string[], segmentBytes,
//             logTrades, seed, snapshotEvery: mean ms between snapshots, final: open, report
//             and close }
//
// stdin, one command per line: s<NewOrder json> | c<CancelOrder json> | m<ModifyOrder json>
// stdout, one event per line, each written with a synchronous write(2): once written it is in
// the pipe, and survives this process being killed a microsecond later.
//   open <json>       after Engine.open(): { lastSeq, digest, recovery, symbols, depth: [per symbol] }
//   sub <seq>         about to submit the commands up to <seq> (inclusive)
//   ack <seq>         durable(<seq>) resolved
//   seg <n>           the WAL writer has installed n segments since open
//   snap <seq>        snapshot() of the state after <seq> started
//   snapdone <seq>    snapshot() resolved
//   err <message>     something unexpected; the process exits 1
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const cfg = JSON.parse(process.argv[2]);

function out(line) {
  writeSync(1, line + '\n');
}

function fail(message) {
  try {
    out(`err ${String(message).replace(/\n/g, ' | ')}`);
  } finally {
    process.exit(1);
  }
}
process.on('uncaughtException', (e) => fail(e?.stack ?? e));
process.on('unhandledRejection', (e) => fail(e?.stack ?? e));

// mulberry32, for the child's own timing choices (chunk sizes, snapshot moments).
let rs = cfg.seed >>> 0;
function rand() {
  rs = (rs + 0x6d2b79f5) >>> 0;
  let t = rs;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const { Engine } = await import(cfg.lib);
const engine = await Engine.open({
  dir: cfg.dir,
  durability: 'durable',
  symbols: cfg.symbols,
  wal: { segmentBytes: cfg.segmentBytes, logTrades: cfg.logTrades !== false },
});
out(
  `open ${JSON.stringify({
    lastSeq: engine.lastSeq,
    digest: engine.digest(),
    recovery: engine.recovery,
    symbols: engine.symbols,
    depth: cfg.symbols.map((s) => engine.depth(s, 1_000_000)),
  })}`,
);
if (cfg.final) {
  await engine.close();
  process.exit(0);
}

// ---- the command feed ----
const queue = [];
let head = 0;
let wake = null;
let ended = false;
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  queue.push(line);
  if (wake) {
    const w = wake;
    wake = null;
    w();
  }
});
rl.on('close', () => {
  ended = true;
  if (wake) wake();
});

function apply(line) {
  const body = JSON.parse(line.slice(1));
  switch (line[0]) {
    case 's':
      return engine.submit(body);
    case 'c':
      return engine.cancel(body);
    case 'm':
      return engine.modify(body);
    default:
      throw new Error(`bad command line ${JSON.stringify(line)}`);
  }
}

let expect = engine.lastSeq + 1;
let segments = engine.walStats()?.segments ?? 0;
let snapping = false;
let nextSnapshotAt = performance.now() + rand() * 2 * cfg.snapshotEvery;

for (;;) {
  if (head >= queue.length) {
    if (ended) break;
    await new Promise((r) => (wake = r));
    continue;
  }
  const n = Math.min(queue.length - head, 1 + Math.floor(rand() * 64));
  out(`sub ${expect + n - 1}`);
  for (let i = 0; i < n; i++) {
    const r = apply(queue[head++]);
    if (r.seq !== expect) fail(`seq ${r.seq} where ${expect} was expected`);
    expect++;
  }
  if (head > 65536) {
    queue.splice(0, head);
    head = 0;
  }
  const s = expect - 1;
  engine.durable(s).then(
    () => out(`ack ${s}`),
    (e) => fail(`durable(${s}) rejected: ${e?.message}`),
  );
  const segs = engine.walStats()?.segments ?? 0;
  if (segs !== segments) {
    segments = segs;
    out(`seg ${segs}`);
  }
  if (!snapping && performance.now() >= nextSnapshotAt) {
    snapping = true;
    out(`snap ${engine.lastSeq}`);
    engine.snapshot().then(
      (info) => {
        out(`snapdone ${info.seq}`);
        snapping = false;
        nextSnapshotAt = performance.now() + rand() * 2 * cfg.snapshotEvery;
      },
      (e) => fail(`snapshot rejected: ${e?.message}`),
    );
  }
  // Pace: let durable() wake-ups, snapshot steps and the feed run between chunks.
  await new Promise((r) => (rand() < 0.5 ? setImmediate(r) : setTimeout(r, 0)));
}
await engine.close();
process.exit(0);
