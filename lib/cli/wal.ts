// `durabook wal verify|dump|stats DIR`: inspect an engine directory (WAL segments and
// snapshots) without opening an engine on it. Nothing here writes to the directory.
//
// The work is done by the native inspection core (native/core/wal_inspect.h) through the
// module-level functions of native/addon/wal_tools.cc:
//  - verify takes exactly the path Engine.open() takes (newest snapshot that loads, then the
//    recovery scan in tolerate-tail mode, with repair off), so it agrees with open() by
//    construction, and also checks what only a fallback would read;
//  - dump and stats walk every segment in order, record by record, and stop at the first
//    damage, which they name.
import { writeSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DurabookError } from '../errors.js';
import { native } from '../native.js';
import { intFlag, UsageError } from './args.js';

// ---- native results ------------------------------------------------------------------------

/** A problem found in a file: where (byte offset, the seq expected there) and what. */
export interface WalFinding {
  file: string;
  offset: number;
  seq: number;
  what: string;
}

export interface WalSegmentInfo {
  name: string;
  path: string;
  /** First seq, from the file name. */
  nameSeq: number;
  fileBytes: number;
  /** False for segments after the first damage (or before --from): not read. */
  scanned: boolean;
  /** Header status ('ok' or what is wrong with it). */
  header: string;
  headerSeq: number;
  headerBytes: number;
  records: number;
  recordBytes: number;
  firstSeq: number;
  lastSeq: number;
  endOffset: number;
}

export type WalRecordType = 'NEW' | 'CANCEL' | 'MODIFY' | 'ADD_SYMBOL' | 'CLOCK' | 'TRADE';

/** One WAL record as the walk decoded it. Fields beyond the first five depend on the type. */
export interface WalRecordInfo {
  seq: number;
  type: WalRecordType;
  segment: string;
  offset: number;
  size: number;
  // NEW: symbol id side orderType tif price? qty postOnly | CANCEL: id | MODIFY: id price? qty?
  // ADD_SYMBOL: symbol name | CLOCK: ts | TRADE: makerId takerId price qty
  symbol?: number;
  id?: number;
  side?: 'buy' | 'sell';
  orderType?: 'limit' | 'market';
  tif?: 'gtc' | 'ioc' | 'fok';
  price?: number;
  qty?: number;
  postOnly?: boolean;
  name?: string;
  ts?: number;
  makerId?: number;
  takerId?: number;
}

export interface WalWalk {
  segments: WalSegmentInfo[];
  /** wal-next.tmp, *.dropped, *.damaged, *.tmp. */
  otherFiles: string[];
  records: number;
  recordsByType: Record<WalRecordType, number>;
  recordBytes: number;
  fileBytes: number;
  /** First and last command seq read (0 when none). */
  firstSeq: number;
  lastSeq: number;
  stopped: boolean;
  /** The first damage; the walk stops there. */
  damage: WalFinding | null;
  errno?: number;
  /** An I/O error that stopped the walk. */
  error: string | null;
}

export interface WalSnapshotInfo {
  name: string;
  path: string;
  nameSeq: number;
  bytes: number;
  /** Loaded in full (content checked), not only the header. */
  checked: boolean;
  ok: boolean;
  status: string;
  why: string;
  seq: number;
  clock: number;
  orders: number;
  symbolCount: number;
  /** Symbol names (checked snapshots that loaded). */
  symbols: string[];
}

/** What `wal verify` found. See verifyExitCode() for how it maps to an exit code. */
export interface WalVerifyResult {
  /** Nothing wrong anywhere: exit code 0. */
  whole: boolean;
  /** Engine.open() would succeed cutting, skipping and dropping nothing. */
  openClean: boolean;
  dirExists: boolean;
  /** The snapshot open() would start from. */
  snapshot: { path: string; seq: number; orders: number } | null;
  /** Newer snapshots open() would pass over (damaged), with why. */
  snapshotsSkipped: WalFinding[];
  /** The recovery scan's verdict: 'ok' | 'corrupt' | 'diverged' | 'io error'. */
  status: string;
  tornTail: boolean;
  /** Bytes open() would cut (torn tail). */
  bytesTruncated: number;
  recordsScanned: number;
  recordsReplayed: number;
  tradesVerified: number;
  /** The last seq open() would recover to (status 'ok'). */
  lastSeq: number;
  /** Digest of that state (Engine.digest() of the engine open() would return). */
  digest: string;
  /** The damage on open()'s path, and what open() does about it. */
  damage: (WalFinding & { kind: 'torn tail' | 'corrupt' | 'diverged' | 'io error' | 'damage' }) | null;
  errno: number;
  /** Segments the recovery scan read. */
  segmentsRead: string[];
  /** Damage off open()'s path that a fallback would hit: older snapshots, earlier segments. */
  fallback: WalFinding[];
  /** Other oddities (a segment file shorter or longer than its header says, …). */
  anomalies: WalFinding[];
  /** The full inspection walk. */
  walk: WalWalk;
}

export interface EngineLimitOptions {
  maxOrders?: number;
  maxLevels?: number;
  maxSymbols?: number;
}

interface WalToolsAddon {
  walVerify(dir: string, limits?: EngineLimitOptions): WalVerifyResult;
  walInspect(dir: string, options: { fromSeq?: number }, onRecord?: (r: WalRecordInfo) => boolean | void): WalWalk;
  walSnapshots(dir: string, options: { check?: boolean } & EngineLimitOptions): WalSnapshotInfo[] | { errno: number; error: string };
}

function tools(): WalToolsAddon {
  const addon = native() as unknown as Partial<WalToolsAddon>;
  if (typeof addon.walVerify !== 'function' || typeof addon.walInspect !== 'function') {
    throw new DurabookError('NATIVE_UNAVAILABLE', 'this build of the durabook addon has no WAL tools; rebuild it (npm run build:native)');
  }
  return addon as WalToolsAddon;
}

// ---- library functions (used by the tests as well) ----------------------------------------

/** Verifies an engine directory: what Engine.open() would do with it, and what else is damaged. */
export function verifyWal(dir: string, limits: EngineLimitOptions = {}): WalVerifyResult {
  return tools().walVerify(dir, limits);
}

/** Walks the WAL; onRecord gets every record (return false to stop). */
export function inspectWal(dir: string, options: { fromSeq?: number } = {}, onRecord?: (r: WalRecordInfo) => boolean | void): WalWalk {
  return tools().walInspect(dir, options, onRecord);
}

/** Snapshot files, oldest first; with check, each is loaded in full. */
export function listWalSnapshots(dir: string, options: { check?: boolean } & EngineLimitOptions = {}): WalSnapshotInfo[] {
  const r = tools().walSnapshots(dir, options);
  if (!Array.isArray(r)) throw new DurabookError('IO_ERROR', `cannot list ${dir}: ${r.error}`, { path: dir, errno: r.errno });
  return r;
}

/**
 * Exit code of `wal verify`:
 *   0  whole: every file is intact, open() recovers everything;
 *   1  open() would refuse the directory (WAL_CORRUPT, WAL_DIVERGED, I/O error), cut a torn
 *      tail, or skip a damaged snapshot;
 *   3  open() would recover everything it reads, but something it does not read is damaged
 *      (an older snapshot or segment a fallback would need), or a segment file's size differs
 *      from its header's.
 */
export function verifyExitCode(v: WalVerifyResult): 0 | 1 | 3 {
  if (v.whole) return 0;
  return v.openClean ? 3 : 1;
}

// ---- output --------------------------------------------------------------------------------

/** Where the tools write. write() returns false once the reader has gone (stop producing). */
export interface WalOutput {
  write(text: string): boolean;
  error(text: string): void;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Synchronous writes to fd 1/2: the walk runs inside one native call, so nothing async could drain. */
export const stdioOutput: WalOutput = {
  write(text: string): boolean {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(1, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          sleepMs(1);
          continue;
        }
        if (code === 'EPIPE') return false;
        throw err;
      }
    }
    return true;
  },
  error(text: string): void {
    try {
      writeSync(2, text);
    } catch {
      // stderr gone: nothing to tell anyone.
    }
  },
};

/** Buffers writes into chunks of about 64 KiB. */
class Chunked {
  #parts: string[] = [];
  #size = 0;
  #open = true;
  constructor(private readonly out: WalOutput) {}
  line(s: string): boolean {
    if (!this.#open) return false;
    this.#parts.push(s, '\n');
    this.#size += s.length + 1;
    if (this.#size >= 65536) return this.flush();
    return true;
  }
  flush(): boolean {
    if (this.#parts.length > 0 && this.#open) this.#open = this.out.write(this.#parts.join(''));
    this.#parts = [];
    this.#size = 0;
    return this.#open;
  }
}

function group(n: number): string {
  return n.toLocaleString('en-US');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function where(f: WalFinding): string {
  return `${f.file} at byte ${f.offset}${f.seq > 0 ? ` (seq ${f.seq})` : ''}`;
}

// ---- verify --------------------------------------------------------------------------------

const VERIFY_HELP = `Usage: durabook wal verify DIR [--json] [--max-orders N] [--max-levels N] [--max-symbols N]

Checks an engine directory the way Engine.open() reads it: the newest snapshot that loads, then
every WAL record after it (checksums, lengths, the sequence chain, replay of the commands and,
where trades were logged, that replay reproduces them). Also checks what open() does not read
but a fallback would: older snapshots and the segments before the one recovery starts at.
Read-only: nothing is cut or renamed (open() would cut a torn tail).

Damage is named: file, byte offset, the sequence number expected there, and what is wrong.

Exit status:
  0  whole: open() would recover everything, every file is intact
  1  open() would refuse the directory (WAL_CORRUPT, WAL_DIVERGED, I/O error), cut a torn
     tail (a torn tail is damage here), or skip a damaged snapshot
  2  usage error
  3  open() would recover everything it reads, but an older snapshot or segment that a
     fallback would need is damaged, or a segment file's size differs from its header's

Options:
  --json               print the result as one JSON object
  --max-orders N …     the engine limits the directory's engine runs with (replay depends on
                       them; defaults: the engine's)
  -h, --help           this help
`;

function limitFlags(values: Record<string, string | boolean | undefined>): EngineLimitOptions {
  return {
    maxOrders: intFlag('max-orders', values['max-orders'] as string | undefined, 1, 2 ** 32 - 1),
    maxLevels: intFlag('max-levels', values['max-levels'] as string | undefined, 1, 2 ** 32 - 1),
    maxSymbols: intFlag('max-symbols', values['max-symbols'] as string | undefined, 1, 2 ** 32 - 1),
  };
}

function renderVerify(dir: string, v: WalVerifyResult): string {
  const out: string[] = [];
  const code = verifyExitCode(v);
  out.push(`durabook wal verify ${dir}`);
  if (!v.dirExists) {
    out.push(`  error      ${dir} is not a directory`);
    out.push('  result     DAMAGED (exit 1)');
    return out.join('\n') + '\n';
  }
  out.push(
    v.snapshot
      ? `  snapshot   ${v.snapshot.path} (seq ${group(v.snapshot.seq)}, ${group(v.snapshot.orders)} resting orders)`
      : '  snapshot   none: the log is replayed from its first record',
  );
  for (const s of v.snapshotsSkipped) {
    out.push(`  SKIPPED    ${s.file}: ${s.what} — open() would pass over it`);
  }
  const w = v.walk;
  const segs = v.segmentsRead.length;
  out.push(
    `  log        ${group(w.segments.length)} segment${w.segments.length === 1 ? '' : 's'} in the directory, ${group(segs)} read by recovery` +
      (segs > 0 ? ` (${v.segmentsRead[0]}${segs > 1 ? ` … ${v.segmentsRead[segs - 1]}` : ''})` : ''),
  );
  if (v.status === 'ok') {
    out.push(
      `  replay     ${group(v.recordsScanned)} records read, ${group(v.recordsReplayed)} commands replayed, ${group(v.tradesVerified)} logged trades reproduced; state after seq ${group(v.lastSeq)} (digest ${v.digest})`,
    );
  }
  if (v.damage) {
    const d = v.damage;
    out.push(`  DAMAGE     ${where(d)}: ${d.what}`);
    const consequence =
      d.kind === 'torn tail'
        ? `torn tail (nothing valid follows it): open() cuts ${group(v.bytesTruncated)} bytes and recovers through seq ${group(v.lastSeq)}; recovery: 'strict' refuses to open`
        : d.kind === 'corrupt'
          ? `corruption (not at the end of the log): open() refuses with WAL_CORRUPT; recovery: 'point-in-time' recovers up to it and drops the rest`
          : d.kind === 'diverged'
            ? 'replay does not reproduce the log: open() refuses with WAL_DIVERGED'
            : d.kind === 'io error'
              ? 'cannot be read: open() fails with IO_ERROR'
              : 'damage';
    out.push(`             ${consequence}`);
  }
  for (const f of v.fallback) out.push(`  FALLBACK   ${where(f)}: ${f.what}`);
  for (const f of v.anomalies) out.push(`  ANOMALY    ${where(f)}: ${f.what}`);
  const lastSeg = w.segments.filter((s) => s.scanned && s.records > 0).at(-1);
  if (v.status === 'ok' && !v.damage && lastSeg && w.recordsByType.CLOCK > 0 && w.lastSeq < lastSeg.lastSeq) {
    out.push(`  note       the log ends with a clock record whose command never made it (seq ${lastSeg.lastSeq}); open() drops it`);
  }
  const why = [
    ...(v.snapshotsSkipped.length > 0 ? [`${v.snapshotsSkipped.length} snapshot${v.snapshotsSkipped.length === 1 ? '' : 's'} skipped`] : []),
    ...(v.damage ? [v.damage.kind] : []),
  ];
  const verdict =
    code === 0
      ? 'WHOLE'
      : code === 3
        ? 'DAMAGED off the recovery path (open() would recover everything it reads)'
        : `DAMAGED${why.length > 0 ? `: ${why.join(', ')}` : ''}`;
  out.push(`  result     ${verdict} (exit ${code})`);
  return out.join('\n') + '\n';
}

async function verifyCommand(argv: string[], io: WalOutput): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' },
    'max-orders': { type: 'string' },
    'max-levels': { type: 'string' },
    'max-symbols': { type: 'string' },
  });
  if (values.help) return io.write(VERIFY_HELP), 0;
  const dir = oneDir(positionals);
  const v = verifyWal(dir, limitFlags(values));
  const code = verifyExitCode(v);
  if (values.json) io.write(JSON.stringify({ dir, exitCode: code, ...v }) + '\n');
  else io.write(renderVerify(dir, v));
  return code;
}

// ---- dump ----------------------------------------------------------------------------------

const DUMP_HELP = `Usage: durabook wal dump DIR [--from SEQ] [--limit N] [--json]

Prints the WAL's records in log order, one line each:
  <seq> <TYPE> <fields>  @<segment>:<byte offset>
Types: NEW, CANCEL, MODIFY, ADD_SYMBOL (inputs), CLOCK (engine clock, µs, logged before the
command it applies to, with that command's seq) and TRADE (a trade of the command with that seq).
Stops at the first damage, which is named on stderr (exit 1).

Options:
  --from SEQ     start at the records of command SEQ
  --limit N      print at most N records
  --json         one JSON object per line (fields as in WalRecordInfo, lib/cli/wal.ts)
  -h, --help     this help
`;

function formatRecord(r: WalRecordInfo, names: Map<number, string>): string {
  const sym = (s: number | undefined) => {
    const n = s === undefined ? undefined : names.get(s);
    return n === undefined ? `#${s}` : n;
  };
  let f: string;
  switch (r.type) {
    case 'NEW':
      f =
        `${sym(r.symbol)} id=${r.id} ${r.side} ${r.orderType}` +
        (r.orderType === 'limit' ? ` ${r.tif}` : '') +
        (r.price !== undefined ? ` price=${r.price}` : '') +
        ` qty=${r.qty}` +
        (r.postOnly ? ' post-only' : '');
      break;
    case 'CANCEL':
      f = `id=${r.id}`;
      break;
    case 'MODIFY':
      f = `id=${r.id}` + (r.price !== undefined ? ` price=${r.price}` : '') + (r.qty !== undefined ? ` qty=${r.qty}` : '');
      break;
    case 'ADD_SYMBOL':
      f = `#${r.symbol} ${r.name}`;
      break;
    case 'CLOCK': {
      const ts = r.ts ?? 0;
      // Microseconds since the epoch: the ISO time with all six decimals.
      const micros = String(((ts % 1000) + 1000) % 1000).padStart(3, '0');
      const iso = Math.abs(ts) < 8.64e18 ? new Date(Math.floor(ts / 1000)).toISOString().replace(/Z$/, `${micros}Z`) : '';
      f = `ts=${ts}${iso ? ` (${iso})` : ''}`;
      break;
    }
    case 'TRADE':
      f = `maker=${r.makerId} taker=${r.takerId} price=${r.price} qty=${r.qty}`;
      break;
    default:
      f = '';
  }
  return `${String(r.seq).padStart(8)} ${r.type.padEnd(10)} ${f}  @${r.segment}:${r.offset}`;
}

async function dumpCommand(argv: string[], io: WalOutput): Promise<number> {
  const { values, positionals } = parse(argv, {
    from: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return io.write(DUMP_HELP), 0;
  const dir = oneDir(positionals);
  const from = intFlag('from', values.from as string | undefined, 1) ?? 0;
  const limit = intFlag('limit', values.limit as string | undefined, 0) ?? Infinity;
  const json = values.json === true;
  // Symbol names: ADD_SYMBOL records as the walk meets them; a log whose head was pruned after
  // a snapshot gets the names the oldest snapshot holds.
  const names = new Map<number, string>();
  const walkFrom = tools().walInspect(dir, { fromSeq: from }, () => false);
  if (walkFrom.error) throw new DurabookError('IO_ERROR', walkFrom.error);
  const first = walkFrom.segments.find((s) => s.scanned);
  if (!json && first && first.nameSeq > 1) {
    try {
      const snaps = listWalSnapshots(dir, { check: true });
      const s = snaps.find((x) => x.ok);
      if (s) s.symbols.forEach((n, i) => names.set(i, n));
    } catch {
      // Names are a nicety: without them symbols print as #index.
    }
  }
  const out = new Chunked(io);
  let printed = 0;
  let open = true;
  const walk = tools().walInspect(dir, { fromSeq: from }, (r) => {
    if (r.type === 'ADD_SYMBOL') names.set(r.symbol!, r.name!);
    if (r.seq < from) return true;
    if (printed >= limit) return false;
    printed++;
    open = out.line(json ? JSON.stringify(r) : formatRecord(r, names));
    return open;
  });
  open = out.flush() && open;
  if (walk.error) {
    io.error(`durabook wal dump: ${walk.error}\n`);
    return 1;
  }
  if (walk.damage && open && printed < limit) {
    io.error(`durabook wal dump: damage in ${where(walk.damage)}: ${walk.damage.what}; the dump stops here (see durabook wal verify)\n`);
    return 1;
  }
  return 0;
}

// ---- stats ---------------------------------------------------------------------------------

const STATS_HELP = `Usage: durabook wal stats DIR [--json] [--check-snapshots]

Summarises an engine directory: WAL segments (size, records, sequence range), records by type,
bytes, first and last sequence number, and snapshots. Reads every segment; stops at the first
damage, which is named (exit 1).

Options:
  --check-snapshots  load every snapshot in full to check it (default: headers only)
  --json             print one JSON object
  -h, --help         this help
`;

async function statsCommand(argv: string[], io: WalOutput): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'check-snapshots': { type: 'boolean' } });
  if (values.help) return io.write(STATS_HELP), 0;
  const dir = oneDir(positionals);
  const walk = inspectWal(dir);
  if (walk.error && walk.errno !== undefined && walk.segments.length === 0) {
    throw new DurabookError('IO_ERROR', walk.error);
  }
  const snapshots = listWalSnapshots(dir, { check: values['check-snapshots'] === true });
  const commands = walk.recordsByType.NEW + walk.recordsByType.CANCEL + walk.recordsByType.MODIFY + walk.recordsByType.ADD_SYMBOL;
  const segBytes = walk.segments.reduce((a, s) => a + s.fileBytes, 0);
  const code = walk.damage || walk.error ? 1 : 0;
  if (values.json) {
    io.write(
      JSON.stringify({
        dir,
        segments: walk.segments,
        otherFiles: walk.otherFiles,
        records: walk.records,
        recordsByType: walk.recordsByType,
        commands,
        recordBytes: walk.recordBytes,
        segmentBytes: segBytes,
        firstSeq: walk.firstSeq,
        lastSeq: walk.lastSeq,
        snapshots,
        damage: walk.damage,
        error: walk.error,
      }) + '\n',
    );
    return code;
  }
  const out: string[] = [`durabook wal stats ${dir}`];
  const n = walk.segments.length;
  out.push(
    `  segments   ${group(n)}` +
      (n > 0 ? ` (${walk.segments[0].name}${n > 1 ? ` … ${walk.segments[n - 1].name}` : ''}), ${bytes(segBytes)} on disk` : '') +
      (walk.otherFiles.length > 0 ? `; also ${walk.otherFiles.join(', ')}` : ''),
  );
  const t = walk.recordsByType;
  out.push(
    `  records    ${group(walk.records)}: NEW ${group(t.NEW)}, CANCEL ${group(t.CANCEL)}, MODIFY ${group(t.MODIFY)}, ADD_SYMBOL ${group(t.ADD_SYMBOL)}, CLOCK ${group(t.CLOCK)}, TRADE ${group(t.TRADE)}`,
  );
  out.push(
    `  bytes      ${group(walk.recordBytes)} in records` +
      (walk.records > 0 ? ` (${(walk.recordBytes / walk.records).toFixed(1)} per record${commands > 0 ? `, ${(walk.recordBytes / commands).toFixed(1)} per command` : ''})` : '') +
      (segBytes > 0 ? `, ${((100 * walk.recordBytes) / segBytes).toFixed(1)}% of the segment files` : ''),
  );
  out.push(
    walk.lastSeq > 0
      ? `  seqs       first ${group(walk.firstSeq)}, last ${group(walk.lastSeq)} (${group(commands)} commands in the log)`
      : '  seqs       none (no commands in the log)',
  );
  if (snapshots.length === 0) out.push('  snapshots  none');
  for (const [i, s] of snapshots.entries()) {
    const state = s.ok ? (s.checked ? 'checked' : 'header ok') : `DAMAGED: ${s.status}${s.why ? ` (${s.why})` : ''}`;
    out.push(
      `  ${i === 0 ? 'snapshots ' : '          '} ${s.name}: seq ${group(s.seq || s.nameSeq)}, ${group(s.orders)} orders, ${group(s.symbolCount)} symbols, ${bytes(s.bytes)}, ${state}`,
    );
  }
  if (n > 0) {
    out.push('  per segment:');
    for (const s of walk.segments) {
      const range = s.records > 0 ? `seq ${group(s.firstSeq)}–${group(s.lastSeq)}` : 'no records';
      out.push(
        `    ${s.name}  ${bytes(s.fileBytes).padStart(10)}  ` +
          (s.scanned
            ? `${group(s.records).padStart(9)} records  ${range}, ${bytes(s.endOffset)} used` + (s.header !== 'ok' ? `, header: ${s.header}` : '')
            : 'not read (after the damage)'),
      );
    }
  }
  if (walk.damage) out.push(`  DAMAGE     ${where(walk.damage)}: ${walk.damage.what} (the walk stops here; see durabook wal verify)`);
  if (walk.error) out.push(`  ERROR      ${walk.error}`);
  io.write(out.join('\n') + '\n');
  return code;
}

// ---- dispatch ------------------------------------------------------------------------------

const HELP = `Usage: durabook wal <verify|dump|stats> DIR [options]

  verify DIR   would Engine.open() recover this directory losing nothing? names any damage
               (exit 0 only when everything is whole; a torn tail counts as damage)
  dump DIR     one line per WAL record: seq, type, fields [--from SEQ] [--limit N] [--json]
  stats DIR    segments, records by type, bytes, first/last seq, snapshots [--json]

\`durabook wal <command> --help\` for a command's options. Nothing here writes to DIR.
`;

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h' } } }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function oneDir(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'DIR is missing' : `one DIR expected, got ${positionals.length}`);
  return positionals[0].replace(/(.)\/+$/, '$1');
}

/** `durabook wal …` (argv after `wal`); returns the exit code. */
export async function runWal(argv: string[], io: WalOutput = stdioOutput): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'verify':
      return verifyCommand(rest, io);
    case 'dump':
      return dumpCommand(rest, io);
    case 'stats':
      return statsCommand(rest, io);
    case '-h':
    case '--help':
    case 'help':
      io.write(HELP);
      return 0;
    case undefined:
      io.error(HELP);
      return 2;
    default:
      throw new UsageError(`unknown wal command ${JSON.stringify(sub)}: verify, dump or stats`);
  }
}
