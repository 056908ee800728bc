// Pinning a thread to one CPU: the WAL writer (wal.writerCpu), and the matching thread in
// benchmarks. Linux only; elsewhere pinning is refused with ENOTSUP rather than ignored.
#pragma once
#include <pthread.h>

#include <cerrno>

#if defined(__linux__)
#include <sched.h>
#endif

namespace durabook {

// Pins `thread` to `cpu`. Returns 0, or the errno: EINVAL for a CPU out of range or one this
// process may not use (its cgroup's cpuset decides, not the caller's own mask).
inline int pin_thread(pthread_t thread, int cpu) {
#if defined(__linux__)
  if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(thread, sizeof set, &set);
#else
  (void)thread;
  (void)cpu;
  return ENOTSUP;
#endif
}

}  // namespace durabook
