// kill -9 for real: a child process (kill9-child.mjs) runs a durable engine on a directory and
// is SIGKILLed at random moments — during start-up and recovery, at random times, right after
// a durable() acknowledgement, during a snapshot, just after and just before a WAL segment
// switch (segments are 64 KiB, so switches are frequent) — and restarted on the same directory.
// After every restart the parent checks what the child recovered:
//   (a) every command whose durable() resolved is there: recovered lastSeq >= max acked seq;
//   (b) the recovered log is a prefix of what was submitted: lastSeq <= the highest seq the
//       child announced before submitting, and the state never goes backwards;
//   (c) the recovered book equals the reference model's replay of exactly that prefix (depth of
//       every symbol, all levels, with order counts);
// and that `durabook wal verify` (the core verify) agrees with what open() then did.
//
// The commands are one seeded stream (test/support/random-commands.ts) that the parent owns and
// feeds to the child over stdin, resuming each run where the recovered log ends; command i
// therefore always has seq k + 1 + i (k symbols first), whatever the run.
//
// The child imports the compiled library: beforeAll compiles lib/ with tsc into a private
// directory under build/ (about a second), and needs the addon (npm run build:native).
//
//   KILL9_CYCLES   kill cycles (default 50; `npm run crash:kill9 -- --cycles 1000`)
//   KILL9_SEED     seed of the command stream and the kill schedule (default: random, printed)
//   KILL9_LOG_TRADES=0  run the child with wal.logTrades false (no trade records in the log)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWal } from '../../lib/cli/wal.js';
import type { Depth, RecoveryReport } from '../../lib/types.js';
import { CommandStream, DEFAULT_SYMBOLS, Rng, type Command } from '../support/random-commands.js';
import { ReferenceBook } from '../support/reference-model.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CHILD = join(HERE, 'kill9-child.mjs');
const CYCLES = Number(process.env.KILL9_CYCLES ?? 50);
const SEED = process.env.KILL9_SEED !== undefined ? Number(process.env.KILL9_SEED) : Math.floor(Math.random() * 2 ** 31);
const SYMBOLS = DEFAULT_SYMBOLS.map((s) => s.name);
const K = SYMBOLS.length;
const SEGMENT_BYTES = 65536;
const LOG_TRADES = process.env.KILL9_LOG_TRADES !== '0';
const FEED_CHUNK = 4000;

let jsDir = '';
let libEntry = '';
const dirs: string[] = [];

beforeAll(() => {
  if (!existsSync(join(ROOT, 'build/Release/durabook.node'))) {
    throw new Error('kill9: build/Release/durabook.node is missing; build the addon first (npm run build:native)');
  }
  // The child cannot load TypeScript: compile lib/ into a private directory inside the package
  // (so that lib/native.ts finds the package root and the addon from there).
  jsDir = join(ROOT, 'build', `kill9-js-${process.pid}`);
  mkdirSync(jsDir, { recursive: true });
  writeFileSync(
    join(jsDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { rootDir: '../..', outDir: '.', declaration: false, sourceMap: false, noEmitOnError: true },
      include: [],
      files: ['../../lib/index.ts'],
    }),
  );
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(jsDir, 'tsconfig.json')], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`kill9: compiling lib/ for the child failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? e.message}`);
  }
  libEntry = join(jsDir, 'lib/index.js');
  if (!existsSync(libEntry)) throw new Error(`kill9: ${libEntry} was not produced by tsc`);
}, 120_000);

afterAll(() => {
  if (jsDir) rmSync(jsDir, { recursive: true, force: true });
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type KillMode = 'startup' | 'timer' | 'ack' | 'snapshot' | 'segment' | 'pre-switch';
const MODES: [KillMode, number][] = [
  ['startup', 0.1],
  ['timer', 0.3],
  ['ack', 0.1],
  ['snapshot', 0.2],
  ['segment', 0.15],
  ['pre-switch', 0.15],
];

interface OpenInfo {
  lastSeq: number;
  digest?: string;
  recovery: RecoveryReport;
  symbols: string[];
  depth: Depth[];
}

interface RunOutcome {
  opened: boolean;
  killedBy: string | null;
  duringSnapshot: boolean;
  nearSwitchMs: number | null;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

function pick(rng: Rng): KillMode {
  let u = rng.next();
  for (const [m, w] of MODES) if ((u -= w) < 0) return m;
  return 'timer';
}

function encode(c: Command): string {
  if (c.kind === 'submit') return 's' + JSON.stringify(c.order);
  if (c.kind === 'cancel') return 'c' + JSON.stringify(c.cancel);
  return 'm' + JSON.stringify(c.modify);
}

function sameDepth(a: Depth, b: Depth): boolean {
  if (a.bids.length !== b.bids.length || a.asks.length !== b.asks.length) return false;
  for (const [x, y] of [
    [a.bids, b.bids],
    [a.asks, b.asks],
  ] as const) {
    for (let i = 0; i < x.length; i++) {
      if (x[i].price !== y[i].price || x[i].qty !== y[i].qty || x[i].orders !== y[i].orders) return false;
    }
  }
  return true;
}

/** The parent's view of the run: the command stream, the reference model, what was acked. */
class Harness {
  readonly gen = new CommandStream(SEED);
  readonly rng = new Rng(SEED ^ 0x5bd1e995);
  readonly ref = new ReferenceBook({ symbols: SYMBOLS });
  /** Commands from index `base` on (earlier ones are behind every possible recovery). */
  window: Command[] = [];
  base = 0;
  maxAcked = 0;
  maxSubmitted = K; // open() logs the symbols (seqs 1..K) before any `sub` line
  lastRecovered = 0;
  switchIntervalMs = 20;
  stats = {
    kills: {} as Record<string, number>,
    duringSnapshot: 0,
    nearSwitch: 0,
    tornTails: 0,
    bytesTruncated: 0,
    fromSnapshot: 0,
    acks: 0,
    replayed: 0,
    verifyRuns: 0,
  };

  constructor(readonly dir: string) {}

  command(i: number): Command {
    while (this.base + this.window.length <= i) this.window.push(this.gen.next());
    return this.window[i - this.base];
  }

  /** Checks what a (re)started child recovered; throws on any violation. */
  checkOpen(info: OpenInfo, cycle: number, verdict: ReturnType<typeof verifyWal> | null): void {
    const rec = info.recovery;
    const L = rec.lastSeq;
    const where = `cycle ${cycle} (seed ${SEED})`;
    // (a) nothing acknowledged is lost
    if (L < this.maxAcked) throw new Error(`${where}: recovered lastSeq ${L} < ${this.maxAcked}, whose durable() resolved`);
    // (b) a prefix of what was submitted, never going backwards
    if (L > this.maxSubmitted) throw new Error(`${where}: recovered lastSeq ${L} > ${this.maxSubmitted}, the last seq ever submitted`);
    if (L < this.lastRecovered) throw new Error(`${where}: recovered lastSeq ${L} < ${this.lastRecovered}, recovered before`);
    if (rec.snapshot && rec.snapshot.seq > L) throw new Error(`${where}: snapshot ${rec.snapshot.seq} is ahead of lastSeq ${L}`);
    if (rec.dropped) throw new Error(`${where}: tolerate-tail recovery dropped ${JSON.stringify(rec.dropped)}`);
    // (c) the book is the reference model's replay of exactly that prefix
    const upTo = Math.max(L, K);
    if (this.ref.lastSeq > upTo) throw new Error(`${where}: reference already at ${this.ref.lastSeq} > ${upTo}`);
    while (this.ref.lastSeq < upTo) {
      const c = this.command(this.ref.lastSeq - K);
      if (c.kind === 'submit') this.ref.submit(c.order);
      else if (c.kind === 'cancel') this.ref.cancel(c.cancel);
      else this.ref.modify(c.modify);
    }
    for (let s = 0; s < SYMBOLS.length; s++) {
      const want = this.ref.depth(SYMBOLS[s], 1_000_000);
      if (!sameDepth(info.depth[s], want)) {
        throw new Error(
          `${where}: ${SYMBOLS[s]} after recovering to seq ${L} differs from the reference model\n` +
            `engine: ${JSON.stringify(info.depth[s]).slice(0, 600)}\nmodel:  ${JSON.stringify(want).slice(0, 600)}`,
        );
      }
    }
    // verify (read-only, before this open) must have predicted what open() did.
    if (verdict) {
      this.stats.verifyRuns++;
      const clean = rec.snapshotsSkipped.length === 0 && !rec.tornTail && rec.bytesTruncated === 0 && rec.dropped === null;
      if (verdict.openClean !== clean || verdict.lastSeq !== L || verdict.tornTail !== rec.tornTail || verdict.bytesTruncated !== rec.bytesTruncated) {
        throw new Error(`${where}: wal verify predicted ${JSON.stringify({ openClean: verdict.openClean, lastSeq: verdict.lastSeq, torn: verdict.tornTail, cut: verdict.bytesTruncated, damage: verdict.damage })}, open() reported ${JSON.stringify(rec)}`);
      }
      if (L >= K && info.digest !== undefined && verdict.digest !== info.digest) {
        throw new Error(`${where}: wal verify state digest ${verdict.digest} != open()'s ${info.digest}`);
      }
    }
    if (rec.tornTail) this.stats.tornTails++;
    this.stats.bytesTruncated += rec.bytesTruncated;
    if (rec.snapshot) this.stats.fromSnapshot++;
    this.stats.replayed += rec.recordsReplayed;
    this.lastRecovered = L;
    // Commands before the recovered point are never needed again.
    const keepFrom = upTo - K;
    if (keepFrom > this.base) {
      this.window.splice(0, keepFrom - this.base);
      this.base = keepFrom;
    }
  }

  async run(cycle: number, mode: KillMode | 'final'): Promise<RunOutcome> {
    const verdict = (() => {
      try {
        return verifyWal(this.dir);
      } catch {
        return null;
      }
    })();
    const cfg = {
      lib: libEntry,
      dir: this.dir,
      symbols: SYMBOLS,
      segmentBytes: SEGMENT_BYTES,
      logTrades: LOG_TRADES,
      seed: (SEED + cycle * 7919) >>> 0,
      snapshotEvery: 40,
      final: mode === 'final',
    };
    const child = spawn(process.execPath, [CHILD, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const t0 = performance.now();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {}); // EPIPE once it is dead
    const out: RunOutcome = { opened: false, killedBy: null, duringSnapshot: false, nearSwitchMs: null, exit: { code: null, signal: null }, stderr: '' };
    let snapOpen = false;
    let lastSwitch = -1;
    let fedEnd = 0; // seq of the last command fed
    let failure: Error | null = null;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, f: () => void) => timers.push(setTimeout(f, ms));
    const kill = (why: string) => {
      if (out.killedBy !== null || mode === 'final') return;
      out.killedBy = why;
      out.duringSnapshot = snapOpen;
      const now = performance.now();
      if (lastSwitch >= 0) out.nearSwitchMs = now - lastSwitch;
      child.kill('SIGKILL');
    };
    const feed = () => {
      let s = '';
      for (let i = 0; i < FEED_CHUNK; i++) s += encode(this.command(fedEnd - K + i)) + '\n';
      fedEnd += FEED_CHUNK;
      child.stdin.write(s);
    };
    let armAck = false;
    let armSnap = false;
    let armSwitch = false;
    const onOpen = () => {
      if (mode === 'timer') later(this.rng.next() * 300, () => kill('timer'));
      else if (mode === 'ack') later(this.rng.next() * 200, () => (armAck = true));
      else if (mode === 'snapshot') armSnap = true;
      else if (mode === 'segment' || mode === 'pre-switch') armSwitch = true;
      if (mode !== 'final' && mode !== 'startup') later(2000, () => kill(`${mode} (fallback)`));
    };
    if (mode === 'startup') later(this.rng.next() * 150, () => kill('startup'));

    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (failure) return;
      const sp = line.indexOf(' ');
      const tag = sp < 0 ? line : line.slice(0, sp);
      const arg = sp < 0 ? '' : line.slice(sp + 1);
      try {
        switch (tag) {
          case 'open': {
            let info: OpenInfo;
            try {
              info = JSON.parse(arg) as OpenInfo;
            } catch {
              if (out.killedBy) return; // cut off by the kill
              throw new Error(`cycle ${cycle}: bad open line ${line.slice(0, 200)}`);
            }
            out.opened = true;
            this.checkOpen(info, cycle, verdict);
            fedEnd = info.lastSeq; // the child continues after what it holds
            if (mode !== 'final') {
              feed();
              onOpen();
            }
            break;
          }
          case 'sub': {
            const s = Number(arg);
            if (s > this.maxSubmitted) this.maxSubmitted = s;
            if (fedEnd - s < FEED_CHUNK / 2 && !out.killedBy) feed();
            break;
          }
          case 'ack': {
            const s = Number(arg);
            if (s > this.maxAcked) this.maxAcked = s;
            this.stats.acks++;
            if (armAck) kill('ack');
            break;
          }
          case 'snap':
            snapOpen = true;
            if (armSnap) {
              const u = this.rng.next();
              if (u < 0.3) kill('snapshot');
              else later(u * 5, () => kill('snapshot'));
            }
            break;
          case 'snapdone':
            snapOpen = false;
            break;
          case 'seg': {
            const now = performance.now();
            if (lastSwitch >= 0) this.switchIntervalMs = 0.7 * this.switchIntervalMs + 0.3 * (now - lastSwitch);
            lastSwitch = now;
            if (armSwitch && mode === 'segment') {
              const u = this.rng.next();
              if (u < 0.5) kill('segment');
              else later(u * 2, () => kill('segment'));
            } else if (armSwitch && mode === 'pre-switch') {
              armSwitch = false;
              later(Math.max(0, this.switchIntervalMs - this.rng.next() * 3), () => kill('pre-switch'));
            }
            break;
          }
          case 'err':
            throw new Error(`cycle ${cycle}: child error: ${arg}`);
          default:
            if (!out.killedBy) throw new Error(`cycle ${cycle}: unexpected child output ${line.slice(0, 200)}`);
        }
      } catch (err) {
        failure = err as Error;
        child.kill('SIGKILL');
      }
    });
    out.exit = await new Promise((res) => child.on('close', (code, signal) => res({ code, signal })));
    for (const t of timers) clearTimeout(t);
    out.stderr = stderr;
    if (failure) throw failure;
    if (mode === 'final') {
      if (out.exit.code !== 0) throw new Error(`final run exited ${out.exit.code} ${out.exit.signal}: ${stderr}`);
    } else if (out.killedBy === null || out.exit.signal !== 'SIGKILL') {
      throw new Error(`cycle ${cycle}: the child ended on its own (code ${out.exit.code}, signal ${out.exit.signal}) after ${Math.round(performance.now() - t0)} ms: ${stderr}`);
    }
    return out;
  }
}

describe('kill -9', () => {
  it(
    `recovers every acknowledged command and the exact book after ${CYCLES} SIGKILLs`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'durabook-kill9-'));
      dirs.push(dir);
      const h = new Harness(dir);
      const t0 = performance.now();
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const mode = pick(h.rng);
        const r = await h.run(cycle, mode);
        const by = r.killedBy ?? 'none';
        h.stats.kills[by] = (h.stats.kills[by] ?? 0) + 1;
        if (r.duringSnapshot) h.stats.duringSnapshot++;
        if (r.nearSwitchMs !== null && r.nearSwitchMs < 3) h.stats.nearSwitch++;
      }
      // A last clean start: recovers, checks, closes. Then the directory verifies whole.
      await h.run(CYCLES, 'final');
      const v = verifyWal(dir);
      const seconds = (performance.now() - t0) / 1000;
      const leftovers = readdirSync(dir).filter((n) => !/^(wal-\d{20}\.log|snapshot-\d{20}\.snap)$/.test(n));
      console.log(
        `kill9: ${CYCLES} cycles in ${seconds.toFixed(1)} s (seed ${SEED}${LOG_TRADES ? '' : ', logTrades off'}); last seq ${h.lastRecovered}, max acked ${h.maxAcked}, ` +
          `${h.stats.acks} acks; kills ${JSON.stringify(h.stats.kills)}; ${h.stats.duringSnapshot} during a snapshot, ` +
          `${h.stats.nearSwitch} within 3 ms after a segment switch; ${h.stats.tornTails} torn tails cut (${h.stats.bytesTruncated} bytes); ` +
          `${h.stats.fromSnapshot} recoveries from a snapshot, ${h.stats.replayed} commands replayed; verify checked ${h.stats.verifyRuns} times; ` +
          `other files left: ${leftovers.length}${leftovers.length ? ` (${leftovers.slice(0, 3).join(', ')}${leftovers.length > 3 ? ', …' : ''})` : ''}`,
      );
      expect(h.maxAcked).toBeGreaterThan(K);
      expect(v.whole, JSON.stringify({ damage: v.damage, fallback: v.fallback, anomalies: v.anomalies })).toBe(true);
      expect(v.lastSeq).toBe(h.lastRecovered);
    },
    Math.max(120_000, CYCLES * 3_000),
  );
});
