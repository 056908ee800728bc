// `durabook replay lobster MESSAGE.csv ORDERBOOK.csv [--levels N] [--json] [--show N]`
//
// Replays a LOBSTER sample through an in-memory engine and prints how the engine's book compares
// with the exchange's (see lib/replay/lobster.ts for what is compared and how).
import { parseArgs } from 'node:util';
import { DurabookError, describe } from '../errors.js';
import {
  replayLobster,
  type LobsterMessage,
  type LobsterMismatch,
  type LobsterOrderRef,
  type LobsterReport,
} from '../replay/lobster.js';

export const REPLAY_LOBSTER_USAGE = `\
usage: durabook replay lobster MESSAGE.csv ORDERBOOK.csv [--levels N] [--json] [--show N]

Replays a LOBSTER message file through the engine and compares the engine's top N price
levels per side with the LOBSTER orderbook file after every message.

  --levels N   levels per side to compare (default: all the orderbook file has)
  --json       print the full report as JSON
  --show N     mismatches, priority disagreements and anomalies to show in full (default 5)
  -h, --help   this text

Exit status: 0 when the engine's book matched every row, 1 when some row differed.`;

function usageError(message: string): DurabookError {
  return new DurabookError('INVALID_ARGUMENT', `${message} (usage: durabook replay lobster --help)`);
}

function count(text: string | undefined, name: string): number {
  const v = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v)) throw usageError(`${name} must be a non-negative integer, got ${describe(text)}`);
  return v;
}

/**
 * Runs the command. `argv` is what follows `durabook replay lobster`. Resolves to the exit code
 * (0: no book mismatch, 1: some); bad arguments, unreadable or malformed files reject with
 * DurabookError INVALID_ARGUMENT, before anything is printed.
 */
export async function runReplayLobster(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        levels: { type: 'string' },
        json: { type: 'boolean', default: false },
        show: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${REPLAY_LOBSTER_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    const got = positionals.length === 0 ? 'neither' : `only ${describe(positionals[0])}`;
    throw usageError(
      positionals.length < 2
        ? `expected MESSAGE.csv and ORDERBOOK.csv, got ${got}`
        : `expected two files, got ${positionals.length} arguments: ${positionals.map((p) => describe(p)).join(' ')}`,
    );
  }
  const levels = values.levels === undefined ? undefined : count(values.levels, '--levels');
  if (levels === 0) throw usageError('--levels must be at least 1, got 0');
  const show = values.show === undefined ? 5 : count(values.show, '--show');
  const [messageFile, orderbookFile] = positionals as [string, string];

  const report = await replayLobster(messageFile, orderbookFile, {
    ...(levels === undefined ? {} : { levels }),
    keep: show,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatLobsterReport(report));
  return report.mismatches === 0 ? 0 : 1;
}

const num = (n: number): string => n.toLocaleString('en-US');
const pct = (a: number, b: number): string => (b === 0 ? '0%' : `${((100 * a) / b).toFixed(2)}%`);
const plural = (n: number, one: string, many = `${one}s`): string => `${num(n)} ${n === 1 ? one : many}`;

const TYPE_NAMES: Record<LobsterMessage['type'], string> = {
  1: 'new',
  2: 'partial cancel',
  3: 'delete',
  4: 'execution',
  5: 'hidden execution',
  6: 'cross',
  7: 'halt',
};

function describeMessage(m: LobsterMessage): string {
  if (m.type === 7) return `${m.time} halt indicator ${m.price}`;
  const side = m.direction === 1 ? 'bid' : 'ask';
  return `${m.time} ${TYPE_NAMES[m.type]} ${m.type <= 4 ? `order ${m.orderId} ` : ''}${m.size} @ ${side} ${m.price}`;
}

function levelsText(levels: ReadonlyArray<{ price: number; qty: number }>): string {
  return levels.length === 0 ? '(empty)' : levels.map((l) => `${l.price}x${l.qty}`).join(' ');
}

function refText(r: LobsterOrderRef): string {
  return typeof r === 'number' ? `#${r}` : r;
}

function mismatchText(m: LobsterMismatch): string {
  const lines = [`  row ${m.row}: ${describeMessage(m.message)}`];
  for (const d of m.differences) lines.push(`    ${d.side} ${d.price}: file ${d.expectedQty}, engine ${d.engineQty}`);
  lines.push(`    file    bids ${levelsText(m.expected.bids)} | asks ${levelsText(m.expected.asks)}`);
  lines.push(`    engine  bids ${levelsText(m.engine.bids)} | asks ${levelsText(m.engine.asks)}`);
  return lines.join('\n');
}

/** The human summary `durabook replay lobster` prints. */
export function formatLobsterReport(r: LobsterReport): string {
  const t = r.messagesByType;
  const out: string[] = [];
  const row = (label: string, text: string): void => {
    out.push(`  ${label.padEnd(16)}${text}`);
  };
  const also = r.levels === r.fileLevels ? '' : ` (the file has ${r.fileLevels})`;
  out.push(`LOBSTER replay of ${r.symbol}: ${plural(r.levels, 'level')} per side compared${also}`);
  const seconds = (r.elapsedMs / 1000).toFixed(2);
  row('messages', `${num(r.messages)} replayed in ${seconds} s: ${num(r.messagesPerSecond)} messages/s`);
  row(
    '',
    `new ${num(t.newOrder)}, partial cancel ${num(t.partialCancel)}, delete ${num(t.delete)}, ` +
      `execution ${num(t.execution)}, hidden execution ${num(t.hiddenExecution)}, ` +
      `cross ${num(t.cross)}, halt ${num(t.halt)}`,
  );
  row(
    'seed',
    `bids ${plural(r.seed.bidLevels, 'level')} (${num(r.seed.bidQty)}), ` +
      `asks ${plural(r.seed.askLevels, 'level')} (${num(r.seed.askQty)}): row 1 with message 1 undone`,
  );
  const mismatched = r.mismatches > 0 ? ` (${plural(r.mismatchedLevels, 'level')})` : '';
  row(
    'book',
    `${num(r.rowsCompared)} rows compared, ${num(r.levelsCompared)} levels: ` +
      `${plural(r.mismatches, 'mismatch', 'mismatches')}${mismatched}`,
  );
  row(
    'executions',
    `${plural(t.execution, 'row')} in ${plural(r.executionGroups, 'aggressor')}: ` +
      `${plural(r.priorityDisagreements, 'priority disagreement')} ` +
      `(${pct(r.priorityDisagreements, t.execution)}), ${num(r.firmPriorityDisagreements)} firm`,
  );
  row(
    'unseen orders',
    `${plural(r.unknownOrderMessages, 'message')} named orders the file never introduced; ` +
      `${plural(r.reveals, 'level')} came into view`,
  );
  row(
    'guesses',
    `${plural(r.removedOrderMessages, 'message')} named orders the replay had guessed gone; ` +
      `${plural(r.reattributions, 'reattribution')}, ${plural(r.repairs, 'repair')}`,
  );
  if (r.crossingArrivals > 0) {
    row('crossing', `${plural(r.crossingArrivals, 'new order')} would have traded on arrival`);
  }
  if (r.halts.length > 0) {
    const shown = r.halts.slice(0, 5).map((h) => `${h.kind} at ${h.time} (row ${h.row})`);
    row('halts', shown.join(', ') + (r.halts.length > 5 ? `, ... (${num(r.halts.length)} in all)` : ''));
  }
  const kinds = Object.entries(r.anomaliesByKind).filter(([, n]) => n > 0);
  row('anomalies', num(r.anomalies) + (kinds.length ? ` (${kinds.map(([k, n]) => `${k} ${num(n)}`).join(', ')})` : ''));
  if (r.firstMismatches.length > 0) {
    out.push('first mismatches:');
    for (const m of r.firstMismatches) out.push(mismatchText(m));
  }
  if (r.firstPriorityDisagreements.length > 0) {
    out.push('first priority disagreements:');
    for (const d of r.firstPriorityDisagreements) {
      const filled = d.filled.length === 0 ? 'nothing' : d.filled.map((f) => `${refText(f.order)} ${f.qty}`).join(', ');
      out.push(
        `  row ${d.row}: ${d.time} ${d.size} @ ${d.side} ${d.price}, file names #${d.namedOrder}` +
          `${d.known ? '' : ' (not held)'}; engine filled ${filled}${d.firm ? ' [firm]' : ''}`,
      );
    }
  }
  if (r.firstAnomalies.length > 0) {
    out.push('first anomalies:');
    for (const a of r.firstAnomalies) out.push(`  row ${a.row}: ${a.kind}: ${a.text}`);
  }
  return `${out.join('\n')}\n`;
}
