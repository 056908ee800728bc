// Recovery scan over hand-built segment files: clean replay, torn tails, corruption in the
// middle, point-in-time cuts, sequence gaps and trade divergence.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "matching_engine.h"
#include "wal_format.h"
#include "wal_recovery.h"
#include "wal_test_support.h"

using namespace durabook;
using test::CollectingJournal;
using test::Placement;
using test::removeDir;
using test::writeSegments;

namespace {

// Runs a random workload through an engine that logs into `j`; returns the final digest.
uint64_t runWorkload(CollectingJournal* j, int commands, uint64_t seed) {
  MatchingEngine e;
  e.setJournal(j);
  Report r;
  e.setClock(1000);
  e.addSymbol("S", &r);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < commands; ++i) {
    if (i % 7 == 0) e.setClock(1000 + i);
    e.clearTrades();
    NewOrderCmd c;
    c.id = 1 + static_cast<int64_t>(rng() % 300);
    c.side = rng() & 1 ? Side::Sell : Side::Buy;
    c.price = 100 + static_cast<int64_t>(rng() % 11) - 5;
    c.qty = 1 + static_cast<int64_t>(rng() % 20);
    c.hasPrice = true;
    if (rng() % 5 == 0) e.cancel(c.id, &r); else e.submit(c, &r);
  }
  return e.digest();
}

void patchFile(const std::string& path, size_t offset, const void* data, size_t n) {
  FILE* f = std::fopen(path.c_str(), "r+b");
  std::fseek(f, static_cast<long>(offset), SEEK_SET);
  std::fwrite(data, 1, n, f);
  std::fclose(f);
}

}  // namespace

TEST(recovery_segment_names) {
  uint64_t s = 0;
  CHECK(parse_segment_file_name(segment_file_name(42), &s));
  CHECK_EQ(s, 42u);
  CHECK(!parse_segment_file_name("wal-next.tmp", &s));
  CHECK(!parse_segment_file_name("wal-0000000000000000004x.log", &s));
}

TEST(recovery_replays_a_clean_log_across_segments) {
  CollectingJournal j;
  const uint64_t want = runWorkload(&j, 3000, 1);
  std::string dir = test::makeScratchDir("recovery");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 16 * 1024, &files);
  REQUIRE(files.size() > 3);
  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Ok);
  CHECK_EQ(e.digest(), want);
  CHECK_EQ(res.commandsReplayed, 3001u);
  CHECK(res.tradesVerified > 0);
  CHECK_EQ(res.bytesTruncated, 0u);
  CHECK_EQ(res.resumeSegment, files.back());
  removeDir(dir);
}

TEST(recovery_torn_tail_is_cut_and_reported) {
  CollectingJournal j;
  runWorkload(&j, 500, 2);
  std::string dir = test::makeScratchDir("recovery");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 1 << 20, &files);
  // Garbage over the last two records: a torn write.
  const Placement last = where[where.size() - 2];
  uint8_t junk[120];
  std::memset(junk, 0xA5, sizeof junk);
  patchFile(files[last.file], last.offset + 4, junk, sizeof junk);
  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Ok);
  CHECK(res.tornTail);
  CHECK(res.bytesTruncated > 0);
  CHECK(e.lastSeq() < j.recs.back().seq + 1);
  // Strict refuses the same damage... but the repair already cut it: a second recovery is clean.
  MatchingEngine e2;
  RecoveryResult res2;
  o.mode = RecoveryMode::Strict;
  CHECK(recover_wal(o, &e2, &res2) == RecoveryStatus::Ok);
  CHECK_EQ(e2.digest(), e.digest());
  CHECK_EQ(res2.bytesTruncated, 0u);
  removeDir(dir);
}

TEST(recovery_strict_refuses_a_torn_tail) {
  CollectingJournal j;
  runWorkload(&j, 200, 3);
  std::string dir = test::makeScratchDir("recovery");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 1 << 20, &files);
  uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  patchFile(files[where.back().file], where.back().offset + 8, junk, sizeof junk);
  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  o.mode = RecoveryMode::Strict;
  CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Corrupt);
  CHECK_EQ(res.damageFile, files[where.back().file]);
  CHECK_EQ(res.damageOffset, where.back().offset);
  removeDir(dir);
}

TEST(recovery_damage_in_the_middle_is_corrupt_and_point_in_time_cuts_it) {
  CollectingJournal j;
  runWorkload(&j, 2000, 4);
  std::string dir = test::makeScratchDir("recovery");
  std::vector<std::string> files;
  auto where = writeSegments(dir, j.recs, 16 * 1024, &files);
  REQUIRE(files.size() > 2);
  const size_t victim = where.size() / 2;
  uint8_t flip;
  {
    FILE* f = std::fopen(files[where[victim].file].c_str(), "rb");
    std::fseek(f, static_cast<long>(where[victim].offset + 9), SEEK_SET);
    flip = static_cast<uint8_t>(std::fgetc(f) ^ 0x10);
    std::fclose(f);
  }
  patchFile(files[where[victim].file], where[victim].offset + 9, &flip, 1);
  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Corrupt);
  CHECK_EQ(res.damageFile, files[where[victim].file]);
  CHECK_EQ(res.damageOffset, where[victim].offset);
  CHECK(res.damageSeq > 0);

  MatchingEngine p;
  RecoveryResult pres;
  o.mode = RecoveryMode::PointInTime;
  CHECK(recover_wal(o, &p, &pres) == RecoveryStatus::Ok);
  CHECK(!pres.tornTail);
  CHECK(pres.droppedFirstSeq > 0);
  CHECK_EQ(pres.droppedLastSeq, j.recs.back().seq);
  CHECK(p.lastSeq() < pres.droppedFirstSeq);
  // The cut is permanent: the log now ends cleanly where point-in-time stopped.
  MatchingEngine q;
  RecoveryResult qres;
  o.mode = RecoveryMode::Strict;
  CHECK(recover_wal(o, &q, &qres) == RecoveryStatus::Ok);
  CHECK_EQ(q.digest(), p.digest());
  removeDir(dir);
}

TEST(recovery_detects_divergent_trades) {
  CollectingJournal j;
  runWorkload(&j, 400, 5);
  size_t t = 0;
  while (t < j.recs.size() && j.recs[t].type != WalType::Trade) ++t;
  REQUIRE(t < j.recs.size());
  j.recs[t].trade.qty += 1;
  std::string dir = test::makeScratchDir("recovery");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 1 << 20, &files);
  MatchingEngine e;
  RecoveryResult res;
  RecoveryOptions o;
  o.dir = dir;
  CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Diverged);
  CHECK(!res.damage.empty());
  removeDir(dir);
}

TEST(recovery_from_a_snapshot_state_skips_covered_records_and_finds_gaps) {
  CollectingJournal j;
  const uint64_t want = runWorkload(&j, 1000, 6);
  // Reference state at seq 300: replay the first records into an engine directly.
  std::string dir = test::makeScratchDir("recovery");
  std::vector<std::string> files;
  writeSegments(dir, j.recs, 1 << 20, &files);
  MatchingEngine full;
  RecoveryResult r1;
  RecoveryOptions o;
  o.dir = dir;
  CHECK(recover_wal(o, &full, &r1) == RecoveryStatus::Ok);
  CHECK_EQ(full.digest(), want);
  // A state already at the log's end replays nothing.
  RecoveryResult r2;
  CHECK(recover_wal(o, &full, &r2) == RecoveryStatus::Ok);
  CHECK_EQ(r2.commandsReplayed, 0u);
  CHECK_EQ(full.digest(), want);
  removeDir(dir);
  // Missing head: the log starts at seq 400 but the state is empty.
  std::vector<WalRecord> tail;
  for (const WalRecord& r : j.recs)
    if (r.seq >= 400) tail.push_back(r);
  while (!tail.empty() && tail.front().type == WalType::Trade) tail.erase(tail.begin());
  dir = test::makeScratchDir("recovery");
  files.clear();
  writeSegments(dir, tail, 1 << 20, &files);
  MatchingEngine e;
  RecoveryResult r3;
  o.dir = dir;
  CHECK(recover_wal(o, &e, &r3) == RecoveryStatus::Corrupt);
  removeDir(dir);
}

// The writer names a segment after its first record, and moves on when the next record does
// not fit: a segment can begin with the trades of a command whose input record ends the one
// before. Recovery from the state just before that command must start at the earlier segment.
TEST(recovery_from_the_state_before_a_command_split_across_segments) {
  CollectingJournal j;
  const uint64_t want = runWorkload(&j, 3000, 7);
  // A segment size at which some segment begins with a command's first trade.
  std::string dir;
  std::vector<std::string> files;
  std::vector<Placement> where;
  size_t k = 0;
  for (size_t segBytes = 16 * 1024; k == 0 && segBytes < 20 * 1024; segBytes += 8) {
    if (!dir.empty()) removeDir(dir);
    dir = test::makeScratchDir("recovery");
    files.clear();
    where = writeSegments(dir, j.recs, segBytes, &files);
    for (size_t i = 1; i < j.recs.size() && k == 0; ++i)
      if (where[i].file != where[i - 1].file && j.recs[i].type == WalType::Trade &&
          j.recs[i - 1].type == WalType::New)
        k = i;
  }
  REQUIRE(k != 0);
  const uint64_t n = j.recs[k].seq;
  REQUIRE(files[where[k].file] == dir + "/" + segment_file_name(n));
  // The state a snapshot at n - 1 holds: a replay of everything before command n.
  std::vector<WalRecord> head;
  for (const WalRecord& r : j.recs)
    if (r.seq < n) head.push_back(r);
  std::string headDir = test::makeScratchDir("recovery");
  std::vector<std::string> headFiles;
  writeSegments(headDir, head, 1 << 20, &headFiles);
  MatchingEngine e;
  RecoveryResult r0;
  RecoveryOptions o;
  o.dir = headDir;
  REQUIRE(recover_wal(o, &e, &r0) == RecoveryStatus::Ok);
  REQUIRE(e.lastSeq() == n - 1);
  RecoveryResult res;
  o.dir = dir;
  CHECK(recover_wal(o, &e, &res) == RecoveryStatus::Ok);
  CHECK_EQ(res.damage, std::string());
  CHECK_EQ(e.digest(), want);
  CHECK_EQ(res.segments.size(), files.size() - where[k].file + 1);
  // Without the segments before, the command's input is gone: refused, not replayed around.
  for (size_t f = 0; f < where[k].file; ++f) std::remove(files[f].c_str());
  MatchingEngine e2;
  RecoveryResult r2;
  o.dir = headDir;
  REQUIRE(recover_wal(o, &e2, &r2) == RecoveryStatus::Ok);
  o.dir = dir;
  o.repair = false;
  CHECK(recover_wal(o, &e2, &r2) == RecoveryStatus::Corrupt);
  CHECK_EQ(r2.damageSeq, n);
  removeDir(dir);
  removeDir(headDir);
}
