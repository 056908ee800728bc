// The text of a Linux /proc file, or null where it cannot be read (another OS, a sandbox).
import { readFileSync } from 'node:fs';

export function readProcFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
