// FileLayer: the few file-system calls the WAL makes, behind one virtual interface so that
// tests can put a fault-injecting (and later a crash-simulating) layer between the WAL and the
// disk without touching the WAL itself.
//
// Conventions, kept by every implementation:
//  - Every method returns 0 on success or a positive errno value; nothing throws.
//  - Paths are plain strings; file descriptors are the kernel's (PosixFileLayer) or whatever
//    the layer below handed out (wrappers pass them through unchanged).
//  - pwritev writes everything or fails: a short write is continued internally, so a caller
//    never sees one. pread stops early only at end of file (*got says how much it read).
//  - EINTR never escapes: PosixFileLayer retries interrupted calls.
//  - Implementations are safe to call from several threads at once (PosixFileLayer holds no
//    state; FaultInjectingFileLayer locks).
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace durabook {

// How open() treats the path. kCreate without kTruncate keeps existing contents.
enum FileOpenFlags : unsigned {
  kOpenReadWrite = 0,
  kOpenCreate = 1u << 0,     // create if missing (mode 0644)
  kOpenExclusive = 1u << 1,  // with kCreate: fail with EEXIST if it exists
  kOpenTruncate = 1u << 2,   // cut an existing file to zero length
  kOpenReadOnly = 1u << 3,
};

constexpr int kMaxWriteIovecs = 64;

class FileLayer {
 public:
  virtual ~FileLayer() = default;

  virtual int open(const std::string& path, unsigned flags, int* fd) = 0;
  // Writes all of iov[0, iovcnt) at `offset`. Never a partial success. iovcnt <= kMaxWriteIovecs.
  virtual int pwritev(int fd, const struct iovec* iov, int iovcnt, uint64_t offset) = 0;
  // Reads up to `len` bytes at `offset`; fewer only at end of file.
  virtual int pread(int fd, void* buf, size_t len, uint64_t offset, size_t* got) = 0;
  virtual int fdatasync(int fd) = 0;
  // fsync() of a directory, so that names created, renamed or removed in it are durable.
  virtual int fsyncDir(const std::string& dir) = 0;
  virtual int rename(const std::string& from, const std::string& to) = 0;
  virtual int unlink(const std::string& path) = 0;
  virtual int ftruncate(int fd, uint64_t size) = 0;
  virtual int close(int fd) = 0;
  // Names in `dir` other than "." and "..", in no particular order.
  virtual int listDir(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual int fileSize(const std::string& path, uint64_t* size) = 0;
  // One level; EEXIST if the path exists (directory or not).
  virtual int mkdir(const std::string& path) = 0;
  // Starts writing back [offset, offset + len) without waiting for it, so that a later
  // fdatasync finds the pages already on their way. A hint: it makes nothing durable, and a
  // layer may ignore it (the default). An error is a writeback error all the same.
  virtual int startWriteback(int fd, uint64_t offset, uint64_t len) {
    (void)fd, (void)offset, (void)len;
    return 0;
  }
  // Tells the kernel that [offset, offset + len) (len 0: to the end of the file) will not be
  // read again, so that its cached pages can go back to the free lists now rather than age
  // out. A hint, like startWriteback: the default ignores it, it never discards data (the
  // kernel keeps dirty pages), and its failure loses nothing.
  virtual int dropCache(int fd, uint64_t offset, uint64_t len) {
    (void)fd, (void)offset, (void)len;
    return 0;
  }

  // Convenience over pwritev for one buffer.
  int pwrite(int fd, const void* buf, size_t len, uint64_t offset) {
    struct iovec v{const_cast<void*>(buf), len};
    return pwritev(fd, &v, 1, offset);
  }
  // Convenience over fileSize/open/pread: the first `limit` bytes of a file (all of it by
  // default) into *buf, resized to what was read.
  int readFile(const std::string& path, std::vector<uint8_t>* buf, uint64_t limit = UINT64_MAX);
};

// Real system calls.
class PosixFileLayer final : public FileLayer {
 public:
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
  int startWriteback(int fd, uint64_t offset, uint64_t len) override;  // sync_file_range on Linux
  int dropCache(int fd, uint64_t offset, uint64_t len) override;       // posix_fadvise DONTNEED
};

// The process-wide PosixFileLayer (stateless, so one instance serves everyone).
FileLayer* posix_file_layer();

// The operations a trace and a fault rule name. kNote is not a file operation: it is what
// FaultInjectingFileLayer::note() records, so tests can put their own events (for instance
// "the watermark was published") into the same ordered trace as the file operations.
enum class FileOp : uint8_t {
  kOpen,
  kPwritev,
  kPread,
  kFdatasync,
  kFsyncDir,
  kRename,
  kUnlink,
  kFtruncate,
  kClose,
  kListDir,
  kFileSize,
  kMkdir,
  kDropCache,
  kNote,
};
const char* to_string(FileOp op);

#if defined(DURABOOK_TEST_HOOKS)

// One rule: which calls of `op` fail, and with what errno. A call "matches" the rule if its
// op is `op` and its path contains `path_contains` (empty matches every path). Matching calls
// are counted from 1 in the order they reach this layer; the rule fires on the `nth` matching
// call, and also on every later one if `and_after`. nth == 0 means every matching call.
// A failed call does not reach the layer below: nothing is written, synced or renamed.
struct FaultRule {
  FileOp op;
  int err;
  uint64_t nth = 0;
  bool and_after = false;
  std::string path_contains;

  static FaultRule nthCall(FileOp op, uint64_t n, int err) { return {op, err, n, false, {}}; }
  static FaultRule fromCall(FileOp op, uint64_t n, int err) { return {op, err, n, true, {}}; }
  static FaultRule onPath(FileOp op, std::string substr, int err) { return {op, err, 0, false, std::move(substr)}; }
};

// One traced call. For fd operations `path` is the path the fd was opened under, following
// renames (so writes to a segment appear under the segment's final name once it is renamed).
// For kRename, path is the source and `detail` the target; for kNote, `detail` is the note
// and offset/length are whatever the caller passed. `err` is the result returned.
struct TraceEntry {
  FileOp op;
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  int err = 0;
  std::string detail;
};

// Wraps another layer (not owned): injects failures by rule and records every call in order.
// Built to be extended: a crash-simulation layer (drop unsynced writes, tear the last one)
// needs the same fd-to-path tracking and sees the same calls.
class FaultInjectingFileLayer : public FileLayer {
 public:
  explicit FaultInjectingFileLayer(FileLayer* inner) : inner_(inner) {}

  void addFault(const FaultRule& rule);
  void clearFaults();
  // Appends a kNote entry; callable from any thread.
  void note(const std::string& what, uint64_t a = 0, uint64_t b = 0);
  std::vector<TraceEntry> trace() const;
  void clearTrace();
  // Calls of `op` that reached this layer (failed or not) since construction.
  uint64_t calls(FileOp op) const;
  // Failures this layer injected since construction.
  uint64_t injected() const;

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
  // Passed down as is: not traced, never faulted (a hint; see FileLayer).
  int startWriteback(int fd, uint64_t offset, uint64_t len) override { return inner_->startWriteback(fd, offset, len); }
  // Traced and faultable, so that tests can check which ranges a caller gives up and that a
  // failed hint costs it nothing.
  int dropCache(int fd, uint64_t offset, uint64_t len) override;

 protected:
  // Counts the call, decides whether a rule fires. Caller holds mu_.
  int checkLocked(FileOp op, const std::string& path);
  void recordLocked(FileOp op, const std::string& path, uint64_t offset, uint64_t length, int err,
                    std::string detail = {});
  std::string pathOfLocked(int fd) const;

  FileLayer* const inner_;
  mutable std::mutex mu_;

 private:
  struct RuleState {
    FaultRule rule;
    uint64_t seen = 0;  // matching calls so far
  };
  std::vector<RuleState> rules_;
  std::vector<TraceEntry> trace_;
  std::unordered_map<int, std::string> fd_paths_;
  uint64_t calls_[static_cast<size_t>(FileOp::kNote) + 1] = {};
  uint64_t injected_ = 0;
};

#endif  // DURABOOK_TEST_HOOKS

}  // namespace durabook
