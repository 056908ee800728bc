// Names of the files in an engine directory, and the clean-up after a snapshot.
//   wal-<first seq, 20 digits>.log      WAL segments (native/core/wal_writer.h)
//   snapshot-<seq, 20 digits>.snap      snapshots: the state after command <seq>
import { readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^wal-(\d{20})\.log$/;
const SNAPSHOT = /^snapshot-(\d{20})\.snap$/;

export interface DirFile {
  seq: number;
  name: string;
  path: string;
}

export function snapshotName(seq: number): string {
  return `snapshot-${String(seq).padStart(20, '0')}.snap`;
}

function list(dir: string, re: RegExp): DirFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: DirFile[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m) out.push({ seq: Number(m[1]), name, path: join(dir, name) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Snapshots, oldest first. */
export function listSnapshots(dir: string): DirFile[] {
  return list(dir, SNAPSHOT);
}

/** WAL segments by first seq, oldest first. */
export function listSegments(dir: string): DirFile[] {
  return list(dir, SEGMENT);
}

/**
 * Removes snapshot temp files (`snapshot-*.snap.tmp`) that a crash during snapshot() left
 * behind: they never became visible under their final name, so nothing refers to them.
 */
export function removeSnapshotTemps(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!/^snapshot-\d{20}\.snap\.tmp$/.test(name)) continue;
    unlinkSync(join(dir, name));
    removed++;
  }
  return removed;
}

/** Moves a damaged snapshot aside so it never counts as one of the newest again. */
export function setAsideSnapshot(path: string): void {
  try {
    renameSync(path, `${path}.damaged`);
  } catch {
    // Already gone: nothing to set aside.
  }
}

/**
 * Keeps the two newest snapshots and the WAL from the older of them on: recovery can then
 * fall back one snapshot if the newest is damaged. Deleting is not a durability step (a
 * deletion lost in a crash leaves extra files that recovery skips), so no directory sync.
 */
export function pruneAfterSnapshot(dir: string): { snapshots: number; segments: number } {
  const snaps = listSnapshots(dir);
  let removedSnaps = 0;
  let removedSegs = 0;
  for (const s of snaps.slice(0, Math.max(0, snaps.length - 2))) {
    unlinkSync(s.path);
    removedSnaps++;
  }
  if (snaps.length < 2) return { snapshots: removedSnaps, segments: 0 };
  const keepFrom = snaps[snaps.length - 2].seq;
  const segs = listSegments(dir);
  // Recovery from snapshot S starts at the last segment whose first seq <= S + 1; every
  // segment before that one is wholly covered.
  let start = -1;
  for (let i = 0; i < segs.length; i++) if (segs[i].seq <= keepFrom + 1) start = i;
  for (let i = 0; i < start; i++) {
    unlinkSync(segs[i].path);
    removedSegs++;
  }
  return { snapshots: removedSnaps, segments: removedSegs };
}
