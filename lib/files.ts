// Names of the files in an engine directory, and the clean-up after a snapshot.
//   wal-<first seq, 20 digits>.log      WAL segments (native/core/wal_writer.h)
//   snapshot-<seq, 20 digits>.snap      snapshots: the state after command <seq>
//   engine.json                         what the log was written under (limits): replay must
//                                       apply the same, or it would not reproduce the state
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
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
  // Recovery from snapshot S starts at the last segment whose first seq <= S + 1, or at the one
  // before it when it is named S + 1 and begins with the trades of command S + 1, whose input
  // record ends the segment before (recovery_start_segment, native/core/wal_recovery.h). Without
  // reading records, a segment named S + 1 keeps the one before it; every segment before the
  // start is wholly covered.
  let start = -1;
  for (let i = 0; i < segs.length; i++) if (segs[i].seq <= keepFrom + 1) start = i;
  if (start > 0 && segs[start].seq === keepFrom + 1) start--;
  for (let i = 0; i < start; i++) {
    unlinkSync(segs[i].path);
    removedSegs++;
  }
  return { snapshots: removedSnaps, segments: removedSegs };
}

/** What a directory's log was written under; replay needs the same. */
export interface EngineMeta {
  format: 1;
  limits: { maxOrders: number; maxLevels: number; maxSymbols: number };
}

const META = 'engine.json';

/** The directory's engine.json, or undefined when it has none (a new directory). */
export function readEngineMeta(dir: string): EngineMeta | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, META), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = JSON.parse(text) as EngineMeta;
  const l = m?.limits;
  for (const k of ['maxOrders', 'maxLevels', 'maxSymbols'] as const) {
    if (!Number.isSafeInteger(l?.[k]) || l[k] < 1) throw new Error(`${join(dir, META)}: bad limits.${k}`);
  }
  return m;
}

/** Writes engine.json the crash-safe way: temp file, fsync, rename, directory fsync. */
export function writeEngineMeta(dir: string, meta: EngineMeta): void {
  const tmp = join(dir, `${META}.tmp`);
  writeFileSync(tmp, JSON.stringify(meta) + '\n');
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, META));
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}
