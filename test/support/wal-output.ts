// A WalOutput (lib/cli/wal.ts) that keeps what `durabook wal` would print, for assertions.
import type { WalOutput } from '../../lib/cli/wal.js';

export function captureWalOutput(): WalOutput & { out: string; err: string } {
  const c = {
    out: '',
    err: '',
    write(s: string) {
      c.out += s;
      return true;
    },
    error(s: string) {
      c.err += s;
    },
  };
  return c;
}
