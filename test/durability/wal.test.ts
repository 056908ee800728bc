// The WAL through the public API: durability modes, durable() promises, fail-stop on I/O
// errors (injected and real), configuration errors, and what close() settles.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurabookError, Engine } from '../../lib/index.js';
import { native } from '../../lib/native.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'durabook-wal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function order(id: number, side: 'buy' | 'sell' = id % 2 ? 'buy' : 'sell', price = 100 + (id % 5) - 2) {
  return { symbol: 'X', id, side, type: 'limit' as const, price, qty: 1 + (id % 9) };
}

// The writer's counters once they have stopped moving. durable(seq) resolves once the sync
// covering the command's input record returned; its trade records (replay derives them again)
// can be written and synced just after, so "every durable() resolved" is not "idle" (seen in
// CI: one sync more in a later read, records and batches already equal). Returns the second
// of two reads 50 ms apart that agree.
async function settledStats(e: Engine) {
  for (let tries = 0; ; tries++) {
    const s1 = e.walStats()!;
    await new Promise((r) => setTimeout(r, 50));
    const s2 = e.walStats()!;
    if ((s1.syncs === s2.syncs && s1.bytes === s2.bytes && s1.batches === s2.batches) || tries >= 100) return s2;
  }
}

async function expectCode(p: Promise<unknown>, code: string): Promise<DurabookError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DurabookError);
  expect((err as DurabookError).code).toBe(code);
  return err as DurabookError;
}

describe('durable mode', () => {
  it('resolves durable(seq) only once the watermark covers seq, in seq order', async () => {
    const e = await Engine.open({ dir: tempDir(), symbols: ['X'] });
    expect(e.durability).toBe('durable');
    const waits: Promise<void>[] = [];
    const seqs: number[] = [];
    for (let i = 1; i <= 3000; i++) seqs.push(e.submit(order(i)).seq);
    // Ask out of order. Whatever was pending together settles lowest seq first: when seq s
    // resolves, every lower seq asked before it has resolved already.
    const asked = [...seqs].sort((a, b) => ((a * 7919) % 3001) - ((b * 7919) % 3001));
    const done = new Set<number>();
    let violations = 0;
    for (let k = 0; k < asked.length; k++) {
      const s = asked[k];
      waits.push(
        e.durable(s).then(() => {
          // The watermark the writer published covers this seq at resolution time.
          expect(e.walStats()!.durableSeq).toBeGreaterThanOrEqual(s);
          for (let j = 0; j < k; j++) if (asked[j] < s && !done.has(asked[j])) violations++;
          done.add(s);
        }),
      );
    }
    await Promise.all(waits);
    expect(done.size).toBe(seqs.length);
    expect(violations).toBe(0);
    const stats = e.walStats()!;
    // Group commit: far fewer syncs than commands.
    expect(stats.syncs).toBeLessThan(seqs.length);
    // Every sync timed, in nanoseconds: a real fdatasync takes more than a microsecond and,
    // even on a slow disk, less than ten seconds.
    const t = stats.syncNs;
    // All but open()'s one sync of the first segment, which comes before any record.
    expect(t.count).toBe(stats.syncs - 1);
    expect(t.p50).toBeGreaterThan(1_000);
    expect(t.p50).toBeLessThanOrEqual(t.p99);
    expect(t.p99).toBeLessThanOrEqual(t.p999);
    expect(t.p999).toBeLessThanOrEqual(t.max);
    expect(t.max).toBeLessThan(10e9);
    expect(t.mean).toBeGreaterThan(0);
    expect(t.mean).toBeLessThanOrEqual(t.max);
    expect(t.timeP50).toBeGreaterThanOrEqual(t.p50 / 2);
    expect(t.timeP99).toBeLessThanOrEqual(t.max);
    await e.close();
  });

  it('walStats says where the time went: the writer\'s writes, zero-fill and syncs, the producer\'s waits', async () => {
    // 16 ring slots against real fdatasyncs: the matching thread runs out of slots at once and
    // waits for the writer, which syncs back to back; 64 KiB segments keep it pre-writing.
    const e = await Engine.open({ dir: tempDir(), symbols: ['X'], wal: { ringCapacity: 16, segmentBytes: 65536 } });
    // (The writer thread may be pre-writing the next segment already; nothing has waited.)
    expect(e.walStats()!.producerWaitNs).toBe(0);
    const t0 = process.hrtime.bigint();
    let seq = 0;
    for (let i = 1; i <= 3000; i++) seq = e.submit(order(i)).seq;
    const loopNs = Number(process.hrtime.bigint() - t0);
    await e.durable(seq);
    const s = await settledStats(e);
    const wallNs = Number(process.hrtime.bigint() - t0);
    expect(s.producerWaits).toBeGreaterThan(0);
    expect(s.producerWaitNs).toBeGreaterThan(0);
    expect(s.producerWaitNs).toBeLessThanOrEqual(loopNs); // waits happen inside submit()
    expect(s.writeNs).toBeGreaterThan(0);
    expect(s.zeroFillNs).toBeGreaterThan(0); // 3000 orders fill several 64 KiB segments
    expect(s.segments).toBeGreaterThan(1);
    const syncTotal = s.syncNs.mean * s.syncNs.count;
    expect(syncTotal).toBeGreaterThan(0);
    // One thread's time, its parts apart: together they fit within the run.
    expect(s.writeNs + s.zeroFillNs + syncTotal).toBeLessThanOrEqual(wallNs);
    await e.close();
  });

  it('walStats({ since }) gives the counters and sync times of the interval alone', async () => {
    const e = await Engine.open({ dir: tempDir(), symbols: ['X'] });
    // One durable() at a time: a sync or more per command.
    for (let i = 1; i <= 100; i++) await e.durable(e.submit(order(i)).seq);
    const a = e.walStats()!;
    for (let i = 101; i <= 150; i++) await e.durable(e.submit(order(i)).seq);
    const total = await settledStats(e); // the writer is idle: nothing moves between these two calls
    const b = e.walStats({ since: a })!;
    expect(b.records).toBe(total.records - a.records);
    expect(b.records).toBeGreaterThanOrEqual(50);
    expect(b.bytes).toBe(total.bytes - a.bytes);
    expect(b.batches).toBe(total.batches - a.batches);
    expect(b.syncs).toBe(total.syncs - a.syncs);
    expect(b.syncs).toBeGreaterThanOrEqual(1);
    expect(b.writeNs).toBe(total.writeNs - a.writeNs);
    expect(b.writeNs).toBeGreaterThan(0);
    expect(b.zeroFillNs).toBe(total.zeroFillNs - a.zeroFillNs);
    expect(b.producerWaitNs).toBe(total.producerWaitNs - a.producerWaitNs);
    // Since open, every sync is timed but open()'s own; in an interval after open, every one.
    expect(total.syncNs.count).toBe(total.syncs - 1);
    expect(b.syncNs.count).toBe(b.syncs);
    expect(b.syncNs.p50).toBeGreaterThan(0);
    expect(b.syncNs.p50).toBeLessThanOrEqual(b.syncNs.max);
    expect(b.syncNs.max).toBeLessThanOrEqual(total.syncNs.max);
    expect(b.durableSeq).toBe(total.durableSeq);
    expect(b.ringHighWater).toBe(total.ringHighWater);
    // The result is a mark itself: right after it, an empty interval.
    const c = e.walStats({ since: b })!;
    expect([c.records, c.bytes, c.syncs, c.batches, c.syncNs.count, c.syncNs.p99, c.syncNs.max, c.writeNs, c.zeroFillNs, c.producerWaitNs]).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    // Only stats this engine returned can be a mark; a bad one changes nothing and says why.
    const other = await Engine.open({ dir: tempDir(), symbols: ['X'] });
    for (const bad of [{ ...a }, other.walStats(), 5, null]) {
      const err = (() => {
        try {
          e.walStats({ since: bad as never });
        } catch (x) {
          return x;
        }
      })();
      expect(err).toBeInstanceOf(DurabookError);
      expect((err as DurabookError).code).toBe('INVALID_ARGUMENT');
      expect((err as DurabookError).message).toMatch(/^since must be stats this engine's walStats\(\) returned, got /);
    }
    expect(() => e.walStats('since' as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(e.walStats({ since: a })!.records).toBe(total.records - a.records);
    await other.close();
    await e.close();
  });

  it('the addon refuses raw stats of another layout rather than read them as an empty interval', () => {
    // The engine always passes walStatsLength numbers; a JS layer and an addon built from
    // different sources would not, and that must fail loudly, not report zeros.
    const addon = native();
    const n = addon.createEngine({}, new Float64Array(8), new Float64Array(addon.resHeader + 3));
    expect(addon.walStatsLength).toBeGreaterThan(11);
    expect(n.walStats()).toBeUndefined(); // no WAL
    expect(n.walStats(new Float64Array(addon.walStatsLength), new Float64Array(addon.walStatsLength))).toBeUndefined();
    expect(() => n.walStats(new Float64Array(addon.walStatsLength - 1))).toThrow(TypeError);
    expect(() => n.walStats(undefined, new Float64Array(3))).toThrow(TypeError);
    expect(() => n.walStats(new Float32Array(addon.walStatsLength) as never)).toThrow(TypeError);
  });

  it('a seq not assigned yet is an INVALID_ARGUMENT, not a promise that never settles', async () => {
    const e = await Engine.open({ dir: tempDir(), symbols: ['X'] });
    await expectCode(e.durable(e.lastSeq + 1), 'INVALID_ARGUMENT');
    await expectCode(e.durable(0), 'INVALID_ARGUMENT');
    await e.close();
  });

  it('close() settles pending promises, is idempotent, and the log reopens to the same state', async () => {
    const dir = tempDir();
    const e = await Engine.open({ dir, symbols: ['X'] });
    const pending: Promise<void>[] = [];
    for (let i = 1; i <= 500; i++) pending.push(e.durable(e.submit(order(i)).seq));
    const digest = e.digest();
    const last = e.lastSeq;
    const c1 = e.close();
    const c2 = e.close();
    await Promise.all([c1, c2, ...pending]);
    await e.durable(last); // durable after close: the log holds it
    expect(() => e.submit(order(9999))).toThrow(expect.objectContaining({ code: 'ENGINE_CLOSED' }));
    const again = await Engine.open({ dir, symbols: ['X'] });
    expect(again.digest()).toBe(digest);
    expect(again.recovery.recordsReplayed).toBe(last);
    expect(again.submit(order(10_000)).seq).toBe(last + 1);
    await again.close();
  });
});

describe('async mode', () => {
  it('syncs on the record-count trigger and on the timer', async () => {
    // Count trigger: with a one-minute timer, only reaching asyncFlushRecords can sync the
    // first half of a burst (the second half's records lie beyond it).
    const dir = tempDir();
    const e = await Engine.open({ dir, durability: 'async', symbols: ['X'], wal: { asyncFlushMs: 60_000, asyncFlushRecords: 100 } });
    let half = 0;
    for (let i = 1; i <= 1000; i++) {
      const s = e.submit(order(i)).seq;
      if (i === 500) half = s;
    }
    let t0 = performance.now();
    await e.durable(half);
    expect(performance.now() - t0).toBeLessThan(5000);
    const stats = e.walStats()!;
    expect(stats.syncs).toBeGreaterThanOrEqual(1);
    expect(stats.records).toBeGreaterThanOrEqual(500);
    await e.close();
    // Timer: one command alone never reaches the count; the 20 ms window syncs it.
    const e2 = await Engine.open({ dir: tempDir(), durability: 'async', symbols: ['X'], wal: { asyncFlushMs: 20, asyncFlushRecords: 100 } });
    const one = e2.submit(order(1)).seq;
    t0 = performance.now();
    await e2.durable(one);
    expect(performance.now() - t0).toBeLessThan(5000);
    await e2.close();
  });
});

describe("durability 'none' and in-memory", () => {
  it('resolves durable() at once and writes no WAL', async () => {
    const dir = tempDir();
    const e = await Engine.open({ dir, durability: 'none', symbols: ['X'] });
    await e.durable(e.submit(order(1)).seq);
    expect(e.walStats()).toBeUndefined();
    await e.close();
    expect(readdirSync(dir).filter((n) => n.endsWith('.log'))).toEqual([]);
  });
});

describe('fail-stop', () => {
  it('an fdatasync EIO fails the engine: pending durable() rejects, later calls throw ENGINE_FAILED', async () => {
    const dir = tempDir();
    const e = await Engine.open({ dir, symbols: ['X'], faultInjection: true } as never);
    const n = (e as unknown as { _native: { addFault(rule: object): boolean } })._native;
    await e.durable(e.lastSeq); // the symbol's record is synced before the fault is armed
    // Fail every sync of the log segment from now on: nothing submitted after this point can
    // become durable. (Only the segment's: the writer also pre-writes the next segment,
    // wal-next.tmp, in the background, and a failure there would fail the engine before the
    // submit below, at a moment this test does not control.)
    expect(n.addFault({ op: 'fdatasync', errno: 5, path: 'wal-0' })).toBe(true);
    const s = e.submit(order(1)).seq;
    const err = await expectCode(e.durable(s), 'WAL_FAILED');
    expect(err.message).toMatch(/fdatasync/);
    expect(err.message).toMatch(/wal-\d{20}\.log/);
    expect(err.details?.code).toBe('EIO');
    expect(() => e.submit(order(2))).toThrow(expect.objectContaining({ code: 'ENGINE_FAILED' }));
    await expectCode(e.durable(s), 'WAL_FAILED');
    await e.close();
    // The failed sync was never treated as done: reopening finds at most what was synced before.
    const again = await Engine.open({ dir, symbols: ['X'] });
    expect(again.lastSeq).toBeLessThanOrEqual(s);
    await again.close();
  });

  it('an injected ENOSPC on write fails the engine the same way', async () => {
    const e = await Engine.open({ dir: tempDir(), symbols: ['X'], faultInjection: true } as never);
    const n = (e as unknown as { _native: { addFault(rule: object): boolean } })._native;
    await e.durable(e.lastSeq); // the symbol's record is written before the fault is armed
    n.addFault({ op: 'pwritev', errno: 28, path: 'wal-0' });
    const s = e.submit(order(1)).seq;
    const err = await expectCode(e.durable(s), 'WAL_FAILED');
    expect(err.details?.code).toBe('ENOSPC');
    await e.close();
  });

  it('a disk that fills up for real (tmpfs) fails stop with ENOSPC and the path', async (ctx) => {
    const mnt = tempDir();
    try {
      if (process.getuid?.() !== 0) throw new Error('not root');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      console.warn(`skipped: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`);
      ctx.skip();
      return;
    }
    try {
      const e = await Engine.open({ dir: mnt, symbols: ['X'], wal: { segmentBytes: 256 * 1024 } });
      let lastOk = 0;
      let failure: DurabookError | undefined;
      for (let i = 1; i <= 200_000 && !failure; i++) {
        try {
          const s = e.submit(order(i)).seq;
          if (i % 500 === 0) {
            await e.durable(s);
            lastOk = s;
          }
        } catch (err) {
          failure = err as DurabookError;
        }
      }
      if (!failure) {
        try {
          await e.durable(e.lastSeq);
        } catch (err) {
          failure = err as DurabookError;
        }
      }
      expect(failure).toBeInstanceOf(DurabookError);
      expect(['WAL_FAILED', 'ENGINE_FAILED']).toContain(failure!.code);
      expect(failure!.message).toMatch(/No space left on device|ENOSPC/);
      expect(String(failure!.details?.path)).toContain(mnt);
      await e.close();
      // Everything acknowledged durable before the failure is back (read-only reopen: the
      // disk is still full).
      const again = await Engine.open({ dir: mnt, durability: 'none' });
      expect(lastOk).toBeGreaterThan(0);
      expect(again.lastSeq).toBeGreaterThanOrEqual(lastOk);
      await again.close();
    } finally {
      try {
        execFileSync('umount', [mnt], { stdio: 'pipe' });
      } catch {
        // already unmounted
      }
    }
    expect(statSync(mnt).isDirectory()).toBe(true);
  });
});

describe('bad configuration', () => {
  it.each([
    [{ durability: 'sometimes' }, 'INVALID_ARGUMENT', /durability/],
    [{ durability: 'durable' }, 'INVALID_ARGUMENT', /needs a dir/],
    [{ durability: 'async' }, 'INVALID_ARGUMENT', /needs a dir/],
    [{ dir: '' }, 'INVALID_ARGUMENT', /dir/],
    [{ dir: 'x', wal: { segmentBytes: 100 } }, 'INVALID_ARGUMENT', /wal\.segmentBytes/],
    [{ dir: 'x', wal: { segmentBytes: 65537 * 8 + 1 } }, 'INVALID_ARGUMENT', /wal\.segmentBytes/],
    [{ dir: 'x', wal: { ringCapacity: 0 } }, 'INVALID_ARGUMENT', /wal\.ringCapacity/],
    [{ dir: 'x', wal: { asyncFlushMs: -1 } }, 'INVALID_ARGUMENT', /wal\.asyncFlushMs/],
    [{ dir: 'x', wal: { writerCpu: 1.5 } }, 'INVALID_ARGUMENT', /wal\.writerCpu/],
    [{ dir: 'x', wal: { logTrades: 'yes' } }, 'INVALID_ARGUMENT', /wal\.logTrades/],
    [{ dir: 'x', recovery: 'hopeful' }, 'INVALID_ARGUMENT', /recovery/],
  ])('%j → %s', async (opts, code, msg) => {
    const err = await expectCode(Engine.open(opts as never), code);
    expect(err.message).toMatch(msg);
  });

  it('an unwritable dir is an IO_ERROR naming the path', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'not a directory');
    const err = await expectCode(Engine.open({ dir: join(file, 'wal') }), 'IO_ERROR');
    expect(err.message).toContain(file);
  });
});

describe('automatic snapshots', () => {
  it('snapshotEvery writes snapshots as commands flow, and reopening starts from the newest', async () => {
    const dir = tempDir();
    const e = await Engine.open({ dir, symbols: ['X'], snapshotEvery: 1000 });
    // One snapshot at a time: let each finish before the commands that should trigger the next.
    const until = async (ok: () => boolean) => {
      for (const t0 = Date.now(); !ok() && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 5));
    };
    let id = 1;
    for (const want of [1001, 2001, 3001]) {
      while (id <= want) e.submit(order(id++));
      await until(() => (e.lastSnapshot?.seq ?? 0) >= want);
    }
    while (id <= 3500) e.submit(order(id++));
    await e.close();
    expect(e.autoSnapshotError).toBeUndefined();
    const snaps = readdirSync(dir).filter((n) => /^snapshot-\d{20}\.snap$/.test(n));
    expect(snaps.length).toBe(2); // the two newest are kept
    expect(e.lastSnapshot!.seq).toBeGreaterThanOrEqual(3001);
    const again = await Engine.open({ dir });
    expect(again.recovery.snapshot?.seq).toBe(e.lastSnapshot!.seq);
    expect(again.lastSeq).toBe(3501);
    await again.close();
  });

  it('snapshotEvery needs a dir and a positive integer', async () => {
    await expectCode(Engine.open({ snapshotEvery: 10 }), 'INVALID_ARGUMENT');
    await expectCode(Engine.open({ dir: tempDir(), snapshotEvery: 0 }), 'INVALID_ARGUMENT');
  });
});
