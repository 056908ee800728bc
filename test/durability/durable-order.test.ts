// durable() promises settle in seq order, deterministically (issue 7).
//
// Found by the ASan run of the vitest suite (scripts/sanitizers.sh addon), where the slower
// process made test/durability/wal.test.ts 'resolves durable(seq) only once the watermark covers
// seq, in seq order' fail with 1017 order violations: DurableWaiters.wait(seq) (lib/waiters.ts)
// re-read the native watermark and returned Promise.resolve() for a seq already durable while
// lower seqs asked earlier still waited in the queue for the writer's wake callback, so
// durable(s2) settled before durable(s1). Fixed in 6b26e5a (a wait that finds its seq durable
// settles the queue first). wal.test.ts only sees the bug when the writer happens to sync
// during its asking loop; this test forces that interleaving on every attempt (it fails 20 of
// 20 attempts on the code before the fix).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Engine } from '../../lib/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('durable(s1) asked before durable(s2), s1 < s2: s1 settles first even when s2 is found durable at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'durabook-durable-order-'));
  dirs.push(dir);
  const e = await Engine.open({ dir, symbols: ['X'] });
  const outOfOrder: string[] = [];
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      const s1 = e.submit({ symbol: 'X', id: 2 * attempt + 1, side: 'buy', type: 'limit', price: 10, qty: 1 }).seq;
      const settled: number[] = [];
      const p1 = e.durable(s1).then(() => settled.push(s1)); // usually queued: not synced yet
      const s2 = e.submit({ symbol: 'X', id: 2 * attempt + 2, side: 'buy', type: 'limit', price: 10, qty: 1 }).seq;
      // Wait, without yielding to the event loop (so no wake callback runs), for the writer
      // thread to sync s2: both are now durable, s1's promise still queued.
      const until = Date.now() + 5_000;
      while (e.walStats()!.durableSeq < s2 && Date.now() < until);
      const p2 = e.durable(s2).then(() => settled.push(s2));
      await Promise.all([p1, p2]);
      if (settled[0] !== s1) outOfOrder.push(`attempt ${attempt}: settled ${settled.join(', ')}`);
    }
  } finally {
    await e.close();
  }
  expect(outOfOrder).toEqual([]);
});
