// Shared by the recovery tests: engine directories built from a seeded command stream, the
// reference model's book at any prefix of that stream, and file damage helpers.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../lib/index.js';
import type { Depth, SnapshotInfo } from '../../lib/types.js';
import { CommandStream, DEFAULT_SYMBOLS, type Command } from '../support/random-commands.js';
import { ReferenceBook } from '../support/reference-model.js';

export const SYMBOLS = DEFAULT_SYMBOLS.map((s) => s.name);
/** open() logs the symbols first: command i of a stream has seq K + 1 + i. */
export const K = SYMBOLS.length;
export const SEGMENT_BYTES = 65536;

const made: string[] = [];
export function tempDir(prefix = 'durabook-recovery-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function apply(e: Engine | ReferenceBook, c: Command): number {
  if (c.kind === 'submit') return e.submit(c.order).seq;
  if (c.kind === 'cancel') return e.cancel(c.cancel).seq;
  return e.modify(c.modify).seq;
}

export interface BuiltDir {
  dir: string;
  commands: Command[];
  lastSeq: number;
  snapshots: SnapshotInfo[];
}

/**
 * A durable engine on `dir` runs `count` commands of the stream for `seed` (then `tail`), taking
 * a snapshot after each command index in `snapshotsAt`, and closes.
 */
export async function buildDir(
  dir: string,
  opts: { count: number; seed: number; snapshotsAt?: number[]; tail?: Command[]; segmentBytes?: number },
): Promise<BuiltDir> {
  const gen = new CommandStream(opts.seed);
  const commands: Command[] = [];
  for (let i = 0; i < opts.count; i++) commands.push(gen.next());
  commands.push(...(opts.tail ?? []));
  const e = await Engine.open({ dir, durability: 'durable', symbols: SYMBOLS, wal: { segmentBytes: opts.segmentBytes ?? SEGMENT_BYTES } });
  const snaps = new Set(opts.snapshotsAt ?? []);
  const snapshots: SnapshotInfo[] = [];
  for (let i = 0; i < commands.length; i++) {
    const seq = apply(e, commands[i]);
    if (seq !== K + 1 + i) throw new Error(`command ${i} got seq ${seq}`);
    if (snaps.has(i)) snapshots.push(await e.snapshot());
  }
  const lastSeq = e.lastSeq;
  await e.durable(lastSeq);
  await e.close();
  return { dir, commands, lastSeq, snapshots };
}

/** The reference model's books after any prefix of a command list (cached per seq). */
export class ReferencePrefixes {
  #ref = new ReferenceBook({ symbols: SYMBOLS });
  readonly #cache = new Map<number, { depth: Depth[]; resting: number }>();
  constructor(readonly commands: Command[]) {}

  at(seq: number): { depth: Depth[]; resting: number } {
    const hit = this.#cache.get(seq);
    if (hit) return hit;
    if (seq < K || seq > K + this.commands.length) throw new Error(`no prefix ends at seq ${seq}`);
    if (this.#ref.lastSeq > seq) this.#ref = new ReferenceBook({ symbols: SYMBOLS });
    while (this.#ref.lastSeq < seq) apply(this.#ref, this.commands[this.#ref.lastSeq - K]);
    const v = { depth: SYMBOLS.map((s) => this.#ref.depth(s, 1_000_000)), resting: this.#ref.restingCount };
    this.#cache.set(seq, v);
    return v;
  }
}

/** Every symbol's whole book (all levels, with order counts). */
export function bookOf(e: Engine): Depth[] {
  return SYMBOLS.map((s) => (e.symbols.includes(s) ? e.depth(s, 1_000_000) : { bids: [], asks: [] }));
}

export function copyDir(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const n of readdirSync(src)) copyFileSync(join(src, n), join(dst, n));
}

export function flipBit(path: string, offset: number, bit: number): void {
  const b = readFileSync(path);
  b[offset] ^= 1 << bit;
  writeFileSync(path, b);
}

export function overwriteByte(path: string, offset: number, value: number): void {
  const b = readFileSync(path);
  b[offset] = value;
  writeFileSync(path, b);
}

export function truncateFile(path: string, length: number): void {
  writeFileSync(path, readFileSync(path).subarray(0, length));
}

/** Offset just past the last non-zero byte (the end of the data of a pre-zeroed segment). */
export function dataEnd(path: string): number {
  const b = readFileSync(path);
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return end;
}

/** True when open()'s report says it cut, skipped or dropped nothing. */
export function cleanReport(r: Engine['recovery']): boolean {
  return r.snapshotsSkipped.length === 0 && !r.tornTail && r.bytesTruncated === 0 && r.dropped === null;
}
