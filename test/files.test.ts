// lib/files.ts: which files pruning after a snapshot may delete.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneAfterSnapshot, snapshotName } from '../lib/files.js';

const segName = (seq: number) => `wal-${String(seq).padStart(20, '0')}.log`;
let dir = '';

function layout(snaps: number[], segs: number[]): void {
  dir = mkdtempSync(join(tmpdir(), 'durabook-files-'));
  for (const s of snaps) writeFileSync(join(dir, snapshotName(s)), '');
  for (const s of segs) writeFileSync(join(dir, segName(s)), '');
}
const segsLeft = () => readdirSync(dir).filter((n) => n.startsWith('wal-')).sort();
const snapsLeft = () => readdirSync(dir).filter((n) => n.startsWith('snapshot-')).sort();

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('pruneAfterSnapshot', () => {
  it('keeps the two newest snapshots and the segments from the one recovery from the older starts at', () => {
    layout([2, 5, 10], [1, 3, 5, 9]);
    expect(pruneAfterSnapshot(dir)).toEqual({ snapshots: 1, segments: 2 });
    expect(snapsLeft()).toEqual([snapshotName(5), snapshotName(10)]);
    // Recovery from 5 reads command 6 on: the segment named 5 holds it.
    expect(segsLeft()).toEqual([segName(5), segName(9)]);
  });

  it('keeps the segment before one named just past the older snapshot: it may hold that command', () => {
    // Segment 6 may begin with the trades of command 6, whose input record ends segment 3.
    layout([5, 10], [1, 3, 6, 9]);
    expect(pruneAfterSnapshot(dir)).toEqual({ snapshots: 0, segments: 1 });
    expect(segsLeft()).toEqual([segName(3), segName(6), segName(9)]);
  });

  it('deletes nothing with fewer than two snapshots', () => {
    layout([5], [1, 3, 6]);
    expect(pruneAfterSnapshot(dir)).toEqual({ snapshots: 0, segments: 0 });
    expect(segsLeft()).toEqual([segName(1), segName(3), segName(6)]);
  });
});
