// CrashSimFileLayer: what each power-loss policy leaves on disk, the crash point, fail-stop after
// the crash, and the writes a failed fdatasync loses.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "crash_sim_file_layer.h"
#include "scratch_dir.h"

using namespace durabook;
using test::exists;
using test::removeDir;

namespace {

std::string slurp(const std::string& p) {
  uint64_t size = 0;
  FileLayer* fs = posix_file_layer();
  if (fs->fileSize(p, &size) != 0) return "<missing>";
  std::string out(size, '\0');
  int fd = -1;
  if (fs->open(p, kOpenReadOnly, &fd) != 0) return "<unreadable>";
  size_t got = 0;
  fs->pread(fd, out.data(), size, 0, &got);
  fs->close(fd);
  out.resize(got);
  return out;
}

int put(FileLayer* fs, int fd, const std::string& s, uint64_t off) { return fs->pwrite(fd, s.data(), s.size(), off); }

// A file holding `synced` (written and fdatasynced, name synced too), then `unsynced` writes.
struct Setup {
  std::string dir, path;
  int fd = -1;
};

Setup start(CrashSimFileLayer* fs, const std::string& dir, const std::string& synced) {
  Setup s{dir, dir + "/f", -1};
  fs->open(s.path, kOpenCreate, &s.fd);
  put(fs, s.fd, synced, 0);
  fs->fdatasync(s.fd);
  fs->fsyncDir(dir);
  return s;
}

}  // namespace

TEST(crash_sim_drop_unsynced_keeps_exactly_the_synced_state) {
  const std::string dir = test::makeScratchDir("cs");
  REQUIRE(!dir.empty());
  CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kDropUnsynced, 7, false});
  Setup s = start(&fs, dir, "synced-data");
  CHECK_EQ(put(&fs, s.fd, "XXXXXX", 0), 0);        // overwrite, unsynced
  CHECK_EQ(put(&fs, s.fd, "-appended", 11), 0);    // extend, unsynced
  CHECK_EQ(slurp(s.path), std::string("XXXXXX-data-appended"));  // the page cache has it all
  int fd2 = -1;
  CHECK_EQ(fs.open(dir + "/new", kOpenCreate, &fd2), 0);  // a name never synced
  CHECK_EQ(put(&fs, fd2, "n", 0), 0);
  CHECK_EQ(fs.fdatasync(fd2), 0);  // data synced, name not
  CHECK(!fs.crashed());
  fs.crashNow();
  CHECK(fs.crashed());
  CHECK_EQ(slurp(s.path), std::string("synced-data"));
  CHECK(!exists(dir + "/new"));
  const CrashReport r = fs.report();
  CHECK(r.crashed);
  CHECK_EQ(r.op, std::string("crashNow"));
  CHECK_EQ(r.writesLost, uint64_t{2});
  CHECK_EQ(r.writesKept, uint64_t{0});
  CHECK_EQ(r.namesUndone, uint64_t{1});
  // Fail-stop: every call after the crash is EIO, and nothing reaches the disk.
  CHECK_EQ(put(&fs, s.fd, "late", 0), EIO);
  CHECK_EQ(fs.fdatasync(s.fd), EIO);
  int fd3 = -1;
  CHECK_EQ(fs.open(dir + "/late", kOpenCreate, &fd3), EIO);
  CHECK_EQ(fs.rename(s.path, dir + "/g"), EIO);
  uint64_t size = 0;
  CHECK_EQ(fs.fileSize(s.path, &size), EIO);
  CHECK_EQ(fs.close(s.fd), EIO);  // released all the same
  fs.close(fd2);
  CHECK_EQ(slurp(s.path), std::string("synced-data"));
  CHECK(!exists(dir + "/late"));
  removeDir(dir);
}

TEST(crash_sim_keep_prefix_leaves_a_prefix_of_the_unsynced_writes) {
  // Three unsynced writes to different places: every seed leaves one of the four prefixes, and
  // across seeds all four appear.
  const std::vector<std::string> prefixes = {"....", "A...", "AB..", "ABC."};
  std::vector<bool> seen(prefixes.size(), false);
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const std::string dir = test::makeScratchDir("cs");
    CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kKeepPrefix, seed, false});
    Setup s = start(&fs, dir, "....");
    put(&fs, s.fd, "A", 0);
    put(&fs, s.fd, "B", 1);
    put(&fs, s.fd, "C", 2);
    fs.crashNow();
    const std::string got = slurp(s.path);
    bool ok = false;
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (got == prefixes[i]) {
        ok = true;
        seen[i] = true;
      }
    }
    CHECK(ok);
    fs.close(s.fd);
    removeDir(dir);
  }
  for (bool b : seen) CHECK(b);
}

TEST(crash_sim_torn_write_tears_the_last_write) {
  // Synced "0123456789"; unsynced "abcd" at 0, then "WXYZ" at 4 (the crash's last write).
  // The first survives whole; of the last, j < 4 bytes land and the rest of its range is old
  // bytes, zeros or garbage. All three variants show up across seeds.
  int partial = 0, zeros = 0, garbage = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    const std::string dir = test::makeScratchDir("cs");
    CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kTornWrite, seed, false});
    Setup s = start(&fs, dir, "0123456789");
    put(&fs, s.fd, "abcd", 0);
    put(&fs, s.fd, "WXYZ", 4);
    fs.crashNow();
    const std::string got = slurp(s.path);
    REQUIRE(got.size() == 10);
    CHECK_EQ(got.substr(0, 4), std::string("abcd"));
    CHECK_EQ(got.substr(8), std::string("89"));
    const std::string torn = got.substr(4, 4);
    size_t j = 0;
    while (j < 4 && torn[j] == "WXYZ"[j]) ++j;
    CHECK(j < 4);  // never the whole write
    const std::string rest = torn.substr(j);
    if (rest == std::string("4567").substr(j)) ++partial;
    else if (rest == std::string(4 - j, '\0')) ++zeros;
    else ++garbage;
    CHECK_EQ(fs.report().writesTorn, uint64_t{1});
    CHECK_EQ(fs.report().writesKept, uint64_t{1});
    fs.close(s.fd);
    removeDir(dir);
  }
  CHECK(partial > 0);
  CHECK(zeros > 0);
  CHECK(garbage > 0);
}

TEST(crash_sim_extend_zeros_keeps_the_size_not_the_data) {
  int extended = 0, whole = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const std::string dir = test::makeScratchDir("cs");
    CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kExtendZeros, seed, false});
    Setup s = start(&fs, dir, "head");
    put(&fs, s.fd, "tail", 4);
    fs.crashNow();
    const std::string got = slurp(s.path);
    if (got == std::string("head\0\0\0\0", 8)) ++extended;
    else if (got == "headtail") ++whole;
    else CHECK_EQ(got, std::string("head + zeros or headtail"));
    fs.close(s.fd);
    removeDir(dir);
  }
  CHECK(extended > 0);
  CHECK(whole > 0);
}

TEST(crash_sim_lose_names_undoes_unsynced_creates_renames_unlinks) {
  const std::string dir = test::makeScratchDir("cs");
  CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kLoseNames, 3, false});
  FileLayer* posix = posix_file_layer();
  // A file whose name was synced, then renamed over by a fully synced temp file (the rename
  // not synced): the old content comes back under the name, the temp file under its own.
  Setup s = start(&fs, dir, "old-target");
  fs.close(s.fd);
  // A durable name whose data is written later and never synced: it survives this policy.
  int dfd = -1;
  REQUIRE(fs.open(dir + "/tmp2", kOpenCreate, &dfd) == 0);
  CHECK_EQ(fs.fsyncDir(dir), 0);
  int fd = -1;
  REQUIRE(fs.open(dir + "/tmp", kOpenCreate | kOpenTruncate, &fd) == 0);
  put(&fs, fd, "new-content", 0);
  CHECK_EQ(fs.fdatasync(fd), 0);
  CHECK_EQ(fs.fsyncDir(dir), 0);  // "tmp" is a durable name now
  fs.close(fd);
  CHECK_EQ(fs.rename(dir + "/tmp", s.path), 0);
  // A name created and never synced (its data synced).
  REQUIRE(fs.open(dir + "/created", kOpenCreate, &fd) == 0);
  put(&fs, fd, "c", 0);
  CHECK_EQ(fs.fdatasync(fd), 0);
  fs.close(fd);
  // A synced file unlinked without a directory sync.
  int kfd = -1;
  REQUIRE(posix->open(dir + "/keep", kOpenCreate, &kfd) == 0);  // predates the layer: durable
  posix->pwrite(kfd, "k", 1, 0);
  posix->close(kfd);
  CHECK_EQ(fs.unlink(dir + "/keep"), 0);
  put(&fs, dfd, "unsynced-but-kept", 0);
  fs.crashNow();
  CHECK_EQ(slurp(s.path), std::string("old-target"));
  CHECK_EQ(slurp(dir + "/tmp"), std::string("new-content"));
  CHECK(!exists(dir + "/created"));
  CHECK_EQ(slurp(dir + "/keep"), std::string("k"));
  CHECK_EQ(slurp(dir + "/tmp2"), std::string("unsynced-but-kept"));
  CHECK_EQ(fs.report().namesUndone, uint64_t{3});  // the rename, the create, the unlink
  fs.close(dfd);
  removeDir(dir);
}

TEST(crash_sim_directory_sync_makes_names_durable) {
  const std::string dir = test::makeScratchDir("cs");
  CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kDropUnsynced, 1, false});
  int fd = -1;
  REQUIRE(fs.open(dir + "/wal-next.tmp", kOpenCreate | kOpenTruncate, &fd) == 0);
  put(&fs, fd, "segment", 0);
  CHECK_EQ(fs.fdatasync(fd), 0);
  CHECK_EQ(fs.rename(dir + "/wal-next.tmp", dir + "/wal-1.log"), 0);
  CHECK_EQ(fs.fsyncDir(dir + "/"), 0);  // spelling does not matter
  put(&fs, fd, "SEG", 0);  // unsynced, through the fd that followed the rename
  fs.crashNow();
  CHECK_EQ(slurp(dir + "/wal-1.log"), std::string("segment"));
  CHECK(!exists(dir + "/wal-next.tmp"));
  CHECK_EQ(fs.report().namesUndone, uint64_t{0});
  fs.close(fd);
  removeDir(dir);
}

TEST(crash_sim_crash_point_is_the_nth_mutating_call) {
  // Calls: 1 open-create, 2 pwritev, 3 fdatasync, 4 fsyncDir, 5 pwritev (crash: it lands as an
  // unsynced write, kept or not by the policy; here dropped).
  const std::string dir = test::makeScratchDir("cs");
  CrashSimFileLayer fs(posix_file_layer(), {5, CrashPolicy::kDropUnsynced, 1, false});
  int fd = -1;
  REQUIRE(fs.open(dir + "/f", kOpenCreate, &fd) == 0);
  CHECK_EQ(put(&fs, fd, "one", 0), 0);
  CHECK_EQ(fs.fdatasync(fd), 0);
  size_t got = 0;
  char buf[8];
  CHECK_EQ(fs.pread(fd, buf, 3, 0, &got), 0);  // reads do not count
  CHECK_EQ(fs.fsyncDir(dir), 0);
  CHECK_EQ(fs.mutatingCalls(), uint64_t{4});
  CHECK(!fs.crashed());
  CHECK_EQ(put(&fs, fd, "two", 3), EIO);
  CHECK(fs.crashed());
  CHECK_EQ(fs.mutatingCalls(), uint64_t{5});
  const CrashReport r = fs.report();
  CHECK_EQ(r.atCall, uint64_t{5});
  CHECK_EQ(r.op, std::string("pwritev"));
  CHECK_EQ(r.path, dir + "/f");
  CHECK_EQ(slurp(dir + "/f"), std::string("one"));
  CHECK_EQ(fs.fdatasync(fd), EIO);
  CHECK_EQ(fs.mutatingCalls(), uint64_t{5});  // nothing counts after the crash
  fs.crashNow();                               // no second power loss
  CHECK_EQ(fs.report().atCall, uint64_t{5});
  fs.close(fd);
  removeDir(dir);

  // A crashing fdatasync does not complete: what it would have synced is still at risk.
  const std::string dir2 = test::makeScratchDir("cs");
  CrashSimFileLayer fs2(posix_file_layer(), {3, CrashPolicy::kDropUnsynced, 1, false});
  REQUIRE(fs2.open(dir2 + "/f", kOpenCreate, &fd) == 0);
  put(&fs2, fd, "data", 0);
  CHECK_EQ(fs2.fdatasync(fd), EIO);
  CHECK(!exists(dir2 + "/f"));  // the create was never covered by a directory sync either
  fs2.close(fd);
  removeDir(dir2);
}

TEST(crash_sim_failed_fdatasync_loses_the_writes_for_good) {
  // Linux after writeback EIO: the pages are clean, a later fdatasync "succeeds", and a power
  // loss shows the old bytes, whatever the policy.
  for (CrashPolicy p : {CrashPolicy::kLoseNames, CrashPolicy::kKeepPrefix, CrashPolicy::kTornWrite}) {
    const std::string dir = test::makeScratchDir("cs");
    CrashSimFileLayer fs(posix_file_layer(), {0, p, 9, false});
    Setup s = start(&fs, dir, "aaaa");
    fs.addFault(FaultRule::nthCall(FileOp::kFdatasync, 1, EIO));  // the next fdatasync
    put(&fs, s.fd, "BB", 0);
    CHECK_EQ(fs.fdatasync(s.fd), EIO);
    CHECK_EQ(slurp(s.path), std::string("BBaa"));  // still readable before the crash
    CHECK_EQ(fs.fdatasync(s.fd), 0);               // the retry proves nothing
    put(&fs, s.fd, "C", 3);
    CHECK_EQ(fs.fdatasync(s.fd), 0);
    fs.crashNow();
    CHECK_EQ(slurp(s.path), std::string("aaaC"));
    CHECK_EQ(fs.report().writesLostBySyncError, uint64_t{1});
    fs.close(s.fd);
    removeDir(dir);
  }
}

TEST(crash_sim_truncation_and_acknowledgements) {
  const std::string dir = test::makeScratchDir("cs");
  CrashSimFileLayer fs(posix_file_layer(), {0, CrashPolicy::kDropUnsynced, 1, false});
  Setup s = start(&fs, dir, "0123456789");
  CHECK_EQ(fs.ftruncate(s.fd, 4), 0);
  CHECK_EQ(slurp(s.path), std::string("0123"));
  // An existing file opened with kOpenTruncate: its old bytes come back too.
  int fd = -1;
  REQUIRE(fs.open(s.path, kOpenTruncate, &fd) == 0);
  CHECK_EQ(slurp(s.path), std::string(""));
  fs.noteAcknowledged(41);
  fs.noteAcknowledged(40);  // the watermark only rises
  fs.crashNow();
  fs.noteAcknowledged(99);  // after the power went: not an acknowledgement anyone saw
  CHECK_EQ(fs.report().acknowledged, uint64_t{41});
  CHECK_EQ(slurp(s.path), std::string("0123456789"));
  fs.close(fd);
  fs.close(s.fd);
  removeDir(dir);
}

TEST(crash_sim_policy_names_round_trip) {
  for (CrashPolicy p : {CrashPolicy::kDropUnsynced, CrashPolicy::kKeepPrefix, CrashPolicy::kTornWrite,
                        CrashPolicy::kExtendZeros, CrashPolicy::kLoseNames}) {
    CrashPolicy q{};
    CHECK(parse_crash_policy(to_string(p), &q));
    CHECK(q == p);
  }
  CrashPolicy q{};
  CHECK(!parse_crash_policy("nope", &q));
}
