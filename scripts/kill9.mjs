#!/usr/bin/env node
// The kill -9 crash test on demand, with as many cycles as asked for:
//
//   npm run crash:kill9 -- --cycles 1000 [--seed N] [--no-trades]
//
// --no-trades runs the engine with wal.logTrades false (no TRADE records in the log).
// Runs test/recovery/kill9.test.ts (which CI runs with 50 cycles) through vitest with
// KILL9_CYCLES / KILL9_SEED set. Needs the addon built (npm run build:native); the test compiles
// lib/ for its child process itself.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      cycles: { type: 'string' },
      seed: { type: 'string' },
      'no-trades': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  process.stderr.write(`kill9: ${err.message}\nUsage: npm run crash:kill9 -- [--cycles N] [--seed N] [--no-trades]\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write('Usage: npm run crash:kill9 -- [--cycles N (default 1000)] [--seed N (default random)] [--no-trades (wal.logTrades false)]\n');
  process.exit(0);
}
const env = { ...process.env, KILL9_CYCLES: values.cycles ?? '1000' };
for (const [name, v] of [['cycles', env.KILL9_CYCLES], ['seed', values.seed]]) {
  if (v !== undefined && !/^\d+$/.test(v)) {
    process.stderr.write(`kill9: --${name} must be a non-negative integer, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
}
if (values.seed !== undefined) env.KILL9_SEED = values.seed;
if (values['no-trades']) env.KILL9_LOG_TRADES = '0';
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', 'test/recovery/kill9.test.ts'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
