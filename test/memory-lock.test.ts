// lockMemory(): the process's code (file-backed mappings, the addon's among them) is locked in
// RAM, the JS heap is not, and the process lives on through GC and exit (under mlockall V8
// aborts when it frees heap pages); under a cap it fails with MEMORY_LOCK_FAILED and leaves
// nothing locked. Each case runs in a child process, since a lock is process-wide. The child
// loads the built package (dist/; run `npm run build` first).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurabookError, lockMemory } from '../lib/index.js';
import { IS_ROOT, mayLockMemory } from './support/may-lock-memory.js';

const ROOT = resolve(import.meta.dirname, '..');
const LIB = join(ROOT, 'dist/lib/index.js');

function vmLckKb(): number {
  const m = /^VmLck:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmLck in /proc/self/status');
  return Number(m[1]);
}

// The child: locks, reports which mappings carry the "lo" (locked) flag, runs an engine and a
// garbage-heavy loop (V8 frees heap pages as it collects), unlocks, and prints one JSON line.
const CHILD = `
import { readFileSync } from 'node:fs';
const { lockMemory, unlockMemory, Engine } = await import(process.env.DURABOOK_LIB);
const vmLck = () => Number(/^VmLck:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const lockedPaths = () => {
  const out = { addon: false, heap: false };
  let path = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \\S+ \\S+ \\S+ \\S+\\s*(.*)$/.exec(line);
    if (head) { path = head[1]; continue; }
    if (!line.startsWith('VmFlags:') || !line.split(' ').includes('lo')) continue;
    if (path.endsWith('durabook.node')) out.addon = true;
    if (path === '') out.heap = true;
  }
  return out;
};
const out = { before: vmLck() };
try {
  out.lock = lockMemory(process.env.MODE);
} catch (err) {
  out.error = { code: err.code, message: err.message, details: err.details };
}
out.locked = vmLck();
out.paths = lockedPaths();
const engine = await Engine.open({ symbols: ['X'] });
let fills = 0;
for (let i = 1; i <= 20000; i++) {
  const r = engine.submit({ symbol: 'X', id: i, side: i % 2 ? 'buy' : 'sell', type: 'limit', price: 100 + (i % 7), qty: 10 });
  fills += r.trades.length;
}
let junk = [];
for (let i = 0; i < 3e6; i++) { junk.push({ i, s: 'x' + i }); if (junk.length > 2e5) junk = []; }
await engine.close();
out.fills = fills;
if (out.lock) unlockMemory();
out.after = vmLck();
console.log(JSON.stringify(out));
`;

function child(mode: string, wrap: string[] = []) {
  if (!existsSync(LIB)) throw new Error(`${LIB} is missing: run npm run build first`);
  const argv = [...wrap, process.execPath, '--input-type=module', '-e', CHILD];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, DURABOOK_LIB: LIB, MODE: mode },
    timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim()) as {
    before: number;
    lock?: { mode: string; bytes: number; mappings: number };
    error?: { code: string; message: string; details: Record<string, unknown> };
    locked: number;
    paths: { addon: boolean; heap: boolean };
    fills: number;
    after: number;
  };
}

/** Caps locked memory at 8 MiB for the child, and (as root) drops CAP_IPC_LOCK, which ignores the cap. */
const CAPPED = ['prlimit', '--memlock=8388608:8388608', ...(IS_ROOT ? ['setpriv', '--inh-caps=-ipc_lock', '--bounding-set=-ipc_lock'] : [])];

describe('lockMemory', () => {
  it('rejects a bad mode with INVALID_ARGUMENT naming it, and locks nothing', () => {
    const before = vmLckKb();
    let err: unknown;
    try {
      lockMemory('current' as 'all');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DurabookError);
    expect((err as DurabookError).code).toBe('INVALID_ARGUMENT');
    expect((err as DurabookError).message).toBe(`mode must be 'all' or 'on-fault', got "current"`);
    expect(vmLckKb()).toBe(before);
  });

  for (const mode of ['all', 'on-fault'] as const) {
    it(`'${mode}' locks the code, the addon's included, not the JS heap, and the process lives through GC and exit`, () => {
      const r = child(mode);
      expect(r.before).toBe(0);
      if (!mayLockMemory()) {
        expect(r.error?.code).toBe('MEMORY_LOCK_FAILED');
        return;
      }
      expect(r.error).toBeUndefined();
      expect(r.lock?.mode).toBe(mode);
      expect(r.lock!.mappings).toBeGreaterThan(3);
      expect(r.locked).toBe(r.lock!.bytes);
      expect(r.paths).toEqual({ addon: true, heap: false });
      expect(r.fills).toBeGreaterThan(0);
      expect(r.after).toBe(0);
    });
  }

  it('under an RLIMIT_MEMLOCK cap fails with MEMORY_LOCK_FAILED naming the limit, and leaves nothing locked', () => {
    const r = child('all', CAPPED);
    expect(r.error?.code).toBe('MEMORY_LOCK_FAILED');
    expect(r.error?.message).toMatch(/^lockMemory\(mode "all"\) failed: the code mappings need [\d.]+ MiB, RLIMIT_MEMLOCK is 8\.0 MiB/);
    expect(r.error?.details).toMatchObject({ mode: 'all', errno: 12, capable: false, limitBytes: 8388608 });
    expect(r.locked).toBe(0);
    expect(r.paths).toEqual({ addon: false, heap: false });
    expect(r.fills).toBeGreaterThan(0); // the engine works as if the call had not been made
  });
});
