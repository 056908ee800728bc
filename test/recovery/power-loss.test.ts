// Power loss at every crash point (issue 4). The harness is in power-loss-harness.ts: a
// workload in `durable` mode (1,500 commands, 64 KiB segments so that it switches segment, a
// snapshot part-way) runs without a crash to count its mutating file calls K, then once per
// crash point 1..K in each of 5 passes with a simulated power loss there
// (native/core/crash_sim_file_layer.h), the policy rotating so that every point meets every
// policy; in the last pass each run loses power a second time, early in the run that recovers.
// After each, recovery must bring back every acknowledged command, a prefix of what was
// submitted, exactly the reference model's book for that prefix, and a directory that keeps
// working. Then the same with each fdatasync in turn failing with EIO: the engine fails stop.
//
//   POWER_LOSS_COMMANDS  a larger workload, its crash points sampled (default: the CI workload,
//                        every point)
//   POWER_LOSS_SAMPLE    crash points to sample from a larger workload (default 400)
//   POWER_LOSS_PASSES    passes over the crash points, the policies shifted each time (default 5)
//   POWER_LOSS_SEED      seed of the per-run randomness and of the sample (default 1)
//   POWER_LOSS_SYNC_US   simulated sync latency in microseconds (default 50)
import { afterAll, describe, expect, it } from 'vitest';
import {
  CI_WORKLOAD,
  CRASH_POLICIES,
  describeViolation,
  powerLossEnumeration,
  removeHarnessDirs,
  syncFailureRuns,
  type Workload,
} from './power-loss-harness.js';
import { Rng } from '../support/random-commands.js';
import { removeTempDirs } from './fixture.js';

const COMMANDS = process.env.POWER_LOSS_COMMANDS ? Number(process.env.POWER_LOSS_COMMANDS) : undefined;
const SAMPLE = Number(process.env.POWER_LOSS_SAMPLE ?? 400);
const SEED = Number(process.env.POWER_LOSS_SEED ?? 1);
const PASSES = Number(process.env.POWER_LOSS_PASSES ?? 5);

afterAll(() => {
  removeHarnessDirs();
  removeTempDirs();
});

describe('power loss', () => {
  it('at every crash point of the workload: acknowledged commands survive, the log is a prefix, the book is the reference', async () => {
    let workload: Workload = CI_WORKLOAD;
    let points: number[] | undefined;
    if (COMMANDS !== undefined) {
      workload = { ...CI_WORKLOAD, commands: COMMANDS, snapshotAfter: Math.floor(COMMANDS / 3) };
    }
    if (COMMANDS !== undefined) {
      // Count first, then sample (the enumeration counts again; the count is cheap).
      const probe = await powerLossEnumeration({ workload, points: [], countingRuns: 1, seed: SEED });
      const rng = new Rng(SEED);
      const all = Array.from({ length: probe.K }, (_, i) => i + 1);
      points = probe.K <= SAMPLE ? all : Array.from({ length: SAMPLE }, () => rng.int(1, probe.K)).sort((a, b) => a - b);
    }
    // The last pass also loses power a second time, early in the run that recovers.
    const second = { pass: PASSES - 1, within: 40, commands: 300 };
    const r = await powerLossEnumeration({ workload, points, passes: PASSES, second, seed: SEED });
    const calls = r.fullRunCalls;
    console.log(
      `power loss: crash points 1..${r.K} x ${PASSES} passes (${workload.commands} commands, seed ${SEED}): ` +
        `${r.runs} runs, ${r.crashedEarly} lost power mid-run (runs make ${Math.min(...calls)}..${Math.max(...calls)} ` +
        `mutating calls), ${r.lostSomething} of them losing unacknowledged commands and ` +
        `${r.keptUnacknowledged} keeping some; ${r.secondCrashes} with a second power loss (mid-run by op: ${JSON.stringify(r.secondOps)}); by policy ${JSON.stringify(r.policies)}; by op ${JSON.stringify(r.ops)}; ` +
        `${(r.durationMs / 1000).toFixed(1)} s`,
    );
    expect(r.violations.map(describeViolation)).toEqual([]);
    expect(r.K).toBeGreaterThan(50);
    // Every policy really struck mid-run, and power went during each kind of call.
    for (const p of CRASH_POLICIES) expect(r.policies[p] ?? 0, p).toBeGreaterThan(0);
    for (const op of ['open', 'pwritev', 'fdatasync', 'fsyncDir', 'rename']) expect(r.ops[op] ?? 0, op).toBeGreaterThan(0);
    // The power losses really took unsynced commands (and sometimes spared some).
    expect(r.lostSomething).toBeGreaterThan(r.crashedEarly / 4);
    expect(r.keptUnacknowledged).toBeGreaterThan(0);
  });

  it('a failed fdatasync (EIO, its writes lost) then power loss: the engine fails stop and loses nothing it acknowledged', async () => {
    // Every fdatasync of a typical run, in turn (about seventy runs).
    const r = await syncFailureRuns({ seed: SEED });
    console.log(`sync failure: each of S=${r.S} fdatasyncs in turn, ${r.runs} runs; the EIO struck in ${r.eioFired}`);
    expect(r.violations.map(describeViolation)).toEqual([]);
    expect(r.eioFired).toBeGreaterThan(r.S / 2);
  });
});
