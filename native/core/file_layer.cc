#include "file_layer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

namespace durabook {

// ---------------------------------------------------------------------------------------------
// PosixFileLayer

namespace {

// errno after a failed call, never 0 (a caller that sees 0 would take failure for success).
int last_error() { return errno != 0 ? errno : EIO; }

}  // namespace

int PosixFileLayer::open(const std::string& path, unsigned flags, int* fd) {
  int oflags = O_CLOEXEC | ((flags & kOpenReadOnly) ? O_RDONLY : O_RDWR);
  if (flags & kOpenCreate) oflags |= O_CREAT;
  if (flags & kOpenExclusive) oflags |= O_EXCL;
  if (flags & kOpenTruncate) oflags |= O_TRUNC;
  for (;;) {
    const int r = ::open(path.c_str(), oflags, 0644);
    if (r >= 0) {
      *fd = r;
      return 0;
    }
    if (errno != EINTR) return last_error();
  }
}

int PosixFileLayer::pwritev(int fd, const struct iovec* iov, int iovcnt, uint64_t offset) {
  // Work on a copy so a short write can advance the vector without touching the caller's.
  if (iovcnt < 0 || iovcnt > kMaxWriteIovecs) return EINVAL;
  struct iovec v[kMaxWriteIovecs];
  std::memcpy(v, iov, sizeof(struct iovec) * static_cast<size_t>(iovcnt));
  struct iovec* cur = v;
  int left = iovcnt;
  while (left > 0 && cur->iov_len == 0) {
    ++cur;
    --left;
  }
  while (left > 0) {
    const ssize_t n = ::pwritev(fd, cur, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    // A regular file never accepts zero bytes of a non-empty write unless something is wrong;
    // looping on it would spin forever.
    if (n == 0) return EIO;
    offset += static_cast<uint64_t>(n);
    size_t done = static_cast<size_t>(n);
    while (left > 0 && done >= cur->iov_len) {
      done -= cur->iov_len;
      ++cur;
      --left;
    }
    if (left > 0) {
      cur->iov_base = static_cast<char*>(cur->iov_base) + done;
      cur->iov_len -= done;
    }
  }
  return 0;
}

int PosixFileLayer::pread(int fd, void* buf, size_t len, uint64_t offset, size_t* got) {
  size_t total = 0;
  while (total < len) {
    const ssize_t n = ::pread(fd, static_cast<char*>(buf) + total, len - total,
                              static_cast<off_t>(offset + total));
    if (n < 0) {
      if (errno == EINTR) continue;
      *got = total;
      return last_error();
    }
    if (n == 0) break;  // end of file
    total += static_cast<size_t>(n);
  }
  *got = total;
  return 0;
}

int PosixFileLayer::fdatasync(int fd) {
  // A sync interrupted by a signal is retried: EINTR says nothing about the data. Any other
  // error is final: the kernel may already have dropped the dirty pages it failed to write,
  // so a retry that "succeeds" would prove nothing. The caller fails stop.
  for (;;) {
#if defined(__APPLE__)
    const int r = ::fcntl(fd, F_FULLFSYNC);
#else
    const int r = ::fdatasync(fd);
#endif
    if (r == 0) return 0;
    if (errno != EINTR) return last_error();
  }
}

int FileLayer::readFile(const std::string& path, std::vector<uint8_t>* buf, uint64_t limit) {
  uint64_t size = 0;
  if (int e = fileSize(path, &size)) return e;
  size = std::min(size, limit);
  int fd;
  if (int e = open(path, kOpenReadOnly, &fd)) return e;
  buf->resize(size);
  size_t got = 0;
  const int e = size ? pread(fd, buf->data(), size, 0, &got) : 0;
  close(fd);
  if (e) return e;
  buf->resize(got);
  return 0;
}

int PosixFileLayer::startWriteback(int fd, uint64_t offset, uint64_t len) {
#if defined(__linux__)
  for (;;) {
    if (::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(len), SYNC_FILE_RANGE_WRITE) == 0) return 0;
    if (errno != EINTR) return last_error();
  }
#else
  (void)fd, (void)offset, (void)len;
  return 0;
#endif
}

int PosixFileLayer::dropCache(int fd, uint64_t offset, uint64_t len) {
  // posix_fadvise returns the error instead of setting errno, and is not interrupted.
  return ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(len), POSIX_FADV_DONTNEED);
}

int PosixFileLayer::fsyncDir(const std::string& dir) {
  int fd;
  for (;;) {
    fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) break;
    if (errno != EINTR) return last_error();
  }
  int err = 0;
  for (;;) {
    if (::fsync(fd) == 0) break;
    if (errno != EINTR) {
      err = last_error();
      break;
    }
  }
  ::close(fd);
  return err;
}

int PosixFileLayer::rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : last_error();
}

int PosixFileLayer::unlink(const std::string& path) {
  return ::unlink(path.c_str()) == 0 ? 0 : last_error();
}

int PosixFileLayer::ftruncate(int fd, uint64_t size) {
  for (;;) {
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0) return 0;
    if (errno != EINTR) return last_error();
  }
}

int PosixFileLayer::close(int fd) {
  // Linux releases the descriptor even when close() reports EINTR, so it must not be retried
  // (a retry could close a descriptor another thread has just been given).
  if (::close(fd) == 0 || errno == EINTR) return 0;
  return last_error();
}

int PosixFileLayer::listDir(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return last_error();
  for (;;) {
    errno = 0;
    const struct dirent* e = ::readdir(d);
    if (e == nullptr) break;
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names->emplace_back(e->d_name);
  }
  const int err = errno;  // readdir sets errno only on error; 0 at the end of the directory
  ::closedir(d);
  return err;
}

int PosixFileLayer::fileSize(const std::string& path, uint64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return last_error();
  *size = static_cast<uint64_t>(st.st_size);
  return 0;
}

int PosixFileLayer::mkdir(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0 ? 0 : last_error();
}

FileLayer* posix_file_layer() {
  static PosixFileLayer layer;
  return &layer;
}

const char* to_string(FileOp op) {
  switch (op) {
    case FileOp::kOpen: return "open";
    case FileOp::kPwritev: return "pwritev";
    case FileOp::kPread: return "pread";
    case FileOp::kFdatasync: return "fdatasync";
    case FileOp::kFsyncDir: return "fsync";
    case FileOp::kRename: return "rename";
    case FileOp::kUnlink: return "unlink";
    case FileOp::kFtruncate: return "ftruncate";
    case FileOp::kClose: return "close";
    case FileOp::kListDir: return "listdir";
    case FileOp::kFileSize: return "stat";
    case FileOp::kMkdir: return "mkdir";
    case FileOp::kDropCache: return "dropcache";
    case FileOp::kNote: return "note";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// FaultInjectingFileLayer
//
// Each call: under the lock, count it and ask the rules; if one fires, record the failure and
// return its errno without calling the layer below. Otherwise call the layer below *outside*
// the lock (an fdatasync may take milliseconds; tests read the trace meanwhile), then record
// the call with its result. The trace is therefore in completion order, which for the WAL's
// single writer thread is also issue order.

#if defined(DURABOOK_TEST_HOOKS)

void FaultInjectingFileLayer::addFault(const FaultRule& rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back({rule, 0});
}

void FaultInjectingFileLayer::clearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

void FaultInjectingFileLayer::note(const std::string& what, uint64_t a, uint64_t b) {
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_[static_cast<size_t>(FileOp::kNote)];
  recordLocked(FileOp::kNote, {}, a, b, 0, what);
}

std::vector<TraceEntry> FaultInjectingFileLayer::trace() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trace_;
}

void FaultInjectingFileLayer::clearTrace() {
  std::lock_guard<std::mutex> lock(mu_);
  trace_.clear();
}

uint64_t FaultInjectingFileLayer::calls(FileOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

uint64_t FaultInjectingFileLayer::injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

int FaultInjectingFileLayer::checkLocked(FileOp op, const std::string& path) {
  ++calls_[static_cast<size_t>(op)];
  int err = 0;
  // Every matching rule counts the call, even when an earlier rule already fired, so that
  // "the nth call" keeps meaning the nth call whatever other rules are installed.
  for (RuleState& s : rules_) {
    if (s.rule.op != op) continue;
    if (!s.rule.path_contains.empty() && path.find(s.rule.path_contains) == std::string::npos) continue;
    ++s.seen;
    const bool fires = s.rule.nth == 0 || s.seen == s.rule.nth || (s.rule.and_after && s.seen > s.rule.nth);
    if (fires && err == 0) err = s.rule.err;
  }
  if (err != 0) ++injected_;
  return err;
}

void FaultInjectingFileLayer::recordLocked(FileOp op, const std::string& path, uint64_t offset,
                                           uint64_t length, int err, std::string detail) {
  trace_.push_back(TraceEntry{op, path, offset, length, err, std::move(detail)});
}

std::string FaultInjectingFileLayer::pathOfLocked(int fd) const {
  auto it = fd_paths_.find(fd);
  return it == fd_paths_.end() ? std::string("fd:") + std::to_string(fd) : it->second;
}

int FaultInjectingFileLayer::open(const std::string& path, unsigned flags, int* fd) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = checkLocked(FileOp::kOpen, path)) {
      recordLocked(FileOp::kOpen, path, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->open(path, flags, fd);
  std::lock_guard<std::mutex> lock(mu_);
  if (e == 0) fd_paths_[*fd] = path;
  recordLocked(FileOp::kOpen, path, 0, 0, e);
  return e;
}

int FaultInjectingFileLayer::pwritev(int fd, const struct iovec* iov, int iovcnt, uint64_t offset) {
  uint64_t len = 0;
  for (int i = 0; i < iovcnt; ++i) len += iov[i].iov_len;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = pathOfLocked(fd);
    if (int e = checkLocked(FileOp::kPwritev, path)) {
      recordLocked(FileOp::kPwritev, path, offset, len, e);
      return e;
    }
  }
  const int e = inner_->pwritev(fd, iov, iovcnt, offset);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kPwritev, path, offset, len, e);
  return e;
}

int FaultInjectingFileLayer::pread(int fd, void* buf, size_t len, uint64_t offset, size_t* got) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = pathOfLocked(fd);
    if (int e = checkLocked(FileOp::kPread, path)) {
      *got = 0;
      recordLocked(FileOp::kPread, path, offset, len, e);
      return e;
    }
  }
  const int e = inner_->pread(fd, buf, len, offset, got);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kPread, path, offset, len, e);
  return e;
}

int FaultInjectingFileLayer::fdatasync(int fd) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = pathOfLocked(fd);
    if (int e = checkLocked(FileOp::kFdatasync, path)) {
      recordLocked(FileOp::kFdatasync, path, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->fdatasync(fd);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kFdatasync, path, 0, 0, e);
  return e;
}

int FaultInjectingFileLayer::dropCache(int fd, uint64_t offset, uint64_t len) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = pathOfLocked(fd);
    if (int e = checkLocked(FileOp::kDropCache, path)) {
      recordLocked(FileOp::kDropCache, path, offset, len, e);
      return e;
    }
  }
  const int e = inner_->dropCache(fd, offset, len);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kDropCache, path, offset, len, e);
  return e;
}

int FaultInjectingFileLayer::fsyncDir(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = checkLocked(FileOp::kFsyncDir, dir)) {
      recordLocked(FileOp::kFsyncDir, dir, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->fsyncDir(dir);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kFsyncDir, dir, 0, 0, e);
  return e;
}

int FaultInjectingFileLayer::rename(const std::string& from, const std::string& to) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A rule's path filter matches either name: "fail renames onto wal-" and "fail renames of
    // the temp file" are both useful.
    if (int e = checkLocked(FileOp::kRename, from + "\n" + to)) {
      recordLocked(FileOp::kRename, from, 0, 0, e, to);
      return e;
    }
  }
  const int e = inner_->rename(from, to);
  std::lock_guard<std::mutex> lock(mu_);
  if (e == 0) {
    for (auto& [fd, p] : fd_paths_) {
      if (p == from) p = to;
    }
  }
  recordLocked(FileOp::kRename, from, 0, 0, e, to);
  return e;
}

int FaultInjectingFileLayer::unlink(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = checkLocked(FileOp::kUnlink, path)) {
      recordLocked(FileOp::kUnlink, path, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->unlink(path);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kUnlink, path, 0, 0, e);
  return e;
}

int FaultInjectingFileLayer::ftruncate(int fd, uint64_t size) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = pathOfLocked(fd);
    if (int e = checkLocked(FileOp::kFtruncate, path)) {
      recordLocked(FileOp::kFtruncate, path, size, 0, e);
      return e;
    }
  }
  const int e = inner_->ftruncate(fd, size);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kFtruncate, path, size, 0, e);
  return e;
}

int FaultInjectingFileLayer::close(int fd) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = pathOfLocked(fd);
    // The descriptor is gone whatever close() returns, so forget it before the call: the
    // kernel may hand the same number to another open() the moment close() returns.
    fd_paths_.erase(fd);
    if (int e = checkLocked(FileOp::kClose, path)) {
      // An injected close failure still releases the descriptor below, as the kernel would.
      recordLocked(FileOp::kClose, path, 0, 0, e);
      inner_->close(fd);
      return e;
    }
  }
  const int e = inner_->close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kClose, path, 0, 0, e);
  return e;
}

int FaultInjectingFileLayer::listDir(const std::string& dir, std::vector<std::string>* names) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = checkLocked(FileOp::kListDir, dir)) {
      names->clear();
      recordLocked(FileOp::kListDir, dir, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->listDir(dir, names);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kListDir, dir, 0, 0, e);
  return e;
}

int FaultInjectingFileLayer::fileSize(const std::string& path, uint64_t* size) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = checkLocked(FileOp::kFileSize, path)) {
      recordLocked(FileOp::kFileSize, path, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->fileSize(path, size);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kFileSize, path, 0, e == 0 ? *size : 0, e);
  return e;
}

int FaultInjectingFileLayer::mkdir(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = checkLocked(FileOp::kMkdir, path)) {
      recordLocked(FileOp::kMkdir, path, 0, 0, e);
      return e;
    }
  }
  const int e = inner_->mkdir(path);
  std::lock_guard<std::mutex> lock(mu_);
  recordLocked(FileOp::kMkdir, path, 0, 0, e);
  return e;
}

#endif  // DURABOOK_TEST_HOOKS

}  // namespace durabook
