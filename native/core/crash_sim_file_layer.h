// CrashSimFileLayer: a FileLayer over the real disk that simulates power loss (test hooks only).
//
// Everything written goes to the real files at once (the engine reads back what it wrote, as
// from the page cache), but the layer also keeps, per file, what a power loss could not take:
//   - the file's *durable image*: its bytes as of its last successful fdatasync (or as found when
//     the layer first touched it), and the writes and truncations made since, in order;
//   - per directory, the name changes (creates, renames, unlinks) made since its last fsyncDir.
// fdatasync(fd) folds that file's pending writes into its image; fsyncDir(dir) makes that
// directory's name changes permanent. A failed fdatasync (an injected fault: this class is a
// FaultInjectingFileLayer, so addFault() works on it) *loses* the file's pending writes, as
// Linux does when writeback fails: they stay readable now, a later successful sync does not
// bring them back, and a power loss takes them.
//
// Power loss happens at the `crashAt`-th mutating call (open with kOpenCreate or kOpenTruncate,
// pwritev, fdatasync, fsyncDir, rename, unlink, ftruncate; counted from 1, failed calls
// included), or when crashNow() is called. The crashing call is the one in flight: a write,
// truncate, create, rename or unlink lands as an unsynced change (the policy decides whether it
// survives); an fdatasync or fsyncDir does not complete. The call returns EIO, and so does every
// later call (close() still releases the descriptor), so a correct engine fails stop and nothing
// more reaches the disk. The files are then rewritten, under the layer's lock, to a state a real
// power loss could leave, chosen by the policy and a seeded RNG:
//
//   kDropUnsynced  every pending write is lost and every unsynced name change undone: exactly
//                  the synced state.
//   kKeepPrefix    per file, a random prefix of its pending writes survives (maybe all, maybe
//                  none); per directory, a random prefix of its unsynced name changes.
//   kTornWrite     per file, a random prefix survives and the next write is torn: its first j
//                  bytes land and the rest of its range keeps the old bytes (partial), reads as
//                  zeros, or holds garbage. The file with the crashing (last) write tears that
//                  last write. Name changes survive.
//   kExtendZeros   per file, a random prefix survives; the later writes lose their data but not
//                  the size they gave the file (an extension reads as zeros). Names survive.
//   kLoseNames     every pending write survives; every unsynced name change is undone (a file
//                  created since goes away, a rename goes back, an unlinked file returns).
//
// Name changes are undone newest first in a virtual namespace, then every path involved is
// rewritten to its image (or removed). The model is per path: a file's image and pending writes
// follow it through renames, and an unlinked file keeps them (it comes back under the same
// policy). Limits: renames are assumed to stay within one directory; mkdir is passed through
// (not counted, not undone); each touched file is held in memory (fine for the 64 KiB segments
// the tests use, wasteful for 64 MiB ones). With realSync off (the default) fdatasync and
// fsyncDir do not reach the disk at all: the simulation decides what is durable, and a run that
// enumerates hundreds of crash points takes seconds.
#pragma once

#if defined(DURABOOK_TEST_HOOKS)

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "file_layer.h"

namespace durabook {

enum class CrashPolicy : uint8_t { kDropUnsynced, kKeepPrefix, kTornWrite, kExtendZeros, kLoseNames };
const char* to_string(CrashPolicy p);  // "drop-unsynced", "keep-prefix", "torn-write", ...
bool parse_crash_policy(const std::string& s, CrashPolicy* out);

struct CrashSimOptions {
  uint64_t crashAt = 0;  // the mutating call that loses power; 0: only crashNow()
  CrashPolicy policy = CrashPolicy::kDropUnsynced;
  uint64_t seed = 1;
  bool realSync = false;  // also pass fdatasync/fsyncDir to the real disk
  // A simulated fdatasync/fsyncDir takes this long (before the layer's lock is taken, so a crash
  // may come while it is in flight). A sync that costs nothing makes the writer sync nearly
  // every command it sees, and the number of calls of a run swing widely with scheduling; a
  // device-like latency makes group commit batch as it does on a disk.
  uint32_t syncLatencyUs = 0;
};

// What the power loss did, for test messages.
struct CrashReport {
  bool crashed = false;
  uint64_t atCall = 0;      // the mutating call that crashed; 0 if crashNow() did
  std::string op;           // that call's operation and path ("crashNow" for crashNow())
  std::string path;
  uint64_t writesKept = 0;  // pending writes that survived whole
  uint64_t writesLost = 0;  // pending writes dropped (data and, except kExtendZeros, size)
  uint64_t writesTorn = 0;
  uint64_t writesLostBySyncError = 0;  // dropped by failed fdatasyncs before the crash
  uint64_t namesKept = 0;
  uint64_t namesUndone = 0;
  std::vector<std::string> details;  // one line per decision ("wal-...log: kept 2 of 3 writes")
  int rewriteError = 0;              // errno of a failed rewrite (the state is then unreliable)
  uint64_t acknowledged = 0;         // noteAcknowledged()'s highest seq before the crash
};

class CrashSimFileLayer final : public FaultInjectingFileLayer {
 public:
  CrashSimFileLayer(FileLayer* inner, const CrashSimOptions& options);

  // Mutating calls so far (including the one that crashed).
  uint64_t mutatingCalls() const { return mutating_.load(std::memory_order_acquire); }
  bool crashed() const { return crashed_.load(std::memory_order_acquire); }
  // Power loss now, if it has not happened yet.
  void crashNow();
  CrashReport report() const;
  // The engine acknowledges everything up to `seq` (its durable watermark, via the writer's
  // publishHook). Ignored once power is lost: report().acknowledged is the highest seq the
  // engine had acknowledged when power went, which must all be there after recovery.
  void noteAcknowledged(uint64_t seq);

  int open(const std::string& path, unsigned flags, int* fd) override;
  int pwritev(int fd, const struct iovec* iov, int iovcnt, uint64_t offset) override;
  int pread(int fd, void* buf, size_t len, uint64_t offset, size_t* got) override;
  int fdatasync(int fd) override;
  int fsyncDir(const std::string& dir) override;
  int rename(const std::string& from, const std::string& to) override;
  int unlink(const std::string& path) override;
  int ftruncate(int fd, uint64_t size) override;
  int close(int fd) override;
  int listDir(const std::string& dir, std::vector<std::string>* names) override;
  int fileSize(const std::string& path, uint64_t* size) override;
  int mkdir(const std::string& path) override;
  // Make nothing durable and lose nothing, so the simulation ignores them (EIO once the
  // power is off). dropCache must not reach the real files either: their pages are dirty (the
  // simulated syncs do not reach the disk), and the kernel would start writing them back.
  int startWriteback(int fd, uint64_t offset, uint64_t len) override;
  int dropCache(int fd, uint64_t offset, uint64_t len) override;

 private:
  // A write (data) or truncation (truncate, to `offset`) not yet covered by an fdatasync.
  struct Pending {
    uint64_t offset = 0;
    std::vector<uint8_t> data;
    bool truncate = false;
  };
  struct FileState {
    std::vector<uint8_t> image;  // what the disk holds for sure
    std::vector<Pending> pending;
  };
  // A name change not yet covered by an fsyncDir of its directory.
  struct NameChange {
    enum Kind : uint8_t { kCreate, kRename, kUnlink } kind;
    std::string from;  // kRename: source; kCreate/kUnlink: the path
    std::string to;    // kRename: target
    bool displaced = false;  // kRename: `to` existed and was replaced; kUnlink: always
    FileState old;           // what `to` (kRename) or the path (kUnlink) held
  };

  // All below: caller holds sim_mu_.
  bool countMutating();  // true: this call is the crash point
  std::string pathOf(int fd);
  FileState* adopt(const std::string& path);  // the path's state, read from disk on first use
  void addName(NameChange c);
  void powerLoss(const std::string& op, const std::string& path);
  void syncLatency() const;  // without sim_mu_
  std::vector<uint8_t> crashImage(const std::string& path, const FileState& f, bool lastWritten);

  const CrashSimOptions options_;
  mutable std::mutex sim_mu_;  // whole calls, including the I/O; taken before the base class's mu_
  std::atomic<uint64_t> mutating_{0};
  std::atomic<bool> crashed_{false};
  std::mt19937_64 rng_;
  std::map<std::string, FileState> files_;                   // by current path
  std::map<std::string, std::vector<NameChange>> names_;     // by directory
  std::string last_written_;                                 // path of the newest pending write
  CrashReport report_;
};

}  // namespace durabook

#endif  // DURABOOK_TEST_HOOKS
