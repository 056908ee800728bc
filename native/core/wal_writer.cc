#include "wal_writer.h"

#include "cpu_affinity.h"
#include "journal_records.h"
#include "wal_record_bytes.h"
#include "wal_recovery.h"

#include <sched.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include "test_bugs.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace durabook {
namespace {

// --- tuning -----------------------------------------------------------------------------------

// Idle backoff. The machine may have two cores shared by the matching thread, the writer and
// Node's own threads, so neither side spins for long: a few microseconds of pause, a few
// yields (which let a co-scheduled peer run), then a futex park.
constexpr unsigned kWriterSpins = 256;
constexpr unsigned kWriterYields = 16;
constexpr unsigned kProducerSpins = 128;
constexpr unsigned kProducerYields = 16;

// Zero-fill chunk: the unit the writer copies into the page cache and starts writing back
// (~25 us for 256 KiB), so that an idle writer keeps to the schedule in small steps. (4 MiB chunks, each synced,
// made the producer wait up to 30 ms on a full ring when the disk throttled.)
constexpr uint64_t kPreallocChunk = 256ull << 10;
// Synced records are handed back to the kernel's page cache in steps of at least this much
// (page-aligned), about 10,000 orders at a time: few enough calls to cost nothing.
constexpr uint64_t kDropCacheStep = 1ull << 20;
constexpr uint64_t kPageBytes = 4096;
// Async: empty windows (asyncFlushMs each) the writer sleeps through on a timer before it
// sleeps until the next record instead.
constexpr unsigned kAsyncIdleParks = 20;

// Async: the shortest nap before an expected count trigger (about a futex timeout's cost).
constexpr int64_t kMinNapNs = 50'000;

constexpr uint64_t kNoWake = UINT64_MAX;

// Async: the producer's recent record rate, from the ring's tail at the writer's looks, to
// predict when the count trigger will be reached.
class ArrivalRate {
 public:
  // Nanoseconds until `more` further records arrive at the rate seen since the last call
  // (which this call replaces by now/tail), or -1 if none arrived in between.
  int64_t etaNs(int64_t now, uint64_t tail, uint64_t more) {
    int64_t eta = -1;
    if (seen_at_ != 0 && tail > seen_tail_ && now > seen_at_) {
      eta = static_cast<int64_t>(static_cast<double>(more) * static_cast<double>(now - seen_at_) /
                                 static_cast<double>(tail - seen_tail_));
    }
    seen_at_ = now;
    seen_tail_ = tail;
    return eta;
  }
  void reset() { seen_at_ = 0; }

 private:
  int64_t seen_at_ = 0;
  uint64_t seen_tail_ = 0;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Adds the time from its construction to its destruction to *to (if not null): one clock read
// at each end, on paths that make a syscall anyway.
class TimedScope {
 public:
  explicit TimedScope(std::atomic<uint64_t>* to) : to_(to), t0_(to != nullptr ? now_ns() : 0) {}
  ~TimedScope() {
    if (to_ != nullptr) to_->fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, now_ns() - t0_)), std::memory_order_relaxed);
  }
  TimedScope(const TimedScope&) = delete;
  TimedScope& operator=(const TimedScope&) = delete;

 private:
  std::atomic<uint64_t>* const to_;
  const int64_t t0_;
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// --- parking ----------------------------------------------------------------------------------
//
// A 32-bit epoch word per waiter. The waiter reads the epoch, announces itself (a "parked"
// flag), re-checks its condition, and sleeps only while the epoch still has the value it read.
// A waker bumps the epoch before waking, so a wake that lands between the re-check and the
// sleep makes the sleep return at once: no wake-up is lost.

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
              "the futex operates on the atomic's storage");

#if defined(__linux__)
void park_on(std::atomic<uint32_t>* word, uint32_t seen, int64_t timeout_ns) {
  struct timespec ts;
  struct timespec* tp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    tp = &ts;
  }
  // Returns on a wake, a timeout, a signal, or at once if *word != seen (EAGAIN); the callers
  // loop and re-check their condition in every case.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, seen, tp, nullptr, 0);
}

void unpark_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}
#else
// Portable fallback: C++20 atomic wait has no timeout, so a timed park polls in 1 ms steps.
void park_on(std::atomic<uint32_t>* word, uint32_t seen, int64_t timeout_ns) {
  if (timeout_ns < 0) {
    word->wait(seen, std::memory_order_acquire);
    return;
  }
  const int64_t step = timeout_ns < 1'000'000 ? timeout_ns : 1'000'000;
  struct timespec ts{0, static_cast<long>(step)};
  nanosleep(&ts, nullptr);
}

void unpark_all(std::atomic<uint32_t>* word) { word->notify_all(); }
#endif


bool is_command(uint8_t type) {
  switch (static_cast<WalType>(type)) {
    case WalType::New:
    case WalType::Cancel:
    case WalType::Modify:
    case WalType::AddSymbol:
      return true;
    case WalType::Clock:
    case WalType::Trade:
      return false;
  }
  return false;
}

std::string strip_slashes(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

std::string parent_of(const std::string& d) {
  const size_t slash = d.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return d.substr(0, slash);
}

bool is_segment_name(const std::string& n) {
  return n.size() == 4 + 20 + 4 && n.compare(0, 4, "wal-") == 0 && n.compare(24, 4, ".log") == 0;
}

// 0 if a thread of this process may be pinned to `cpu`, else the errno pinning one gives. A
// short-lived thread tries it on itself: the calling thread's own mask is no guide (a caller
// pinned to CPU 0 may still put the writer on CPU 1), and only the kernel knows the cgroup's.
int cpu_can_run_threads(int cpu) {
  struct Probe {
    int cpu;
    int result = EINVAL;
    static void* run(void* p) {
      Probe* self = static_cast<Probe*>(p);
      self->result = pin_thread(pthread_self(), self->cpu);
      return nullptr;
    }
  } probe{cpu};
  pthread_t t;
  if (const int e = pthread_create(&t, nullptr, &Probe::run, &probe); e != 0) return e;
  pthread_join(t, nullptr);
  return probe.result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string WalStatus::message() const {
  if (ok()) return "ok";
  std::string m = op;
  if (!path.empty()) m += " " + path;
  m += ": ";
  m += std::strerror(err);
  return m;
}

WalWriter::WalWriter(const WalWriterOptions& options)
    : options_(options),
      dir_(strip_slashes(options.dir)),
      files_(options.files != nullptr ? options.files : posix_file_layer()),
      log_trades_(options.logTrades),
      record_trigger_(std::max<uint64_t>(
          1, std::min<uint64_t>(options.asyncFlushRecords, std::bit_ceil(std::max<size_t>(options.ringCapacity, 1))))),
      backstop_(std::min<uint64_t>(record_trigger_ + record_trigger_ / 2,
                                   std::bit_ceil(std::max<size_t>(options.ringCapacity, 1)))),
      ring_(options.ringCapacity),
      wake_at_(kNoWake) {}

WalWriter::~WalWriter() { close(); }

WalStatus WalWriter::open(const WalWriterOptions& options, const std::optional<WalResume>& resume,
                          std::unique_ptr<WalWriter>* out) {
  out->reset();
  if (options.dir.empty() || options.segmentBytes < (64u << 10) || options.segmentBytes > kMaxSegmentBytes ||
      options.segmentBytes % 8 != 0 ||
      options.ringCapacity == 0 || options.ringCapacity > (size_t{1} << 24) ||
      (resume && resume->nextSeq == 0)) {
    return WalStatus{EINVAL, "options", options.dir};
  }
  if (options.writerCpu >= 0) {
    // Checked before anything is created, so a bad CPU leaves no segment behind.
    if (const int e = cpu_can_run_threads(options.writerCpu); e != 0) {
      return WalStatus{e, "affinity", std::to_string(options.writerCpu)};
    }
  }
  std::unique_ptr<WalWriter> w(new WalWriter(options));
  w->batch_.reset(new uint8_t[w->ring_.capacity() * kMaxRecordSize]);
  w->zeros_.reset(new uint8_t[kPreallocChunk]());
  FileLayer* f = w->files_;

  if (resume && !resume->segmentPath.empty()) {
    if (!w->resumeSegment(*resume)) return w->error_;
  } else {
    int e = f->mkdir(w->dir_);
    if (e != 0 && e != EEXIST) {
      w->fail(e, "mkdir", w->dir_);
      return w->error_;
    }
    // A directory we just created is itself a new name in its parent.
    if (e == 0 && (e = f->fsyncDir(parent_of(w->dir_))) != 0) {
      w->fail(e, "fsync", parent_of(w->dir_));
      return w->error_;
    }
    std::vector<std::string> names;
    if ((e = f->listDir(w->dir_, &names)) != 0) {
      w->fail(e, "listdir", w->dir_);
      return w->error_;
    }
    for (const std::string& n : names) {
      // Starting a second log over an existing one would interleave two histories.
      // Continuing after recovery set every segment it could append to aside: older segments
      // (all before the first seq to come) stay, as the log's history.
      uint64_t existing = 0;
      if (is_segment_name(n) && !(resume && parse_segment_file_name(n, &existing) && existing < resume->nextSeq)) {
        w->fail(EEXIST, "open", w->dir_ + "/" + n);
        return w->error_;
      }
    }
    const uint64_t first = resume ? resume->nextSeq : 1;
    if (!w->installNextSegment(first)) return w->error_;
  }
  const uint64_t next = resume ? resume->nextSeq : 1;
  w->last_cmd_seq_ = next - 1;
  w->pending_seq_ = next - 1;
  w->durable_seq_.store(next - 1, std::memory_order_relaxed);  // published by pthread_create

  const int e = pthread_create(&w->thread_, nullptr, &WalWriter::threadMain, w.get());
  if (e != 0) {
    w->fail(e, "thread", w->dir_);
    return w->error_;
  }
  w->thread_started_ = true;
  if (options.writerCpu >= 0) {
    if (const int ae = pin_thread(w->thread_, options.writerCpu); ae != 0) {
      w->close();  // stops the (idle) thread
      return WalStatus{ae, "affinity", std::to_string(options.writerCpu)};
    }
  }
  *out = std::move(w);
  return WalStatus{};
}

std::string WalWriter::segmentPath(uint64_t first_seq) const {
  char name[40];
  std::snprintf(name, sizeof name, "/wal-%020llu.log", static_cast<unsigned long long>(first_seq));
  return dir_ + name;
}

// --- failure ----------------------------------------------------------------------------------

void WalWriter::fail(int err, const char* op, const std::string& path) {
  // Invariant: only one thread does I/O at a time (open()'s caller, then the writer thread),
  // so only one thread ever gets here; the first failure is the one reported.
  if (failed_.load(std::memory_order_relaxed)) return;
  error_ = WalStatus{err, op, path};
  // Release: error_ is complete before anyone who sees failed_ (acquire) reads it.
  failed_.store(true, std::memory_order_release);
  // A producer parked on a full ring must not wait for slots that will never be freed. The
  // epoch bump (release) makes a producer that reads the new epoch (acquire) also see failed_.
  space_epoch_.fetch_add(1, std::memory_order_release);
  unpark_all(&space_epoch_);
  std::lock_guard<std::mutex> lock(cb_mu_);
  if (on_failure_ && !failure_notified_) {
    failure_notified_ = true;
    on_failure_();
  }
}

WalStatus WalWriter::error() const {
  if (!failed()) return WalStatus{};
  return error_;
}

WalStats WalWriter::stats() const {
  WalStats s;
  s.records = st_records_.load(std::memory_order_relaxed);
  s.bytes = st_bytes_.load(std::memory_order_relaxed);
  s.syncs = st_syncs_.load(std::memory_order_relaxed);
  s.batches = st_batches_.load(std::memory_order_relaxed);
  s.segments = st_segments_.load(std::memory_order_relaxed);
  s.ringHighWater = st_high_water_.load(std::memory_order_relaxed);
  s.producerWaits = producer_waits_.load(std::memory_order_relaxed);
  s.writerWakes = writer_wakes_.load(std::memory_order_relaxed);
  s.syncNs = st_sync_ns_.snapshot();
  s.writeNs = st_write_ns_.load(std::memory_order_relaxed);
  s.zeroFillNs = st_zero_fill_ns_.load(std::memory_order_relaxed);
  s.producerWaitNs = producer_wait_ns_.load(std::memory_order_relaxed);
  return s;
}

WalStats WalStats::since(const WalStats& earlier) const {
  WalStats d = *this;
  d.records = countSince(records, earlier.records);
  d.bytes = countSince(bytes, earlier.bytes);
  d.syncs = countSince(syncs, earlier.syncs);
  d.batches = countSince(batches, earlier.batches);
  d.segments = countSince(segments, earlier.segments);
  d.producerWaits = countSince(producerWaits, earlier.producerWaits);
  d.writerWakes = countSince(writerWakes, earlier.writerWakes);
  d.syncNs = syncNs.since(earlier.syncNs);
  d.writeNs = countSince(writeNs, earlier.writeNs);
  d.zeroFillNs = countSince(zeroFillNs, earlier.zeroFillNs);
  d.producerWaitNs = countSince(producerWaitNs, earlier.producerWaitNs);
  return d;
}

// --- notification -----------------------------------------------------------------------------

void WalWriter::setCallbacks(std::function<void()> onDurable, std::function<void()> onFailure) {
  std::lock_guard<std::mutex> lock(cb_mu_);
  on_durable_ = std::move(onDurable);
  on_failure_ = std::move(onFailure);
  // fail() sets failed_ before it takes cb_mu_, so either it finds this callback installed,
  // or we find failed_ set here: the failure is reported exactly once either way.
  if (on_failure_ && !failure_notified_ && failed_.load(std::memory_order_acquire)) {
    failure_notified_ = true;
    on_failure_();
  }
}

bool WalWriter::requestWake(uint64_t seq) {
  if (durable_seq_.load(std::memory_order_acquire) >= seq) return true;
  uint64_t cur = wake_at_.load(std::memory_order_relaxed);
  while (seq < cur && !wake_at_.compare_exchange_weak(cur, seq, std::memory_order_seq_cst)) {
  }
  // Store-then-load on both sides (we: request, then watermark; publish(): watermark, then
  // request), all seq_cst, so they fall in one total order: if our load misses the new
  // watermark, the writer's load comes after our request and sees it. No request is stranded.
  return durable_seq_.load(std::memory_order_seq_cst) >= seq;
}

void WalWriter::publish(uint64_t seq) {
  // Invariant: the watermark only rises.
  assert(seq >= durable_seq_.load(std::memory_order_relaxed));
  durable_seq_.store(seq, std::memory_order_seq_cst);  // seq_cst: see requestWake()
  if (options_.publishHook) options_.publishHook(seq);
  uint64_t want = wake_at_.load(std::memory_order_seq_cst);
  if (want > seq) return;
  want = wake_at_.exchange(kNoWake, std::memory_order_acq_rel);
  if (want <= seq) {
    std::lock_guard<std::mutex> lock(cb_mu_);
    if (on_durable_) on_durable_();
  } else if (want != kNoWake) {
    // A higher request replaced the one we saw between our load and the exchange; put it back.
    uint64_t cur = wake_at_.load(std::memory_order_relaxed);
    while (want < cur && !wake_at_.compare_exchange_weak(cur, want, std::memory_order_seq_cst)) {
    }
  }
}

// --- producer side (matching thread) ----------------------------------------------------------

void WalWriter::logAddSymbol(uint64_t seq, uint32_t symbol, std::string_view name) {
  const WalRecord r = wal_add_symbol_record(seq, symbol, name);
  append([&](uint8_t* out) { return encode_record(r, out); });
}

void WalWriter::encodeFailed(Slot* s) {
  // Hand the writer a zero-length record: it fails stop with EINVAL rather than leave a hole
  // in the sequence.
  std::memset(s->bytes, 0, kRecordHeaderSize);
}

void WalWriter::wakeWriterIfParked() {
  // The store-load handshake with parkWriter() (see "Handshakes" in the header): we stored
  // tail (commit); the writer stored writer_parked_; each then does an RMW on writer_gate_
  // and loads the other's variable. Whichever RMW comes second reads the first one's value
  // (acquire from its release), so the side that comes second sees the other's store: either
  // the writer's re-check sees our record and does not sleep, or we see it parked and wake
  // it. Without this both loads could be served before the other side's store leaves its
  // store buffer, and the writer would sleep on a non-empty ring.
  writer_gate_.fetch_add(1, std::memory_order_seq_cst);
  // Acquire pairs with the writer's release store of writer_parked_, so writer_wake_at_ is the
  // value it set for this park. Steady state: one load of a line nobody is writing.
  if (!writer_parked_.load(std::memory_order_acquire)) return;
  if (produced_ < writer_wake_at_.load(std::memory_order_relaxed)) return;
  // exchange: of several commits that see the writer parked, only one pays for the syscall.
  if (!writer_parked_.exchange(false, std::memory_order_relaxed)) return;
  writer_wakes_.fetch_add(1, std::memory_order_relaxed);
  writer_epoch_.fetch_add(1, std::memory_order_release);
  unpark_all(&writer_epoch_);
}

WalWriter::Slot* WalWriter::waitForSlot() {
  producer_waits_.fetch_add(1, std::memory_order_relaxed);
  const TimedScope timed(&producer_wait_ns_);
  // In a burst the commits have not checked for a parked writer; the writer must not sleep
  // through a full ring that only it can drain. (A full ring has passed any wake threshold.)
  if (in_burst_) wakeWriterIfParked();
  for (unsigned i = 0; i < kProducerSpins + kProducerYields; ++i) {
    if (i < kProducerSpins) {
      cpu_relax();
    } else {
      sched_yield();
    }
    if (Slot* s = ring_.try_reserve()) return s;
    if (failed_.load(std::memory_order_acquire)) return nullptr;
  }
  for (;;) {
    const uint32_t seen = space_epoch_.load(std::memory_order_acquire);
    producer_parked_.store(true, std::memory_order_relaxed);
    // Handshake with releaseProducer(): we store producer_parked_, RMW producer_gate_, load
    // head (in try_reserve); the writer stores head (pop), RMW producer_gate_, loads
    // producer_parked_. As in wakeWriterIfParked(), the second of us sees the first one's
    // store: either the slot is free now, or the writer will wake us.
    producer_gate_.fetch_add(1, std::memory_order_seq_cst);
    Slot* s = ring_.try_reserve();
    if (s != nullptr || failed_.load(std::memory_order_acquire)) {
      producer_parked_.store(false, std::memory_order_relaxed);
      return s;
    }
    park_on(&space_epoch_, seen, -1);
  }
}

// --- writer thread ----------------------------------------------------------------------------

void* WalWriter::threadMain(void* self) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "durabook-wal");
  // Async naps are timed to the expected count trigger (hundreds of microseconds); the
  // default 50 us of timer slack would make each one late by up to that much.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
#endif
  static_cast<WalWriter*>(self)->run();
  return nullptr;
}

void WalWriter::releaseProducer() {
  // Handshake with waitForSlot(): pop() stored head; now RMW, then load producer_parked_.
  producer_gate_.fetch_add(1, std::memory_order_seq_cst);
  if (!producer_parked_.load(std::memory_order_relaxed)) return;
  if (!producer_parked_.exchange(false, std::memory_order_relaxed)) return;
  space_epoch_.fetch_add(1, std::memory_order_release);
  unpark_all(&space_epoch_);
}

void WalWriter::parkWriter(uint64_t wake_at, int64_t timeout_ns) {
  const uint32_t seen = writer_epoch_.load(std::memory_order_acquire);
  writer_wake_at_.store(wake_at, std::memory_order_relaxed);
  // Release: a producer that sees writer_parked_ (acquire) also sees writer_wake_at_ above.
  writer_parked_.store(true, std::memory_order_release);
  // Handshake with wakeWriterIfParked(): store flag, RMW writer_gate_, load tail here; store
  // tail, RMW writer_gate_, load flag there.
  writer_gate_.fetch_add(1, std::memory_order_seq_cst);
  const uint64_t tail = popped_ + ring_.read_available();
  // stop_: close() bumps the epoch after setting it, so reading a stale false here is fine
  // (the sleep returns at once), but checking it saves the round trip.
  if (tail < wake_at && !stop_.load(std::memory_order_acquire)) park_on(&writer_epoch_, seen, timeout_ns);
  writer_parked_.store(false, std::memory_order_relaxed);
}

void WalWriter::run() {
  in_writer_thread_ = true;
  const bool async = options_.mode == WalMode::Async;
  const int64_t flush_ns = static_cast<int64_t>(options_.asyncFlushMs) * 1'000'000;
  // Durable: spin/yield rounds on an empty ring. Async: empty windows slept through in a row.
  unsigned idle = 0;
  // Async: when the current flush window opened (0: none open). Either when the writer went
  // to sleep on an empty ring (so a record arriving during that sleep waits at most
  // asyncFlushMs), or when it first saw a record it had not slept for (it cannot see a record
  // arrive while it is blocked in a sync, so such a window counts from when it is free).
  int64_t window_start = 0;
  // Async: a flush that stopped at the end of a segment still owes the records that did not
  // fit; they are flushed into the new segment at once, not given a window of their own.
  bool carry = false;
  // Async: the ring's tail as last seen, for the arrival rate that times the naps.
  ArrivalRate arrivals;
  for (;;) {
    // stop_ before the ring: close() sets stop_ after the producer's last commit, so once we
    // have seen stop_ (acquire), the read_available() below sees every record.
    const bool stopping = stop_.load(std::memory_order_acquire);
    const size_t avail = ring_.read_available();
    if (avail > st_high_water_.load(std::memory_order_relaxed)) {
      st_high_water_.store(avail, std::memory_order_relaxed);
    }
    if (avail == 0) {
      // Invariant: written-but-unsynced records still occupy their slots.
      assert(written_ == 0);
      carry = false;
      if (stopping) return;  // drained, written, synced
    } else {
      // Durable: every batch is written and synced at once, back to back, no timer: records
      // that arrive during one sync form the next batch (group commit).
      // Async: the ring holds the unsynced window; write and sync it when it has
      // asyncFlushRecords records or is asyncFlushMs old.
      bool due = !async || stopping || need_switch_ || carry || avail >= record_trigger_;
      if (!due) {
        const int64_t now = now_ns();
        if (window_start == 0) window_start = now;
        due = now - window_start >= flush_ns;
      }
      if (due) {
        if (avail > written_ && !need_switch_ && !writeFresh(avail - written_)) return;
        if (written_ > 0 && !syncAndPublish()) return;
        // A record did not fit: everything before it is synced; move to the next segment.
        carry = false;
        if (need_switch_ && written_ == 0) {
          if (!switchSegment()) return;
          carry = true;
        }
        window_start = 0;
        idle = 0;
        // Catch the zero-fill up with its schedule. A chunk costs a copy into the page cache
        // (its disk write is only started), so even a big batch owes only microseconds here,
        // and a burst never meets the segment switch with the next segment half unwritten.
        while (preallocBehind()) {
          if (!preallocChunk()) return;
        }
        continue;
      }
    }
    // Idle, or an async window still open: zero-fill the next segment if it is behind its
    // schedule (one chunk, then look at the ring again).
    if (preallocBehind()) {
      if (!preallocChunk()) return;
      continue;
    }
    if (async) {
      // Nothing to do until the window is due, and the window is a deliberate delay: no spin.
      // Spinning here would only keep reading the ring's tail, whose cache line the producer
      // writes on every record (measured: async throughput 2.8 M/s spinning, 4.8-6.4 M/s
      // parked). Sleep until the count trigger or the window closes, whichever comes first.
      // An empty ring starts the window now: a record that arrives while we sleep has then
      // waited at most asyncFlushMs when the timeout fires, and the producer pays no wake for
      // it. After kAsyncIdleParks empty windows in a row, sleep until the next record; the
      // window is then long past, so that record (and whatever came with it) goes at once.
      const int64_t now = now_ns();
      if (avail == 0) {
        if (idle >= kAsyncIdleParks) {
          parkWriter(popped_ + 1, -1);
          idle = 0;
          arrivals.reset();
          continue;
        }
        window_start = now;
        ++idle;
      }
      const int64_t left = std::max<int64_t>(0, window_start + flush_ns - now);
      // Records are streaming in: sleep until the arrival rate says the count trigger is
      // reached, and have the producer wake us only well past it. A producer's futex wake
      // costs the matching thread a syscall and an inter-processor interrupt, which at one
      // per window was the async mode's p99.9 (measured: 4 us against 2.8 us for no WAL).
      // Otherwise (an empty ring, or nothing arrived since we last looked) the producer
      // wakes us at the trigger itself.
      const int64_t eta = arrivals.etaNs(now, popped_ + avail, record_trigger_ - std::min<uint64_t>(avail, record_trigger_));
      if (avail > 0 && eta >= 0) {
        parkWriter(popped_ + backstop_, std::min(left, std::max(eta, kMinNapNs)));
      } else {
        parkWriter(popped_ + record_trigger_, left);
      }
      continue;
    }
    // Durable: the next record wants its sync at once. Spin briefly (a record that arrives
    // now costs the producer no wake), then yield, then sleep until it comes.
    if (idle < kWriterSpins) {
      cpu_relax();
      ++idle;
      continue;
    }
    if (idle < kWriterSpins + kWriterYields) {
      sched_yield();
      ++idle;
      continue;
    }
    parkWriter(popped_ + 1, -1);
    idle = 0;
  }
}

bool WalWriter::writeFresh(size_t fresh) {
  uint8_t* out = batch_.get();
  size_t bytes = 0;
  size_t n = 0;
  uint64_t cmd = last_cmd_seq_;
  for (; n < fresh; ++n) {
    const Slot* s = ring_.peek(written_ + n);
    // Invariant: the slots below read_available() are readable.
    assert(s != nullptr);
    const uint8_t* rec = s->bytes;
    const size_t len = wal_load<uint16_t>(rec + kWalLenOff);
    if (len < kRecordHeaderSize || len > kMaxRecordSize) {
      fail(EINVAL, "encode", cur_path_);
      return false;
    }
    const size_t size = wal_align8(len);
    if (seg_off_ + bytes + size > seg_size_) {
      need_switch_ = true;
      break;
    }
    // Sequence discipline (journal.h): a command carries the previous command's seq + 1, its
    // clock record the same seq before it, its trades the same seq after it. Writing anything
    // else would leave a log that recovery must refuse, so refuse it here instead.
    const uint8_t type = rec[kWalTypeOff];
    const uint64_t seq = wal_load<uint64_t>(rec + kWalSeqOff);
    const uint64_t want = static_cast<WalType>(type) == WalType::Trade ? cmd : cmd + 1;
    if (seq != want) {
      fail(EINVAL, "sequence", cur_path_);
      return false;
    }
    if (is_command(type)) cmd = seq;
    // The whole slot, not just the record: a fixed-size copy is a few vector moves, where a
    // copy of `size` bytes compiled to `rep movsq`, whose start-up cost per record was most of
    // this loop's time. The bytes past `size` are overwritten by the next record or not
    // written out. Invariant: batch_ holds a slot per ring slot, so even the last copy fits.
    std::memcpy(out + bytes, rec, kMaxRecordSize);
    seal_record(out + bytes);  // the CRC, here, off the matching thread
    bytes += size;
  }
  if (n == 0) return true;
  int e;
  {
    const TimedScope timed(&st_write_ns_);
    e = files_->pwrite(cur_fd_, out, bytes, seg_off_);
  }
  st_batches_.fetch_add(1, std::memory_order_relaxed);
  if (e != 0) {
    fail(e, "pwritev", cur_path_);
    return false;
  }
  seg_off_ += bytes;
  written_ += n;
  last_cmd_seq_ = cmd;
  pending_seq_ = cmd;
  st_records_.fetch_add(n, std::memory_order_relaxed);
  st_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

bool WalWriter::syncAndPublish() {
#if defined(DURABOOK_TEST_HOOKS)
  // PLANTED BUG 1 (test_bugs.h): the watermark goes out before the sync that backs it.
  if (planted(kBugPublishBeforeSync) && pending_seq_ > durable_seq_.load(std::memory_order_relaxed)) {
    publish(pending_seq_);
  }
#endif
  int e = timedSync(cur_fd_);
#if defined(DURABOOK_TEST_HOOKS)
  // PLANTED BUG 4 (test_bugs.h): a failed sync retried, and the retry's success trusted.
  if (e != 0 && planted(kBugRetryFailedSync)) e = files_->fdatasync(cur_fd_);
#endif
  if (e != 0) {
    // Never retried: after a failed fdatasync the kernel may have dropped the dirty pages, so
    // a later "successful" sync would vouch for data that is not on disk.
    fail(e, "fdatasync", cur_path_);
    return false;
  }
  // Only now do the slots go back to the producer: the ring holds every record that is not
  // yet durable, which is what bounds the loss window to the ring's capacity.
  ring_.pop(written_);
  popped_ += written_;
  written_ = 0;
  releaseProducer();
  if (pending_seq_ > durable_seq_.load(std::memory_order_relaxed)) publish(pending_seq_);
  dropSyncedPages();
  return true;
}

void WalWriter::dropSyncedPages() {
  // Nothing reads a segment back while it is written (recovery reads it in another life), so
  // its synced pages are dead weight in the page cache: about 100 bytes per order that would
  // otherwise age out only under memory pressure. Given back now, they are the free pages the
  // next segment's zero-fill takes, instead of fresh ones, which on a VM whose balloon
  // reports free memory to the host cost a fault into the host each (the README's page-cache
  // note has the figures). Whole pages only: the page that holds seg_off_ is
  // written again by the next batch, which would have to read it back from the disk.
  // Invariant: everything below seg_off_ is covered by the sync that just returned (an
  // fdatasync covers the whole file, so also what a killed process left unsynced before a
  // resume).
  const uint64_t end = seg_off_ & ~(kPageBytes - 1);
  if (end < cache_dropped_ + kDropCacheStep) return;
  // A hint: a failure leaves the pages cached and the log as it was, so it is not an error.
  (void)files_->dropCache(cur_fd_, cache_dropped_, end - cache_dropped_);
  cache_dropped_ = end;
}

int WalWriter::timedSync(int fd) {
  const int64_t t0 = now_ns();
  const int e = files_->fdatasync(fd);
  // open()'s own syncs (the first segment's install, a torn tail's zeroing) are counted, not
  // timed: they come before any record can wait, and the first install (a whole segment of
  // zeros) takes tens of milliseconds, which would be most of a run's time-weighted tail.
  if (in_writer_thread_) st_sync_ns_.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ns() - t0)));
  st_syncs_.fetch_add(1, std::memory_order_relaxed);
  return e;
}

bool WalWriter::switchSegment() {
  // Invariant: every record written to the old segment is synced before the switch, so one
  // fdatasync never has to cover two files.
  assert(written_ == 0);
  const Slot* s = ring_.peek(0);
  assert(s != nullptr);
  if (!installNextSegment(wal_load<uint64_t>(s->bytes + kWalSeqOff))) return false;
  need_switch_ = false;
  return true;
}

// --- segments ---------------------------------------------------------------------------------

bool WalWriter::preallocDue() const {
  return next_fd_ < 0 || prealloc_off_ < options_.segmentBytes;  // not ready yet
}

bool WalWriter::preallocBehind() const {
  if (!preallocDue()) return false;
  // Pace the zero-fill over the current segment's life: the next segment is to be complete
  // when this one is 75% full, and the fill runs one chunk ahead of that schedule. Evenly
  // spread, it costs the disk about 1.3 bytes of zeros per record byte all along instead of
  // a burst (which a throttled cloud disk answers with multi-millisecond syncs for records),
  // and the writer meets the switch with the next segment ready.
  const double fill = static_cast<double>(seg_off_ - kSegmentHeaderSize) /
                      static_cast<double>(seg_size_ - kSegmentHeaderSize);
  const double want = std::min(1.0, fill / 0.75) * static_cast<double>(options_.segmentBytes) +
                      static_cast<double>(kPreallocChunk);
  return static_cast<double>(prealloc_off_) < want;
}

bool WalWriter::preallocChunk() {
  if (next_fd_ < 0) {
    const int e = files_->open(tmpPath(), kOpenCreate | kOpenTruncate, &next_fd_);
    if (e != 0) {
      next_fd_ = -1;
      fail(e, "open", tmpPath());
      return false;
    }
    prealloc_off_ = 0;
  }
  // Timed from the writer thread only, as its syncs are: open()'s first segment comes before
  // any record.
  const TimedScope timed(in_writer_thread_ ? &st_zero_fill_ns_ : nullptr);
  const uint64_t len = std::min<uint64_t>(kPreallocChunk, options_.segmentBytes - prealloc_off_);
  int e = files_->pwrite(next_fd_, zeros_.get(), len, prealloc_off_);
  if (e != 0) {
    fail(e, "pwritev", tmpPath());
    return false;
  }
  // No fdatasync here: the writer would sit out the chunk's disk write with records queued
  // behind it (the ack latency's p99). Start its writeback and go on; the sync that puts the
  // header in place (installNextSegment) makes the whole file durable before it gets its name,
  // and by then most of it is on disk already.
  e = files_->startWriteback(next_fd_, prealloc_off_, len);
  if (e != 0) {
    fail(e, "sync_file_range", tmpPath());
    return false;
  }
  prealloc_off_ += len;
  return true;
}

bool WalWriter::installNextSegment(uint64_t first_seq) {
  // 1. The file, zero-filled to its full size and synced (usually done ahead of time).
  while (next_fd_ < 0 || prealloc_off_ < options_.segmentBytes) {
    if (!preallocChunk()) return false;
  }
  // 2. Its header, synced (with the zeros) before the file gets its real name: a segment
  //    under a wal-*.log name always has a valid header and its full length of zeros.
  uint8_t hdr[kSegmentHeaderSize];
  encode_segment_header(SegmentHeader{first_seq, options_.segmentBytes}, hdr);
  int e = files_->pwrite(next_fd_, hdr, sizeof hdr, 0);
  if (e != 0) {
    fail(e, "pwritev", tmpPath());
    return false;
  }
  e = timedSync(next_fd_);
  if (e != 0) {
    fail(e, "fdatasync", tmpPath());
    return false;
  }
  // 3. rename() silently replaces an existing target. Names come from rising seqs, so a
  //    collision means one command's trades filled a whole segment (or a foreign file): stop
  //    rather than destroy a segment.
  const std::string path = segmentPath(first_seq);
  uint64_t existing = 0;
  if (path == cur_path_ || files_->fileSize(path, &existing) == 0) {
    fail(EEXIST, "rename", path);
    return false;
  }
  e = files_->rename(tmpPath(), path);
  if (e != 0) {
    fail(e, "rename", path);
    return false;
  }
  // 4. The new name is durable only once the directory is.
  bool sync_dir = true;
#if defined(DURABOOK_TEST_HOOKS)
  // PLANTED BUG 2 (test_bugs.h): the new segment's name is left to chance.
  sync_dir = !planted(kBugSkipSegmentDirSync);
#endif
  e = sync_dir ? files_->fsyncDir(dir_) : 0;
  if (e != 0) {
    fail(e, "fsync", dir_);
    return false;
  }
  // The old segment is fully synced; a close error cannot lose anything. Its remaining
  // cached pages (the last records, the unused zeros) go back too, for the same reason.
  if (cur_fd_ >= 0) {
    (void)files_->dropCache(cur_fd_, 0, 0);
    files_->close(cur_fd_);
  }
  cache_dropped_ = 0;
  cur_fd_ = next_fd_;
  next_fd_ = -1;
  prealloc_off_ = 0;
  cur_path_ = path;
  seg_size_ = options_.segmentBytes;
  seg_off_ = kSegmentHeaderSize;
  st_segments_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool WalWriter::resumeSegment(const WalResume& r) {
  const std::string& path = r.segmentPath;
  int e = files_->open(path, kOpenReadWrite, &cur_fd_);
  if (e != 0) {
    cur_fd_ = -1;
    fail(e, "open", path);
    return false;
  }
  cur_path_ = path;
  uint8_t hdr[kSegmentHeaderSize];
  size_t got = 0;
  if ((e = files_->pread(cur_fd_, hdr, sizeof hdr, 0, &got)) != 0) {
    fail(e, "pread", path);
    return false;
  }
  SegmentHeader h{};
  if (decode_segment_header(hdr, got, &h) != SegmentStatus::Ok ||
      h.segment_size < kSegmentHeaderSize + kMaxRecordSize || h.segment_size % 8 != 0 ||
      r.offset < kSegmentHeaderSize || r.offset % 8 != 0 || r.offset > h.segment_size) {
    fail(EINVAL, "resume", path);
    return false;
  }
  uint64_t size = 0;
  if ((e = files_->fileSize(path, &size)) != 0) {
    fail(e, "stat", path);
    return false;
  }
  bool dirty = false;
  if (size > h.segment_size) {
    if ((e = files_->ftruncate(cur_fd_, h.segment_size)) != 0) {
      fail(e, "ftruncate", path);
      return false;
    }
    size = h.segment_size;
    dirty = true;
  }
  // Appending must start on zeros: a torn record past `offset` could otherwise survive behind
  // shorter new records, and a file cut short by recovery must regain its full, pre-written size.
  std::vector<uint8_t> buf(std::min<uint64_t>(kPreallocChunk, h.segment_size));
  for (uint64_t off = r.offset; off < h.segment_size;) {
    const uint64_t len = std::min<uint64_t>(buf.size(), h.segment_size - off);
    bool zero = false;
    if (off + len <= size) {
      if ((e = files_->pread(cur_fd_, buf.data(), len, off, &got)) != 0) {
        fail(e, "pread", path);
        return false;
      }
      zero = got == len && wal_all_zero(buf.data(), len);
    }
    if (!zero) {
      if ((e = files_->pwrite(cur_fd_, zeros_.get(), len, off)) != 0) {
        fail(e, "pwritev", path);
        return false;
      }
      dirty = true;
    }
    off += len;
  }
  if (dirty && (e = files_->fdatasync(cur_fd_)) != 0) {
    fail(e, "fdatasync", path);
    return false;
  }
  seg_size_ = h.segment_size;
  seg_off_ = r.offset;
  return true;
}

// --- close ------------------------------------------------------------------------------------

WalStatus WalWriter::close() {
  if (closed_.exchange(true, std::memory_order_relaxed)) return error();
  if (thread_started_) {
    // Release: the producer's commits (sequenced before this call, same thread or joined) are
    // visible to a writer that reads stop_ with acquire. The epoch bump wakes a parked writer;
    // one that reads the bumped epoch (acquire) also sees stop_.
    stop_.store(true, std::memory_order_release);
    writer_epoch_.fetch_add(1, std::memory_order_release);
    unpark_all(&writer_epoch_);
    pthread_join(thread_, nullptr);
    thread_started_ = false;
  }
  if (cur_fd_ >= 0) {
    files_->close(cur_fd_);
    cur_fd_ = -1;
  }
  if (next_fd_ >= 0) {
    // The half-prepared next segment is not part of the log; the next open() redoes it.
    files_->close(next_fd_);
    next_fd_ = -1;
    files_->unlink(tmpPath());
  }
  return error();
}

}  // namespace durabook
