// libFuzzer target: the WAL recovery scan (recover_wal) on arbitrary segment files.
//
// The input is written as segment files into a private temp directory and recovered into a
// fresh engine. Byte 0 steers the run; the rest is file content:
//
//   bits 0-1  recovery mode: 0/3 tolerate-tail, 1 strict, 2 point-in-time
//   bit 2     reseal: recompute the segment header CRC and the CRC of every record that has a
//             plausible length, so that mutations get past the checksums into the record
//             decoder, the sequence chain, replay and trade verification
//   bit 3     two segments: split the content at (byte 1 | byte 2 << 8) * 8; the second file is
//             named after the first seq its header names (or 2 when it has none)
//   bit 4     repair (cut torn tails, set segments aside) instead of a read-only scan
//
// What must hold for every input: recover_wal returns (no crash, no out-of-bounds access, no
// undefined behaviour: built with ASan + UBSan; no hang: libFuzzer's -timeout), with a known
// status; Corrupt/Diverged name the damage; the engine it leaves passes checkInvariants(); and
// the scan is deterministic (a second read-only scan of the same files agrees).
//
// Seeds: DURABOOK_FUZZ_WRITE_SEEDS=DIR ./wal_recovery_fuzz writes valid logs (with and without
// trade records, one and two segments) to DIR and exits. scripts/fuzz-native.sh does that, then
// fuzzes from them for a bounded time.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "crc32c.h"
#include "journal.h"
#include "matching_engine.h"
#include "wal_format.h"
#include "wal_recovery.h"
#include "../test/wal_test_support.h"

using namespace durabook;
using test::clearDir;

namespace {

std::string& fuzzDir() {
  static std::string dir;
  return dir;
}

void writeFile(const std::string& path, const uint8_t* p, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (n && std::fwrite(p, 1, n, f) != n) std::abort();
  std::fclose(f);
}

uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// Recomputes the header CRC and the CRC of each record with a plausible length.
void reseal(std::vector<uint8_t>& seg) {
  if (seg.size() >= kSegmentHeaderSize) {
    std::memset(seg.data() + 12, 0, 4);
    const uint32_t crc = crc32c(seg.data(), kSegmentHeaderSize);
    std::memcpy(seg.data() + 12, &crc, 4);
  }
  size_t pos = kSegmentHeaderSize;
  while (pos + kRecordHeaderSize <= seg.size()) {
    const uint16_t len = load16(seg.data() + pos + 4);
    if (len < kRecordHeaderSize || len > kMaxRecordSize || pos + len > seg.size()) break;
    const uint32_t crc = crc32c(seg.data() + pos + 4, len - 4);
    std::memcpy(seg.data() + pos, &crc, 4);
    pos += wal_align8(len);
  }
}

struct Run {
  RecoveryStatus status;
  RecoveryResult res;
  uint64_t digest;
  std::string broken;
};

Run recoverOnce(RecoveryMode mode, bool repair) {
  RecoveryOptions o;
  o.dir = fuzzDir();
  o.mode = mode;
  o.repair = repair;
  MatchingEngine e;
  Run r;
  r.status = recover_wal(o, &e, &r.res);
  r.digest = e.digest();
  r.broken = e.checkInvariants();
  return r;
}

[[noreturn]] void broken(const char* what, const Run& r) {
  std::fprintf(stderr, "wal_recovery_fuzz: %s (status %s, damage '%s', invariant '%s')\n", what, to_string(r.status),
               r.res.damage.c_str(), r.broken.c_str());
  std::abort();
}

// --- seeds ----------------------------------------------------------------------------------

// One segment holding a random workload's log (zero fill to a multiple of 64 past the data).
std::vector<uint8_t> seedSegment(uint64_t seed, int commands, bool trades, uint64_t* splitAt) {
  test::CollectingJournal j;
  j.trades = trades;
  MatchingEngine e;
  e.setJournal(&j);
  std::mt19937_64 rng(seed);
  Report r;
  int64_t clock = 1'700'000'000'000'000;
  e.setClock(clock);
  e.addSymbol("AAPL", &r);
  e.addSymbol("MSFT", &r);
  for (int i = 0; i < commands; ++i) {
    if (rng() % 3 == 0) e.setClock(clock += 1 + static_cast<int64_t>(rng() % 1000));
    e.clearTrades();
    const int64_t id = 1 + static_cast<int64_t>(rng() % 40);
    const uint64_t u = rng() % 10;
    if (u < 6) {
      NewOrderCmd c;
      c.id = id;
      c.symbol = static_cast<uint32_t>(rng() % 2);
      c.side = rng() & 1 ? Side::Sell : Side::Buy;
      c.qty = 1 + static_cast<int64_t>(rng() % 20);
      c.price = 100 + static_cast<int64_t>(rng() % 5) - 2;
      c.hasPrice = true;
      if (rng() % 8 == 0) {
        c.market = true;
        c.tif = Tif::Ioc;
      } else if (rng() % 8 == 0) {
        c.tif = Tif::Fok;
      } else if (rng() % 8 == 0) {
        c.postOnly = true;
      }
      e.submit(c, &r);
    } else if (u < 8) {
      e.cancel(id, &r);
    } else {
      ModifyCmd m{id, 100 + static_cast<int64_t>(rng() % 5) - 2, 1 + static_cast<int64_t>(rng() % 20), rng() % 2 == 0,
                  true};
      e.modify(m, &r);
    }
  }
  std::vector<uint8_t> seg(kSegmentHeaderSize, 0);
  *splitAt = 0;
  for (size_t i = 0; i < j.recs.size(); ++i) {
    uint8_t buf[kMaxRecordSize];
    const size_t n = encode_record(j.recs[i], buf);
    seal_record(buf);
    if (i == j.recs.size() / 2) *splitAt = seg.size();
    seg.insert(seg.end(), buf, buf + n);
  }
  seg.resize((seg.size() + 63) / 64 * 64 + 64, 0);
  encode_segment_header(SegmentHeader{1, seg.size()}, seg.data());
  return seg;
}

void writeSeeds(const char* dir) {
  ::mkdir(dir, 0755);
  int n = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    for (bool trades : {true, false}) {
      uint64_t split = 0;
      std::vector<uint8_t> seg = seedSegment(seed, 12 + 10 * static_cast<int>(seed), trades, &split);
      for (uint8_t control : {uint8_t{0}, uint8_t{2}, uint8_t{4}}) {
        std::vector<uint8_t> in;
        in.push_back(control);
        in.insert(in.end(), seg.begin(), seg.end());
        writeFile(std::string(dir) + "/seed-" + std::to_string(++n), in.data(), in.size());
      }
      // Two segments: the second half under its own header (the split keeps records whole).
      std::vector<uint8_t> a(seg.begin(), seg.begin() + static_cast<ptrdiff_t>(split));
      a.resize((a.size() + 7) / 8 * 8, 0);
      std::vector<uint8_t> b(kSegmentHeaderSize, 0);
      b.insert(b.end(), seg.begin() + static_cast<ptrdiff_t>(split), seg.end());
      WalRecord first{};
      size_t used;
      decode_record(b.data() + kSegmentHeaderSize, b.size() - kSegmentHeaderSize, &first, &used);
      encode_segment_header(SegmentHeader{1, a.size()}, a.data());
      encode_segment_header(SegmentHeader{first.seq, b.size()}, b.data());
      std::vector<uint8_t> in;
      in.push_back(8);
      in.push_back(static_cast<uint8_t>(a.size() / 8));
      in.push_back(static_cast<uint8_t>(a.size() / 8 >> 8));
      in.insert(in.end(), a.begin(), a.end());
      in.insert(in.end(), b.begin(), b.end());
      writeFile(std::string(dir) + "/seed-" + std::to_string(++n), in.data(), in.size());
    }
  }
  std::fprintf(stderr, "wal_recovery_fuzz: wrote %d seeds to %s\n", n, dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seeds = std::getenv("DURABOOK_FUZZ_WRITE_SEEDS")) {
    writeSeeds(seeds);
    std::exit(0);
  }
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/durabook-walfuzz-XXXXXX";
  if (!mkdtemp(tmpl.data())) std::abort();
  fuzzDir() = tmpl;
  std::atexit([] {
    clearDir(fuzzDir());
    ::rmdir(fuzzDir().c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  const RecoveryMode mode = (control & 3) == 1   ? RecoveryMode::Strict
                            : (control & 3) == 2 ? RecoveryMode::PointInTime
                                                 : RecoveryMode::TolerateTail;
  const bool doReseal = control & 4;
  const bool split = control & 8;
  const bool repair = control & 16;
  const uint8_t* p = data + 1;
  size_t n = size - 1;
  size_t cut = n;
  if (split) {
    if (n < 2) return 0;
    cut = static_cast<size_t>(p[0] | p[1] << 8) * 8;
    p += 2;
    n -= 2;
    if (cut > n) cut = n;
  }
  std::vector<uint8_t> a(p, p + cut), b(p + cut, p + n);
  if (doReseal) {
    reseal(a);
    if (split) reseal(b);
  }
  clearDir(fuzzDir());
  writeFile(fuzzDir() + "/" + segment_file_name(1), a.data(), a.size());
  if (split) {
    SegmentHeader h{};
    uint64_t first = 2;
    if (decode_segment_header(b.data(), b.size(), &h) == SegmentStatus::Ok && h.first_seq > 1) first = h.first_seq;
    writeFile(fuzzDir() + "/" + segment_file_name(first), b.data(), b.size());
  }

  const Run r = recoverOnce(mode, false);
  switch (r.status) {
    case RecoveryStatus::Ok:
    case RecoveryStatus::Corrupt:
    case RecoveryStatus::Diverged:
      break;
    default:
      broken("unexpected status", r);
  }
  if (r.status != RecoveryStatus::Ok && (r.res.damage.empty() || r.res.damageFile.empty()))
    broken("a refusal that does not say what and where", r);
  if (!r.broken.empty()) broken("the recovered engine breaks an invariant", r);
  const Run again = recoverOnce(mode, false);
  if (again.status != r.status || again.digest != r.digest || again.res.damage != r.res.damage ||
      again.res.damageOffset != r.res.damageOffset)
    broken("a second read-only scan disagrees", again);
  if (repair) {
    const Run fixed = recoverOnce(mode, true);
    if (fixed.status != r.status || fixed.digest != r.digest) broken("the repairing scan disagrees", fixed);
  }
  return 0;
}
