// WAL inspection: the record walk (order, offsets, counts, first damage), snapshot listing,
// and verify, which must agree with what recovery (open()) does on the same directory.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "matching_engine.h"
#include "snapshot.h"
#include "wal_format.h"
#include "wal_inspect.h"
#include "wal_recovery.h"
#include "wal_test_support.h"

using namespace durabook;
using test::CollectingJournal;
using test::Placement;
using test::readAll;
using test::removeDir;
using test::writeSegments;

namespace {

void runWorkload(CollectingJournal* j, int commands, uint64_t seed) {
  MatchingEngine e;
  e.setJournal(j);
  Report r;
  e.setClock(1000);
  e.addSymbol("S", &r);
  e.addSymbol("T", &r);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < commands; ++i) {
    if (i % 7 == 0) e.setClock(1000 + i);
    e.clearTrades();
    NewOrderCmd c;
    c.id = 1 + static_cast<int64_t>(rng() % 300);
    c.symbol = static_cast<uint32_t>(rng() % 2);
    c.side = rng() & 1 ? Side::Sell : Side::Buy;
    c.price = 100 + static_cast<int64_t>(rng() % 11) - 5;
    c.qty = 1 + static_cast<int64_t>(rng() % 20);
    c.hasPrice = true;
    const uint64_t k = rng() % 10;
    if (k == 0) {
      e.cancel(c.id, &r);
    } else if (k == 1) {
      e.modify(ModifyCmd{c.id, 0, 1 + static_cast<int64_t>(rng() % 5), false, true}, &r);
    } else {
      e.submit(c, &r);
    }
  }
}

void writeAll(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

void flipBit(const std::string& path, size_t offset, int bit) {
  std::vector<uint8_t> b = readAll(path);
  b[offset] ^= static_cast<uint8_t>(1u << bit);
  writeAll(path, b);
}

// The state after `upTo` (a command seq), by recovering a directory holding only that prefix.
void stateAt(const std::vector<WalRecord>& recs, uint64_t upTo, MatchingEngine* e) {
  std::vector<WalRecord> prefix;
  for (const WalRecord& r : recs)
    if (r.seq <= upTo) prefix.push_back(r);
  std::string d = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  writeSegments(d, prefix, 1 << 20, &files);
  RecoveryOptions o;
  o.dir = d;
  RecoveryResult res;
  recover_wal(o, e, &res);
  removeDir(d);
}

void writeSnapshot(const std::string& dir, const std::vector<WalRecord>& recs, uint64_t seq) {
  MatchingEngine e;
  stateAt(recs, seq, &e);
  std::vector<uint8_t> bytes;
  encode_snapshot(e, &bytes);
  writeAll(dir + "/" + snapshot_file_name(seq), bytes);
}

// What open() does to the directory (recover with repair), for comparison with verify.
struct OpenOutcome {
  RecoveryStatus status;
  RecoveryResult res;
  uint64_t digest;
  bool clean() const {
    return status == RecoveryStatus::Ok && !res.tornTail && res.bytesTruncated == 0 && res.droppedFirstSeq == 0;
  }
};

}  // namespace

TEST(inspect_snapshot_names) {
  uint64_t s = 0;
  CHECK(parse_snapshot_file_name(snapshot_file_name(1234), &s));
  CHECK_EQ(s, 1234u);
  CHECK_EQ(snapshot_file_name(7), std::string("snapshot-00000000000000000007.snap"));
  CHECK(!parse_snapshot_file_name("snapshot-00000000000000000007.snap.tmp", &s));
  CHECK(!parse_snapshot_file_name("snapshot-00000000000000000007.snap.damaged", &s));
  CHECK(!parse_snapshot_file_name("snapshot-0000000000000000000x.snap", &s));
}

TEST(inspect_walks_every_record_in_order_across_segments) {
  CollectingJournal j;
  runWorkload(&j, 2000, 11);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 16 * 1024, &files);
  REQUIRE(files.size() > 3);
  writeAll(dir + "/wal-next.tmp", std::vector<uint8_t>(100, 0));
  std::vector<WalRecord> seen;
  std::vector<Placement> at;
  InspectOptions o;
  o.dir = dir;
  o.onRecord = [&](const InspectedRecord& r) {
    seen.push_back(r.record);
    size_t f = 0;
    while (f < files.size() && files[f] != r.segment->path) ++f;
    at.push_back({f, r.offset});
    return true;
  };
  InspectResult res;
  REQUIRE(inspect_wal(o, &res));
  CHECK(!res.damage.found);
  CHECK(!res.stopped);
  REQUIRE(seen.size() == j.recs.size());
  bool same = true;
  for (size_t i = 0; i < seen.size(); ++i)
    same = same && seen[i] == j.recs[i] && at[i].file == where[i].file && at[i].offset == where[i].offset;
  CHECK(same);
  CHECK_EQ(res.records, static_cast<uint64_t>(j.recs.size()));
  uint64_t byType[kWalTypeCount] = {};
  uint64_t bytes = 0;
  for (const WalRecord& r : j.recs) {
    ++byType[static_cast<int>(r.type)];
    uint8_t buf[kMaxRecordSize];
    bytes += encode_record(r, buf);
  }
  for (int t = 1; t < kWalTypeCount; ++t) CHECK_EQ(res.recordsByType[t], byType[t]);
  CHECK(byType[static_cast<int>(WalType::Trade)] > 0);
  CHECK_EQ(res.recordBytes, bytes);
  CHECK_EQ(res.segments.size(), files.size());
  CHECK_EQ(res.fileBytes, static_cast<uint64_t>(files.size() * 16 * 1024));
  CHECK_EQ(res.firstSeq, 1u);
  CHECK_EQ(res.lastSeq, j.recs.back().seq);
  REQUIRE(res.otherFiles.size() == 1);
  CHECK_EQ(res.otherFiles[0], std::string("wal-next.tmp"));
  uint64_t segRecords = 0;
  for (const InspectedSegment& s : res.segments) {
    CHECK(s.scanned);
    CHECK(s.header == SegmentStatus::Ok);
    CHECK_EQ(s.headerSeq, s.nameSeq);
    CHECK_EQ(s.firstSeq, s.nameSeq);
    CHECK_EQ(s.fileBytes, 16u * 1024);
    segRecords += s.records;
  }
  CHECK_EQ(segRecords, res.records);
  removeDir(dir);
}

TEST(inspect_from_seq_starts_at_the_segment_that_holds_it_and_the_callback_can_stop) {
  CollectingJournal j;
  runWorkload(&j, 2000, 12);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 16 * 1024, &files);
  REQUIRE(files.size() > 3);
  uint64_t second = 0;
  REQUIRE(parse_segment_file_name(files[2].substr(dir.size() + 1), &second));
  InspectOptions o;
  o.dir = dir;
  o.fromSeq = second + 3;
  uint64_t firstSeen = 0;
  int n = 0;
  o.onRecord = [&](const InspectedRecord& r) {
    if (n++ == 0) firstSeen = r.record.seq;
    return n < 10;
  };
  InspectResult res;
  REQUIRE(inspect_wal(o, &res));
  CHECK_EQ(firstSeen, second);
  CHECK(res.stopped);
  CHECK_EQ(res.records, 10u);
  CHECK(!res.segments[0].scanned);
  CHECK(res.segments[2].scanned);
  removeDir(dir);
}

TEST(inspect_stops_at_the_first_damage_and_names_it) {
  CollectingJournal j;
  runWorkload(&j, 2000, 13);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 16 * 1024, &files);
  const size_t victim = where.size() / 2;
  flipBit(files[where[victim].file], where[victim].offset + 20, 3);
  InspectOptions o;
  o.dir = dir;
  uint64_t count = 0;
  o.onRecord = [&](const InspectedRecord&) { return ++count, true; };
  InspectResult res;
  REQUIRE(inspect_wal(o, &res));
  REQUIRE(res.damage.found);
  CHECK_EQ(res.damage.file, files[where[victim].file]);
  CHECK_EQ(res.damage.offset, static_cast<uint64_t>(where[victim].offset));
  CHECK_EQ(res.damage.what, std::string("record checksum mismatch"));
  CHECK_EQ(count, static_cast<uint64_t>(victim));
  // The seq expected there: the record's own (or, for a trade, the next command's).
  const WalRecord& v = j.recs[victim];
  CHECK(res.damage.seq == v.seq || (v.type == WalType::Trade && res.damage.seq == v.seq + 1));
  CHECK(!res.segments.back().scanned);
  removeDir(dir);
}

TEST(inspect_names_bad_headers_gaps_and_a_missing_directory) {
  CollectingJournal j;
  runWorkload(&j, 1500, 14);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 16 * 1024, &files);
  REQUIRE(files.size() > 3);
  // A missing middle segment: the chain breaks at the first record of the next one.
  ::unlink(files[1].c_str());
  InspectOptions o;
  o.dir = dir;
  InspectResult res;
  REQUIRE(inspect_wal(o, &res));
  REQUIRE(res.damage.found);
  CHECK_EQ(res.damage.file, files[2]);
  CHECK_EQ(res.damage.offset, static_cast<uint64_t>(kSegmentHeaderSize));
  CHECK(res.damage.what.find("was expected") != std::string::npos);
  // A bad segment header.
  flipBit(files[0], 17, 0);
  REQUIRE(inspect_wal(o, &res));
  REQUIRE(res.damage.found);
  CHECK_EQ(res.damage.file, files[0]);
  CHECK_EQ(res.damage.offset, 0u);
  CHECK(res.damage.what.find("segment header") == 0);
  removeDir(dir);
  o.dir = dir + "/nope";
  CHECK(!inspect_wal(o, &res));
  CHECK_EQ(res.err, ENOENT);
}

TEST(list_snapshots_reads_headers_or_checks_in_full) {
  CollectingJournal j;
  runWorkload(&j, 800, 15);
  std::string dir = test::makeScratchDir("inspect");
  writeSnapshot(dir, j.recs, 300);
  writeSnapshot(dir, j.recs, 600);
  writeAll(dir + "/" + snapshot_file_name(700) + ".tmp", {1, 2, 3});
  // Damage the body of the newer one: the header still reads, a full check fails.
  const std::string newer = dir + "/" + snapshot_file_name(600);
  std::vector<uint8_t> b = readAll(newer);
  REQUIRE(b.size() > kSnapshotHeaderSize + 10);
  flipBit(newer, b.size() - 5, 1);
  std::vector<SnapshotFile> snaps;
  REQUIRE(list_snapshots(dir, nullptr, false, EngineLimits{}, &snaps) == 0);
  REQUIRE(snaps.size() == 2);
  CHECK_EQ(snaps[0].nameSeq, 300u);
  CHECK(snaps[0].ok && snaps[1].ok);
  CHECK_EQ(snaps[1].info.seq, 600u);
  REQUIRE(list_snapshots(dir, nullptr, true, EngineLimits{}, &snaps) == 0);
  CHECK(snaps[0].ok);
  CHECK(!snaps[1].ok);
  CHECK_EQ(snaps[1].status, std::string(to_string(SnapshotStatus::BadBodyCrc)));
  REQUIRE(snaps[0].symbols.size() == 2);
  CHECK_EQ(snaps[0].symbols[1], std::string("T"));
  removeDir(dir);
}

TEST(verify_a_whole_log_with_snapshots) {
  CollectingJournal j;
  runWorkload(&j, 3000, 16);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 16 * 1024, &files);
  writeSnapshot(dir, j.recs, 1000);
  writeSnapshot(dir, j.recs, 2000);
  VerifyOptions vo;
  vo.dir = dir;
  VerifyResult v;
  CHECK(verify_wal(vo, &v));
  CHECK(v.whole());
  CHECK_EQ(v.snapshotUsed, dir + "/" + snapshot_file_name(2000));
  CHECK_EQ(v.snapshotSeq, 2000u);
  CHECK_EQ(v.lastSeq, 3002u);
  CHECK_EQ(v.recovery.commandsReplayed, 1002u);
  MatchingEngine full;
  stateAt(j.recs, 3002, &full);
  CHECK_EQ(v.stateDigest, full.digest());
  removeDir(dir);
}

TEST(verify_names_a_torn_tail_as_damage_and_changes_nothing) {
  CollectingJournal j;
  runWorkload(&j, 1000, 17);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 16 * 1024, &files);
  const Placement last = where.back();
  flipBit(files[last.file], last.offset + 18, 5);
  const std::vector<uint8_t> before = readAll(files[last.file]);
  VerifyOptions vo;
  vo.dir = dir;
  VerifyResult v;
  CHECK(!verify_wal(vo, &v));
  CHECK(!v.openClean());
  CHECK(v.status == RecoveryStatus::Ok);
  CHECK(v.recovery.tornTail);
  CHECK(v.recovery.bytesTruncated > 0);
  CHECK_EQ(v.recovery.damageFile, files[last.file]);
  CHECK_EQ(v.recovery.damageOffset, static_cast<uint64_t>(last.offset));
  CHECK(readAll(files[last.file]) == before);  // repair off: nothing cut
  // open() (recovery with repair) does cut it, and the same state results.
  MatchingEngine e;
  RecoveryOptions ro;
  ro.dir = dir;
  RecoveryResult rr;
  CHECK(recover_wal(ro, &e, &rr) == RecoveryStatus::Ok);
  CHECK(rr.tornTail);
  CHECK_EQ(e.digest(), v.stateDigest);
  // After the cut the log is whole again.
  VerifyResult v2;
  CHECK(verify_wal(vo, &v2));
  removeDir(dir);
}

TEST(verify_damage_in_the_middle_is_corruption) {
  CollectingJournal j;
  runWorkload(&j, 3000, 18);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 16 * 1024, &files);
  const size_t victim = where.size() / 3;
  flipBit(files[where[victim].file], where[victim].offset + 20, 0);
  VerifyOptions vo;
  vo.dir = dir;
  VerifyResult v;
  CHECK(!verify_wal(vo, &v));
  CHECK(v.status == RecoveryStatus::Corrupt);
  CHECK(!v.recovery.tornTail);
  CHECK_EQ(v.recovery.damageFile, files[where[victim].file]);
  CHECK_EQ(v.recovery.damageOffset, static_cast<uint64_t>(where[victim].offset));
  CHECK(v.fallback.empty());
  CHECK(v.anomalies.empty());
  removeDir(dir);
}

TEST(verify_skips_a_damaged_newest_snapshot_like_open_and_flags_fallback_damage) {
  CollectingJournal j;
  runWorkload(&j, 3000, 19);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 16 * 1024, &files);
  writeSnapshot(dir, j.recs, 1000);
  writeSnapshot(dir, j.recs, 2000);
  const std::string older = dir + "/" + snapshot_file_name(1000);
  const std::string newer = dir + "/" + snapshot_file_name(2000);
  // Older damaged: open() never reads it; only a fallback would need it.
  flipBit(older, 70, 2);
  VerifyOptions vo;
  vo.dir = dir;
  VerifyResult v;
  CHECK(!verify_wal(vo, &v));
  CHECK(v.openClean());
  REQUIRE(v.fallback.size() == 1);
  CHECK_EQ(v.fallback[0].file, older);
  // Newer damaged too: open() would skip both and replay the log from its first record.
  flipBit(newer, 70, 2);
  CHECK(!verify_wal(vo, &v));
  CHECK(!v.openClean());
  REQUIRE(v.snapshotsSkipped.size() == 2);
  CHECK_EQ(v.snapshotsSkipped[0].file, newer);
  // Only the newer damaged: the fallback works, but open() skips a snapshot.
  flipBit(older, 70, 2);
  CHECK(!verify_wal(vo, &v));
  CHECK(!v.openClean());
  CHECK(v.status == RecoveryStatus::Ok);
  CHECK_EQ(v.snapshotUsed, older);
  REQUIRE(v.snapshotsSkipped.size() == 1);
  CHECK_EQ(v.lastSeq, 3002u);
  removeDir(dir);
}

TEST(verify_flags_damage_before_the_recovery_start_and_short_segments) {
  CollectingJournal j;
  runWorkload(&j, 3000, 20);
  std::string dir = test::makeScratchDir("inspect");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 16 * 1024, &files);
  REQUIRE(files.size() > 4);
  writeSnapshot(dir, j.recs, 2500);
  // A record in the first segment: recovery starts far later and never reads it.
  flipBit(files[0], where[10].offset + 17, 6);
  VerifyOptions vo;
  vo.dir = dir;
  VerifyResult v;
  CHECK(!verify_wal(vo, &v));
  CHECK(v.openClean());
  REQUIRE(v.fallback.size() == 1);
  CHECK_EQ(v.fallback[0].file, files[0]);
  CHECK_EQ(v.fallback[0].offset, static_cast<uint64_t>(where[10].offset));
  flipBit(files[0], where[10].offset + 17, 6);
  CHECK(verify_wal(vo, &v));
  // The last segment cut at a record boundary: open() sees a clean, shorter log.
  const Placement cut = where.back();
  std::vector<uint8_t> b = readAll(files[cut.file]);
  b.resize(cut.offset);
  writeAll(files[cut.file], b);
  CHECK(!verify_wal(vo, &v));
  REQUIRE(v.anomalies.size() == 1);
  CHECK_EQ(v.anomalies[0].file, files[cut.file]);
  removeDir(dir);
}

TEST(verify_agrees_with_recovery_on_random_damage) {
  CollectingJournal j;
  runWorkload(&j, 1500, 21);
  std::mt19937_64 rng(99);
  int disagreements = 0, damaged = 0;
  for (int trial = 0; trial < 120; ++trial) {
    std::string dir = test::makeScratchDir("inspect");
    std::vector<std::string> files;
    writeSegments(dir, j.recs, 16 * 1024, &files);
    const std::string& victim = files[rng() % files.size()];
    std::vector<uint8_t> b = readAll(victim);
    const size_t used = [&] {
      size_t end = b.size();
      while (end > 0 && b[end - 1] == 0) --end;
      return end + 64;
    }();
    const int kind = static_cast<int>(rng() % 3);
    const size_t off = rng() % std::min(b.size(), used);
    if (kind == 0) b[off] ^= static_cast<uint8_t>(1u << (rng() % 8));
    else if (kind == 1) b[off] = static_cast<uint8_t>(rng());
    else b.resize(off);
    writeAll(victim, b);
    VerifyOptions vo;
    vo.dir = dir;
    VerifyResult v;
    verify_wal(vo, &v);
    MatchingEngine e;
    RecoveryOptions ro;
    ro.dir = dir;
    OpenOutcome open;
    open.status = recover_wal(ro, &e, &open.res);
    open.digest = e.digest();
    if (!v.openClean()) ++damaged;
    if (v.openClean() != open.clean()) {
      ++disagreements;
      std::fprintf(stderr, "  trial %d: verify %s, recovery %s (%s)\n", trial, v.openClean() ? "clean" : "damaged",
                   to_string(open.status), open.res.damage.c_str());
    }
    if (open.status == RecoveryStatus::Ok && v.status == RecoveryStatus::Ok) CHECK_EQ(open.digest, v.stateDigest);
    removeDir(dir);
  }
  CHECK_EQ(disagreements, 0);
  CHECK(damaged > 60);
}
