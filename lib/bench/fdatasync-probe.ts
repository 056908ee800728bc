// The machine's own fdatasync latency, measured in the same run as the durable-ack latency it
// is the yardstick for: 4 KiB writes into a pre-written file (as the WAL's segments are), each
// followed by fdatasync, in a temp dir on the same file system as the bench's WAL.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, type LatencySummary } from './latency.js';

export function probeFdatasync(samples = 300): LatencySummary {
  const dir = mkdtempSync(join(tmpdir(), 'durabook-fdatasync-'));
  try {
    const fd = openSync(join(dir, 'probe'), 'w+');
    const block = Buffer.alloc(4096, 0);
    // Pre-write and sync the whole range so each probe sync flushes data only, like the WAL.
    for (let i = 0; i < samples; i++) writeSync(fd, block, 0, block.length, i * block.length);
    fdatasyncSync(fd);
    block.fill(0x5a);
    const ns = new Float64Array(samples);
    for (let i = 0; i < samples; i++) {
      writeSync(fd, block, 0, block.length, i * block.length);
      const t0 = process.hrtime.bigint();
      fdatasyncSync(fd);
      ns[i] = Number(process.hrtime.bigint() - t0);
    }
    closeSync(fd);
    return summarize(ns);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
