#include "crash_sim_file_layer.h"

#if defined(DURABOOK_TEST_HOOKS)

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstring>
#include <set>

namespace durabook {
namespace {

// One spelling per path, so that "dir//x" and "dir/x", "dir/" and "dir" meet in the maps.
std::string norm(const std::string& p) {
  std::string out;
  out.reserve(p.size());
  for (char c : p) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string parentOf(const std::string& p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

std::string baseName(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

const char* to_string(CrashPolicy p) {
  switch (p) {
    case CrashPolicy::kDropUnsynced: return "drop-unsynced";
    case CrashPolicy::kKeepPrefix: return "keep-prefix";
    case CrashPolicy::kTornWrite: return "torn-write";
    case CrashPolicy::kExtendZeros: return "extend-zeros";
    case CrashPolicy::kLoseNames: return "lose-names";
  }
  return "?";
}

bool parse_crash_policy(const std::string& s, CrashPolicy* out) {
  for (CrashPolicy p : {CrashPolicy::kDropUnsynced, CrashPolicy::kKeepPrefix, CrashPolicy::kTornWrite,
                        CrashPolicy::kExtendZeros, CrashPolicy::kLoseNames}) {
    if (s == to_string(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

CrashSimFileLayer::CrashSimFileLayer(FileLayer* inner, const CrashSimOptions& options)
    : FaultInjectingFileLayer(inner), options_(options), rng_(options.seed) {}

void CrashSimFileLayer::noteAcknowledged(uint64_t seq) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (!crashed() && seq > report_.acknowledged) report_.acknowledged = seq;
}

CrashReport CrashSimFileLayer::report() const {
  std::lock_guard<std::mutex> lock(sim_mu_);
  return report_;
}

void CrashSimFileLayer::crashNow() {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (!crashed()) powerLoss("crashNow", {});
}

// --- bookkeeping (sim_mu_ held) -------------------------------------------------------------

bool CrashSimFileLayer::countMutating() {
  const uint64_t n = mutating_.fetch_add(1, std::memory_order_acq_rel) + 1;
  return options_.crashAt != 0 && n == options_.crashAt;
}

std::string CrashSimFileLayer::pathOf(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  return norm(pathOfLocked(fd));
}

CrashSimFileLayer::FileState* CrashSimFileLayer::adopt(const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return &it->second;
  // First touch: what is on disk now is taken as durable (it predates this layer, or came
  // through a path the layer does not see).
  uint64_t size = 0;
  if (inner_->fileSize(path, &size) != 0) return nullptr;
  FileState f;
  int fd = -1;
  if (inner_->open(path, kOpenReadOnly, &fd) != 0) return nullptr;
  f.image.resize(size);
  size_t got = 0;
  const int e = size ? inner_->pread(fd, f.image.data(), size, 0, &got) : 0;
  inner_->close(fd);
  if (e != 0) return nullptr;
  f.image.resize(got);
  return &files_.emplace(path, std::move(f)).first->second;
}

void CrashSimFileLayer::addName(NameChange c) {
  const std::string& p = c.kind == NameChange::kRename ? c.to : c.from;
  names_[parentOf(p)].push_back(std::move(c));
}

namespace {

void applyPending(std::vector<uint8_t>* img, uint64_t offset, const uint8_t* data, size_t len, bool truncate) {
  if (truncate) {
    img->resize(offset, 0);
    return;
  }
  if (offset + len > img->size()) img->resize(offset + len, 0);
  if (len) std::memcpy(img->data() + offset, data, len);
}

}  // namespace

std::vector<uint8_t> CrashSimFileLayer::crashImage(const std::string& path, const FileState& f, bool lastWritten) {
  std::vector<uint8_t> img = f.image;
  const size_t n = f.pending.size();
  if (n == 0) return img;
  auto uniform = [this](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); };
  auto apply = [&](const Pending& w) { applyPending(&img, w.offset, w.data.data(), w.data.size(), w.truncate); };

  size_t keep = 0;
  switch (options_.policy) {
    case CrashPolicy::kDropUnsynced: keep = 0; break;
    case CrashPolicy::kKeepPrefix:
    case CrashPolicy::kExtendZeros: keep = uniform(0, n); break;
    case CrashPolicy::kTornWrite: keep = lastWritten ? n - 1 : uniform(0, n - 1); break;
    case CrashPolicy::kLoseNames: keep = n; break;
  }
  for (size_t i = 0; i < keep; ++i) apply(f.pending[i]);
  std::string line = baseName(path) + ": kept " + std::to_string(keep) + " of " + std::to_string(n) + " unsynced writes";
  report_.writesKept += keep;
  size_t lost = n - keep;

  if (options_.policy == CrashPolicy::kTornWrite && keep < n) {
    const Pending& w = f.pending[keep];
    --lost;
    ++report_.writesTorn;
    if (w.truncate) {
      // A truncate is all or nothing.
      const bool landed = uniform(0, 1) == 1;
      if (landed) apply(w);
      line += std::string(", the next (a truncate to ") + std::to_string(w.offset) + ") " + (landed ? "landed" : "lost");
    } else if (!w.data.empty()) {
      const size_t len = w.data.size();
      const size_t j = uniform(0, len - 1);
      const int variant = static_cast<int>(uniform(0, 2));
      applyPending(&img, w.offset, w.data.data(), j, false);
      if (variant == 1) {
        std::vector<uint8_t> zeros(len - j, 0);
        applyPending(&img, w.offset + j, zeros.data(), zeros.size(), false);
      } else if (variant == 2) {
        std::vector<uint8_t> junk(len - j);
        for (uint8_t& b : junk) b = static_cast<uint8_t>(uniform(0, 255));
        applyPending(&img, w.offset + j, junk.data(), junk.size(), false);
      }
      static const char* const kVariant[] = {"partial", "then zeros", "then garbage"};
      line += ", tore the next at " + std::to_string(w.offset) + ": " + std::to_string(j) + " of " +
              std::to_string(len) + " bytes, " + kVariant[variant];
    }
  }
  if (options_.policy == CrashPolicy::kExtendZeros && keep < n) {
    // The size the later writes gave the file survives; their data does not.
    uint64_t size = f.image.size();
    for (const Pending& w : f.pending) size = w.truncate ? w.offset : std::max<uint64_t>(size, w.offset + w.data.size());
    if (size != img.size()) line += ", size " + std::to_string(img.size()) + " -> " + std::to_string(size) + " (zeros)";
    img.resize(size, 0);
  }
  report_.writesLost += lost;
  report_.details.push_back(std::move(line));
  return img;
}

void CrashSimFileLayer::powerLoss(const std::string& op, const std::string& path) {
  crashed_.store(true, std::memory_order_release);
  report_.crashed = true;
  report_.atCall = op == "crashNow" ? 0 : mutating_.load(std::memory_order_relaxed);
  report_.op = op;
  report_.path = path;
  auto uniform = [this](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); };

  // 1. Name changes, undone newest first in a virtual namespace (path -> state).
  std::map<std::string, FileState> ns = files_;
  std::set<std::string> touched;
  for (const auto& [p, f] : files_) touched.insert(p);
  std::string last = last_written_;
  for (const auto& [dir, changes] : names_) {
    const size_t n = changes.size();
    if (n == 0) continue;
    size_t keep = n;
    switch (options_.policy) {
      case CrashPolicy::kDropUnsynced:
      case CrashPolicy::kLoseNames: keep = 0; break;
      case CrashPolicy::kKeepPrefix: keep = uniform(0, n); break;
      case CrashPolicy::kTornWrite:
      case CrashPolicy::kExtendZeros: keep = n; break;
    }
    std::string line = dir + ": kept " + std::to_string(keep) + " of " + std::to_string(n) + " unsynced name changes";
    for (size_t i = n; i-- > keep;) {
      const NameChange& c = changes[i];
      touched.insert(c.from);
      if (c.kind == NameChange::kCreate) {
        ns.erase(c.from);
        line += ", undid create " + baseName(c.from);
      } else if (c.kind == NameChange::kRename) {
        touched.insert(c.to);
        auto it = ns.find(c.to);
        if (it != ns.end()) {
          ns[c.from] = std::move(it->second);
          ns.erase(c.to);
        }
        if (c.displaced) ns[c.to] = c.old;
        if (last == c.to) last = c.from;
        line += ", undid rename " + baseName(c.from) + " -> " + baseName(c.to);
      } else {
        ns[c.from] = c.old;
        line += ", undid unlink " + baseName(c.from);
      }
    }
    report_.namesKept += keep;
    report_.namesUndone += n - keep;
    report_.details.push_back(std::move(line));
  }

  // 2. Every path involved gets its crash image, or goes away.
  for (const std::string& p : touched) {
    auto it = ns.find(p);
    if (it == ns.end()) {
      const int e = inner_->unlink(p);
      if (e != 0 && e != ENOENT && report_.rewriteError == 0) report_.rewriteError = e;
      continue;
    }
    const std::vector<uint8_t> img = crashImage(p, it->second, p == last);
    int fd = -1;
    int e = inner_->open(p, kOpenCreate | kOpenTruncate, &fd);
    if (e == 0) {
      if (!img.empty()) e = inner_->pwrite(fd, img.data(), img.size(), 0);
      inner_->close(fd);
    }
    if (e != 0 && report_.rewriteError == 0) report_.rewriteError = e;
  }
  files_.clear();
  names_.clear();
}

// --- the calls --------------------------------------------------------------------------------

int CrashSimFileLayer::open(const std::string& path, unsigned flags, int* fd) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  const bool mutating = (flags & (kOpenCreate | kOpenTruncate)) != 0;
  const bool crash = mutating && countMutating();
  const std::string p = norm(path);
  uint64_t size = 0;
  const bool existed = !mutating || inner_->fileSize(path, &size) == 0;
  if (mutating && existed && (flags & kOpenTruncate)) adopt(p);  // the bytes the truncate takes
  const int e = FaultInjectingFileLayer::open(path, flags, fd);
  if (e == 0 && mutating) {
    if (!existed) {
      files_[p] = FileState{};
      addName(NameChange{NameChange::kCreate, p, {}, false, {}});
    } else if ((flags & kOpenTruncate) && size > 0) {
      if (FileState* f = adopt(p)) {
        f->pending.push_back(Pending{0, {}, true});
        last_written_ = p;
      }
    }
  }
  if (crash) {
    if (e == 0) FaultInjectingFileLayer::close(*fd);
    powerLoss("open", p);
    return EIO;
  }
  return e;
}

int CrashSimFileLayer::startWriteback(int, uint64_t, uint64_t) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  return crashed() ? EIO : 0;
}

int CrashSimFileLayer::dropCache(int, uint64_t, uint64_t) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  return crashed() ? EIO : 0;
}

int CrashSimFileLayer::pwritev(int fd, const struct iovec* iov, int iovcnt, uint64_t offset) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  const bool crash = countMutating();
  const std::string p = pathOf(fd);
  FileState* f = adopt(p);  // before the write: its bytes are the old ones
  const int e = FaultInjectingFileLayer::pwritev(fd, iov, iovcnt, offset);
  if (e == 0 && f != nullptr) {
    Pending w;
    w.offset = offset;
    for (int i = 0; i < iovcnt; ++i) {
      const auto* b = static_cast<const uint8_t*>(iov[i].iov_base);
      w.data.insert(w.data.end(), b, b + iov[i].iov_len);
    }
    f->pending.push_back(std::move(w));
    last_written_ = p;
  }
  if (crash) {
    powerLoss("pwritev", p);
    return EIO;
  }
  return e;
}

void CrashSimFileLayer::syncLatency() const {
  if (options_.syncLatencyUs > 0 && !crashed()) std::this_thread::sleep_for(std::chrono::microseconds(options_.syncLatencyUs));
}

int CrashSimFileLayer::fdatasync(int fd) {
  syncLatency();
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  std::string raw;
  {
    std::lock_guard<std::mutex> l(mu_);
    raw = pathOfLocked(fd);
  }
  const std::string p = norm(raw);
  if (countMutating()) {
    powerLoss("fdatasync", p);  // the sync never completed
    return EIO;
  }
  int e;
  {
    std::lock_guard<std::mutex> l(mu_);
    e = checkLocked(FileOp::kFdatasync, raw);
  }
  if (e == 0 && options_.realSync) e = inner_->fdatasync(fd);
  {
    std::lock_guard<std::mutex> l(mu_);
    recordLocked(FileOp::kFdatasync, raw, 0, 0, e);
  }
  auto it = files_.find(p);
  if (it != files_.end()) {
    FileState& f = it->second;
    if (e == 0) {
      for (const Pending& w : f.pending) applyPending(&f.image, w.offset, w.data.data(), w.data.size(), w.truncate);
    } else {
      // Writeback failed: the kernel marks the pages clean and forgets them. They read back
      // until power goes, a later sync does not write them, and a power loss takes them.
      report_.writesLostBySyncError += f.pending.size();
      report_.details.push_back(baseName(p) + ": " + std::to_string(f.pending.size()) +
                                " unsynced writes lost to a failed fdatasync");
    }
    f.pending.clear();
  }
  return e;
}

int CrashSimFileLayer::fsyncDir(const std::string& dir) {
  syncLatency();
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  if (countMutating()) {
    powerLoss("fsyncDir", norm(dir));
    return EIO;
  }
  int e;
  {
    std::lock_guard<std::mutex> l(mu_);
    e = checkLocked(FileOp::kFsyncDir, dir);
  }
  if (e == 0 && options_.realSync) e = inner_->fsyncDir(dir);
  {
    std::lock_guard<std::mutex> l(mu_);
    recordLocked(FileOp::kFsyncDir, dir, 0, 0, e);
  }
  if (e == 0) names_.erase(norm(dir));
  return e;
}

int CrashSimFileLayer::rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  const bool crash = countMutating();
  const std::string f = norm(from), t = norm(to);
  adopt(f);
  NameChange c{NameChange::kRename, f, t, false, {}};
  if (FileState* displaced = adopt(t)) {
    c.displaced = true;
    c.old = *displaced;
  }
  const int e = FaultInjectingFileLayer::rename(from, to);
  if (e == 0) {
    FileState moved;
    if (auto it = files_.find(f); it != files_.end()) {
      moved = std::move(it->second);
      files_.erase(it);
    }
    files_[t] = std::move(moved);
    if (last_written_ == f) last_written_ = t;
    addName(std::move(c));
  }
  if (crash) {
    powerLoss("rename", f + " -> " + t);
    return EIO;
  }
  return e;
}

int CrashSimFileLayer::unlink(const std::string& path) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  const bool crash = countMutating();
  const std::string p = norm(path);
  FileState* s = adopt(p);
  const int e = FaultInjectingFileLayer::unlink(path);
  if (e == 0) {
    NameChange c{NameChange::kUnlink, p, {}, true, {}};
    if (s != nullptr) c.old = std::move(*s);
    files_.erase(p);
    addName(std::move(c));
  }
  if (crash) {
    powerLoss("unlink", p);
    return EIO;
  }
  return e;
}

int CrashSimFileLayer::ftruncate(int fd, uint64_t size) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  const bool crash = countMutating();
  const std::string p = pathOf(fd);
  FileState* f = adopt(p);
  const int e = FaultInjectingFileLayer::ftruncate(fd, size);
  if (e == 0 && f != nullptr) {
    f->pending.push_back(Pending{size, {}, true});
    last_written_ = p;
  }
  if (crash) {
    powerLoss("ftruncate", p);
    return EIO;
  }
  return e;
}

int CrashSimFileLayer::close(int fd) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  const int e = FaultInjectingFileLayer::close(fd);  // the descriptor goes either way
  return crashed() ? EIO : e;
}

int CrashSimFileLayer::pread(int fd, void* buf, size_t len, uint64_t offset, size_t* got) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) {
    *got = 0;
    return EIO;
  }
  return FaultInjectingFileLayer::pread(fd, buf, len, offset, got);
}

int CrashSimFileLayer::listDir(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) {
    names->clear();
    return EIO;
  }
  return FaultInjectingFileLayer::listDir(dir, names);
}

int CrashSimFileLayer::fileSize(const std::string& path, uint64_t* size) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  return FaultInjectingFileLayer::fileSize(path, size);
}

int CrashSimFileLayer::mkdir(const std::string& path) {
  std::lock_guard<std::mutex> lock(sim_mu_);
  if (crashed()) return EIO;
  return FaultInjectingFileLayer::mkdir(path);
}

}  // namespace durabook

#endif  // DURABOOK_TEST_HOOKS
