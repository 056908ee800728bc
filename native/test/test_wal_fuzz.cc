// Deterministic mutation fuzzing of the WAL recovery scan (recover_wal), part of the core tests
// so that it also runs under the ASan + UBSan build (scripts/sanitizers.sh). The coverage-guided
// counterpart is native/fuzz/wal_recovery_fuzz.cc (libFuzzer, scripts/fuzz-native.sh).
//
// A valid multi-segment log is built from a random workload (inputs, clock records and trade
// records, as the engine journals them), remembering the engine digest after every command.
// Each iteration writes the log to a directory with one mutation applied, runs recover_wal in a
// random mode on a fresh engine, and checks:
//
//  - it returns (no crash, no hang, no out-of-bounds read under ASan) with Ok, Corrupt or
//    Diverged (never IoError: every file is readable); Corrupt and Diverged name a file and say
//    what is wrong;
//  - the recovered engine passes checkInvariants();
//  - unless the mutation forged a checksum, the recovered state is exactly the state the
//    original history had at that seq (digest equal): recovery never invents a state;
//  - damage is never silent: for mutations that change bytes a crash cannot change (bit flips,
//    overwrites, copied records, junk, renamed segments), an Ok result with no torn tail and
//    nothing dropped or cut must be the whole log. Zeroing the end of the log, truncating the
//    last segment or deleting the newest segment look like writes that never landed and may
//    shorten the log silently (DESIGN.md §4: the unsynced end);
//  - the scan is deterministic (a second run gives the same answer), and a repairing run leaves
//    a log that the next recovery reads whole, to the same state, with nothing more to cut.
//
// Iterations: 3,000 by default (DURABOOK_WAL_FUZZ_ITERATIONS to change, DURABOOK_WAL_FUZZ_SEED
// for another seed). A failure prints the iteration, the mutation and the recovery result.
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "check.h"
#include "crc32c.h"
#include "matching_engine.h"
#include "snapshot.h"
#include "wal_format.h"
#include "wal_recovery.h"
#include "wal_writer.h"
#include "wal_test_support.h"

using namespace durabook;
using test::CollectingJournal;
using test::clearDir;
using test::readAll;
using test::removeDir;

namespace {

void writeFile(const std::string& path, const std::vector<uint8_t>& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  if (!data.empty()) std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
}

uint64_t envNumber(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}


// The engine digest without order timestamps: what the book is (ids, sides, prices,
// quantities, FIFO order, symbols, seq), not when each order entered its queue.
uint64_t bookDigest(const MatchingEngine& e) {
  uint64_t h = 1469598103934665603ull;
  auto add = [&h](int64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= static_cast<uint8_t>(v >> (8 * i));
      h *= 1099511628211ull;
    }
  };
  add(static_cast<int64_t>(e.lastSeq()));
  for (uint32_t s = 0; s < e.symbolCount(); ++s)
    for (char c : e.symbolName(s)) add(c);
  e.forEachRestingOrder([&](const Order& o) {
    add(o.id);
    add(o.price);
    add(o.qty);
    add(o.symbol);
    add(static_cast<int64_t>(o.side) * 2 + (o.postOnly ? 1 : 0));
  });
  return h;
}

struct Placement {
  size_t file;
  size_t offset;
  size_t size;  // padded
};

// A valid log as segment files in memory, and the digest of the state after every seq.
struct BaseLog {
  std::vector<std::string> names;
  std::vector<std::vector<uint8_t>> files;
  std::vector<Placement> records;
  std::unordered_map<uint64_t, uint64_t> digestAt;  // engine digest, timestamps included
  std::unordered_map<uint64_t, uint64_t> bookAt;    // bookDigest
  uint64_t lastSeq = 0;
};

BaseLog buildLog(uint64_t seed, int commands, bool logTrades, size_t segBytes) {
  BaseLog log;
  CollectingJournal j;
  j.trades = logTrades;
  MatchingEngine e;
  log.digestAt[0] = e.digest();
  log.bookAt[0] = bookDigest(e);
  e.setJournal(&j);
  std::mt19937_64 rng(seed);
  Report r;
  int64_t clock = 1'700'000'000'000'000;
  e.setClock(clock);
  for (const char* s : {"AAPL", "MSFT", "A-SYMBOL-NAME-OF-32-BYTES-LONG!!"}) {
    e.addSymbol(s, &r);
    log.digestAt[e.lastSeq()] = e.digest();
    log.bookAt[e.lastSeq()] = bookDigest(e);
  }
  for (int i = 0; i < commands; ++i) {
    if (rng() % 4 == 0) e.setClock(clock += static_cast<int64_t>(rng() % 5000));
    e.clearTrades();
    const uint64_t u = rng() % 100;
    const int64_t id = 1 + static_cast<int64_t>(rng() % 400);
    if (u < 60) {
      NewOrderCmd c;
      c.id = id;
      c.symbol = static_cast<uint32_t>(rng() % 3);
      c.side = rng() & 1 ? Side::Sell : Side::Buy;
      c.qty = 1 + static_cast<int64_t>(rng() % 50);
      c.price = (c.symbol == 2 ? -3 : 100) + static_cast<int64_t>(rng() % 9) - 4;
      c.hasPrice = true;
      const uint64_t k = rng() % 20;
      if (k == 0) {
        c.market = true;
        c.tif = Tif::Ioc;
        c.hasPrice = rng() & 1;
      } else if (k == 1) {
        c.tif = Tif::Ioc;
      } else if (k == 2) {
        c.tif = Tif::Fok;
      } else if (k == 3) {
        c.postOnly = true;
      }
      e.submit(c, &r);
    } else if (u < 80) {
      e.cancel(id, &r);
    } else {
      ModifyCmd m;
      m.id = id;
      m.hasQty = rng() % 3 != 0;
      m.hasPrice = !m.hasQty || rng() % 2;
      m.qty = 1 + static_cast<int64_t>(rng() % 60);
      m.price = 100 + static_cast<int64_t>(rng() % 9) - 4;
      e.modify(m, &r);
    }
    log.digestAt[e.lastSeq()] = e.digest();
    log.bookAt[e.lastSeq()] = bookDigest(e);
  }
  log.lastSeq = e.lastSeq();

  // Segment files, written the way the writer does: header, records, zeros to the full size.
  std::vector<uint8_t>* seg = nullptr;
  for (const WalRecord& rec : j.recs) {
    uint8_t buf[kMaxRecordSize];
    const size_t n = encode_record(rec, buf);
    seal_record(buf);
    // A command's trade records may follow it into the next segment; inputs start segments.
    if (!seg || seg->size() + n > segBytes) {
      if (seg) seg->resize(segBytes, 0);
      log.files.emplace_back(kSegmentHeaderSize, 0);
      log.names.push_back(segment_file_name(rec.seq));
      seg = &log.files.back();
      encode_segment_header(SegmentHeader{rec.seq, segBytes}, seg->data());
    }
    log.records.push_back({log.files.size() - 1, seg->size(), n});
    seg->insert(seg->end(), buf, buf + n);
  }
  if (seg) seg->resize(segBytes, 0);
  return log;
}

enum class Kind {
  Detect,  // bytes a crash cannot change: must never be silently accepted
  Loss,    // looks like writes that never landed: may shorten the log silently
  Forged,  // checksum recomputed: content may be accepted; only safety is checked
};

struct Mutated {
  std::vector<std::string> names;
  std::vector<std::vector<uint8_t>> files;
  Kind kind = Kind::Detect;
  bool changed = false;  // false: the mutation happened to change nothing
  std::string what;
};

// Which record holds byte `off` of file `f` (index into log.records), or SIZE_MAX.
size_t recordAt(const BaseLog& log, size_t f, size_t off) {
  for (size_t i = 0; i < log.records.size(); ++i) {
    const Placement& p = log.records[i];
    if (p.file == f && off >= p.offset && off < p.offset + p.size) return i;
  }
  return SIZE_MAX;
}

// The original files, except that the newest segment is zero from some byte on.
bool lostWritesOnly(const BaseLog& log, const Mutated& m) {
  if (m.names != log.names || m.files.size() != log.files.size()) return false;
  for (size_t i = 0; i + 1 < m.files.size(); ++i)
    if (m.files[i] != log.files[i]) return false;
  const std::vector<uint8_t>& a = log.files.back();
  const std::vector<uint8_t>& b = m.files.back();
  if (a.size() != b.size()) return false;
  size_t p = 0;
  while (p < a.size() && a[p] == b[p]) ++p;
  for (size_t i = p; i < b.size(); ++i)
    if (b[i] != 0) return false;
  return true;
}

Mutated mutate(const BaseLog& log, std::mt19937_64& rng) {
  Mutated m;
  m.names = log.names;
  m.files = log.files;
  const size_t nf = m.files.size();
  const size_t f = rng() % nf;
  std::vector<uint8_t>& file = m.files[f];
  // Bytes that carry data: the header and the records (the rest is the zero fill).
  size_t dataEnd = kSegmentHeaderSize;
  for (const Placement& p : log.records)
    if (p.file == f) dataEnd = p.offset + p.size;
  auto anyOffset = [&]() { return static_cast<size_t>(rng() % file.size()); };
  // Mostly where the data is: that is where the interesting decisions are.
  auto dataOffset = [&]() { return rng() % 4 == 0 ? anyOffset() : static_cast<size_t>(rng() % dataEnd); };
  char buf[200];

  switch (rng() % 14) {
    case 0:
    case 1: {
      const size_t at = dataOffset();
      const int bit = static_cast<int>(rng() % 8);
      file[at] ^= static_cast<uint8_t>(1u << bit);
      std::snprintf(buf, sizeof buf, "flip bit %d of byte %zu", bit, at);
      break;
    }
    case 2: {
      const size_t at = dataOffset();
      file[at] = static_cast<uint8_t>(rng());
      std::snprintf(buf, sizeof buf, "set byte %zu", at);
      break;
    }
    case 3: {
      const size_t at = dataOffset();
      const size_t n = std::min<size_t>(1 + rng() % 64, file.size() - at);
      for (size_t i = 0; i < n; ++i) file[at + i] = static_cast<uint8_t>(rng());
      std::snprintf(buf, sizeof buf, "random bytes [%zu, %zu)", at, at + n);
      break;
    }
    case 4: {
      // Copy a chunk (often whole, aligned records) over another place, maybe in another file.
      const size_t src = rng() % nf;
      const std::vector<uint8_t>& from = log.files[src];
      size_t a, b, n;
      if (rng() % 2 && !log.records.empty()) {
        const Placement& p = log.records[rng() % log.records.size()];
        const Placement& q = log.records[rng() % log.records.size()];
        n = p.size;
        a = p.offset;
        b = q.offset;
        const std::vector<uint8_t>& pf = log.files[p.file];
        if (b + n <= m.files[q.file].size()) std::memcpy(m.files[q.file].data() + b, pf.data() + a, n);
        std::snprintf(buf, sizeof buf, "copy record at %zu:%zu over %zu:%zu", p.file, a, q.file, b);
        m.kind = Kind::Detect;
        m.what = buf;
        for (size_t i = 0; i < nf; ++i) m.changed = m.changed || m.files[i] != log.files[i];
        return m;
      }
      n = 1 + rng() % 96;
      a = rng() % (from.size() - n);
      b = rng() % (file.size() - n);
      std::memcpy(file.data() + b, from.data() + a, n);
      std::snprintf(buf, sizeof buf, "copy %zu bytes from %zu:%zu to %zu", n, src, a, b);
      break;
    }
    case 5: {
      // Junk after the end of the data (a write nobody made).
      if (dataEnd >= file.size()) break;
      const size_t at = dataEnd + rng() % (file.size() - dataEnd);
      const size_t n = std::min<size_t>(1 + rng() % 32, file.size() - at);
      for (size_t i = 0; i < n; ++i) file[at + i] = static_cast<uint8_t>(rng() | 1);
      std::snprintf(buf, sizeof buf, "junk [%zu, %zu) past the data end %zu", at, at + n, dataEnd);
      break;
    }
    case 6: {
      // Rename a segment to another first seq.
      const uint64_t s = 1 + rng() % (log.lastSeq + 5);
      const std::string name = segment_file_name(s);
      bool clash = false;
      for (const std::string& n2 : m.names) clash = clash || n2 == name;
      if (!clash) m.names[f] = name;
      std::snprintf(buf, sizeof buf, "rename segment %zu to %s", f, name.c_str());
      break;
    }
    case 7: {
      // An extra segment file of junk (or a copy of another) under a new name.
      const uint64_t s = 1 + rng() % (log.lastSeq + 5);
      const std::string name = segment_file_name(s);
      bool clash = false;
      for (const std::string& n2 : m.names) clash = clash || n2 == name;
      if (!clash) {
        std::vector<uint8_t> junk = log.files[rng() % nf];
        const size_t n = rng() % 3 == 0 ? rng() % 200 : junk.size();
        junk.resize(n);
        for (size_t i = 0; i < n && rng() % 2; ++i) junk[rng() % n] = static_cast<uint8_t>(rng());
        m.names.push_back(name);
        m.files.push_back(junk);
      }
      std::snprintf(buf, sizeof buf, "extra segment %s", name.c_str());
      break;
    }
    case 8: {
      // Grow a file with junk past its header's size.
      const size_t n = 1 + rng() % 64;
      for (size_t i = 0; i < n; ++i) file.push_back(static_cast<uint8_t>(rng() | 1));
      std::snprintf(buf, sizeof buf, "append %zu junk bytes", n);
      break;
    }
    case 9: {
      // Forge: change bytes inside one record (header fields included) and recompute its CRC.
      if (log.records.empty()) break;
      const Placement& p = log.records[rng() % log.records.size()];
      std::vector<uint8_t>& pf = m.files[p.file];
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits; ++k) pf[p.offset + 4 + rng() % (p.size - 4)] = static_cast<uint8_t>(rng());
      uint16_t len;
      std::memcpy(&len, pf.data() + p.offset + 4, 2);
      if (len >= kRecordHeaderSize && len <= kMaxRecordSize && p.offset + len <= pf.size()) {
        const uint32_t crc = crc32c(pf.data() + p.offset + 4, len - 4);
        std::memcpy(pf.data() + p.offset, &crc, 4);
      }
      m.kind = Kind::Forged;
      std::snprintf(buf, sizeof buf, "forge record at %zu:%zu (%d edits, crc recomputed)", p.file, p.offset, edits);
      m.what = buf;
      for (size_t i = 0; i < nf; ++i) m.changed = m.changed || m.files[i] != log.files[i];
      return m;
    }
    case 10: {
      // Zero a range. Only zeroing the whole rest of the data looks like a lost write.
      const size_t at = dataOffset();
      const bool toEnd = rng() % 2;
      const size_t n = toEnd ? file.size() - at : std::min<size_t>(1 + rng() % 128, file.size() - at);
      std::memset(file.data() + at, 0, n);
      const bool tail = f == nf - 1 && at + n >= dataEnd;
      m.kind = tail ? Kind::Loss : Kind::Detect;
      std::snprintf(buf, sizeof buf, "zero [%zu, %zu)%s", at, at + n, tail ? " (tail)" : "");
      break;
    }
    case 11: {
      // Truncate a file, at a record boundary half of the time.
      size_t at = anyOffset();
      if (rng() % 2) {
        const size_t r = recordAt(log, f, dataOffset());
        if (r != SIZE_MAX) at = log.records[r].offset;
      }
      file.resize(at);
      m.kind = f == nf - 1 ? Kind::Loss : Kind::Detect;
      std::snprintf(buf, sizeof buf, "truncate to %zu bytes", at);
      break;
    }
    case 12: {
      // Delete a segment file.
      m.names.erase(m.names.begin() + static_cast<ptrdiff_t>(f));
      m.files.erase(m.files.begin() + static_cast<ptrdiff_t>(f));
      m.kind = f == nf - 1 ? Kind::Loss : Kind::Detect;
      std::snprintf(buf, sizeof buf, "delete segment %zu of %zu", f, nf);
      m.what = buf;
      m.changed = true;
      return m;
    }
    default: {
      // Swap two aligned 8-byte words inside the data.
      const size_t a = (rng() % dataEnd) & ~size_t{7};
      const size_t b = (rng() % dataEnd) & ~size_t{7};
      if (a + 8 <= file.size() && b + 8 <= file.size()) {
        uint8_t t[8];
        std::memcpy(t, file.data() + a, 8);
        std::memcpy(file.data() + a, file.data() + b, 8);
        std::memcpy(file.data() + b, t, 8);
      }
      std::snprintf(buf, sizeof buf, "swap words at %zu and %zu", a, b);
      break;
    }
  }
  m.what = std::string("file ") + std::to_string(f) + ": " + buf;
  for (size_t i = 0; i < m.files.size() && i < log.files.size(); ++i) m.changed = m.changed || m.files[i] != log.files[i];
  m.changed = m.changed || m.files.size() != log.files.size() || m.names != log.names;
  // Whatever the mutation was, a result that is the original log with the end of its newest
  // segment zeroed is what a crash before those writes landed leaves behind.
  if (m.kind == Kind::Detect && lostWritesOnly(log, m)) m.kind = Kind::Loss;
  return m;
}

void writeDir(const std::string& dir, const Mutated& m) {
  clearDir(dir);
  for (size_t i = 0; i < m.files.size(); ++i) writeFile(dir + "/" + m.names[i], m.files[i]);
}

struct Outcome {
  RecoveryStatus status;
  RecoveryResult res;
  uint64_t digest;
  uint64_t book;
  uint64_t lastSeq;
  std::string invariant;
};

Outcome recoverDir(const std::string& dir, RecoveryMode mode, bool repair) {
  RecoveryOptions o;
  o.dir = dir;
  o.mode = mode;
  o.repair = repair;
  MatchingEngine e;
  Outcome out;
  out.status = recover_wal(o, &e, &out.res);
  out.digest = e.digest();
  out.book = bookDigest(e);
  out.lastSeq = e.lastSeq();
  out.invariant = e.checkInvariants();
  return out;
}

const char* modeName(RecoveryMode m) {
  return m == RecoveryMode::Strict ? "strict" : m == RecoveryMode::PointInTime ? "point-in-time" : "tolerate-tail";
}

std::string describe(const Outcome& o) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "status %s, lastSeq %" PRIu64 ", torn %d, truncated %" PRIu64 ", dropped %" PRIu64 "..%" PRIu64
                ", damage '%s' at %s:%" PRIu64,
                to_string(o.status), o.lastSeq, o.res.tornTail ? 1 : 0, o.res.bytesTruncated, o.res.droppedFirstSeq,
                o.res.droppedLastSeq, o.res.damage.c_str(), o.res.damageFile.c_str(), o.res.damageOffset);
  return buf;
}

struct Tally {
  uint64_t iterations = 0, ok = 0, okWhole = 0, torn = 0, corrupt = 0, diverged = 0, dropped = 0, forged = 0;
  std::map<std::string, uint64_t> failures;
};

// Runs `iterations` mutations of `log`; returns false at the first broken property.
bool fuzzLog(const BaseLog& log, uint64_t seed, uint64_t iterations, Tally* t) {
  const std::string dir = test::makeScratchDir("walfuzz");
  std::mt19937_64 rng(seed);
  bool good = true;
  for (uint64_t it = 0; it < iterations; ++it) {
    Mutated m = mutate(log, rng);
    writeDir(dir, m);
    const RecoveryMode mode = static_cast<RecoveryMode>(rng() % 3);
    const Outcome o = recoverDir(dir, mode, false);
    ++t->iterations;
    // Every broken property is counted; the first few of each kind are shown.
    auto fail = [&](const char* what) {
      std::string key = what;
      key = key.substr(0, key.find(':'));
      if (++t->failures[key] <= 3)
        std::fprintf(stderr, "  wal fuzz seed %" PRIu64 " iteration %" PRIu64 ": %s\n    mutation: %s (%s)\n    mode %s: %s\n",
                     seed, it, what, m.what.c_str(),
                     m.kind == Kind::Forged ? "forged" : m.kind == Kind::Loss ? "loss" : "detect", modeName(mode),
                     describe(o).c_str());
      good = false;
    };
    switch (o.status) {
      case RecoveryStatus::Ok:
        ++t->ok;
        break;
      case RecoveryStatus::Corrupt:
        ++t->corrupt;
        break;
      case RecoveryStatus::Diverged:
        ++t->diverged;
        break;
      default:
        fail("unexpected status");
        continue;
    }
    if (m.kind == Kind::Forged) ++t->forged;
    if (o.res.tornTail) ++t->torn;
    if (o.res.droppedFirstSeq) ++t->dropped;
    if (o.status != RecoveryStatus::Ok && (o.res.damage.empty() || o.res.damageFile.empty()))
      fail("a refusal that does not say where and what");
    if (!o.invariant.empty()) fail(("recovered engine breaks an invariant: " + o.invariant).c_str());
    if (m.kind != Kind::Forged) {
      // The book is always one the history had. With damage reported, a CLOCK record may be
      // among what was lost (it belongs to no chain: nothing says it was there), so only a clean
      // report vouches for the order timestamps as well.
      const bool clean = o.status == RecoveryStatus::Ok && !o.res.tornTail && o.res.droppedFirstSeq == 0 &&
                         o.res.bytesTruncated == 0 && o.res.damage.empty();
      auto b = log.bookAt.find(o.lastSeq);
      auto d = log.digestAt.find(o.lastSeq);
      if (b == log.bookAt.end() || b->second != o.book) fail("recovered a book the history never had");
      else if (clean && d->second != o.digest) fail("a clean recovery with timestamps the history never had");
      if (o.status == RecoveryStatus::Ok && mode == RecoveryMode::Strict && (o.res.tornTail || o.res.droppedFirstSeq))
        fail("strict mode accepted damage");
      if (clean && o.lastSeq == log.lastSeq) ++t->okWhole;
      if (clean && m.kind == Kind::Detect && m.changed && o.lastSeq != log.lastSeq)
        fail("damage accepted silently: the log was cut short with a clean report");
    }
    // Deterministic: the same bytes give the same answer.
    if (it % 4 == 0) {
      const Outcome again = recoverDir(dir, mode, false);
      if (again.status != o.status || again.lastSeq != o.lastSeq || again.digest != o.digest ||
          again.res.damage != o.res.damage || again.res.damageOffset != o.res.damageOffset)
        fail(("a second scan disagrees: " + describe(again)).c_str());
    }
    // Repair, then the next recovery reads the repaired log whole, to the same state.
    if (good && o.status == RecoveryStatus::Ok && it % 3 == 0) {
      const Outcome fixed = recoverDir(dir, mode, true);
      if (fixed.status != RecoveryStatus::Ok || fixed.digest != o.digest)
        fail(("the repairing run disagrees with the read-only one: " + describe(fixed)).c_str());
      const Outcome after = recoverDir(dir, RecoveryMode::Strict, false);
      if (after.status != RecoveryStatus::Ok || after.digest != o.digest || after.res.tornTail ||
          after.res.bytesTruncated != 0)
        fail(("after repair, strict recovery does not read the same state cleanly: " + describe(after)).c_str());
    }
  }
  removeDir(dir);
  return good;
}

}  // namespace

TEST(wal_fuzz_mutations_never_crash_and_never_pass_silently) {
  const uint64_t iterations = envNumber("DURABOOK_WAL_FUZZ_ITERATIONS", 3000);
  const uint64_t seed = envNumber("DURABOOK_WAL_FUZZ_SEED", 7);
  // Two logs: trades logged (divergence checks live) and inputs only; small segments so that
  // the log spans several files and damage can sit before, in or after a segment switch.
  const BaseLog withTrades = buildLog(seed, 400, true, 2048);
  const BaseLog inputsOnly = buildLog(seed + 1, 300, false, 1024);
  REQUIRE(withTrades.files.size() >= 5);
  REQUIRE(inputsOnly.files.size() >= 5);
  // The unmutated logs recover whole.
  for (const BaseLog* log : {&withTrades, &inputsOnly}) {
    const std::string dir = test::makeScratchDir("walfuzz");
    Mutated m;
    m.names = log->names;
    m.files = log->files;
    writeDir(dir, m);
    const Outcome o = recoverDir(dir, RecoveryMode::Strict, false);
    CHECK(o.status == RecoveryStatus::Ok);
    CHECK_EQ(o.lastSeq, log->lastSeq);
    CHECK(o.digest == log->digestAt.at(log->lastSeq));
    removeDir(dir);
  }
  Tally t;
  CHECK(fuzzLog(withTrades, seed * 1000 + 1, iterations - iterations / 3, &t));
  CHECK(fuzzLog(inputsOnly, seed * 1000 + 2, iterations / 3, &t));
  std::fprintf(stderr,
               "  wal fuzz: %" PRIu64 " mutated logs: %" PRIu64 " ok (%" PRIu64 " whole, %" PRIu64 " torn tail, %" PRIu64
               " point-in-time cuts), %" PRIu64 " corrupt, %" PRIu64 " diverged; %" PRIu64 " forged checksums\n",
               t.iterations, t.ok, t.okWhole, t.torn, t.dropped, t.corrupt, t.diverged, t.forged);
  for (const auto& [what, n] : t.failures) std::fprintf(stderr, "  wal fuzz: %" PRIu64 " x %s\n", n, what.c_str());
  // The mix must reach every outcome, or the fuzzing is not testing what it claims.
  CHECK(t.okWhole > 0);
  CHECK(t.torn > 0);
  CHECK(t.dropped > 0);
  CHECK(t.corrupt > 0);
  CHECK(t.diverged > 0);
}

// Fixed in 383f42b; kept as a regression test.
// FINDING (native/core/wal_recovery.cc, recover_wal; first seen by the mutation test above):
// a segment whose header names another first seq than its file name ("segment header names
// first seq X, file name Y") is cut like a damaged record: the repair zeroes it from byte 64
// on but keeps the file and its wrong header, and reports it as the resume segment. With
// recovery 'point-in-time' the cut is reported as done (status Ok, dropped range), yet the
// repaired directory is still damaged: strict recovery refuses it, tolerate-tail reports the
// same "torn tail" on every open, and once the writer has appended the next commands to that
// segment, the next ordinary open refuses the log as corrupt (WAL_CORRUPT). Expected: a
// segment with a mismatched header is set aside like one with a bad header (renamed
// *.dropped), and the log resumes at the end of the segment before it.
TEST(wal_fuzz_finding_misnamed_segment_after_point_in_time_repair) {
  const BaseLog log = buildLog(11, 200, false, 1024);
  REQUIRE(log.files.size() >= 3);
  const std::string dir = test::makeScratchDir("walfuzz");
  Mutated m;
  m.names = log.names;
  m.files = log.files;
  // The newest segment under a name one below its real first seq (still sorted last).
  uint64_t first = 0;
  REQUIRE(parse_segment_file_name(m.names.back(), &first));
  m.names.back() = segment_file_name(first - 1);
  writeDir(dir, m);

  const Outcome cut = recoverDir(dir, RecoveryMode::PointInTime, true);
  CHECK(cut.status == RecoveryStatus::Ok);
  CHECK_EQ(cut.lastSeq, first - 1);
  CHECK_EQ(cut.res.droppedFirstSeq, first);

  // The repaired log reads cleanly, to the same state.
  const Outcome strict = recoverDir(dir, RecoveryMode::Strict, false);
  CHECK(strict.status == RecoveryStatus::Ok);
  CHECK(strict.digest == cut.digest);
  const Outcome tolerant = recoverDir(dir, RecoveryMode::TolerateTail, false);
  CHECK(tolerant.status == RecoveryStatus::Ok);
  CHECK(!tolerant.res.tornTail);

  // The writer continues where recovery said, then the log opens with the new record in it.
  WalWriterOptions o;
  o.dir = dir;
  o.segmentBytes = 64 << 10;
  std::unique_ptr<WalWriter> w;
  const WalResume resume{cut.res.resumeSegment, cut.res.resumeOffset, cut.lastSeq + 1};
  REQUIRE(WalWriter::open(o, resume.segmentPath.empty() ? std::nullopt : std::optional<WalResume>(resume), &w).ok());
  w->logCancel(cut.lastSeq + 1, 999);
  CHECK(w->close().ok());
  w.reset();
  const Outcome reopened = recoverDir(dir, RecoveryMode::TolerateTail, false);
  CHECK(reopened.status == RecoveryStatus::Ok);
  CHECK_EQ(reopened.lastSeq, cut.lastSeq + 1);
  if (reopened.status != RecoveryStatus::Ok)
    std::fprintf(stderr, "  reopened after the writer appended: %s\n", describe(reopened).c_str());
  removeDir(dir);
}

namespace {

// The engine state after the first `segments` segments of `log` (what a snapshot taken at the
// end of them holds), by recovering a directory that holds only those.
MatchingEngine stateAfterSegments(const BaseLog& log, size_t segments) {
  const std::string dir = test::makeScratchDir("walfuzz");
  for (size_t i = 0; i < segments; ++i) writeFile(dir + "/" + log.names[i], log.files[i]);
  RecoveryOptions o;
  o.dir = dir;
  o.repair = false;
  MatchingEngine e;
  RecoveryResult res;
  recover_wal(o, &e, &res);
  removeDir(dir);
  return e;
}

}  // namespace

// Fixed in 383f42b; kept as a regression test.
// FINDING (native/core/wal_recovery.cc, recover_wal, the bad-header branch: `cutSeg = si - 1`;
// first seen by the mutation test above): with recovery 'point-in-time', a damaged header on
// the first segment the scan reads is reported as cut (status Ok, everything dropped), but
//  (a) when that segment is the oldest one, si - 1 wraps to SIZE_MAX, which means "no cut":
//      nothing is set aside, the damaged segment stays, the next strict recovery refuses the
//      directory, and the WAL cannot be opened after it (no resume segment is reported while
//      wal-*.log files remain, so a fresh writer refuses the directory with EEXIST);
//  (b) when recovery starts from a snapshot (older segments exist before it), the cut lands
//      in the segment *before* the recovery start, which the snapshot already covers: it is
//      zeroed from byte 64 on (records destroyed) and reported as the resume point, so the
//      writer appends seq base+1 into a segment named after an older first seq, and the next
//      recovery refuses the log ("first record has seq ..., segment starts at ...").
// Expected: the damaged segment and those after it are set aside, nothing before it changes,
// and the writer starts a fresh segment at base+1.
TEST(wal_fuzz_finding_point_in_time_bad_header_on_first_scanned_segment) {
  const BaseLog log = buildLog(12, 300, false, 1024);
  REQUIRE(log.files.size() >= 4);
  {
    // (a) the oldest segment's header is damaged.
    const std::string dir = test::makeScratchDir("walfuzz");
    Mutated m;
    m.names = log.names;
    m.files = log.files;
    m.files[0][20] ^= 1;  // first seq field: header checksum mismatch
    writeDir(dir, m);
    const Outcome cut = recoverDir(dir, RecoveryMode::PointInTime, true);
    CHECK(cut.status == RecoveryStatus::Ok);
    CHECK_EQ(cut.lastSeq, uint64_t{0});
    const Outcome after = recoverDir(dir, RecoveryMode::Strict, false);
    CHECK(after.status == RecoveryStatus::Ok);
    if (after.status != RecoveryStatus::Ok) std::fprintf(stderr, "  (a) after the cut: %s\n", describe(after).c_str());
    // A writer can continue the log from what recovery reported.
    WalWriterOptions o;
    o.dir = dir;
    o.segmentBytes = 64 << 10;
    std::unique_ptr<WalWriter> w;
    std::optional<WalResume> resume;
    if (!cut.res.resumeSegment.empty()) resume = WalResume{cut.res.resumeSegment, cut.res.resumeOffset, 1};
    else resume = WalResume{"", 0, 1};
    const WalStatus st = WalWriter::open(o, resume, &w);
    CHECK(st.ok());
    if (!st.ok()) std::fprintf(stderr, "  (a) writer open: errno %d (%s)\n", st.err, st.op.c_str());
    if (w) w->close();
    removeDir(dir);
  }
  {
    // (b) recovery starts from a snapshot at the end of segment 1; segment 2's header is damaged.
    MatchingEngine snap = stateAfterSegments(log, 2);
    REQUIRE(snap.lastSeq() > 0);
    uint64_t first2 = 0;
    REQUIRE(parse_segment_file_name(log.names[2], &first2));
    REQUIRE(first2 == snap.lastSeq() + 1);
    const std::string dir = test::makeScratchDir("walfuzz");
    Mutated m;
    m.names = log.names;
    m.files = log.files;
    m.files[2][20] ^= 1;
    writeDir(dir, m);
    RecoveryOptions o;
    o.dir = dir;
    o.mode = RecoveryMode::PointInTime;
    RecoveryResult res;
    MatchingEngine e = stateAfterSegments(log, 2);
    CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Ok);
    CHECK_EQ(e.lastSeq(), snap.lastSeq());
    // Segment 1 holds records the snapshot covers: recovery has no business changing it.
    CHECK(readAll(dir + "/" + log.names[1]) == log.files[1]);
    // And the log continues from the snapshot after a cut.
    MatchingEngine e2 = stateAfterSegments(log, 2);
    RecoveryOptions strict = o;
    strict.mode = RecoveryMode::Strict;
    strict.repair = false;
    RecoveryResult res2;
    const RecoveryStatus st2 = recover_wal(strict, &e2, &res2);
    CHECK(st2 == RecoveryStatus::Ok);
    if (st2 != RecoveryStatus::Ok)
      std::fprintf(stderr, "  (b) after the cut: %s at %s:%" PRIu64 " (resume was %s:%" PRIu64 ")\n", res2.damage.c_str(),
                   res2.damageFile.c_str(), res2.damageOffset, res.resumeSegment.c_str(), res.resumeOffset);
    // The writer continues where recovery said; the next recovery (same snapshot) reads it.
    WalWriterOptions wo;
    wo.dir = dir;
    wo.segmentBytes = 64 << 10;
    std::unique_ptr<WalWriter> w;
    const WalResume resume{res.resumeSegment, res.resumeOffset, snap.lastSeq() + 1};
    if (WalWriter::open(wo, resume, &w).ok()) {
      w->logCancel(snap.lastSeq() + 1, 999);
      CHECK(w->close().ok());
      w.reset();
      MatchingEngine e3 = stateAfterSegments(log, 2);
      RecoveryResult res3;
      const RecoveryStatus st3 = recover_wal(strict, &e3, &res3);
      CHECK(st3 == RecoveryStatus::Ok);
      CHECK_EQ(e3.lastSeq(), snap.lastSeq() + 1);
      if (st3 != RecoveryStatus::Ok)
        std::fprintf(stderr, "  (b) after the writer appended at %s:%" PRIu64 ": %s at %s:%" PRIu64 "\n",
                     res.resumeSegment.c_str(), res.resumeOffset, res3.damage.c_str(), res3.damageFile.c_str(),
                     res3.damageOffset);
    } else {
      CHECK(!"the writer cannot continue from the reported resume point");
    }
    removeDir(dir);
  }
}

// Fixed in 383f42b; kept as a regression test.
// FINDING (native/core/wal_recovery.cc, recover_wal: the end of a segment that is not the
// last; first seen by the mutation test above): the writer syncs a segment completely before
// it writes to the next one, so a crash never leaves a hole at the end of a segment that has
// a successor. Yet when the last records of such a segment are zeroed (external damage) and
// they are CLOCK or TRADE records, recovery accepts the log with a clean report: no damage,
// no torn tail. Missing TRADE records just go unverified; a missing CLOCK record replays its
// command with the previous clock, so the recovered orders carry timestamps they never had
// (digest differs from the original engine's). Inputs are safe (the seq chain catches them).
// Expected: a segment with a successor is full: the successor's first record would not have
// fit after its last record; if it would have, records are missing and recovery reports it.
TEST(wal_fuzz_finding_zeroed_clock_or_trades_at_the_end_of_a_middle_segment) {
  int tested = 0;
  for (uint64_t seed = 20; seed < 60 && tested < 2; ++seed) {
    const BaseLog log = buildLog(seed, 300, true, 1024);
    // A segment (not the last) whose last records are CLOCK/TRADE, the first of them a CLOCK.
    for (size_t f = 0; f + 1 < log.files.size() && tested < 2; ++f) {
      size_t last = SIZE_MAX;
      for (size_t i = 0; i < log.records.size(); ++i)
        if (log.records[i].file == f) last = i;
      if (last == SIZE_MAX) continue;
      size_t from = last + 1;
      while (from > 0 && log.records[from - 1].file == f) {
        WalRecord r{};
        size_t used;
        const Placement& p = log.records[from - 1];
        if (decode_record(log.files[f].data() + p.offset, kMaxRecordSize, &r, &used) != DecodeStatus::Ok) break;
        if (r.type != WalType::Clock && r.type != WalType::Trade) break;
        --from;
      }
      if (from > last) continue;
      WalRecord firstZeroed{};
      size_t used;
      decode_record(log.files[f].data() + log.records[from].offset, kMaxRecordSize, &firstZeroed, &used);
      if (firstZeroed.type != WalType::Clock && tested == 0) continue;  // want a CLOCK case first
      ++tested;
      const std::string dir = test::makeScratchDir("walfuzz");
      Mutated m;
      m.names = log.names;
      m.files = log.files;
      std::memset(m.files[f].data() + log.records[from].offset, 0, m.files[f].size() - log.records[from].offset);
      writeDir(dir, m);
      const Outcome o = recoverDir(dir, RecoveryMode::TolerateTail, false);
      const bool silent = o.status == RecoveryStatus::Ok && o.res.damage.empty() && !o.res.tornTail;
      CHECK(!silent);
      if (silent)
        std::fprintf(stderr, "  seed %" PRIu64 ": %zu trailing %s records of segment %zu of %zu zeroed: %s, digest %s\n",
                     seed, last - from + 1, firstZeroed.type == WalType::Clock ? "CLOCK/TRADE" : "TRADE", f,
                     log.files.size(), describe(o).c_str(),
                     o.digest == log.digestAt.at(o.lastSeq) ? "as original" : "differs from the original");
      removeDir(dir);
    }
  }
  CHECK_EQ(tested, 2);
}

// --- findings of the libFuzzer targets (native/fuzz), pinned here so they run in every build -

namespace {

// Runs `fn` in a child process; returns its exit code, or 128 + the signal that killed it.
template <typename F>
int inChild(F fn) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    fn();
    std::_Exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

// Fixed in 383f42b; kept as a regression test.
// FINDING (native/core/snapshot.cc:132, load_snapshot; found by native/fuzz/snapshot_fuzz.cc):
// the order-table size check `end - b != info->orders * kSnapshotOrderSize` overflows. An image
// whose checksums are valid and whose header counts 2^61 orders (2^61 * 40 wraps to 0) passes
// it with an empty order table, and the loop then reads orders past the end of the buffer
// (heap-buffer-overflow under ASan; in a release build a read of whatever follows, or SIGSEGV).
// A snapshot file is read at Engine.open(), so such a file in the data directory crashes the
// process instead of being refused. Expected: SnapshotStatus::BadContent, nothing read past n.
// The image is placed right before an inaccessible page so that the over-read faults in any
// build; the load runs in a child process.
TEST(snapshot_fuzz_finding_order_count_overflow_reads_past_the_image) {
  MatchingEngine empty;
  std::vector<uint8_t> img;
  encode_snapshot(empty, &img);
  REQUIRE(img.size() == kSnapshotHeaderSize + 24);
  const uint64_t orders = uint64_t{1} << 61;  // * 40 == 0 (mod 2^64)
  std::memcpy(img.data() + 48, &orders, 8);
  std::memset(img.data() + 12, 0, 4);
  const uint32_t crc = crc32c(img.data(), kSnapshotHeaderSize);
  std::memcpy(img.data() + 12, &crc, 4);
  const long page = sysconf(_SC_PAGESIZE);
  uint8_t* mem = static_cast<uint8_t*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(mem != MAP_FAILED);
  REQUIRE(mprotect(mem + page, page, PROT_NONE) == 0);
  uint8_t* at = mem + page - img.size();
  std::memcpy(at, img.data(), img.size());
  const int code = inChild([&] {
    MatchingEngine e;
    SnapshotInfo info;
    std::string why;
    const SnapshotStatus st = load_snapshot(at, img.size(), &e, &info, &why);
    std::_Exit(st == SnapshotStatus::BadContent ? 0 : 1);
  });
  CHECK_EQ(code, 0);
  if (code != 0) std::fprintf(stderr, "  load_snapshot child: exit %d (%d = SIGSEGV)\n", code, 128 + SIGSEGV);
  munmap(mem, 2 * page);
}

// Fixed in 383f42b; kept as a regression test.
// FINDING (native/core/wal_recovery.cc, recover_wal/cutAt "regains its pre-written size", and
// readFile; found by native/fuzz/wal_recovery_fuzz.cc): a point-in-time cut in a segment
// shorter than its header's segment size ftruncate()s it to that size, trusting the header.
// The header's checksum proves the header was written as is, not that the size is sane: a
// header naming 1 TiB (2^40, the largest wal.segmentBytes the options accept) turns the file
// into a 1 TiB sparse file (2^50: EFBIG, an IO_ERROR), and the next recovery reads the segment
// whole into memory (readFile: vector::resize(size)) and dies with std::bad_alloc (abort).
// Expected: recovery never allocates by a size read from disk without a bound; a segment it
// cannot read is an error status, not a crash. (Whole-segment reads also mean that a log
// configured with very large segments cannot be recovered on a machine with less memory.)
TEST(wal_fuzz_finding_cut_trusts_the_header_segment_size) {
  const std::string dir = test::makeScratchDir("walfuzz");
  std::vector<uint8_t> seg(4096, 0);
  encode_segment_header(SegmentHeader{1, uint64_t{1} << 40}, seg.data());
  WalRecord r{};
  r.type = WalType::AddSymbol;
  r.seq = 1;
  r.add_symbol.name_len = 1;
  r.add_symbol.name[0] = 'X';
  const size_t n = encode_record(r, seg.data() + kSegmentHeaderSize);
  seal_record(seg.data() + kSegmentHeaderSize);
  seg[kSegmentHeaderSize + n + 3] = 0x55;  // a torn record after it
  writeFile(dir + "/" + segment_file_name(1), seg);
  const Outcome cut = recoverDir(dir, RecoveryMode::PointInTime, true);
  CHECK(cut.status == RecoveryStatus::Ok || cut.status == RecoveryStatus::IoError);
  // Whether the segment was cut or set aside (*.dropped), it was not grown to the header's size.
  struct stat st{};
  if (::stat((dir + "/" + segment_file_name(1)).c_str(), &st) != 0)
    ::stat((dir + "/" + segment_file_name(1) + ".dropped").c_str(), &st);
  CHECK(static_cast<uint64_t>(st.st_size) < (uint64_t{1} << 30));
  // The next recovery returns (no crash) and agrees with the first.
  const uint64_t want = cut.lastSeq;
  const int code = inChild([&] {
    const Outcome again = recoverDir(dir, RecoveryMode::TolerateTail, false);
    std::_Exit(again.status == RecoveryStatus::Ok && again.lastSeq == want ? 0 : 1);
  });
  CHECK_EQ(code, 0);
  if (code != 0) std::fprintf(stderr, "  recovery after the cut: child exit %d (%d = SIGABRT), file %lld bytes\n", code,
                              128 + SIGABRT, static_cast<long long>(st.st_size));
  removeDir(dir);
}
