// Planted bugs: deliberate durability bugs compiled in only with DURABOOK_TEST_HOOKS and off
// unless a test switches them on (addon: setPlantedBugs(mask)). They exist to prove that the
// power-loss harness (test/recovery/power-loss.test.ts) and the damage check catch what they
// are meant to catch: test/recovery/planted-bugs.test.ts turns each one on and expects the
// harness to report a violation. Each hook in the WAL code is marked "PLANTED BUG n".
//
// The mask is process-wide (vitest runs every test file in its own process: pool 'forks').
#pragma once

#if defined(DURABOOK_TEST_HOOKS)
#include <atomic>
#include <cstdint>

namespace durabook {

enum PlantedBug : uint32_t {
  // 1. wal_writer.cc syncAndPublish: the watermark is published before the fdatasync.
  kBugPublishBeforeSync = 1u << 0,
  // 2. wal_writer.cc installNextSegment: no directory fsync after a segment is renamed in.
  kBugSkipSegmentDirSync = 1u << 1,
  // 3. wal_recovery.cc recover_wal: a corrupt record is skipped and the scan carries on.
  kBugSkipCorruptRecord = 1u << 2,
  // 4. wal_writer.cc syncAndPublish: a failed fdatasync is retried and the retry trusted.
  kBugRetryFailedSync = 1u << 3,
};

inline std::atomic<uint32_t> test_bugs{0};

inline bool planted(PlantedBug bug) { return (test_bugs.load(std::memory_order_relaxed) & bug) != 0; }

}  // namespace durabook

#endif  // DURABOOK_TEST_HOOKS
