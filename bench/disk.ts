// How fast this disk takes data that must be synced, in the WAL's own pattern: a pre-written
// file (as the WAL's segments are), overwritten in chunks, each chunk followed by fdatasync.
// The report divides it by what a logged command costs the disk (its record bytes, plus the
// zero-fill of the next segment that those bytes pay for) to show where the disk, not the
// CPU, caps a logged run.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SyncBandwidth {
  chunkBytes: number;
  bytes: number;
  seconds: number;
  bytesPerSec: number;
}

export function probeSyncBandwidth(chunkBytes = 512 << 10, totalBytes = 128 << 20): SyncBandwidth {
  const dir = mkdtempSync(join(tmpdir(), 'durabook-disk-'));
  try {
    const fd = openSync(join(dir, 'probe'), 'w+');
    const chunk = Buffer.alloc(chunkBytes, 0);
    for (let off = 0; off < totalBytes; off += chunkBytes) writeSync(fd, chunk, 0, chunkBytes, off);
    fdatasyncSync(fd);
    randomFillSync(chunk);
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < totalBytes; off += chunkBytes) {
      writeSync(fd, chunk, 0, chunkBytes, off);
      fdatasyncSync(fd);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    closeSync(fd);
    return { chunkBytes, bytes: totalBytes, seconds, bytesPerSec: totalBytes / seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
