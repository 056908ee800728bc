#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "check.h"
#include "memory_lock.h"
#include "scratch_dir.h"

using namespace durabook;

namespace {

// A /proc/self/status field given in kB ("VmRSS: %lld kB"), in bytes.
int64_t status_bytes(const char* fmt) {
  long long kb = 0;
  CHECK(proc_self_status(fmt, &kb));
  return int64_t{kb} * 1024;
}
int64_t rss_bytes() { return status_bytes("VmRSS: %lld kB"); }
// Locked now: VmLck counts the locked mappings, resident or not.
int64_t locked_bytes() { return status_bytes("VmLck: %lld kB"); }

// A 4 MiB file mapped read-only and not touched yet: code-like memory the lock must cover.
// (The file stays while it is mapped: a deleted file's mapping counts as anonymous memory.)
struct MappedFile {
  static constexpr size_t kBytes = size_t{4} << 20;
  std::string dir = test::makeScratchDir("memory-lock");
  void* at = MAP_FAILED;
  MappedFile() {
    CHECK(!dir.empty());
    const int fd = open((dir + "/code").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(ftruncate(fd, kBytes), 0);
    at = mmap(nullptr, kBytes, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(at != MAP_FAILED);
    close(fd);
  }
  ~MappedFile() {
    munmap(at, kBytes);
    test::removeDir(dir);
  }
};

}  // namespace

TEST(memory_lock_locks_file_mappings_and_not_anonymous_memory) {
  MappedFile file;
  CHECK_EQ(locked_bytes(), int64_t{0});
  const MemoryLockResult r = lock_code(MemoryLockMode::kAll);
  const MemoryLockLimit lim = memory_lock_limit();
  if (!lim.capable && lim.limitBytes >= 0 && static_cast<uint64_t>(lim.limitBytes) < r.bytes) {
    // Not root, and a cap below what the mappings need: refused, and nothing stays locked.
    CHECK_EQ(r.err, ENOMEM);
    CHECK_EQ(locked_bytes(), int64_t{0});
    return;
  }
  CHECK_EQ(r.err, 0);
  CHECK(r.mappings > 2);  // this binary, libc, the file at least
  CHECK_EQ(locked_bytes(), static_cast<int64_t>(r.bytes));
  // kAll reads the file's pages in: they are resident although nothing touched them.
  unsigned char resident[MappedFile::kBytes / 4096];
  CHECK_EQ(mincore(file.at, MappedFile::kBytes, resident), 0);
  size_t in = 0;
  for (unsigned char b : resident) in += b & 1;
  CHECK_EQ(in, sizeof resident);
  // Anonymous memory mapped afterwards is not locked (not mlockall's MCL_FUTURE, which V8
  // cannot live with: see memory_lock.h).
  const int64_t before = locked_bytes();
  void* anon = mmap(nullptr, size_t{8} << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(anon != MAP_FAILED);
  CHECK_EQ(locked_bytes(), before);
  munmap(anon, size_t{8} << 20);
  CHECK_EQ(unlock_code(), 0);
  CHECK_EQ(locked_bytes(), int64_t{0});
}

TEST(memory_lock_on_fault_keeps_pages_without_reading_them_in) {
  MappedFile file;
  const int64_t rssBefore = rss_bytes();
  const MemoryLockResult r = lock_code(MemoryLockMode::kOnFault);
  if (r.err == ENOMEM) return;  // capped; the test above checks the refusal
  CHECK_EQ(r.err, 0);
  CHECK_EQ(locked_bytes(), static_cast<int64_t>(r.bytes));
  // The file's untouched pages were not read in (1 MiB of slack for the rest of the process).
  CHECK(rss_bytes() - rssBefore < int64_t{1} << 20);
  CHECK_EQ(unlock_code(), 0);
  CHECK_EQ(locked_bytes(), int64_t{0});
}

// A child that cannot lock past RLIMIT_MEMLOCK (CAP_IPC_LOCK dropped) under a cap that lets
// some mappings lock and not all: the call fails with ENOMEM and leaves nothing locked.
TEST(memory_lock_under_a_cap_fails_and_leaves_nothing_locked) {
  const pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) _exit(10);
    data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
    if (syscall(SYS_capset, &hdr, data) != 0) _exit(11);
    const rlim_t cap = rlim_t{256} << 10;  // within any hard limit; below libc + this binary
    rlimit rl{cap, cap};
    if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) _exit(12);
    const MemoryLockLimit lim = memory_lock_limit();
    if (lim.capable || lim.limitBytes != static_cast<int64_t>(cap)) _exit(13);
    const MemoryLockResult r = lock_code(MemoryLockMode::kOnFault);
    if (r.err != ENOMEM || r.bytes <= cap) _exit(14);
    _exit(locked_bytes() == 0 ? 0 : 15);
  }
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), 0);
}
