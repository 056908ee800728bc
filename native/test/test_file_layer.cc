// FileLayer: the POSIX implementation's contract (errno returns, full writes, reads to EOF)
// and the fault-injecting wrapper's rules and trace.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "file_layer.h"
#include "scratch_dir.h"

using namespace durabook;
using test::removeDir;

TEST(file_layer_posix_roundtrip) {
  const std::string dir = test::makeScratchDir("fl");
  REQUIRE(!dir.empty());
  FileLayer* fs = posix_file_layer();
  const std::string a = dir + "/a";
  int fd = -1;
  CHECK_EQ(fs->open(a, kOpenReadWrite, &fd), ENOENT);  // no kOpenCreate
  REQUIRE(fs->open(a, kOpenCreate, &fd) == 0);
  // Three pieces, one call: all land, in order.
  const char p1[] = "hello ", p2[] = "wal ", p3[] = "world";
  struct iovec v[3] = {{const_cast<char*>(p1), 6}, {const_cast<char*>(p2), 4}, {const_cast<char*>(p3), 5}};
  CHECK_EQ(fs->pwritev(fd, v, 3, 10), 0);
  uint64_t size = 0;
  CHECK_EQ(fs->fileSize(a, &size), 0);
  CHECK_EQ(size, uint64_t{25});
  char buf[64] = {};
  size_t got = 0;
  CHECK_EQ(fs->pread(fd, buf, sizeof buf, 0, &got), 0);
  CHECK_EQ(got, size_t{25});  // short only at end of file
  CHECK(std::memcmp(buf + 10, "hello wal world", 15) == 0);
  CHECK(std::all_of(buf, buf + 10, [](char c) { return c == 0; }));
  CHECK_EQ(fs->fdatasync(fd), 0);
  CHECK_EQ(fs->ftruncate(fd, 12), 0);
  CHECK_EQ(fs->fileSize(a, &size), 0);
  CHECK_EQ(size, uint64_t{12});
  CHECK_EQ(fs->close(fd), 0);

  // Exclusive create of an existing file; truncate on open.
  CHECK_EQ(fs->open(a, kOpenCreate | kOpenExclusive, &fd), EEXIST);
  REQUIRE(fs->open(a, kOpenCreate | kOpenTruncate, &fd) == 0);
  CHECK_EQ(fs->fileSize(a, &size), 0);
  CHECK_EQ(size, uint64_t{0});
  CHECK_EQ(fs->close(fd), 0);

  CHECK_EQ(fs->rename(a, dir + "/b"), 0);
  CHECK_EQ(fs->mkdir(dir + "/sub"), 0);
  CHECK_EQ(fs->mkdir(dir + "/sub"), EEXIST);
  CHECK_EQ(fs->mkdir(dir + "/b/x"), ENOTDIR);
  CHECK_EQ(fs->fsyncDir(dir), 0);
  CHECK_EQ(fs->fsyncDir(dir + "/missing"), ENOENT);
  std::vector<std::string> names;
  CHECK_EQ(fs->listDir(dir, &names), 0);
  std::sort(names.begin(), names.end());
  CHECK(names == (std::vector<std::string>{"b", "sub"}));
  CHECK_EQ(fs->listDir(dir + "/missing", &names), ENOENT);
  CHECK_EQ(fs->unlink(dir + "/b"), 0);
  CHECK_EQ(fs->unlink(dir + "/b"), ENOENT);
  CHECK_EQ(fs->fileSize(dir + "/b", &size), ENOENT);
  removeDir(dir);
}

TEST(file_layer_posix_large_write_is_complete) {
  const std::string dir = test::makeScratchDir("fl");
  REQUIRE(!dir.empty());
  FileLayer* fs = posix_file_layer();
  int fd = -1;
  REQUIRE(fs->open(dir + "/big", kOpenCreate, &fd) == 0);
  std::vector<uint8_t> data(8 << 20);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131);
  CHECK_EQ(fs->pwrite(fd, data.data(), data.size(), 0), 0);
  std::vector<uint8_t> back(data.size());
  size_t got = 0;
  CHECK_EQ(fs->pread(fd, back.data(), back.size(), 0, &got), 0);
  CHECK_EQ(got, data.size());
  CHECK(back == data);
  fs->close(fd);
  removeDir(dir);
}

#if defined(DURABOOK_TEST_HOOKS)

TEST(file_layer_fault_nth_and_after) {
  const std::string dir = test::makeScratchDir("fl");
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  int fd = -1;
  REQUIRE(fl.open(dir + "/f", kOpenCreate, &fd) == 0);
  const char x = 'x';
  fl.addFault(FaultRule::nthCall(FileOp::kPwritev, 2, EIO));
  fl.addFault(FaultRule::fromCall(FileOp::kFdatasync, 3, ENOSPC));
  CHECK_EQ(fl.pwrite(fd, &x, 1, 0), 0);
  CHECK_EQ(fl.pwrite(fd, &x, 1, 1), EIO);  // the 2nd
  CHECK_EQ(fl.pwrite(fd, &x, 1, 2), 0);    // only the 2nd
  CHECK_EQ(fl.fdatasync(fd), 0);
  CHECK_EQ(fl.fdatasync(fd), 0);
  CHECK_EQ(fl.fdatasync(fd), ENOSPC);  // the 3rd ...
  CHECK_EQ(fl.fdatasync(fd), ENOSPC);  // ... and every later one
  CHECK_EQ(fl.calls(FileOp::kPwritev), uint64_t{3});
  CHECK_EQ(fl.calls(FileOp::kFdatasync), uint64_t{4});
  CHECK_EQ(fl.injected(), uint64_t{3});
  // The injected failure never reached the disk: byte 1 is a hole.
  uint64_t size = 0;
  CHECK_EQ(fl.fileSize(dir + "/f", &size), 0);
  CHECK_EQ(size, uint64_t{3});
  char buf[3] = {};
  size_t got = 0;
  CHECK_EQ(fl.pread(fd, buf, 3, 0, &got), 0);
  CHECK(buf[0] == 'x' && buf[1] == 0 && buf[2] == 'x');
  fl.clearFaults();
  CHECK_EQ(fl.fdatasync(fd), 0);
  fl.close(fd);
  removeDir(dir);
}

TEST(file_layer_fault_on_path_and_trace) {
  const std::string dir = test::makeScratchDir("fl");
  REQUIRE(!dir.empty());
  FaultInjectingFileLayer fl(posix_file_layer());
  fl.addFault(FaultRule::onPath(FileOp::kOpen, "forbidden", EACCES));
  int fd = -1;
  CHECK_EQ(fl.open(dir + "/forbidden.log", kOpenCreate, &fd), EACCES);
  uint64_t size = 0;
  CHECK_EQ(fl.fileSize(dir + "/forbidden.log", &size), ENOENT);  // not created below
  REQUIRE(fl.open(dir + "/tmp", kOpenCreate, &fd) == 0);
  const char data[16] = "0123456789abcde";
  CHECK_EQ(fl.pwrite(fd, data, 16, 64), 0);
  CHECK_EQ(fl.rename(dir + "/tmp", dir + "/final"), 0);
  CHECK_EQ(fl.pwrite(fd, data, 8, 80), 0);  // traced under the new name
  CHECK_EQ(fl.fdatasync(fd), 0);
  fl.note("publish", 42);
  CHECK_EQ(fl.fsyncDir(dir), 0);
  CHECK_EQ(fl.close(fd), 0);

  const std::vector<TraceEntry> t = fl.trace();
  REQUIRE(t.size() == 10);
  CHECK(t[0].op == FileOp::kOpen && t[0].err == EACCES);
  CHECK(t[1].op == FileOp::kFileSize && t[1].err == ENOENT);
  CHECK(t[2].op == FileOp::kOpen && t[2].path == dir + "/tmp" && t[2].err == 0);
  CHECK(t[3].op == FileOp::kPwritev && t[3].path == dir + "/tmp" && t[3].offset == 64 && t[3].length == 16);
  CHECK(t[4].op == FileOp::kRename && t[4].path == dir + "/tmp" && t[4].detail == dir + "/final");
  CHECK(t[5].op == FileOp::kPwritev && t[5].path == dir + "/final" && t[5].offset == 80 && t[5].length == 8);
  CHECK(t[6].op == FileOp::kFdatasync && t[6].path == dir + "/final");
  CHECK(t[7].op == FileOp::kNote && t[7].detail == "publish" && t[7].offset == 42);
  CHECK(t[8].op == FileOp::kFsyncDir && t[8].path == dir);
  CHECK(t[9].op == FileOp::kClose && t[9].path == dir + "/final");
  fl.clearTrace();
  CHECK(fl.trace().empty());
  CHECK_EQ(std::string(to_string(FileOp::kFdatasync)), std::string("fdatasync"));
  removeDir(dir);
}

#endif  // DURABOOK_TEST_HOOKS
