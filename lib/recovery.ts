// Recovery orchestration: pick the newest snapshot that loads (falling back to older ones),
// then let the native scan replay the WAL after it. Damage becomes a typed error here.
import { DurabookError } from './errors.js';
import { listSnapshots, setAsideSnapshot } from './files.js';
import type { NativeEngine, NativeRecovery } from './native.js';
import type { RecoveryMode, RecoveryReport } from './types.js';

export interface RecoveryOutcome {
  report: RecoveryReport;
  native: NativeRecovery;
}

export function recover(engine: NativeEngine, dir: string, mode: RecoveryMode): RecoveryOutcome {
  const t0 = performance.now();
  const snapshots = listSnapshots(dir).reverse();
  let snapshot: RecoveryReport['snapshot'] = null;
  const snapshotsSkipped: RecoveryReport['snapshotsSkipped'] = [];
  for (const s of snapshots) {
    const r = engine.loadSnapshot(s.path);
    if (r.status === 'ok') {
      snapshot = { path: s.path, seq: r.seq, orders: r.orders };
      break;
    }
    snapshotsSkipped.push({ path: s.path, reason: r.why ? `${r.status}: ${r.why}` : r.status });
    engine.resetEngine();
  }
  const rec = engine.recover({ dir, mode });
  const where = `${rec.damageFile} at byte ${rec.damageOffset} (seq ${rec.damageSeq})`;
  const details = { file: rec.damageFile, offset: rec.damageOffset, seq: rec.damageSeq, reason: rec.damage };
  if (rec.status === 'corrupt') {
    throw new DurabookError(
      'WAL_CORRUPT',
      `WAL damaged in ${where}: ${rec.damage}` +
        (mode === 'point-in-time' ? '' : "; open with recovery: 'point-in-time' to recover up to the damage"),
      details,
    );
  }
  if (rec.status === 'diverged') {
    throw new DurabookError('WAL_DIVERGED', `replay diverged from the log in ${where}: ${rec.damage}`, details);
  }
  if (rec.status === 'io error') {
    throw new DurabookError('IO_ERROR', `recovery could not read ${rec.damageFile}: ${rec.errMessage}`, {
      path: rec.damageFile,
      code: rec.errCode,
    });
  }
  // Only now that recovery succeeded past them are damaged snapshots moved aside.
  for (const s of snapshotsSkipped) setAsideSnapshot(s.path);
  const dropped =
    rec.droppedFirstSeq > 0
      ? {
          fromSeq: rec.droppedFirstSeq,
          toSeq: rec.droppedLastSeq,
          file: rec.damageFile,
          offset: rec.damageOffset,
          reason: rec.damage,
        }
      : null;
  return {
    native: rec,
    report: {
      snapshot,
      snapshotsSkipped,
      recordsScanned: rec.recordsScanned,
      recordsReplayed: rec.commandsReplayed,
      tradesVerified: rec.tradesVerified,
      bytesTruncated: rec.bytesTruncated,
      tornTail: rec.tornTail,
      lastSeq: rec.lastSeq,
      dropped,
      durationMs: performance.now() - t0,
    },
  };
}
