// Public types of durabook: commands, reports, queries and options.
// Numbers are JS numbers holding safe integers: prices in ticks (negative allowed), quantities in
// lots (> 0), ids chosen by the caller (> 0). Nothing inside the engine is floating point.

/** Side of an order. */
export type Side = 'buy' | 'sell';
/** Order type: a limit order has a price; a market order trades what is there. */
export type OrderType = 'limit' | 'market';
/** Time in force of a limit order: rest the remainder, kill it, or fill fully or not at all. */
export type TimeInForce = 'gtc' | 'ioc' | 'fok';

/** What happened to the order a command named, after the command. */
export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

/**
 * Why a command was rejected or its remainder cancelled by the engine itself.
 * A business outcome, not an error: the command was valid and is logged.
 */
export type RejectReason =
  | 'POST_ONLY_WOULD_CROSS'
  | 'DUPLICATE_ORDER_ID'
  | 'UNKNOWN_ORDER'
  | 'ORDER_LIMIT'
  | 'LEVEL_LIMIT';

/** A new order. `price` is required for limit orders and an optional protection limit for market orders. */
export interface NewOrder {
  symbol: string;
  id: number;
  side: Side;
  type: OrderType;
  price?: number;
  qty: number;
  /** Limit orders only; default 'gtc'. Market orders are always immediate-or-cancel. */
  tif?: TimeInForce;
  /** Limit gtc orders only; default false. Rejected with POST_ONLY_WOULD_CROSS if it would trade. */
  postOnly?: boolean;
}

/** Cancel a resting order by id. */
export interface CancelOrder {
  id: number;
}

/**
 * Change a resting order. `qty` is the new remaining quantity. Quantity down at the same price
 * keeps time priority; a price change or quantity up re-queues at the back and may trade.
 */
export interface ModifyOrder {
  id: number;
  price?: number;
  qty?: number;
}

/** One execution: the resting (maker) order traded with the incoming (taker) one at the maker's price. */
export interface Trade {
  makerId: number;
  takerId: number;
  price: number;
  qty: number;
}

/** The outcome of one command. */
export interface Report {
  /** Sequence number of the command in the engine's log; await `engine.durable(seq)` before acting on it. */
  seq: number;
  id: number;
  status: OrderStatus;
  /** Quantity filled by this command. */
  filledQty: number;
  /** Quantity resting on the book after this command (0 when nothing rests). */
  remainingQty: number;
  /** Trades made by this command, in execution order. Shared and frozen when empty. */
  trades: readonly Trade[];
  /** Present when status is 'rejected', or 'cancelled' by an engine limit. */
  reason: RejectReason | undefined;
}

/** A price level seen from outside: total quantity and number of orders. */
export interface Level {
  price: number;
  qty: number;
  orders: number;
}

/** Best bid and offer of a symbol. */
export interface Bbo {
  bid: { price: number; qty: number } | null;
  ask: { price: number; qty: number } | null;
}

/** Top levels of a symbol's book, best first on each side. */
export interface Depth {
  bids: Level[];
  asks: Level[];
}

/** A resting order. */
export interface RestingOrder {
  id: number;
  symbol: string;
  side: Side;
  price: number;
  remainingQty: number;
}

/** Durability mode: see the README's table for exactly what each promises. */
export type Durability = 'durable' | 'async' | 'none';

/** How open() treats damage in the WAL. */
export type RecoveryMode = 'tolerate-tail' | 'strict' | 'point-in-time';

/** Write-ahead log options. */
export interface WalOptions {
  /** Bytes per WAL segment file (default 64 MiB). */
  segmentBytes?: number;
  /** Records the ring between matching and the writer thread holds (default 65536). */
  ringCapacity?: number;
  /** 'async' mode: sync at least this often, in milliseconds (default 5). */
  asyncFlushMs?: number;
  /** 'async' mode: sync after this many records (default 2000). */
  asyncFlushRecords?: number;
  /** Pin the writer thread to this CPU (Linux only), or null for no pinning (default null). */
  writerCpu?: number | null;
  /** Log trades too, so that recovery can check that replay reproduces them (default true). */
  logTrades?: boolean;
}

/** Caps that reject with a reason instead of exhausting memory. */
export interface EngineLimits {
  /** Resting orders in the whole engine (default 10,000,000). */
  maxOrders?: number;
  /** Price levels per side of one book (default 1,000,000). */
  maxLevels?: number;
  /** Symbols in the engine (default 65,536). */
  maxSymbols?: number;
}

/** Options of Engine.open(). */
export interface EngineOptions {
  /** Directory of WAL segments and snapshots. Omitted: an in-memory engine with durability 'none'. */
  dir?: string;
  /** Default 'durable' when dir is set, 'none' otherwise. */
  durability?: Durability;
  /** Symbols to have from the start; more with engine.addSymbol(). */
  symbols?: string[];
  wal?: WalOptions;
  recovery?: RecoveryMode;
  limits?: EngineLimits;
  /** Microsecond timestamps (~25 ns more per command) instead of the kernel's coarse clock. */
  preciseClock?: boolean;
  /**
   * Take a snapshot automatically every this many commands (needs `dir`). Matching pauses only
   * while the state is serialized; the file is written off the JS thread. Default: never.
   */
  snapshotEvery?: number;
}

/** What Engine.open() recovered from `dir` (all zeros and nulls for a fresh directory). */
export interface RecoveryReport {
  /** The snapshot recovery started from, or null. */
  snapshot: { path: string; seq: number; orders: number } | null;
  /** Newer snapshots that were damaged and passed over, with why. */
  snapshotsSkipped: { path: string; reason: string }[];
  /** Log records read (inputs, clocks, trades). */
  recordsScanned: number;
  /** Commands replayed from the log after the snapshot. */
  recordsReplayed: number;
  /** Logged trades that replay reproduced and checked. */
  tradesVerified: number;
  /** Bytes of torn tail (or, in point-in-time mode, of damaged log) cut off. */
  bytesTruncated: number;
  /** True when a torn write at the very end of the log was cut off. */
  tornTail: boolean;
  /** Sequence number of the last command recovered. */
  lastSeq: number;
  /** Point-in-time recovery only: what was dropped at the first damage. */
  dropped: { fromSeq: number; toSeq: number; file: string; offset: number; reason: string } | null;
  durationMs: number;
}

/**
 * Counters of the WAL writer: since the WAL opened, or, from `walStats({ since })`, of the
 * interval since those earlier stats (every field but `ringHighWater` and `durableSeq`).
 */
export interface WalStats {
  records: number;
  bytes: number;
  syncs: number;
  batches: number;
  segments: number;
  /** Most ring slots ever in use at once, since the WAL opened (also in interval stats). */
  ringHighWater: number;
  producerWaits: number;
  /** Times the matching thread woke the parked writer (each a futex wake: a syscall on the matching thread). */
  writerWakes: number;
  /** The durable watermark now (also in interval stats). */
  durableSeq: number;
  /**
   * How long the writer thread's fdatasync calls took, by its own clock: every one of `syncs`
   * but those open() makes before the first record (the first segment's install). In interval
   * stats, the interval's syncs alone, and `max` is the top of their highest bucket (at most
   * 12.5% above the truth, like the quantiles).
   */
  syncNs: SyncLatency;
  /**
   * Total nanoseconds the matching thread spent waiting for a free ring slot, over its
   * `producerWaits` waits: what the writer falling behind cost matching. Next to a run's wall
   * time it says whether the WAL (the disk, or the writer's copying) set the pace.
   */
  producerWaitNs: number;
  /** Total nanoseconds of the writer thread's writes of records (the kernel's copy into the page cache, mostly). */
  writeNs: number;
  /**
   * Total nanoseconds of the writer thread's pre-writing of the next segments with zeros (the
   * first segment, written by open(), is not counted). With `writeNs` and the syncs' time
   * (`syncNs.mean * syncNs.count`), where the writer's busy time went.
   */
  zeroFillNs: number;
}

/** Options of `engine.walStats()`. */
export interface WalStatsOptions {
  /**
   * Stats this engine's walStats() returned earlier: the result then covers only what happened
   * since them (a monitor's "last minute"), and can itself be the next call's `since`.
   */
  since?: WalStats;
}

/**
 * Durations of the WAL writer's fdatasync calls, in ns. Quantiles come from log-linear buckets:
 * each is the top of its bucket (capped at `max`), never below the true value and at most
 * 12.5% above it; 0 while `count` is 0.
 */
export interface SyncLatency {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /**
   * Quantiles with each sync weighted by its own duration: the length of the sync in progress
   * at a random moment of the writer's syncing time. Under a steady stream of durable() waits,
   * that is the sync a random wait runs into, so a few long syncs count for every wait they
   * held up; set a durable-ack p99 beside `timeP99`, not beside `p99`.
   */
  timeP50: number;
  timeP99: number;
}

/** What engine.snapshot() wrote. */
export interface SnapshotInfo {
  seq: number;
  path: string;
  bytes: number;
  /** Time the engine spent serializing (the only part that holds up matching). */
  pauseMs: number;
  durationMs: number;
}
