// The error codes promised are the codes thrown: the ErrorCode union (lib/errors.ts), the
// README's table of codes and the codes lib/ actually throws name the same set, so no code is
// documented that nothing raises and none is raised undocumented.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

function unionCodes(): string[] {
  const m = /export type ErrorCode =([^;]*);/.exec(read('lib/errors.ts'));
  if (!m) throw new Error('no ErrorCode union in lib/errors.ts');
  return [...m[1]!.matchAll(/'([A-Z_]+)'/g)].map((x) => x[1]!).sort();
}

function readmeCodes(): string[] {
  const section = read('README.md').split('\n## Errors')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((x) => x[1]!).sort();
}

/** Codes in a `new DurabookError('CODE', …)` anywhere in lib/ (the code may be on the next line). */
function thrownCodes(): string[] {
  const files = readdirSync(join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const codes = new Set<string>();
  for (const f of files) {
    for (const m of read(join('lib', f)).matchAll(/new DurabookError\(\s*'([A-Z_]+)'/g)) codes.add(m[1]!);
  }
  // invalid() builds the INVALID_ARGUMENT errors; the code itself appears once, in errors.ts.
  return [...codes].sort();
}

describe('error codes', () => {
  it('the ErrorCode union, the README table and the codes lib/ throws are one set', () => {
    const union = unionCodes();
    expect(union.length).toBeGreaterThan(5);
    expect(readmeCodes()).toEqual(union);
    expect(thrownCodes()).toEqual(union);
  });
});
