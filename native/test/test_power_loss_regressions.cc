// Regressions found by the power-loss harness (test/recovery/power-loss.test.ts), rebuilt by
// hand so that they do not depend on a lucky crash point.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "check.h"
#include "matching_engine.h"
#include "wal_format.h"
#include "wal_recovery.h"
#include "wal_writer.h"
#include "scratch_dir.h"

using namespace durabook;
using test::exists;
using test::removeDir;

namespace {

size_t put(std::vector<uint8_t>* seg, const WalRecord& r) {
  uint8_t buf[kMaxRecordSize];
  const size_t n = encode_record(r, buf);
  seal_record(buf);
  seg->insert(seg->end(), buf, buf + n);
  return n;
}

WalRecord clockRec(uint64_t seq, int64_t ts) {
  WalRecord r{};
  r.type = WalType::Clock;
  r.seq = seq;
  r.clock.ts_us = ts;
  return r;
}

WalRecord newRec(uint64_t seq) {
  WalRecord r{};
  r.type = WalType::New;
  r.seq = seq;
  // Buys at 100, sells at 200: nothing ever trades, so no trade records are needed.
  r.new_order = WalNew{static_cast<int64_t>(seq), seq % 2 ? 100 : 200, 1, 0, seq % 2 ? WalSide::Buy : WalSide::Sell,
                       WalTif::Gtc, false, false, true};
  return r;
}

// Segment 1 of a log: its header, then seq 1 adding symbol 0 ("S").
std::vector<uint8_t> firstSegmentStart(uint64_t segBytes) {
  std::vector<uint8_t> seg(kSegmentHeaderSize);
  encode_segment_header(SegmentHeader{1, segBytes}, seg.data());
  WalRecord sym{};
  sym.type = WalType::AddSymbol;
  sym.seq = 1;
  sym.add_symbol.symbol = 0;
  sym.add_symbol.name_len = 1;
  sym.add_symbol.name[0] = 'S';
  put(&seg, sym);
  return seg;
}

// A GTC buy of 1 at 100 on symbol 0: what the tests log once recovery hands the log back.
NewOrderCmd buyAt100(int64_t id) {
  NewOrderCmd cmd;
  cmd.id = id;
  cmd.price = 100;
  cmd.qty = 1;
  cmd.hasPrice = true;
  return cmd;
}

void writeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

}  // namespace

// Power lost at a segment switch whose batch began with a CLOCK record that fit the old segment
// while its command did not: the writer synced the clock into the old segment, installed the
// new segment (renamed and named durably), and the power went before the command reached it.
// Recovery resumed in the new, empty segment and left the orphan clock at the end of the old
// one; the next command's clock record then followed it, and every later open() refused the
// log (WAL_CORRUPT: "seq S where S was expected") — acknowledged commands included.
TEST(recovery_orphan_clock_at_the_end_of_a_full_segment_is_cut) {
  const std::string dir = test::makeScratchDir("plr");
  REQUIRE(!dir.empty());
  const uint64_t segBytes = 64 << 10;
  std::vector<uint8_t> seg = firstSegmentStart(segBytes);
  uint8_t tmp[kMaxRecordSize];
  const size_t c = encode_record(clockRec(2, 0), tmp);
  const size_t n = encode_record(newRec(2), tmp);
  // Commands (most with a clock record) until the room left takes a clock but not a command.
  uint64_t seq = 2;
  for (;;) {
    const size_t room = segBytes - seg.size();
    if (room >= c && room < c + n) break;
    REQUIRE(room >= n);
    if (room >= 2 * (c + n)) put(&seg, clockRec(seq, 1000 + static_cast<int64_t>(seq)));
    put(&seg, newRec(seq));
    ++seq;
  }
  const uint64_t S = seq;
  put(&seg, clockRec(S, 1000 + static_cast<int64_t>(S)));
  seg.resize(segBytes, 0);
  writeFile(dir + "/" + segment_file_name(1), seg);
  std::vector<uint8_t> next(segBytes, 0);
  encode_segment_header(SegmentHeader{S, segBytes}, next.data());
  writeFile(dir + "/" + segment_file_name(S), next);

  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  REQUIRE(recover_wal(o, &e, &res) == RecoveryStatus::Ok);
  CHECK_EQ(e.lastSeq(), S - 1);
  CHECK(res.tornTail);  // the orphan clock is the unsynced end of the log, and is reported
  CHECK(res.bytesTruncated > 0 && res.bytesTruncated <= c);  // (counted to its last non-zero byte)
  CHECK_EQ(res.resumeSegment, dir + "/" + segment_file_name(1));
  CHECK(exists(dir + "/" + segment_file_name(S) + ".dropped"));

  // The engine carries on from there, as Engine.open() would.
  WalWriterOptions wo;
  wo.dir = dir;
  wo.segmentBytes = segBytes;
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(wo, WalResume{res.resumeSegment, res.resumeOffset, S}, &w).ok());
  w->logClock(S, 5000);
  w->logNew(S, buyAt100(static_cast<int64_t>(S)));
  CHECK(w->close().ok());
  w.reset();

  MatchingEngine e2;
  RecoveryResult res2;
  CHECK(recover_wal(o, &e2, &res2) == RecoveryStatus::Ok);
  CHECK_EQ(res2.damage, std::string());
  CHECK_EQ(e2.lastSeq(), S);
  CHECK(!res2.tornTail);
  // Strict mode refuses the orphan clock rather than cut it, as it refuses a torn tail.
  std::vector<uint8_t> again = seg;
  writeFile(dir + "/" + segment_file_name(1), again);
  ::unlink((dir + "/" + segment_file_name(S)).c_str());
  writeFile(dir + "/" + segment_file_name(S), next);
  MatchingEngine e3;
  RecoveryResult res3;
  RecoveryOptions strict = o;
  strict.mode = RecoveryMode::Strict;
  CHECK(recover_wal(strict, &e3, &res3) == RecoveryStatus::Corrupt);
  CHECK(exists(dir + "/" + segment_file_name(S)));
  removeDir(dir);
}

// Power lost while the first batch of a new segment was being synced, its first record torn:
// recovery cut the torn record and resumed in the new segment, at its start. The old segment
// had ended with room for a smaller record than the one that moved the writer on, so when the
// next command was such a record, it went into the new segment while the old one still had
// room for it, and the next open() refused the log ("zeroed records at the end of a segment
// that has a successor"). Recovery now resumes at the end of the old segment, as it does for a
// new segment that holds nothing at all.
TEST(recovery_torn_first_record_of_a_new_segment_resumes_in_the_old_one) {
  const std::string dir = test::makeScratchDir("plr");
  REQUIRE(!dir.empty());
  const uint64_t segBytes = 64 << 10;
  std::vector<uint8_t> seg = firstSegmentStart(segBytes);
  uint8_t tmp[kMaxRecordSize];
  const size_t n = encode_record(newRec(2), tmp);
  WalRecord cancel{};
  cancel.type = WalType::Cancel;
  cancel.cancel.id = 2;
  const size_t small = encode_record(cancel, tmp);
  REQUIRE(small < n);
  // NEW records until the room left takes a CANCEL but not a NEW (or give up: no such room).
  uint64_t seq = 2;
  while (segBytes - seg.size() >= n) put(&seg, newRec(seq++));
  const size_t room = segBytes - seg.size();
  REQUIRE(room >= small);  // (with 64 KiB segments and these records, 24 bytes are left)
  const uint64_t S = seq;
  seg.resize(segBytes, 0);
  writeFile(dir + "/" + segment_file_name(1), seg);
  // The new segment: its header, and the first 19 bytes of a NEW record for S, the rest of
  // its pre-written zeros untouched.
  std::vector<uint8_t> next(segBytes, 0);
  encode_segment_header(SegmentHeader{S, segBytes}, next.data());
  std::vector<uint8_t> rec;
  put(&rec, newRec(S));
  std::memcpy(next.data() + kSegmentHeaderSize, rec.data(), 19);
  writeFile(dir + "/" + segment_file_name(S), next);

  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  REQUIRE(recover_wal(o, &e, &res) == RecoveryStatus::Ok);
  CHECK_EQ(e.lastSeq(), S - 1);
  CHECK(res.tornTail);
  CHECK_EQ(res.resumeSegment, dir + "/" + segment_file_name(1));
  CHECK_EQ(res.resumeOffset, segBytes - room);
  CHECK(exists(dir + "/" + segment_file_name(S) + ".dropped"));

  // The engine carries on with a cancel (which fits the old segment) and a new order (which
  // does not), as Engine.open() would.
  WalWriterOptions wo;
  wo.dir = dir;
  wo.segmentBytes = segBytes;
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::open(wo, WalResume{res.resumeSegment, res.resumeOffset, S}, &w).ok());
  w->logCancel(S, 2);
  w->logNew(S + 1, buyAt100(static_cast<int64_t>(S + 1)));
  CHECK(w->close().ok());
  w.reset();

  MatchingEngine e2;
  RecoveryResult res2;
  CHECK(recover_wal(o, &e2, &res2) == RecoveryStatus::Ok);
  CHECK_EQ(res2.damage, std::string());
  CHECK_EQ(e2.lastSeq(), S + 1);
  CHECK(!res2.tornTail);
  removeDir(dir);
}
