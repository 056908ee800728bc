// Whether this process may lock the ~100 MiB of code lockMemory() locks: as root (which holds
// CAP_IPC_LOCK, and the cap does not apply), or with an unlimited RLIMIT_MEMLOCK.
import { readFileSync } from 'node:fs';

export const IS_ROOT = process.getuid?.() === 0;

export function mayLockMemory(): boolean {
  return IS_ROOT || /^Max locked memory\s+unlimited/m.test(readFileSync('/proc/self/limits', 'utf8'));
}
