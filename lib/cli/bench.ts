// `durabook bench`: flags → runBench() → a table on stdout, or one JSON object with --json.
// Progress goes to stderr, and only when stderr is a terminal.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatNs, formatRate } from '../bench/latency.js';
import { DEFAULT_ACK_COMMANDS, DEFAULT_ACK_RATE, DEFAULT_BATCH_SIZE, DEFAULT_JIT_WARMUP, loadWorkload, runBench, type BenchResult } from '../bench/run.js';
import { DEFAULT_OPS, DEFAULT_SEED, workloadToCsv, WorkloadError } from '../bench/workload.js';
import { choiceFlag, intFlag, numberFlag, UsageError } from './args.js';

const HELP = `Usage: durabook bench [options]

Runs a workload through a fresh in-process engine and prints throughput, per-command latency
(p50/p99/p99.9/max), WAL bytes per command and, in durable mode, durable-ack latency beside
the same pass's WAL syncs (their p99 and time-weighted p99). On Linux it also prints the share
of each CPU's time the hypervisor stole during the pass (/proc/stat steal).

Workload (default: generated, seeded):
  --ops N                measured commands (default ${DEFAULT_OPS.toLocaleString('en-US')}), after a warmup that
                         builds the book to its steady size (not measured)
  --seed N               generator seed (default ${DEFAULT_SEED})
  --symbols N            spread the commands over N symbols (default 1)
  --resting N            steady number of resting orders (default 10,000)
                         mix: 70% GTC limits (a third priced through the opposite best), 20%
                         cancels of live orders, 10% market orders; sizes 1-100; prices within
                         ±50 ticks of the mid
  --workload FILE        a CSV workload instead (header op,id,side,price,qty; rows
                         L,id,B|S,price,qty  C,id,,,  M,,B|S,,qty); every row is measured
  --warmup N             book-building commands before the measured ones (generated: default
                         the --resting count; a file: its first N rows, default 0)
  --write-workload FILE  write the workload as CSV to FILE and exit (warmup rows included)

Engine:
  --durability MODE      none (default) | async | durable; async/durable write the WAL to a
                         fresh temp directory, removed afterwards
  --api call|batch       per-call submit()/cancel() (default), or submitBatch()
  --batch-size N         commands per batch with --api batch (default ${DEFAULT_BATCH_SIZE}; open loop: at most)
  --main-cpu N           pin the JS thread, which runs matching, to CPU N
  --writer-cpu N         pin the WAL writer thread to CPU N (wal.writerCpu; async/durable)
                         On a small machine, keeping matching off the CPU that takes the
                         disk's interrupts (see /proc/interrupts) steadies the p99.9.
  --lock-memory MODE     lock the process's code in RAM for the run (lockMemory(): all |
                         on-fault), so that no command waits on a code page read back from disk

Measurement:
  --jit-warmup N         run the measured commands N times first (default ${DEFAULT_JIT_WARMUP}), on
                         throwaway engines of the same configuration, so that V8 has compiled the
                         loop before anything is measured; their rates are printed, not counted
                         (0: measure a fresh process's first pass)
  --rate OPS_PER_S       open loop: command i is due at i/rate and its latency is measured from
                         that intended time, so stalls are not hidden; default closed loop.
                         Durable mode without --rate measures acks in an extra open-loop pass
                         at ${DEFAULT_ACK_RATE.toLocaleString('en-US')}/s over at most ${DEFAULT_ACK_COMMANDS.toLocaleString('en-US')} commands.
  --json                 print one JSON object (fields: BenchResult in lib/bench/run.ts)
  -h, --help             this help
`;

function group(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pinning(main: number | null, writer: number | null): string {
  const parts = [main === null ? '' : `JS thread on CPU ${main}`, writer === null ? '' : `writer on CPU ${writer}`].filter(Boolean);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

function render(r: BenchResult): string {
  const c = r.config;
  const k = r.counts;
  const l = r.latencyNs;
  const out: string[] = [];
  const src = c.workload === 'generated' ? `generated (seed ${c.seed}, ${c.symbols} symbol${c.symbols === 1 ? '' : 's'}, ~${group(c.restingTarget ?? 0)} resting)` : c.workload;
  out.push(`durabook bench — ${group(c.ops)} commands, workload ${src}`);
  out.push(
    `  durability ${c.durability}, api ${c.api}${c.batchSize ? ` (batches of ${c.batchSize})` : ''}, ${c.rate === null ? 'closed loop' : `open loop at ${group(c.rate)}/s`}, warmup ${group(c.warmupOps)}${pinning(c.mainCpu, c.writerCpu)}`,
  );
  out.push('');
  out.push(`  commands      ${group(k.commands)} = ${group(k.limits)} limits + ${group(k.cancels)} cancels + ${group(k.markets)} markets`);
  const st = k.statuses;
  out.push(
    `  reports       new ${group(st.new)}, partially_filled ${group(st.partially_filled)}, filled ${group(st.filled)}, cancelled ${group(st.cancelled)}, rejected ${group(st.rejected)}`,
  );
  out.push(`  trades        ${group(k.trades)} (qty ${group(k.tradedQty)})`);
  out.push(`  resting       ${group(k.restingAtEnd)} orders at the end`);
  out.push('');
  out.push(`  throughput    ${formatRate(r.throughput.commandsPerSec)} (${r.throughput.seconds.toFixed(3)} s)`);
  const wp = r.throughput.warmupPassesPerSec;
  if (wp.length > 0) out.push(`  JIT warm-up   ${wp.map(formatRate).join(', ')}   (the same commands before the measured passes, not counted; the first is a fresh process's)`);
  if (r.throughput.durableCommandsPerSec !== null) {
    out.push(`  to durable    ${formatRate(r.throughput.durableCommandsPerSec)} (${(r.throughput.durableSeconds ?? 0).toFixed(3)} s until durable(lastSeq))`);
  }
  out.push(
    `  latency       p50 ${formatNs(l.p50)}   p99 ${formatNs(l.p99)}   p99.9 ${formatNs(l.p999)}   max ${formatNs(l.max)}   (${l.mode}` +
      (l.mode === 'closed-loop' ? `; timer reads add ~${formatNs(l.timerOverheadNs)} to each` : '; from intended send time') +
      ')',
  );
  if (r.wal) {
    out.push(
      `  WAL           ${r.wal.bytesPerCommand.toFixed(1)} bytes/command (${group(r.wal.bytes)} bytes written, ${group(r.wal.allocatedBytes)} reserved, ${r.wal.files} file${r.wal.files === 1 ? '' : 's'})`,
    );
    const x = r.wal.writer;
    const pass = r.throughput.seconds * 1e9;
    const share = (ns: number) => (pass > 0 ? ` (${((ns / pass) * 100).toFixed(0)}%)` : '');
    out.push(
      `  WAL time      matching waited for ring slots ${formatNs(x.producerWaitNs)}${share(x.producerWaitNs)} in ${group(x.producerWaits)} waits; ` +
        `writer: writes ${formatNs(x.writeNs)}, zero-fill ${formatNs(x.zeroFillNs)}, syncs ${formatNs(x.syncNs.mean * x.syncNs.count)}   (throughput pass)`,
    );
  }
  if (r.durableAckNs) {
    const a = r.durableAckNs;
    out.push(
      `  durable ack   p50 ${formatNs(a.p50)}   p99 ${formatNs(a.p99)}   p99.9 ${formatNs(a.p999)}   max ${formatNs(a.max)}   (open loop at ${group(a.rate)}/s, ${group(a.count)} commands)`,
    );
    const y = a.syncNs;
    out.push(
      `  WAL syncs     p50 ${formatNs(y.p50)}   p99 ${formatNs(y.p99)}   max ${formatNs(y.max)}   time-weighted p99 ${formatNs(y.timeP99)}   (the writer's ${group(y.count)} fdatasyncs in the ack pass)`,
    );
    if (a.steal) out.push(`  CPU steal     ${stealText(a.steal)}   (the hypervisor's share of each CPU during the ack pass)`);
  }
  if (r.fdatasyncNs) {
    const f = r.fdatasyncNs;
    const ratio = r.durableAckNs && f.p50 > 0 ? `; durable ack p50 = ${(r.durableAckNs.p50 / f.p50).toFixed(2)}× fdatasync p50` : '';
    out.push(
      `  fdatasync     p50 ${formatNs(f.p50)}   p99 ${formatNs(f.p99)}   max ${formatNs(f.max)}   (this disk, same run, ${group(f.count)} syncs of 4 KiB${ratio})`,
    );
  }
  if (l.steal && !r.durableAckNs) out.push(`  CPU steal     ${stealText(l.steal)}   (the hypervisor's share of each CPU during the latency pass)`);
  out.push(`  page faults   major ${group(l.pageFaults.major)}, minor ${group(l.pageFaults.minor)}   (the whole process, during the latency pass)`);
  if (c.memoryLock) {
    const m = c.memoryLock;
    out.push(`  memory lock   ${(m.bytes / (1 << 20)).toFixed(1)} MiB of code in ${m.mappings} mappings locked in RAM (${m.mode})`);
  }
  out.push(`  machine       ${r.environment.cpu}, ${r.environment.cores} cores, node ${r.environment.node}`);
  return out.join('\n') + '\n';
}

function stealText(steal: readonly number[]): string {
  return steal.map((x, i) => `cpu${i} ${(x * 100).toFixed(1)}%`).join(', ');
}

export async function runBenchCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ops: { type: 'string' },
        seed: { type: 'string' },
        symbols: { type: 'string' },
        resting: { type: 'string' },
        workload: { type: 'string' },
        'write-workload': { type: 'string' },
        warmup: { type: 'string' },
        durability: { type: 'string' },
        api: { type: 'string' },
        'batch-size': { type: 'string' },
        'main-cpu': { type: 'string' },
        'writer-cpu': { type: 'string' },
        'lock-memory': { type: 'string' },
        'jit-warmup': { type: 'string' },
        rate: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const workload = values.workload;
  if (workload !== undefined) {
    for (const f of ['ops', 'seed', 'symbols', 'resting'] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f} applies to generated workloads, not with --workload`);
    }
  }
  const api = choiceFlag('api', values.api, ['call', 'batch'] as const);
  if (values['batch-size'] !== undefined && api !== 'batch') throw new UsageError('--batch-size needs --api batch');
  const options = {
    ops: intFlag('ops', values.ops, 1, 1e9),
    seed: intFlag('seed', values.seed, 0, 2 ** 32 - 1),
    symbols: intFlag('symbols', values.symbols, 1, 65_536),
    restingTarget: intFlag('resting', values.resting, 1, 1e8),
    warmup: intFlag('warmup', values.warmup, 0, 1e9),
    workload,
    durability: choiceFlag('durability', values.durability, ['none', 'async', 'durable'] as const),
    api,
    batchSize: intFlag('batch-size', values['batch-size'], 1, 1e7),
    rate: numberFlag('rate', values.rate),
    mainCpu: intFlag('main-cpu', values['main-cpu'], 0, 4095),
    writerCpu: intFlag('writer-cpu', values['writer-cpu'], 0, 4095),
    lockMemory: choiceFlag('lock-memory', values['lock-memory'], ['all', 'on-fault'] as const),
    jitWarmup: intFlag('jit-warmup', values['jit-warmup'], 0, 100),
    progress: process.stderr.isTTY ? (m: string) => process.stderr.write(`\x1b[2K\r${m}…`) : undefined,
  };

  try {
    if (values['write-workload'] !== undefined) {
      const w = loadWorkload(options);
      writeFileSync(values['write-workload'], workloadToCsv(w));
      process.stderr.write(`wrote ${w.count} commands (${w.warmup} warmup) to ${values['write-workload']}\n`);
      return 0;
    }
    const result = await runBench(options);
    if (process.stderr.isTTY) process.stderr.write('\x1b[2K\r');
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : render(result));
    return 0;
  } catch (err) {
    if (process.stderr.isTTY) process.stderr.write('\x1b[2K\r');
    if (err instanceof WorkloadError) {
      process.stderr.write(`durabook bench: bad workload: ${err.message}\n`);
      return 1;
    }
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}
