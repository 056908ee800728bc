// Locking the process's code in RAM, so that a code page the kernel dropped under memory
// pressure (or by a proactive reclaim scheme) is not a major fault, a disk read milliseconds
// long, on the next order. On a machine without swap, file-backed pages are the only ones the
// kernel can reclaim from a process: the executable's, the shared libraries' and the addon's
// code and read-only data. Those are what this locks: every accessible file-backed mapping in
// /proc/self/maps, each with mlock (or mlock2 MLOCK_ONFAULT).
//
// Not mlockall, though it is the usual tool, because it cannot be used under V8. mlockall
// locks V8's heap and code space too, and V8 frees their pages with madvise(MADV_DONTNEED),
// which the kernel refuses on locked pages (EINVAL); V8 treats that failure as a bug and aborts
// the process (seen on Node 20: "Check failed: 0 == ret" in OS::SetPermissions, at the latest
// when the isolate is torn down). Anonymous memory (the JS heap, the engine's book) therefore
// stays unlocked; without swap it is never paged out anyway.
//
// Mappings made later (another addon loaded afterwards) are not locked: lock once all are loaded.
#pragma once
#include <sys/resource.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace durabook {

// Parses the first line of /proc/self/status that `fmt` (e.g. "VmLck: %lld kB") matches into
// *out; false if no line does, or off Linux.
template <typename T>
bool proc_self_status(const char* fmt, T* out) {
#if defined(__linux__)
  FILE* f = std::fopen("/proc/self/status", "re");
  if (!f) return false;
  char line[256];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f)) found = std::sscanf(line, fmt, out) == 1;
  std::fclose(f);
  return found;
#else
  (void)fmt;
  (void)out;
  return false;
#endif
}

#if defined(__linux__)
// The system calls themselves, not libc's wrappers: the sanitizer runtimes replace mlock and
// munlock with no-ops that report success (they guard mlockall from locking terabytes of
// shadow), and a lock that silently does nothing would pass for one that works.
inline int sys_mlock(void* at, size_t len, bool onFault) {
  return onFault ? static_cast<int>(syscall(SYS_mlock2, at, len, MLOCK_ONFAULT)) : static_cast<int>(syscall(SYS_mlock, at, len));
}
inline int sys_munlock(void* at, size_t len) { return static_cast<int>(syscall(SYS_munlock, at, len)); }
#endif

enum class MemoryLockMode {
  kAll,      // mlock: every page of the code is read in now and stays; no fault on it afterwards.
  kOnFault,  // mlock2(MLOCK_ONFAULT): pages in RAM now stay, others stay once first touched; the
             // code never used is never read in (a smaller resident set, a first-touch fault).
};

// Whether the kernel caps what this process may lock: RLIMIT_MEMLOCK, unless the process holds
// CAP_IPC_LOCK (then there is no cap). limitBytes is -1 for no limit.
struct MemoryLockLimit {
  bool capable = false;
  int64_t limitBytes = -1;
};

inline MemoryLockLimit memory_lock_limit() {
  MemoryLockLimit out;
  rlimit rl{};
  if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) out.limitBytes = static_cast<int64_t>(rl.rlim_cur);
  // CapEff is a hex mask; CAP_IPC_LOCK is bit 14 (linux/capability.h).
  unsigned long long eff = 0;
  out.capable = proc_self_status("CapEff: %llx", &eff) && ((eff >> 14) & 1);
  return out;
}

struct MemoryLockResult {
  int err = 0;             // 0, or the errno of the first mapping that could not be locked
  uint64_t bytes = 0;      // size of the file-backed mappings (locked, or that were to be)
  uint32_t mappings = 0;   // how many
};

// Calls fn(start, length) for every accessible file-backed mapping of this process: a path
// that is a file (not [heap], [stack], an anonymous one, /dev/*, or a deleted or memfd file,
// which are anonymous memory under a name) and any of r, w, x.
template <typename Fn>
int for_each_file_mapping(Fn&& fn) {
#if defined(__linux__)
  FILE* f = std::fopen("/proc/self/maps", "re");
  if (!f) return errno;
  char line[4096];
  while (std::fgets(line, sizeof line, f)) {
    uintptr_t lo = 0, hi = 0;
    char perms[5] = {};
    int pathAt = -1;
    if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*s %*s %*s %n", &lo, &hi, perms, &pathAt) < 3 || pathAt < 0) continue;
    const char* path = line + pathAt;
    if (path[0] != '/' || std::strncmp(path, "/dev/", 5) == 0 || std::strncmp(path, "/memfd:", 7) == 0 ||
        std::strstr(path, " (deleted)") != nullptr || std::strcmp(perms, "---p") == 0 || std::strcmp(perms, "---s") == 0)
      continue;
    fn(reinterpret_cast<void*>(lo), static_cast<size_t>(hi - lo));
  }
  std::fclose(f);
  return 0;
#else
  (void)fn;
  return ENOTSUP;
#endif
}

// Undoes lock_code: no file-backed mapping stays locked. 0, or an errno.
inline int unlock_code() {
#if defined(__linux__)
  int err = 0;
  const int walk = for_each_file_mapping([&](void* at, size_t len) {
    if (sys_munlock(at, len) != 0 && err == 0) err = errno;
  });
  return walk != 0 ? walk : err;
#else
  return ENOTSUP;
#endif
}

// Locks every file-backed mapping (see above). On an error it unlocks the mappings it had
// locked, so a failed call changes nothing (but for a mapping that was locked already, by an
// earlier call or by the embedder, before this call locked it again). Under a cap
// (RLIMIT_MEMLOCK without CAP_IPC_LOCK) the mapping past it fails with ENOMEM. ENOTSUP off Linux.
inline MemoryLockResult lock_code(MemoryLockMode mode) {
  MemoryLockResult r;
#if defined(__linux__)
  uint32_t locked = 0;
  const int walk = for_each_file_mapping([&](void* at, size_t len) {
    r.bytes += len;
    ++r.mappings;
    if (r.err != 0) return;
    const int rc = sys_mlock(at, len, mode == MemoryLockMode::kOnFault);
    if (rc != 0) r.err = errno;
    else ++locked;
  });
  if (walk != 0) r.err = walk;
  if (r.err != 0) {
    // The same walk again (the maps are as they were, short of a concurrent mmap): the first
    // `locked` mappings are the ones this call locked.
    uint32_t i = 0;
    for_each_file_mapping([&](void* at, size_t len) {
      if (i++ < locked) sys_munlock(at, len);
    });
  }
#else
  (void)mode;
  r.err = ENOTSUP;
#endif
  return r;
}

}  // namespace durabook
