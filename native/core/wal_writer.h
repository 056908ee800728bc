// WalWriter: the write-ahead log's writing half. The matching thread calls the Journal methods;
// each encodes one record into a slot of an SPSC ring and returns. A writer thread drains the
// ring in batches, checksums and writes them to the current segment file, syncs, and then
// publishes the durable watermark.
//
// Threads:
//   matching thread  Journal calls (the only producer), close() once it has stopped logging
//   writer thread    all file I/O after open(); runs the onDurable/onFailure callbacks
//   any thread       durableSeq(), failed(), error(), stats(), requestWake(), setCallbacks()
//
// Durable watermark. durableSeq() == S means: every input record (new, cancel, modify,
// add-symbol, and the clock record that precedes one) with seq <= S has been written and
// covered by a successful fdatasync, and so has every record of any seq < S. Trade records of
// S itself may still be on their way: they follow S's command record, and the writer cannot
// tell from the stream whether more of them will come until the next command's records
// appear. Trades are verification data that replay re-derives from the inputs, so this does
// not weaken what durable(S) promises: command S survives a crash. (With logTrades off the
// watermark is exactly "every record with seq <= S".) The watermark only rises, starts at
// resume.nextSeq - 1, and never moves again once the writer has failed.
//
// Backpressure and the async loss window. A ring slot is released to the producer only after
// the fdatasync that covers its record. So at most ringCapacity records are ever not yet
// durable: when the ring is full the producer waits (spin, yield, park) until a sync frees
// slots. Durable mode writes and syncs whatever is in the ring back to back (group commit).
// Async mode leaves records in the ring until the window is due (asyncFlushRecords records,
// capped at ringCapacity, as seen when the writer wakes: under a steady stream it wakes when
// the arrival rate says the count is reached, and at 1.5x the count at the latest; or
// asyncFlushMs since the writer first saw the oldest of them), then
// writes and syncs them with one pwritev and one fdatasync. What a crash (kill -9 or power
// loss) can take in Async mode is therefore bounded by ringCapacity records (typically about
// asyncFlushRecords; more only if records pile up while a sync is in progress) and by about
// asyncFlushMs plus the duration of the sync in progress.
//
// Segments. Files `wal-<seq of their first record, 20 digits>.log`, each exactly the segment
// size (the size in its header) long, pre-written with zeros, header at 0, records from 64.
// A record never straddles two segments; the zero tail after the last record of a full
// segment is the end marker. The first record of a segment may belong to the same seq as the
// last record of the previous one (trades of one command split across the switch). The next
// segment is prepared under the name `wal-next.tmp` (recovery ignores it; open() overwrites
// it; close() removes it).
//
// Waiting. Neither thread busy-waits for long (two cores may be shared by the matching thread,
// the writer and Node): a short pause-spin, a few sched_yield()s, then a futex park on a
// 32-bit epoch word. Each side wakes the other only when it is parked:
//   - the producer after a commit (in a burst: once at its end, or before waiting for a
//     slot), if the writer is parked and the ring has reached the writer's wake threshold
//     (next record; in Async mode with a window open, the count trigger, so an open window
//     costs no wake per record; and while records stream in, 1.5x the count trigger: the
//     writer then times its own nap from the arrival rate, so a steady stream costs the
//     producer no futex wake at all);
//   - the writer after freeing slots, if the producer is parked on a full ring;
//   - the writer on failure and close() on shutdown wake unconditionally.
// Handshakes. "Store my flag, then load yours" on both sides (producer: tail, then
// writer_parked_; writer: writer_parked_, then tail; and the same with head and
// producer_parked_) needs a full barrier between the store and the load, or both loads can
// miss both stores and the waiter sleeps with work pending. Both sides do a seq_cst RMW on a
// shared gate word between the two: the second RMW reads from the first, so the second side
// is guaranteed to see the first side's store. (An RMW rather than atomic_thread_fence: same
// cost on x86, a lock-prefixed instruction, and ThreadSanitizer can check it; it cannot
// check standalone fences.) The waiter reads the epoch before announcing itself and sleeps
// only while the epoch is unchanged; wakers bump the epoch before FUTEX_WAKE, so a wake that
// lands between the waiter's re-check and its sleep is not lost.
//
// Fail-stop. The first error of an open/write/sync/rename/fsync/truncate marks the writer
// failed with {errno, operation, path}: nothing more is written, the watermark is frozen,
// onFailure fires once, and Journal calls return at once without logging (the engine must be
// treated as failed: its in-memory state is ahead of the log).
#pragma once
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "duration_histogram.h"
#include "file_layer.h"
#include "journal.h"
#include "journal_records.h"
#include "spsc_ring.h"
#include "wal_format.h"
#include "wal_record_bytes.h"

namespace durabook {

// 0 / empty on success. `op` names the operation that failed ("open", "pwritev", "fdatasync",
// "fsync", "sync_file_range", "rename", "ftruncate", "mkdir", "listdir", "pread", "stat", "options", "resume",
// "sequence", "encode", "thread", "affinity"); `path` the file or directory it was applied to.
struct WalStatus {
  int err = 0;
  std::string op;
  std::string path;

  bool ok() const { return err == 0; }
  // "fdatasync /data/wal/wal-00000000000000000001.log: Input/output error"
  std::string message() const;
};

enum class WalMode : uint8_t { Durable, Async };

struct WalWriterOptions {
  std::string dir;                       // created (one level) if missing
  uint64_t segmentBytes = 64ull << 20;   // >= 64 KiB, a multiple of 8
  size_t ringCapacity = 65536;           // slots; rounded up to a power of two
  WalMode mode = WalMode::Durable;
  uint32_t asyncFlushMs = 5;             // Async: sync this long after the oldest unsynced record
  uint32_t asyncFlushRecords = 2000;     // Async: or once this many records are unsynced
  int writerCpu = -1;                    // >= 0: pin the writer thread to this CPU
  bool logTrades = true;                 // wantsTrades()
  FileLayer* files = nullptr;            // not owned; null = the process's PosixFileLayer
  // Test hook: called on the writer thread right after each watermark publication, with the
  // new watermark. Lets a test put the publication into a FaultInjectingFileLayer's trace.
  std::function<void(uint64_t)> publishHook;
};

// Where to continue an existing log, as found by recovery.
struct WalResume {
  std::string segmentPath;  // the newest segment, to be appended to
  uint64_t offset = 0;      // end of its last good record (>= 64, a multiple of 8)
  uint64_t nextSeq = 1;     // seq of the next command the engine will log
};

struct WalStats {
  uint64_t records = 0;       // records written (not necessarily synced)
  uint64_t bytes = 0;         // record bytes written, padding included
  uint64_t syncs = 0;         // fdatasync calls on segments, for records or pre-writing
  uint64_t batches = 0;       // pwritev calls carrying records
  uint64_t segments = 0;      // segments installed by this writer
  uint64_t ringHighWater = 0; // most slots ever seen in use (written-unsynced included)
  uint64_t producerWaits = 0; // Journal calls that found the ring full
  uint64_t writerWakes = 0;   // futex wakes of the parked writer by the producer
  // How long each of the writer thread's syncs took (its own clock around the call): all of
  // `syncs` but open()'s own, which come before any record.
  DurationHistogram::Snapshot syncNs;
  // Where the time went, each side by its own clock (syncNs.totalNs is the third part of the
  // writer's busy time). A run whose producerWaitNs is a large share of its wall time was set
  // by the writer, and these say whether the writer's time went to the disk (syncs) or to the
  // kernel's copy into the page cache (writes, zero-fill).
  uint64_t writeNs = 0;         // the writer thread's pwritev calls carrying records
  uint64_t zeroFillNs = 0;      // the writer thread's pre-writing of next segments (zeros)
  uint64_t producerWaitNs = 0;  // the matching thread's waits for a free slot (producerWaits)

  // What happened after `earlier`, stats of the same writer taken before these: every counter
  // is a difference and syncNs covers that interval's syncs (DurationHistogram::Snapshot::since).
  // ringHighWater stays these stats' own: a high-water mark has no difference.
  WalStats since(const WalStats& earlier) const;
};

class WalWriter final : public Journal {
 public:
  // Opens a log and starts the writer thread.
  //  - resume empty: a fresh log whose first command is seq 1. Creates `dir` (one level) if
  //    missing, refuses a dir that already holds wal-*.log files (EEXIST), and installs the
  //    first segment (pre-written, header, synced, renamed, dir fsynced) before returning.
  //  - resume with an empty segmentPath: the same, numbering from resume->nextSeq (a log that
  //    starts after a snapshot).
  //  - resume with a segmentPath: appends to that segment at resume->offset. Whatever lies
  //    between offset and the segment's end (a torn record) is zeroed and synced first.
  // On error *out stays null and nothing is left running.
  static WalStatus open(const WalWriterOptions& options, const std::optional<WalResume>& resume,
                        std::unique_ptr<WalWriter>* out);

  ~WalWriter() override;  // close()
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // --- Journal (matching thread only) ---------------------------------------------------
  // The hot records are encoded straight into the slot (wal_record_bytes.h), and defined here
  // so that the engine's calls inline (Journal::asWalWriter); only ADD_SYMBOL, rare and
  // variable-length, goes through a WalRecord, out of line.
  void logClock(uint64_t seq, int64_t ts) override {
    append([&](uint8_t* out) { return wal_encode_clock(out, seq, ts); });
  }
  void logNew(uint64_t seq, const NewOrderCmd& c) override {
    append([&](uint8_t* out) { return wal_encode_new(out, seq, wal_new(c)); });
  }
  void logCancel(uint64_t seq, int64_t id) override {
    append([&](uint8_t* out) { return wal_encode_cancel(out, seq, id); });
  }
  void logModify(uint64_t seq, const ModifyCmd& c) override {
    append([&](uint8_t* out) { return wal_encode_modify(out, seq, wal_modify(c)); });
  }
  void logAddSymbol(uint64_t seq, uint32_t symbol, std::string_view name) override;
  void logTrade(uint64_t seq, const Trade& t) override {
    append([&](uint8_t* out) { return wal_encode_trade(out, seq, wal_trade(t)); });
  }
  bool wantsTrades() const override { return log_trades_; }
  WalWriter* asWalWriter() override { return this; }

  // --- bursts (matching thread only) ----------------------------------------------------
  // Between beginBurst() and endBurst() a record's commit skips the check for a parked writer
  // that it is due to wake; endBurst() makes that check once for the whole burst. The check is
  // a seq_cst RMW (see "Handshakes" above), about 10 ns of the matching thread's time per
  // record, and a command logs one to a few records. A burst must end before the matching
  // thread waits for the writer in any way (a durable() wait, close()): a parked writer may
  // not see the burst's records until then. A full ring needs no end: the producer wakes the
  // writer before it waits for a slot. Use WalBurst, which cannot forget the end.
  void beginBurst() { in_burst_ = true; }
  void endBurst() {
    in_burst_ = false;
    wakeWriterIfParked();
  }

  // --- notification ---------------------------------------------------------------------
  // Both run on the writer thread and must not block, call close() or setCallbacks(). If the
  // writer has already failed when onFailure is installed, it runs here, on the calling thread.
  void setCallbacks(std::function<void()> onDurable, std::function<void()> onFailure);
  // Asks for one onDurable call once the watermark reaches `seq`. Requests merge: the writer
  // keeps the lowest outstanding one and consumes it when a sync lifts the watermark to it, so
  // the handler must read durableSeq(), settle everything up to it, and call requestWake()
  // again for the lowest seq still pending. Returns true if the watermark is already >= seq
  // (settle now; an onDurable may still follow, harmlessly). Never blocks.
  bool requestWake(uint64_t seq);

  // --- state (any thread) ---------------------------------------------------------------
  uint64_t durableSeq() const { return durable_seq_.load(std::memory_order_acquire); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  WalStatus error() const;  // ok() unless failed()
  WalStats stats() const;
  const std::string& dir() const { return options_.dir; }

  // Drains the ring, writes and syncs everything, stops the writer thread, closes the files.
  // Call from the matching thread once it has stopped logging (or from any thread once the
  // matching thread is done). Idempotent; returns error() (ok if never failed).
  WalStatus close();

 private:
  struct alignas(kMaxRecordSize) Slot {
    uint8_t bytes[kMaxRecordSize];
  };

  explicit WalWriter(const WalWriterOptions& options);

  // Producer side.
  // Encode: size_t(uint8_t* slot), the record's padded size or 0 if not representable.
  template <typename Encode>
  void append(Encode encode) {
    // Relaxed is enough: these flags only ever go from false to true, and acting on a stale
    // false costs one record queued into a ring that will not be written, which a failed or
    // closing log ignores anyway. The slow path re-reads failed_ with acquire.
    if (failed_.load(std::memory_order_relaxed) || closed_.load(std::memory_order_relaxed)) return;
    Slot* s = ring_.try_reserve();
    if (s == nullptr && (s = waitForSlot()) == nullptr) return;  // failed: the engine is failed
    if (encode(s->bytes) == 0) encodeFailed(s);
    ring_.commit();
    ++produced_;
    if (!in_burst_) wakeWriterIfParked();
  }
  // A record that is not representable (a bug upstream): a zero-length header in its slot.
  static void encodeFailed(Slot* s);
  Slot* waitForSlot();
  void wakeWriterIfParked();

  // Writer side.
  void run();
  bool writeFresh(size_t fresh);
  bool syncAndPublish();
  void dropSyncedPages();  // after a sync: the segment's synced whole pages leave the page cache
  // fdatasync(fd), counted in st_syncs_ and timed into st_sync_ns_.
  int timedSync(int fd);
  void publish(uint64_t seq);
  bool switchSegment();
  bool preallocDue() const;
  bool preallocBehind() const;
  bool preallocChunk();
  bool installNextSegment(uint64_t first_seq);
  bool resumeSegment(const WalResume& r);
  std::string tmpPath() const { return dir_ + "/wal-next.tmp"; }
  void parkWriter(uint64_t wake_at, int64_t timeout_ns);
  static void* threadMain(void* self);
  void releaseProducer();
  void fail(int err, const char* op, const std::string& path);
  std::string segmentPath(uint64_t first_seq) const;

  const WalWriterOptions options_;
  const std::string dir_;  // options_.dir without trailing slashes
  FileLayer* const files_;
  const bool log_trades_;
  const uint64_t record_trigger_;  // Async: sync at this many unsynced records
  const uint64_t backstop_;        // Async: the producer's wake while the writer naps on a forecast

  SpscRing<Slot> ring_;

  // --- shared state, grouped by who writes it -------------------------------------------
  // Read by the producer on every record, written rarely (park/unpark, failure, close).
  alignas(64) std::atomic<bool> failed_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> writer_parked_{false};
  std::atomic<uint32_t> writer_epoch_{0};   // futex word the writer parks on
  std::atomic<uint64_t> writer_wake_at_{0}; // wake the parked writer once produced_ reaches this
  // Producer-owned: records committed so far (the ring's tail), and its parking state. The
  // two gates are the shared words of the store-load handshakes (see the .cc): writer_gate_
  // takes an RMW per record (per burst, in one) from the producer and one per park from the
  // writer; producer_gate_ one per sync from the writer and one per park from the producer.
  alignas(64) uint64_t produced_ = 0;
  bool in_burst_ = false;                   // between beginBurst() and endBurst()
  std::atomic<uint64_t> writer_gate_{0};
  std::atomic<uint64_t> producer_gate_{0};
  std::atomic<bool> producer_parked_{false};
  std::atomic<uint32_t> space_epoch_{0};    // futex word the producer parks on
  std::atomic<uint64_t> producer_waits_{0};
  std::atomic<uint64_t> producer_wait_ns_{0};
  std::atomic<uint64_t> writer_wakes_{0};
  std::atomic<bool> closed_{false};         // close() has begun; Journal calls are ignored
  // The watermark (writer writes once per sync) and the wake request (anyone writes).
  alignas(64) std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> wake_at_;

  // stats (writer writes, anyone reads; relaxed, each a snapshot)
  alignas(64) std::atomic<uint64_t> st_records_{0};
  std::atomic<uint64_t> st_bytes_{0};
  std::atomic<uint64_t> st_syncs_{0};
  DurationHistogram st_sync_ns_;  // one sample per sync of the writer thread
  bool in_writer_thread_ = false;  // set by run(): syncs and zero-fill from here on are timed
  std::atomic<uint64_t> st_write_ns_{0};
  std::atomic<uint64_t> st_zero_fill_ns_{0};
  std::atomic<uint64_t> st_batches_{0};
  std::atomic<uint64_t> st_segments_{0};
  std::atomic<uint64_t> st_high_water_{0};

  // --- writer-thread state (and open()'s, before the thread starts) ----------------------
  alignas(64) WalStatus error_;  // written once, before failed_ is set (release)
  std::unique_ptr<uint8_t[]> batch_;
  std::unique_ptr<uint8_t[]> zeros_;  // kPreallocChunk zero bytes
  int cur_fd_ = -1;
  std::string cur_path_;
  uint64_t seg_size_ = 0;
  uint64_t seg_off_ = 0;        // where the next record goes
  uint64_t cache_dropped_ = 0;  // [0, this) of the segment has been handed to dropCache
  int next_fd_ = -1;            // the segment being pre-written, or -1
  uint64_t prealloc_off_ = 0;   // bytes of it written (and synced) so far
  size_t written_ = 0;          // slots at the ring's front written but not yet synced
  uint64_t last_cmd_seq_ = 0;   // seq of the last command record written
  uint64_t pending_seq_ = 0;    // watermark the next sync will publish
  bool need_switch_ = false;    // the next record does not fit this segment
  uint64_t popped_ = 0;         // slots handed back to the producer (the ring's head)
  pthread_t thread_{};
  bool thread_started_ = false;

  std::mutex cb_mu_;  // guards the callbacks and failure_notified_
  std::function<void()> on_durable_;
  std::function<void()> on_failure_;
  bool failure_notified_ = false;
};

// One burst of records (see WalWriter::beginBurst) for the scope's lifetime: a batch, or one
// command's records. A null writer (an engine without a WAL) makes it a no-op.
class WalBurst {
 public:
  explicit WalBurst(WalWriter* w) : w_(w) {
    if (w_ != nullptr) w_->beginBurst();
  }
  ~WalBurst() {
    if (w_ != nullptr) w_->endBurst();
  }
  WalBurst(const WalBurst&) = delete;
  WalBurst& operator=(const WalBurst&) = delete;

 private:
  WalWriter* const w_;
};

}  // namespace durabook
