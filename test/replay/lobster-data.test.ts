// LOBSTER replay on the real NASDAQ samples (2012-06-21): GOOG level-1 full day and the first 999
// rows of AAPL level-10. The files are never copied into the project: DURABOOK_LOBSTER_DIR points
// at them (.ci/run sets it to ../shared/data/lobster) and the suite skips, saying why, without it.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayLobster, type LobsterReport } from '../../lib/replay/lobster.js';

const dir = process.env.DURABOOK_LOBSTER_DIR ? resolve(process.env.DURABOOK_LOBSTER_DIR) : undefined;
if (dir === undefined) {
  console.log('lobster-data: skipped, DURABOOK_LOBSTER_DIR is not set (point it at the LOBSTER sample directory)');
} else if (!existsSync(dir)) {
  console.log(`lobster-data: skipped, DURABOOK_LOBSTER_DIR=${dir} does not exist`);
}
const available = dir !== undefined && existsSync(dir);

/** The message/orderbook pair whose names match, e.g. GOOG_..._message_1.csv. */
function pair(ticker: string, levels: number): { message: string; orderbook: string } {
  const names = readdirSync(dir!);
  const find = (kind: string): string => {
    const re = new RegExp(`^${ticker}_\\d{4}-\\d{2}-\\d{2}_\\d+_\\d+_${kind}_${levels}(\\.[^.]+)?\\.csv$`);
    const name = names.find((n) => re.test(n));
    if (name === undefined) throw new Error(`no ${ticker} level-${levels} ${kind} file in ${dir}`);
    return join(dir!, name);
  };
  return { message: find('message'), orderbook: find('orderbook') };
}

function show(r: LobsterReport): void {
  console.log(
    `${r.symbol} level ${r.fileLevels}: ${r.messages} messages, ${r.rowsCompared} rows / ${r.levelsCompared} levels compared, ` +
      `${r.mismatches} mismatches, ${r.priorityDisagreements} priority disagreements (${r.firmPriorityDisagreements} firm) ` +
      `in ${r.messagesByType.execution} executions, ${r.messagesPerSecond} messages/s`,
  );
  for (const d of r.firstPriorityDisagreements) {
    console.log(
      `  row ${d.row} ${d.time}: ${d.size} @ ${d.side} ${d.price} names ${d.namedOrder}${d.known ? '' : ' (not held)'}, ` +
        `engine filled ${d.filled.map((f) => `${f.order} ${f.qty}`).join(', ') || 'nothing'}${d.firm ? ' [firm]' : ''}`,
    );
  }
}

describe.skipIf(!available)('LOBSTER samples (DURABOOK_LOBSTER_DIR)', () => {
  it('GOOG level 1, full day: the engine matches the exchange book after every message', async () => {
    const { message, orderbook } = pair('GOOG', 1);
    const r = await replayLobster(message, orderbook, { keep: 10 });
    show(r);
    expect(r.messages).toBe(49_482);
    expect(r.firstMismatches).toEqual([]);
    expect(r.mismatches).toBe(0);
    expect(r.rowsCompared + (r.messagesByType.execution - r.executionGroups)).toBe(r.messages);
    expect(r.levelsCompared).toBe(2 * r.rowsCompared);
    // Nothing the engine reported contradicts what it was told (FIFO, price priority, fields, depth).
    expect(r.anomaliesByKind.engine).toBe(0);
    expect(r.crossingArrivals).toBe(0);
    // Priority disagreements are counted and shown, not forbidden: NASDAQ is not strictly FIFO and
    // a level-1 file hides the activity behind the best price. They stay rare.
    expect(r.firstPriorityDisagreements.length).toBe(Math.min(10, r.priorityDisagreements));
    expect(r.priorityDisagreements).toBeLessThan(r.messagesByType.execution * 0.01);
    expect(r.firmPriorityDisagreements).toBeLessThanOrEqual(r.priorityDisagreements);
  });

  it('AAPL level 10, first 999 rows: the engine matches the exchange book after every message', async () => {
    const { message, orderbook } = pair('AAPL', 10);
    const r = await replayLobster(message, orderbook, { keep: 10 });
    show(r);
    expect(r.messages).toBe(999);
    expect(r.fileLevels).toBe(10);
    expect(r.firstMismatches).toEqual([]);
    expect(r.mismatches).toBe(0);
    expect(r.levelsCompared).toBe(20 * r.rowsCompared);
    expect(r.anomaliesByKind.engine).toBe(0);
    expect(r.crossingArrivals).toBe(0);
    expect(r.firstPriorityDisagreements.length).toBe(Math.min(10, r.priorityDisagreements));
  });

  it('--levels 3 on AAPL compares three levels of the ten', async () => {
    const { message, orderbook } = pair('AAPL', 10);
    const r = await replayLobster(message, orderbook, { levels: 3 });
    expect(r.levels).toBe(3);
    expect(r.mismatches).toBe(0);
    expect(r.levelsCompared).toBe(6 * r.rowsCompared);
  });
});
