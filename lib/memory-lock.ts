// lockMemory(): keeps this process's code in RAM, so that a code page the kernel dropped
// under memory pressure is not a major fault, a disk read milliseconds long, on the next order.
// It locks the file-backed mappings (node, the addon, shared libraries), not everything: V8
// aborts the process under mlockall (native/core/memory_lock.h says why). It is process-wide,
// so it is a call of its own, made once at start-up, and not an engine option.
import { constants } from 'node:os';
import { DurabookError, invalid } from './errors.js';
import { native } from './native.js';

/**
 * `'all'`: every page of the code is read in now and stays, so no later order waits on a
 * fault in it. `'on-fault'`: pages in RAM now stay, the others stay once first used; code that
 * is never run is never read in.
 */
export type MemoryLockMode = 'all' | 'on-fault';

export interface MemoryLock {
  readonly mode: MemoryLockMode;
  /** Size of the mappings locked (with `'on-fault'`, resident memory may be less). */
  readonly bytes: number;
  /** How many mappings. */
  readonly mappings: number;
}

function errnoName(errno: number): string {
  const hit = Object.entries(constants.errno).find(([, v]) => v === errno);
  return hit ? hit[0] : `errno ${errno}`;
}

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/**
 * Locks the process's code (file-backed mappings) in RAM. Throws `MEMORY_LOCK_FAILED`, and
 * leaves nothing locked, when it cannot: typically RLIMIT_MEMLOCK below what the mappings need,
 * for a process without CAP_IPC_LOCK. Linux only (elsewhere MEMORY_LOCK_FAILED, ENOTSUP).
 */
export function lockMemory(mode: MemoryLockMode = 'all'): MemoryLock {
  if (mode !== 'all' && mode !== 'on-fault') throw invalid('mode', mode, "'all' or 'on-fault'");
  const r = native().lockMemory(mode === 'on-fault');
  if (r.errno !== 0) {
    const limitBytes = r.limitBytes < 0 ? null : r.limitBytes;
    const details = { mode, errno: r.errno, bytes: r.bytes, capable: r.capable, limitBytes };
    const why =
      !r.capable && limitBytes !== null && limitBytes < r.bytes
        ? `the code mappings need ${mib(r.bytes)}, RLIMIT_MEMLOCK is ${mib(limitBytes)} and the process ` +
          'lacks CAP_IPC_LOCK; raise the limit (ulimit -l unlimited, systemd LimitMEMLOCK=infinity) or grant CAP_IPC_LOCK'
        : errnoName(r.errno);
    throw new DurabookError('MEMORY_LOCK_FAILED', `lockMemory(mode ${JSON.stringify(mode)}) failed: ${why}`, details);
  }
  return { mode, bytes: r.bytes, mappings: r.mappings };
}

/** Undoes lockMemory(): the process's code is no longer locked. */
export function unlockMemory(): void {
  const errno = native().unlockMemory();
  if (errno !== 0) throw new DurabookError('MEMORY_LOCK_FAILED', `unlockMemory() failed: ${errnoName(errno)}`, { errno });
}
