// WalWriter: records logged through the Journal come back from the segment files in order;
// the ring hands off without loss; the durable watermark never runs ahead of an fdatasync;
// async triggers; fail-stop on I/O errors; clean refusal of a bad directory; resume.
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "file_layer.h"
#include "wal_format.h"
#include "wal_writer.h"
#include "wal_test_support.h"

using namespace durabook;
using test::CollectingJournal;  // the expected side of every comparison
using test::removeDir;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kStressSeqs = 30'000;
#else
constexpr uint64_t kStressSeqs = 200'000;
#endif

// tmpfs when there is one: most tests count syncs and order, not disk latency.
std::string makeTempDir(bool real_disk = false) {
  struct stat st;
  const bool shm = !real_disk && ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && ::access("/dev/shm", W_OK) == 0;
  std::string tmpl = shm ? "/dev/shm/durabook-wal-XXXXXX" : "/tmp/durabook-wal-XXXXXX";
  const char* d = mkdtemp(tmpl.data());
  return d ? d : "";
}

template <typename Pred>
bool waitFor(Pred pred, int ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// The records of command `s`, the way the engine would log them: a deterministic mix of
// every record type, clock records before some commands, trades after some.
void emit(Journal& j, uint64_t s) {
  if (s == 1) {
    j.logAddSymbol(1, 0, "DURABOOK-SYMBOL-WITH-A-LONG-NAME");  // 32 bytes: the largest record
    return;
  }
  if (s % 7 == 0) j.logClock(s, static_cast<int64_t>(s) * 1000);
  const int64_t id = static_cast<int64_t>(s);
  switch (s % 4) {
    case 0: {
      NewOrderCmd c;
      c.id = id;
      c.price = 100 + id % 50;
      c.qty = id % 13 + 1;
      c.side = s % 8 == 0 ? Side::Sell : Side::Buy;
      c.tif = static_cast<Tif>(s % 3);
      c.postOnly = s % 5 == 0;
      c.hasPrice = true;
      j.logNew(s, c);
      if (s % 3 == 0) {
        j.logTrade(s, Trade{id - 10, id, c.price, 1});
        j.logTrade(s, Trade{id - 9, id, c.price, 2});
      }
      break;
    }
    case 1:
      j.logCancel(s, id - 1);
      break;
    case 2: {
      ModifyCmd m;
      m.id = id - 2;
      m.hasPrice = s % 3 == 0;
      m.price = m.hasPrice ? 90 + id % 7 : 0;
      m.hasQty = true;
      m.qty = 5;
      j.logModify(s, m);
      break;
    }
    default: {
      NewOrderCmd c;
      c.id = id;
      c.qty = 3;
      c.market = true;
      c.tif = Tif::Ioc;
      c.side = Side::Sell;
      j.logNew(s, c);
      break;
    }
  }
}

std::vector<WalRecord> expected(uint64_t first, uint64_t last) {
  CollectingJournal c;
  for (uint64_t s = first; s <= last; ++s) emit(c, s);
  return c.recs;
}

struct ReadRecord {
  WalRecord rec;
  std::string path;
  uint64_t offset;
  uint64_t size;
};

struct ReadSegment {
  std::string name;
  SegmentHeader header;
  uint64_t fileSize;
};

// Reads every segment of `dir` in name order, checking what the writer promises about each:
// full size, valid header named after its first record, records then nothing but zeros.
bool readLog(const std::string& dir, std::vector<ReadRecord>* recs, std::vector<ReadSegment>* segs) {
  std::vector<std::string> names;
  if (posix_file_layer()->listDir(dir, &names) != 0) return false;
  std::sort(names.begin(), names.end());
  bool ok = true;
  for (const std::string& n : names) {
    if (n.rfind("wal-", 0) != 0 || n.size() != 28 || n.substr(24) != ".log") {
      ::durabook::test::report_failure(__FILE__, __LINE__, "unexpected file in WAL dir: " + n);
      ok = false;
      continue;
    }
    const std::string path = dir + "/" + n;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    std::vector<uint8_t> buf;
    uint8_t chunk[65536];
    size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + got);
    std::fclose(f);
    ReadSegment seg{n, {}, buf.size()};
    if (decode_segment_header(buf.data(), buf.size(), &seg.header) != SegmentStatus::Ok) {
      ::durabook::test::report_failure(__FILE__, __LINE__, "bad segment header: " + n);
      return false;
    }
    if (seg.header.segment_size != buf.size()) {
      ::durabook::test::report_failure(__FILE__, __LINE__, "segment not full size: " + n);
      ok = false;
    }
    size_t pos = kSegmentHeaderSize;
    bool first = true;
    for (;;) {
      WalRecord r{};
      size_t used = 0;
      const DecodeStatus st = decode_record(buf.data() + pos, buf.size() - pos, &r, &used);
      if (st == DecodeStatus::End) break;
      if (st != DecodeStatus::Ok) {
        ::durabook::test::report_failure(__FILE__, __LINE__,
                                         std::string("bad record: ") + to_string(st) + " in " + n + " @" + std::to_string(pos));
        return false;
      }
      if (first) {
        char want[32];
        std::snprintf(want, sizeof want, "wal-%020llu.log", static_cast<unsigned long long>(r.seq));
        if (n != want || seg.header.first_seq != r.seq) {
          ::durabook::test::report_failure(__FILE__, __LINE__, "segment not named after its first record: " + n);
          ok = false;
        }
      }
      first = false;
      recs->push_back(ReadRecord{r, path, pos, used});
      pos += used;
    }
    if (!wal_all_zero(buf.data() + pos, buf.size() - pos)) {
      ::durabook::test::report_failure(__FILE__, __LINE__, "non-zero bytes after the last record of " + n);
      ok = false;
    }
    segs->push_back(seg);
  }
  return ok;
}

bool sameRecords(const std::vector<ReadRecord>& got, const std::vector<WalRecord>& want) {
  if (got.size() != want.size()) {
    ::durabook::test::report_failure(__FILE__, __LINE__,
                                     "record count " + std::to_string(got.size()) + " != " + std::to_string(want.size()));
    return false;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(got[i].rec == want[i])) {
      ::durabook::test::report_failure(__FILE__, __LINE__, "record " + std::to_string(i) + " differs");
      return false;
    }
  }
  return true;
}

// Real files, no flushes: for tests about the hand-off, not about durability. A sync may be
// given the time a disk's flush takes, and a write the time a slow page cache takes: writes
// of records apart from writes of zeros (a segment's pre-writing; a segment header is neither
// and takes no time).
class NoSyncLayer final : public FileLayer {
 public:
  NoSyncLayer() = default;
  explicit NoSyncLayer(std::chrono::microseconds syncTime) : sync_us_(syncTime.count()) {}
  // From the next fdatasync on (the writer thread reads it while the test thread sets it).
  void setSyncTime(std::chrono::microseconds t) { sync_us_.store(t.count(), std::memory_order_relaxed); }
  // Zero writes made on the calling thread (open()'s first segment, when it opens the log) take
  // zerosHere instead of zeros. Call before the log opens: the writer thread reads these.
  void setWriteTimes(std::chrono::microseconds records, std::chrono::microseconds zeros, std::chrono::microseconds zerosHere) {
    record_us_.store(records.count(), std::memory_order_relaxed);
    zero_us_.store(zeros.count(), std::memory_order_relaxed);
    zero_here_us_ = zerosHere.count();
    here_ = std::this_thread::get_id();
  }
  uint64_t recordWrites() const { return record_writes_.load(std::memory_order_relaxed); }
  uint64_t zeroWrites() const { return zero_writes_.load(std::memory_order_relaxed); }
  uint64_t zeroWritesHere() const { return zero_here_writes_.load(std::memory_order_relaxed); }
  int open(const std::string& p, unsigned f, int* fd) override { return posix_file_layer()->open(p, f, fd); }
  int pwritev(int fd, const struct iovec* v, int n, uint64_t off) override {
    if (!(off == 0 && n == 1 && v[0].iov_len == kSegmentHeaderSize)) {
      bool zeros = true;
      for (int i = 0; i < n && zeros; ++i) {
        const auto* b = static_cast<const uint8_t*>(v[i].iov_base);
        zeros = std::all_of(b, b + v[i].iov_len, [](uint8_t x) { return x == 0; });
      }
      (zeros ? zero_writes_ : record_writes_).fetch_add(1, std::memory_order_relaxed);
      const bool here = zeros && std::this_thread::get_id() == here_;
      if (here) zero_here_writes_.fetch_add(1, std::memory_order_relaxed);
      const int64_t us = here ? zero_here_us_ : (zeros ? zero_us_ : record_us_).load(std::memory_order_relaxed);
      if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
    }
    return posix_file_layer()->pwritev(fd, v, n, off);
  }
  int pread(int fd, void* b, size_t l, uint64_t off, size_t* got) override {
    return posix_file_layer()->pread(fd, b, l, off, got);
  }
  int fdatasync(int) override {
    const auto us = std::chrono::microseconds(sync_us_.load(std::memory_order_relaxed));
    if (us.count() > 0) std::this_thread::sleep_for(us);
    return 0;
  }
  int fsyncDir(const std::string&) override { return 0; }
  int rename(const std::string& a, const std::string& b) override { return posix_file_layer()->rename(a, b); }
  int unlink(const std::string& p) override { return posix_file_layer()->unlink(p); }
  int ftruncate(int fd, uint64_t s) override { return posix_file_layer()->ftruncate(fd, s); }
  int close(int fd) override { return posix_file_layer()->close(fd); }
  int listDir(const std::string& d, std::vector<std::string>* n) override { return posix_file_layer()->listDir(d, n); }
  int fileSize(const std::string& p, uint64_t* s) override { return posix_file_layer()->fileSize(p, s); }
  int mkdir(const std::string& p) override { return posix_file_layer()->mkdir(p); }

 private:
  std::atomic<int64_t> sync_us_{0};
  std::atomic<int64_t> record_us_{0};
  std::atomic<int64_t> zero_us_{0};
  int64_t zero_here_us_ = 0;
  std::thread::id here_;
  std::atomic<uint64_t> record_writes_{0};
  std::atomic<uint64_t> zero_writes_{0};
  std::atomic<uint64_t> zero_here_writes_{0};
};

WalWriterOptions smallOptions(const std::string& dir, FileLayer* fs) {
  WalWriterOptions o;
  o.dir = dir;
  o.segmentBytes = 64 << 10;
  o.ringCapacity = 1024;
  o.files = fs;
  return o;
}

// Async options whose windows end only on the record count: the time trigger never fires
// within a test.
WalWriterOptions countOnlyAsync(const std::string& dir, FileLayer* fs, uint32_t records) {
  WalWriterOptions o = smallOptions(dir, fs);
  o.mode = WalMode::Async;
  o.asyncFlushMs = 100'000;
  o.asyncFlushRecords = records;
  return o;
}

// fdatasync calls on log segments, leaving out the zero-fill of the next segment
// (wal-next.tmp), which the writer paces on its own schedule.
uint64_t segmentSyncs(const FaultInjectingFileLayer& fl) {
  uint64_t n = 0;
  for (const TraceEntry& e : fl.trace()) {
    if (e.op == FileOp::kFdatasync && e.path.find("wal-next.tmp") == std::string::npos) ++n;
  }
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST(wal_writer_records_roundtrip_across_segments) {
  const std::string dir = makeTempDir(/*real_disk=*/true);
  REQUIRE(!dir.empty());
  const uint64_t n = 6000;  // ~230 KiB of records: four 64 KiB segments
  std::unique_ptr<WalWriter> w;
  {
    WalWriterOptions o = smallOptions(dir, nullptr);  // real PosixFileLayer, real disk
    const WalStatus st = WalWriter::open(o, std::nullopt, &w);
    REQUIRE(st.ok());
  }
  REQUIRE(w != nullptr);
  CHECK(w->wantsTrades());
  CHECK_EQ(w->durableSeq(), uint64_t{0});
  for (uint64_t s = 1; s <= n; ++s) emit(*w, s);
  CHECK(w->close().ok());
  CHECK(w->close().ok());  // idempotent
  CHECK_EQ(w->durableSeq(), n);
  const WalStats stats = w->stats();

  std::vector<ReadRecord> got;
  std::vector<ReadSegment> segs;
  CHECK(readLog(dir, &got, &segs));
  const std::vector<WalRecord> want = expected(1, n);
  CHECK(sameRecords(got, want));
  CHECK(segs.size() >= 4);
  CHECK_EQ(stats.segments, uint64_t{segs.size()});
  CHECK_EQ(stats.records, uint64_t{want.size()});
  CHECK(stats.syncs >= stats.batches);
  CHECK(stats.ringHighWater >= 1 && stats.ringHighWater <= 1024);
  REQUIRE(!segs.empty());
  CHECK_EQ(segs[0].name, std::string("wal-00000000000000000001.log"));
  for (const ReadSegment& s : segs) {
    CHECK_EQ(s.fileSize, uint64_t{64 << 10});
    CHECK_EQ(s.header.version, kWalFormatVersion);
  }
  removeDir(dir);
}

TEST(wal_writer_tiny_ring_two_threads_lose_nothing) {
  for (WalMode mode : {WalMode::Durable, WalMode::Async}) {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    NoSyncLayer fs;
    WalWriterOptions o = smallOptions(dir, &fs);
    o.segmentBytes = 1 << 20;
    o.ringCapacity = 8;
    o.mode = mode;
    o.asyncFlushRecords = 5;
    o.asyncFlushMs = 1;
    std::unique_ptr<WalWriter> w;
    REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
    std::thread producer([&] {
      for (uint64_t s = 1; s <= kStressSeqs; ++s) {
        emit(*w, s);
        // Now and then a pause long enough for the writer to go idle and park, so the
        // wake-up path gets exercised as well as the full-ring path.
        if (s % 20'000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    producer.join();
    CHECK(w->close().ok());
    CHECK_EQ(w->durableSeq(), kStressSeqs);
    const WalStats st = w->stats();
    CHECK(st.producerWaits > 0);  // an 8-slot ring was full, often
    CHECK(st.ringHighWater <= 8);

    std::vector<ReadRecord> got;
    std::vector<ReadSegment> segs;
    CHECK(readLog(dir, &got, &segs));
    CHECK(sameRecords(got, expected(1, kStressSeqs)));
    removeDir(dir);
  }
}

#if defined(DURABOOK_TEST_HOOKS)

namespace {

// Replays a trace and checks that every watermark publication W came after an fdatasync that
// covered each record the watermark vouches for: all records of seqs < W, and W's own command
// record (and the clock record before it). Records are located by decoding the files.
void checkPublicationsFollowSyncs(const std::vector<TraceEntry>& trace, const std::vector<ReadRecord>& recs,
                                  const std::string& dir, uint64_t final_seq) {
  // For each file: pwritev extents with the trace index at which they became synced.
  struct Extent {
    uint64_t off, len;
    size_t written_at;
    size_t synced_at;  // SIZE_MAX until an fdatasync of the same file follows
  };
  std::map<std::string, std::vector<Extent>> extents;
  std::map<std::string, size_t> dir_synced_after_rename;  // segment path -> trace index of the fsync
  std::vector<std::pair<size_t, uint64_t>> pubs;             // (trace index, W)
  std::string last_renamed;
  for (size_t i = 0; i < trace.size(); ++i) {
    const TraceEntry& e = trace[i];
    // Expected failures: mkdir of the existing dir, and the check before a rename that the
    // target is absent.
    CHECK(e.err == 0 || (e.op == FileOp::kFileSize && e.err == ENOENT) || (e.op == FileOp::kMkdir && e.err == EEXIST));
    if (e.op == FileOp::kPwritev) {
      extents[e.path].push_back(Extent{e.offset, e.length, i, SIZE_MAX});
    } else if (e.op == FileOp::kFdatasync) {
      for (Extent& x : extents[e.path]) {
        if (x.synced_at == SIZE_MAX) x.synced_at = i;
      }
    } else if (e.op == FileOp::kRename) {
      last_renamed = e.detail;
    } else if (e.op == FileOp::kFsyncDir && e.path == dir && !last_renamed.empty()) {
      dir_synced_after_rename[last_renamed] = i;
      last_renamed.clear();
    } else if (e.op == FileOp::kNote && e.detail == "publish") {
      pubs.push_back({i, e.offset});
    }
  }
  REQUIRE(!pubs.empty());
  // Watermarks rise strictly and end at the last seq.
  for (size_t k = 1; k < pubs.size(); ++k) CHECK(pubs[k].second > pubs[k - 1].second);
  CHECK_EQ(pubs.back().second, final_seq);

  // For each record, the trace index at which it was first durable (written then synced, in
  // a file whose name had been made durable by a directory fsync).
  std::vector<size_t> durable_at(recs.size(), SIZE_MAX);
  for (size_t r = 0; r < recs.size(); ++r) {
    const ReadRecord& rr = recs[r];
    auto dit = dir_synced_after_rename.find(rr.path);
    if (dit == dir_synced_after_rename.end()) {
      ::durabook::test::report_failure(__FILE__, __LINE__, "segment never renamed + dir-synced: " + rr.path);
      return;
    }
    for (const Extent& x : extents[rr.path]) {
      if (x.off <= rr.offset && rr.offset + rr.size <= x.off + x.len && x.written_at > dit->second) {
        durable_at[r] = std::max(x.synced_at, dit->second);
        break;
      }
    }
    if (durable_at[r] == SIZE_MAX) {
      ::durabook::test::report_failure(__FILE__, __LINE__, "record never written and synced: #" + std::to_string(r));
      return;
    }
  }
  size_t violations = 0;
  for (const auto& [at, W] : pubs) {
    for (size_t r = 0; r < recs.size(); ++r) {
      const WalRecord& rec = recs[r].rec;
      const bool covered = rec.seq < W || (rec.seq == W && rec.type != WalType::Trade);
      if (covered && durable_at[r] > at) ++violations;
    }
  }
  CHECK_EQ(violations, size_t{0});
}

}  // namespace

TEST(wal_writer_durable_watermark_only_after_covering_sync) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  WalWriterOptions o = smallOptions(dir, &fl);
  o.ringCapacity = 64;
  o.publishHook = [&fl](uint64_t w) { fl.note("publish", w); };
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  const uint64_t n = 4000;  // crosses a few 64 KiB segments
  for (uint64_t s = 1; s <= n; ++s) {
    emit(*w, s);
    if (s % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(w->close().ok());
  const std::vector<TraceEntry> trace = fl.trace();

  std::vector<ReadRecord> recs;
  std::vector<ReadSegment> segs;
  CHECK(readLog(dir, &recs, &segs));
  CHECK(sameRecords(recs, expected(1, n)));
  CHECK(segs.size() >= 3);
  checkPublicationsFollowSyncs(trace, recs, dir, n);

  // Segment installation order: zero-fill synced, header written and synced, rename, dir fsync,
  // and only then records.
  for (size_t i = 0; i < trace.size(); ++i) {
    if (trace[i].op != FileOp::kRename) continue;
    REQUIRE(i >= 3 && i + 1 < trace.size());
    CHECK(trace[i - 3].op == FileOp::kPwritev && trace[i - 3].offset == 0 && trace[i - 3].length == kSegmentHeaderSize);
    CHECK(trace[i - 2].op == FileOp::kFdatasync && trace[i - 2].path == trace[i].path);
    // The collision check: the target must not exist yet.
    CHECK(trace[i - 1].op == FileOp::kFileSize && trace[i - 1].path == trace[i].detail && trace[i - 1].err == ENOENT);
    CHECK(trace[i].path.find("wal-next.tmp") != std::string::npos);
    CHECK(trace[i + 1].op == FileOp::kFsyncDir && trace[i + 1].path == dir);
  }
  removeDir(dir);
}

// The log in `dir` holds exactly the records of commands 1..n; returns its segments.
std::vector<ReadSegment> checkLogHolds(const std::string& dir, uint64_t n) {
  std::vector<ReadRecord> recs;
  std::vector<ReadSegment> segs;
  CHECK(readLog(dir, &recs, &segs));
  CHECK(sameRecords(recs, expected(1, n)));
  return segs;
}

// The writer gives segment pages back to the page cache (dropCache) only once the sync that
// covers them has returned, in whole pages below the next write, and never writes into a
// range it gave back; a finished segment is given back whole at the switch.
TEST(wal_writer_drops_only_synced_pages_from_the_cache) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  WalWriterOptions o = smallOptions(dir, &fl);
  o.segmentBytes = 2 << 20;  // each full segment passes the 1 MiB step at least once
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  const uint64_t n = 150'000;  // about 5.7 MiB of records: three segments
  for (uint64_t s = 1; s <= n; ++s) emit(*w, s);
  CHECK(w->close().ok());
  const std::vector<TraceEntry> trace = fl.trace();
  const std::vector<ReadSegment> segs = checkLogHolds(dir, n);
  REQUIRE(segs.size() >= 3);

  struct Write {
    uint64_t off, end;
    bool synced;
  };
  struct File {
    std::vector<Write> writes;
    uint64_t dropped = 0;   // [0, dropped) given back by ranged drops
    bool whole = false;     // given back whole
    size_t ranged = 0;
  };
  std::map<std::string, File> files;
  size_t bad_range = 0, unsynced = 0, written_after = 0;
  for (const TraceEntry& e : trace) {
    File& f = files[e.path];
    if (e.op == FileOp::kPwritev) {
      const uint64_t end = e.offset + e.length;
      if (f.whole || e.offset < f.dropped) ++written_after;
      f.writes.push_back(Write{e.offset, end, false});
    } else if (e.op == FileOp::kFdatasync && e.err == 0) {
      for (Write& x : f.writes) x.synced = true;
    } else if (e.op == FileOp::kDropCache) {
      CHECK_EQ(e.err, 0);
      const uint64_t end = e.length == 0 ? UINT64_MAX : e.offset + e.length;
      for (const Write& x : f.writes) {
        if (x.off < end && e.offset < x.end && !x.synced) ++unsynced;
      }
      if (e.length == 0) {
        CHECK(!f.whole);
        CHECK_EQ(e.offset, uint64_t{0});
        f.whole = true;
      } else {
        // Contiguous, page-aligned, in steps of at least 1 MiB.
        if (e.offset != f.dropped || e.offset % 4096 != 0 || e.length % 4096 != 0 || e.length < (1u << 20)) ++bad_range;
        f.dropped = e.offset + e.length;
        ++f.ranged;
      }
    }
  }
  CHECK_EQ(bad_range, size_t{0});
  CHECK_EQ(unsynced, size_t{0});
  CHECK_EQ(written_after, size_t{0});
  // Every segment but the last (still current at close) was given back whole; every one
  // that filled had given back part of itself before that.
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string path = dir + "/" + segs[i].name;
    REQUIRE(files.count(path) == 1);
    const File& f = files[path];
    CHECK_EQ(f.whole, i + 1 < segs.size());
    if (i + 1 < segs.size()) CHECK(f.ranged >= 1);
  }
  removeDir(dir);
}

// dropCache is a hint: its failure costs the log nothing.
TEST(wal_writer_failed_cache_drop_is_not_an_error) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  fl.addFault(FaultRule::nthCall(FileOp::kDropCache, 0, EIO));  // 0: every call
  WalWriterOptions o = smallOptions(dir, &fl);
  o.segmentBytes = 2 << 20;
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  const uint64_t n = 100'000;
  for (uint64_t s = 1; s <= n; ++s) emit(*w, s);
  CHECK(w->close().ok());
  CHECK_EQ(w->durableSeq(), n);
  CHECK(fl.calls(FileOp::kDropCache) >= 2);
  CHECK_EQ(fl.injected(), fl.calls(FileOp::kDropCache));
  checkLogHolds(dir, n);
  removeDir(dir);
}

TEST(wal_writer_async_count_trigger) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  const WalWriterOptions o = countOnlyAsync(dir, &fl, 100);
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  const uint64_t syncs0 = segmentSyncs(fl);
  uint64_t seq = 0;
  for (int round = 1; round <= 5; ++round) {
    for (int i = 0; i < 99; ++i) w->logCancel(++seq, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(round == 1 ? 50 : 5));
    CHECK_EQ(w->durableSeq(), seq - 99);  // 99 records wait: below the trigger
    w->logCancel(++seq, 7);               // the 100th
    CHECK(waitFor([&] { return w->durableSeq() == seq; }));
  }
  CHECK_EQ(segmentSyncs(fl) - syncs0, uint64_t{5});  // one sync per 100 records
  CHECK_EQ(w->stats().batches, uint64_t{5});                     // and one write
  CHECK(w->close().ok());
  removeDir(dir);
}

TEST(wal_writer_async_flush_spans_segment_switch) {
  // A count-triggered flush that hits the end of a segment syncs what fits, switches, and
  // flushes the rest into the new segment at once (not one window later).
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  NoSyncLayer fs;
  const WalWriterOptions o = countOnlyAsync(dir, &fs, 100);
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  // CANCEL records are 24 bytes: (64 KiB - 64) / 24 = 2728 per segment, so the 28th flush of
  // 100 straddles the end of the first segment.
  // Batches of exactly 100 (each waits for the previous flush), so flush boundaries are
  // deterministic and the last flush owes nothing to the (disabled) timer.
  for (uint64_t s = 1; s <= 2800; ++s) {
    w->logCancel(s, 1);
    if (s % 100 == 0) REQUIRE(waitFor([&] { return w->durableSeq() == s; }, 3000));
  }
  CHECK_EQ(w->stats().segments, uint64_t{2});
  CHECK(w->close().ok());
  std::vector<ReadRecord> recs;
  std::vector<ReadSegment> segs;
  CHECK(readLog(dir, &recs, &segs));
  CHECK_EQ(recs.size(), size_t{2800});
  CHECK_EQ(segs.size(), size_t{2});
  removeDir(dir);
}

TEST(wal_writer_async_time_trigger) {
  // Below the count trigger, records wait for the timer: at most asyncFlushMs after they
  // arrive (the window may have opened before them: an idle writer sleeps on the timer), and
  // the records logged together go out in one write and one sync.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  WalWriterOptions o = smallOptions(dir, &fl);
  o.mode = WalMode::Async;
  o.asyncFlushMs = 40;
  o.asyncFlushRecords = 1'000'000;  // capped at the ring (1024); 10 records never reach it
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  const uint64_t syncs0 = segmentSyncs(fl);
  const uint64_t batches0 = w->stats().batches;
  for (int k = 0; k < 2; ++k) {
    const uint64_t base = w->durableSeq();
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t s = base + 1; s <= base + 10; ++s) w->logCancel(s, 3);
    CHECK(waitFor([&] { return w->durableSeq() == base + 10; }));
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK(ms < 40 + 1000);  // the window's bound, with room for a loaded machine
  }
  CHECK_EQ(segmentSyncs(fl) - syncs0, uint64_t{2});
  CHECK_EQ(w->stats().batches - batches0, uint64_t{2});
  CHECK(w->close().ok());
  removeDir(dir);
}

TEST(wal_writer_async_steady_stream_costs_few_producer_wakes) {
  // Under a steady stream, with records arriving while each sync runs, the writer times its
  // naps from the arrival rate and the producer (the matching thread) wakes it only at 1.5x
  // the count trigger, so most flush windows cost the producer no futex wake. A writer that
  // sleeps until the producer reaches the trigger costs one wake per window.
  // The forecast is timing: on a loaded machine (or under a sanitizer) one run's arrival rate
  // can be erratic enough to cost wakes. Up to three runs, and one must show it; a writer that
  // sleeps until the producer reaches the trigger pays a wake per window in every run.
  bool few = false;
  for (int attempt = 0; attempt < 3 && !few; ++attempt) {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    NoSyncLayer fs(std::chrono::microseconds(200));  // about this machine's fdatasync
    WalWriterOptions o = countOnlyAsync(dir, &fs, 1000);  // every window ends on the count
    o.segmentBytes = 16 << 20;
    o.ringCapacity = 8192;
    std::unique_ptr<WalWriter> w;
    REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
    uint64_t seq = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < end) {
      for (int i = 0; i < 50; ++i) w->logCancel(++seq, 7);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    CHECK(w->close().ok());
    const WalStats st = w->stats();
    CHECK_EQ(st.records, seq);
    CHECK(st.batches >= 20);  // enough windows to tell
    few = st.writerWakes * 4 < st.batches;  // most windows cost the producer nothing
    if (!few) {
      std::fprintf(stderr, "  run %d: %llu writer wakes in %llu batches\n", attempt + 1,
                   static_cast<unsigned long long>(st.writerWakes), static_cast<unsigned long long>(st.batches));
    }
    removeDir(dir);
  }
  CHECK(few);
}

// `rounds` times: ten cancels, then wait until the writer has made them durable (a sync or more each).
void durableRounds(WalWriter* w, uint64_t* seq, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < 10; ++i) w->logCancel(++*seq, 7);
    CHECK(waitFor([&] { return w->durableSeq() == *seq; }));
  }
}

TEST(wal_writer_times_every_sync) {
  // Each sync the writer thread makes is counted in syncs and timed into syncNs by its own
  // clock: a layer whose flush takes 2 ms yields 2 ms quantiles, one sample per sync.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  NoSyncLayer fs(std::chrono::microseconds(2000));
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(smallOptions(dir, &fs), std::nullopt, &w).ok());
  // open() syncs the first segment before the writer runs: counted, not timed.
  const uint64_t at_open = w->stats().syncs;
  CHECK(at_open >= 1);
  CHECK_EQ(w->stats().syncNs.count, uint64_t{0});
  uint64_t seq = 0;
  durableRounds(w.get(), &seq, 5);
  CHECK(w->close().ok());
  const WalStats st = w->stats();
  CHECK(st.syncs >= at_open + 5);
  CHECK_EQ(st.syncNs.count, st.syncs - at_open);
  CHECK(st.syncNs.totalNs >= st.syncNs.count * 2'000'000);
  CHECK(st.syncNs.quantile(0.5) >= 2'000'000);
  CHECK(st.syncNs.maxNs >= 2'000'000);
  CHECK(st.syncNs.maxNs < 2'000'000'000);  // nanoseconds, not some other unit
  removeDir(dir);
}

TEST(wal_writer_stats_say_where_the_time_went) {
  // The writer's time in record writes, in zero-fill and in syncs, and the producer's time
  // waiting for slots, each by its own clock. A layer makes each of them slow by a known amount
  // (records 1 ms a write, the writer's zeros 2 ms, syncs 4 ms) and a ring of 1024 slots fills
  // at once, so the producer spends most of its loop waiting for syncs. open() pre-writes the
  // first segment on this thread, and those zeros take 100 ms: they are not the writer's time.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  NoSyncLayer fs(std::chrono::microseconds(4000));
  fs.setWriteTimes(std::chrono::microseconds(1000), std::chrono::microseconds(2000), std::chrono::microseconds(100'000));
  WalWriterOptions o = smallOptions(dir, &fs);  // durable, 64 KiB segments: zero-fill all along
  std::unique_ptr<WalWriter> w;
  const auto t_open = std::chrono::steady_clock::now();
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  CHECK(std::chrono::steady_clock::now() - t_open >= std::chrono::milliseconds(100));  // the layer's delay took
  // The writer thread may have begun the next segment already; no record has been logged.
  CHECK_EQ(w->stats().producerWaitNs, uint64_t{0});
  CHECK(fs.zeroWritesHere() >= 1);
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t seq = 0;
  for (; seq < 8000;) w->logCancel(++seq, 7);
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(w->close().ok());
  const auto t2 = std::chrono::steady_clock::now();
  const uint64_t loop = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  const uint64_t all = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t0).count());
  const WalStats st = w->stats();
  CHECK_EQ(st.records, seq);
  // 8000 records through 1024 slots: at least 7 syncs of 4 ms while the producer waits, and
  // its own work is well under a millisecond (a few under a sanitizer).
  CHECK(st.producerWaits >= 1);
  CHECK(st.producerWaitNs >= 20'000'000);
  CHECK(st.producerWaitNs * 2 >= loop);
  CHECK(st.producerWaitNs <= loop);
  // Each record batch took 1 ms in pwritev, each zero chunk of the writer's 2 ms; the writer's
  // totals cover those sleeps and fit within the run.
  CHECK_EQ(fs.recordWrites(), st.batches);
  CHECK(st.writeNs >= st.batches * 1'000'000);
  const uint64_t writer_zeros = fs.zeroWrites() - fs.zeroWritesHere();
  CHECK(writer_zeros >= 1);  // 8000 cancels are about three 64 KiB segments
  CHECK(st.zeroFillNs >= writer_zeros * 2'000'000);
  CHECK(st.zeroFillNs < 100'000'000);  // open()'s 100 ms chunk is not in it
  CHECK(st.syncNs.totalNs >= st.syncNs.count * 4'000'000);
  CHECK(st.writeNs + st.zeroFillNs + st.syncNs.totalNs <= all);
  CHECK(st.writeNs < st.zeroFillNs + st.syncNs.totalNs);  // not one total counted thrice
  removeDir(dir);
}

TEST(wal_writer_stats_since_cover_only_the_interval) {
  // A monitor diffs two stats: the counters and the sync times of what came between them.
  // Syncs of 200 us, then of 3 ms: the interval's quantiles are the slow ones alone, while the
  // stats since open are still mostly fast syncs.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  NoSyncLayer fs(std::chrono::microseconds(200));
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(smallOptions(dir, &fs), std::nullopt, &w).ok());
  uint64_t seq = 0;
  durableRounds(w.get(), &seq, 20);
  const WalStats a = w->stats();
  fs.setSyncTime(std::chrono::microseconds(3000));
  durableRounds(w.get(), &seq, 4);
  const WalStats b = w->stats();
  const WalStats d = b.since(a);
  CHECK_EQ(d.records, uint64_t{40});
  CHECK_EQ(d.records, b.records - a.records);
  CHECK_EQ(d.bytes, b.bytes - a.bytes);
  CHECK_EQ(d.batches, b.batches - a.batches);
  CHECK(d.syncs >= 4);
  CHECK_EQ(d.syncs, b.syncs - a.syncs);
  CHECK_EQ(d.writeNs, b.writeNs - a.writeNs);
  CHECK_EQ(d.zeroFillNs, b.zeroFillNs - a.zeroFillNs);
  CHECK_EQ(d.producerWaitNs, b.producerWaitNs - a.producerWaitNs);
  CHECK(d.writeNs > 0);  // four rounds wrote records
  CHECK_EQ(d.syncNs.count, d.syncs);  // after open every sync is the writer's, so timed
  CHECK(d.syncNs.quantile(0.5) >= 3'000'000);
  CHECK(d.syncNs.maxNs >= 3'000'000);
  CHECK(d.syncNs.totalNs >= d.syncNs.count * 3'000'000);
  CHECK(b.syncNs.quantile(0.5) < 3'000'000);  // since open: the 200 us syncs are most
  CHECK_EQ(d.ringHighWater, b.ringHighWater);
  // An empty interval, and one asked the wrong way round, are empty rather than huge.
  CHECK_EQ(b.since(b).syncs, uint64_t{0});
  CHECK_EQ(b.since(b).syncNs.count, uint64_t{0});
  CHECK_EQ(a.since(b).records, uint64_t{0});
  CHECK(w->close().ok());
  removeDir(dir);
}

TEST(wal_writer_burst_wakes_the_writer_once_at_its_end) {
  // In a burst the commits skip the parked-writer check; endBurst() makes it once. The writer
  // parks on the count trigger, the burst passes the trigger, and nothing is written until the
  // burst ends; then one wake brings the whole burst to disk.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  const WalWriterOptions o = countOnlyAsync(dir, &fl, 100);
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the writer parks
  uint64_t seq = 0;
  {
    const WalBurst burst(w.get());
    for (int i = 0; i < 300; ++i) w->logCancel(++seq, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_EQ(w->stats().writerWakes, uint64_t{0});
    CHECK_EQ(w->durableSeq(), uint64_t{0});  // three triggers' worth, and no wake yet
  }
  CHECK(waitFor([&] { return w->durableSeq() == seq; }));
  CHECK_EQ(w->stats().writerWakes, uint64_t{1});
  CHECK(w->close().ok());
  removeDir(dir);
}

TEST(wal_writer_burst_on_a_full_ring_wakes_the_writer) {
  // A burst larger than the ring: the producer finds the ring full while the writer sleeps
  // (parked in durable mode, waiting for the next record's wake, which the burst defers).
  // The producer must wake it before it waits for a slot, or both sleep for good.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  WalWriterOptions o = smallOptions(dir, &fl);
  o.ringCapacity = 8;
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past its spins: parked
  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    const WalBurst burst(w.get());
    for (uint64_t s = 1; s <= 100; ++s) w->logCancel(s, 1);
    producer_done.store(true);
  });
  CHECK(waitFor([&] { return producer_done.load(); }, 3000));
  // On failure the producer is parked for good; close() drains the ring and frees it.
  if (!producer_done.load()) w->close();
  producer.join();
  CHECK(waitFor([&] { return w->durableSeq() == 100; }));
  CHECK(w->stats().producerWaits > 0);
  CHECK(w->close().ok());
  removeDir(dir);
}

// The burst tests' writer: the real file layer (on tmpfs), every record in one segment.
WalWriterOptions burstOptions(const std::string& dir, WalMode mode) {
  WalWriterOptions o;
  o.dir = dir;
  o.segmentBytes = 4 << 20;
  o.mode = mode;
  o.files = posix_file_layer();
  return o;
}

// One command's records as the per-call binding logs them, in one burst: now and then a clock
// record, the input, and zero to two trades.
void commandBurst(WalWriter* w, uint64_t seq) {
  const WalBurst burst(w);
  if (seq % 7 == 0) w->logClock(seq, static_cast<int64_t>(seq));
  w->logCancel(seq, 1);
  for (uint64_t t = 0; t < seq % 3; ++t) w->logTrade(seq, Trade{1, 2, 100, 1});
}

TEST(wal_writer_bursts_never_strand_a_parking_writer) {
  // The per-call binding's shape: each command one burst of one to three records, the caller's
  // own work between commands, and now and then a wait for a command to be durable. A wait lets
  // the writer catch up and park; the next commands' bursts then find it parked, and if a
  // burst's end did not wake it, the records would sit in the ring and the next wait would
  // never end. Waits come in pairs a few commands apart, so that the second one comes while
  // the writer is parked on the first commands after the first. Durable mode; each wait is
  // bounded, and a stranded wait fails the test (a check made every 64 records instead of at
  // each burst's end fails it).
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(burstOptions(dir, WalMode::Durable), std::nullopt, &w).ok());
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kCommands = 5'000;
#else
  constexpr uint64_t kCommands = 50'000;
#endif
  bool stranded = false;
  for (uint64_t seq = 1; seq <= kCommands && !stranded; ++seq) {
    commandBurst(w.get(), seq);
    // The caller's work between commands: mostly short, sometimes long enough for the writer
    // to run out of spins and park while commands still come.
    if (seq % 13 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if ((seq % 500 == 0 || seq % 500 == 4) && !waitFor([&] { return w->durableSeq() >= seq; }, 2000)) stranded = true;
  }
  CHECK(!stranded);
  CHECK(w->close().ok());
  removeDir(dir);
}

TEST(wal_writer_bursts_wake_an_idle_async_writer) {
  // Async mode: after enough empty windows the writer stops napping and parks until the next
  // record, for good. A command's burst that arrives then must wake it at the burst's end, or
  // the burst waits for nothing: no timer is left to flush it. Each round idles past the
  // empty windows, sends a few one-to-three-record bursts and waits (bounded) for the last.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  WalWriterOptions o = burstOptions(dir, WalMode::Async);
  o.asyncFlushMs = 1;  // the empty windows pass in tens of milliseconds
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  uint64_t seq = 0;
  bool stranded = false;
  for (int round = 0; round < 8 && !stranded; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // past the empty windows: parked
    for (int c = 0; c < 3; ++c) commandBurst(w.get(), ++seq);
    if (!waitFor([&] { return w->durableSeq() >= seq; }, 2000)) stranded = true;
  }
  CHECK(!stranded);
  CHECK(w->close().ok());
  removeDir(dir);
}

TEST(wal_writer_request_wake_once_per_sync) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  WalWriterOptions o = smallOptions(dir, &fl);
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  std::atomic<int> durable_calls{0}, failure_calls{0};
  w->setCallbacks([&] { durable_calls.fetch_add(1); }, [&] { failure_calls.fetch_add(1); });

  CHECK(!w->requestWake(1));  // nothing logged yet
  w->logCancel(1, 5);
  CHECK(waitFor([&] { return durable_calls.load() == 1; }));
  CHECK(w->durableSeq() >= 1);
  CHECK(w->requestWake(1));  // already durable: settle now, no callback needed

  // Many records, one request: one callback, however many syncs.
  const uint64_t syncs0 = w->stats().syncs;
  for (uint64_t s = 2; s <= 3000; ++s) w->logCancel(s, 5);
  if (!w->requestWake(3000)) CHECK(waitFor([&] { return durable_calls.load() == 2; }));
  CHECK(w->durableSeq() == 3000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(durable_calls.load() <= 2);
  CHECK(w->stats().syncs - syncs0 >= 1);
  // No request, no callback.
  for (uint64_t s = 3001; s <= 3100; ++s) w->logCancel(s, 5);
  CHECK(waitFor([&] { return w->durableSeq() == 3100; }));
  CHECK(durable_calls.load() <= 2);
  CHECK(w->close().ok());
  CHECK_EQ(failure_calls.load(), 0);
  removeDir(dir);
}

namespace {

// Shared by the fail-stop tests: run until the writer fails, then check that it stays failed,
// silent and non-blocking.
void checkFailStop(FaultInjectingFileLayer& fl, const std::string& dir, int err, const char* op) {
  WalWriterOptions o = smallOptions(dir, &fl);
  o.ringCapacity = 8;
  o.publishHook = [&fl](uint64_t w) { fl.note("publish", w); };
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  std::atomic<int> failures{0};
  w->setCallbacks([] {}, [&] { failures.fetch_add(1); });
  uint64_t s = 0;
  while (!w->failed() && s < 1000) {
    w->logCancel(++s, 9);
    waitFor([&] { return w->failed() || w->durableSeq() == s; }, 2000);
  }
  REQUIRE(w->failed());
  const WalStatus e = w->error();
  CHECK_EQ(e.err, err);
  CHECK_EQ(e.op, std::string(op));
  CHECK(e.path.find(dir + "/wal-") == 0);
  CHECK(!e.message().empty());
  const uint64_t frozen = w->durableSeq();
  CHECK(frozen < s);  // the record whose write/sync failed is not durable
  CHECK(waitFor([&] { return failures.load() == 1; }));

  // The producer never waits on a failed writer, even with the ring far too small.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) w->logCancel(++s, 9);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_EQ(w->durableSeq(), frozen);
  const WalStatus c = w->close();
  CHECK_EQ(c.err, err);
  CHECK_EQ(c.op, std::string(op));
  CHECK_EQ(failures.load(), 1);
  w->setCallbacks([] {}, [&] { failures.fetch_add(1); });  // already reported: not again
  CHECK_EQ(failures.load(), 1);

  // After the failing call: no write, no sync, no publication.
  const std::vector<TraceEntry> t = fl.trace();
  size_t fail_at = SIZE_MAX;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].err == err) {  // the injected failure (mkdir EEXIST, stat ENOENT are expected)
      fail_at = i;
      break;
    }
  }
  REQUIRE(fail_at != SIZE_MAX);
  CHECK_EQ(std::string(to_string(t[fail_at].op)), std::string(op));
  for (size_t i = fail_at + 1; i < t.size(); ++i) {
    CHECK(t[i].op != FileOp::kPwritev && t[i].op != FileOp::kFdatasync && t[i].op != FileOp::kNote);
  }
}

}  // namespace

TEST(wal_writer_eio_on_fdatasync_fails_stop) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  // The 3rd sync of a segment file (the first two come from opening: zeros, header, both on
  // the temp file; so: the 3rd record batch).
  fl.addFault(FaultRule{FileOp::kFdatasync, EIO, 3, false, "/wal-0"});
  checkFailStop(fl, dir, EIO, "fdatasync");
  removeDir(dir);
}

TEST(wal_writer_enospc_on_write_fails_stop) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  fl.addFault(FaultRule{FileOp::kPwritev, ENOSPC, 4, true, "/wal-0"});
  checkFailStop(fl, dir, ENOSPC, "pwritev");
  removeDir(dir);
}

TEST(wal_writer_failure_releases_parked_producer) {
  // The producer is parked on a full ring while the writer is stuck in a sync that then
  // fails: the failure must wake it, and it must not park again.
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  struct GateLayer final : FaultInjectingFileLayer {
    using FaultInjectingFileLayer::FaultInjectingFileLayer;
    std::atomic<bool> armed{false}, entered{false}, release{false};
    int fdatasync(int fd) override {
      if (armed.load()) {
        entered.store(true);
        while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
        return EIO;
      }
      return FaultInjectingFileLayer::fdatasync(fd);
    }
  } fl(posix_file_layer());
  WalWriterOptions o = smallOptions(dir, &fl);
  o.ringCapacity = 8;
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  fl.armed.store(true);
  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    for (uint64_t s = 1; s <= 100; ++s) w->logCancel(s, 1);
    producer_done.store(true);
  });
  CHECK(waitFor([&] { return fl.entered.load(); }));
  CHECK(waitFor([&] { return w->stats().producerWaits > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // let it reach the futex
  CHECK(!producer_done.load());
  fl.release.store(true);
  CHECK(waitFor([&] { return producer_done.load(); }, 3000));
  producer.join();
  CHECK(w->failed());
  CHECK_EQ(w->error().err, EIO);
  CHECK_EQ(w->durableSeq(), uint64_t{0});
  CHECK_EQ(w->close().err, EIO);
  removeDir(dir);
}

TEST(wal_writer_rename_failure_at_switch_fails_stop) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  fl.addFault(FaultRule::nthCall(FileOp::kRename, 2, EIO));  // the 1st is at open()
  WalWriterOptions o = smallOptions(dir, &fl);
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  for (uint64_t s = 1; s <= 3000; ++s) emit(*w, s);  // > 64 KiB
  CHECK(waitFor([&] { return w->failed(); }));
  CHECK_EQ(w->error().op, std::string("rename"));
  CHECK_EQ(w->error().err, EIO);
  const uint64_t frozen = w->durableSeq();
  CHECK(frozen > 0 && frozen < 3000);  // the first segment's records made it
  CHECK_EQ(w->close().op, std::string("rename"));
  CHECK_EQ(w->durableSeq(), frozen);
  removeDir(dir);
}

TEST(wal_writer_open_refuses_bad_dirs) {
  std::unique_ptr<WalWriter> w;
  // A path under a regular file.
  {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    FILE* f = std::fopen((dir + "/file").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
    WalWriterOptions o = smallOptions(dir + "/file/wal", nullptr);
    const WalStatus st = WalWriter::open(o, std::nullopt, &w);
    CHECK_EQ(st.err, ENOTDIR);
    CHECK_EQ(st.op, std::string("mkdir"));
    CHECK_EQ(st.path, dir + "/file/wal");
    CHECK(w == nullptr);
    removeDir(dir);
  }
  // A directory in which files cannot be created (injected: the tests may run as root).
  {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    FaultInjectingFileLayer fl(posix_file_layer());
    fl.addFault(FaultRule::onPath(FileOp::kOpen, dir, EACCES));
    WalWriterOptions o = smallOptions(dir, &fl);
    const WalStatus st = WalWriter::open(o, std::nullopt, &w);
    CHECK_EQ(st.err, EACCES);
    CHECK_EQ(st.op, std::string("open"));
    CHECK(st.path.find("wal-next.tmp") != std::string::npos);
    CHECK(w == nullptr);
    std::vector<std::string> names;
    posix_file_layer()->listDir(dir, &names);
    CHECK(names.empty());
    removeDir(dir);
  }
  // A parent that does not exist.
  {
    WalWriterOptions o = smallOptions("/nonexistent-durabook-parent/wal", nullptr);
    const WalStatus st = WalWriter::open(o, std::nullopt, &w);
    CHECK_EQ(st.err, ENOENT);
    CHECK(w == nullptr);
  }
  // A directory that already holds a log, opened as fresh.
  {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    WalWriterOptions o = smallOptions(dir, nullptr);
    REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
    CHECK(w->close().ok());
    w.reset();
    const WalStatus st = WalWriter::open(o, std::nullopt, &w);
    CHECK_EQ(st.err, EEXIST);
    CHECK(w == nullptr);
    removeDir(dir);
  }
  // Pinning: a CPU that exists, and two that do not.
  {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    NoSyncLayer fs;
    WalWriterOptions o = smallOptions(dir, &fs);
    o.writerCpu = 0;
    REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
    w->logCancel(1, 1);
    CHECK(w->close().ok());
    CHECK_EQ(w->durableSeq(), uint64_t{1});
    w.reset();
    removeDir(dir);
  }
#if defined(__linux__)
  // A caller pinned to one CPU may still put the writer on another (a benchmark keeps matching
  // and the writer apart that way).
  {
    cpu_set_t saved;
    REQUIRE(sched_getaffinity(0, sizeof saved, &saved) == 0);
    if (CPU_COUNT(&saved) >= 2) {
      int first = -1, second = -1;
      for (int c = 0; c < CPU_SETSIZE && second < 0; ++c) {
        if (!CPU_ISSET(c, &saved)) continue;
        (first < 0 ? first : second) = c;
      }
      cpu_set_t only;
      CPU_ZERO(&only);
      CPU_SET(first, &only);
      REQUIRE(sched_setaffinity(0, sizeof only, &only) == 0);
      const std::string dir = makeTempDir();
      NoSyncLayer fs;
      WalWriterOptions o = smallOptions(dir, &fs);
      o.writerCpu = second;
      const WalStatus st = WalWriter::open(o, std::nullopt, &w);
      sched_setaffinity(0, sizeof saved, &saved);
      CHECK(st.ok());
      if (w) {
        w->logCancel(1, 1);
        CHECK(w->close().ok());
        CHECK_EQ(w->durableSeq(), uint64_t{1});
      }
      w.reset();
      removeDir(dir);
    }
  }
#endif
  for (int cpu : {1000, 100000}) {
    const std::string dir = makeTempDir();
    REQUIRE(!dir.empty());
    NoSyncLayer fs;
    WalWriterOptions o = smallOptions(dir, &fs);
    o.writerCpu = cpu;
    const WalStatus st = WalWriter::open(o, std::nullopt, &w);
    CHECK_EQ(st.err, EINVAL);
    CHECK_EQ(st.op, std::string("affinity"));
    CHECK(w == nullptr);
    std::vector<std::string> names;
    posix_file_layer()->listDir(dir, &names);
    CHECK(names.empty());  // refused before creating anything
    removeDir(dir);
  }
  // Options out of range.
  {
    WalWriterOptions o = smallOptions("/tmp", nullptr);
    o.segmentBytes = 4096;
    CHECK_EQ(WalWriter::open(o, std::nullopt, &w).err, EINVAL);
    o.segmentBytes = 64 << 10;
    o.ringCapacity = 0;
    CHECK_EQ(WalWriter::open(o, std::nullopt, &w).err, EINVAL);
    CHECK(w == nullptr);
  }
}

TEST(wal_writer_resume_appends_after_torn_tail) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  NoSyncLayer fs;
  WalWriterOptions o = smallOptions(dir, &fs);
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(o, std::nullopt, &w).ok());
  for (uint64_t s = 1; s <= 2500; ++s) emit(*w, s);
  CHECK(w->close().ok());
  w.reset();

  std::vector<ReadRecord> recs;
  std::vector<ReadSegment> segs;
  REQUIRE(readLog(dir, &recs, &segs));
  REQUIRE(!recs.empty());
  const ReadRecord& last = recs.back();
  const uint64_t end = last.offset + last.size;
  // A torn record after the end: garbage the writer must not leave behind its new records.
  {
    FILE* f = std::fopen(last.path.c_str(), "r+b");
    REQUIRE(f != nullptr);
    std::fseek(f, static_cast<long>(end), SEEK_SET);
    const uint8_t junk[100] = {0x30, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    std::fwrite(junk, 1, sizeof junk, f);
    std::fclose(f);
  }
  const WalResume resume{last.path, end, 2501};
  REQUIRE(WalWriter::open(o, resume, &w).ok());
  CHECK_EQ(w->durableSeq(), uint64_t{2500});
  for (uint64_t s = 2501; s <= 2505; ++s) emit(*w, s);  // a few short records over the junk
  CHECK(w->close().ok());
  CHECK_EQ(w->durableSeq(), uint64_t{2505});
  recs.clear();
  segs.clear();
  CHECK(readLog(dir, &recs, &segs));
  CHECK(sameRecords(recs, expected(1, 2505)));

  // A resume point inside the header or not 8-aligned is refused.
  w.reset();
  CHECK_EQ(WalWriter::open(o, WalResume{last.path, 12, 2506}, &w).err, EINVAL);
  CHECK_EQ(WalWriter::open(o, WalResume{last.path, end + 3, 2506}, &w).err, EINVAL);
  removeDir(dir);
}

TEST(wal_writer_sequence_gap_fails_stop) {
  const std::string dir = makeTempDir();
  REQUIRE(!dir.empty());
  NoSyncLayer fs;
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(smallOptions(dir, &fs), std::nullopt, &w).ok());
  w->logCancel(1, 1);
  w->logCancel(3, 1);  // seq 2 missing
  CHECK(waitFor([&] { return w->failed(); }));
  CHECK_EQ(w->error().op, std::string("sequence"));
  CHECK_EQ(w->error().err, EINVAL);
  CHECK(w->durableSeq() <= 1);
  w->close();
  removeDir(dir);
}

#endif  // DURABOOK_TEST_HOOKS
