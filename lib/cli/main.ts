#!/usr/bin/env node
// The durabook command line (package bin `durabook`): subcommand dispatch.
//
//   durabook bench [options]                     lib/cli/bench.ts
//   durabook replay lobster MESSAGE ORDERBOOK    lib/cli/replay-lobster.ts
//   durabook wal verify|dump|stats DIR           lib/cli/wal.ts
//
// Each command is a function (argv after the command words) → exit code. Results go to stdout,
// diagnostics and progress to stderr. Usage errors exit 2, failures 1.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runBenchCli } from './bench.js';
import { runReplayLobster } from './replay-lobster.js';
import { UsageError } from './args.js';
import { runWal } from './wal.js';

interface Command {
  /** Words after `durabook`, e.g. 'bench' or 'replay lobster'. */
  name: string;
  args: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Command[] = [
  {
    name: 'bench',
    args: '[--ops N] [--durability none|async|durable] [--api call|batch] [--workload FILE] [--rate OPS_PER_S] [--json] …',
    summary: 'throughput and latency (p50/p99/p99.9/max) on a seeded or CSV workload',
    run: runBenchCli,
  },
  {
    name: 'replay lobster',
    args: 'MESSAGE.csv ORDERBOOK.csv',
    summary: 'replay LOBSTER market data and compare the book with the exchange’s after every message',
    run: runReplayLobster,
  },
  {
    name: 'wal',
    args: 'verify|dump|stats DIR',
    summary: 'inspect a WAL directory: verify (names any damage), dump records, stats',
    run: runWal,
  },
];

function version(): string {
  try {
    const pkg = fileURLToPath(new URL('../../../package.json', import.meta.url));
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    'Usage: durabook <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     this help; `durabook <command> --help` for a command’s options',
    '  -v, --version  the durabook version',
    '',
  ];
  return lines.join('\n');
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    (first === undefined ? process.stderr : process.stdout).write(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  // Longest match of the command words (so 'replay lobster' wins over a future 'replay').
  const matches = COMMANDS.filter((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  }).sort((a, b) => b.name.length - a.name.length);
  const cmd = matches[0];
  if (!cmd) {
    const known = COMMANDS.filter((c) => c.name.split(' ')[0] === first);
    const hint = known.length > 0 ? `; did you mean ${known.map((c) => `'${c.name}'`).join(' or ')}?` : '';
    process.stderr.write(`durabook: unknown command '${argv.slice(0, 2).join(' ')}'${hint}\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(argv.slice(cmd.name.split(' ').length));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`durabook ${cmd.name}: ${err.message}\n(see durabook ${cmd.name} --help)\n`);
      return 2;
    }
    const e = err as Error;
    process.stderr.write(`durabook ${cmd.name}: ${e?.message ?? String(err)}\n`);
    if (process.env.DURABOOK_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
