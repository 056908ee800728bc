#include "wal_inspect.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace durabook {

std::string snapshot_file_name(uint64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "snapshot-%020" PRIu64 ".snap", seq);
  return buf;
}

bool parse_snapshot_file_name(const std::string& name, uint64_t* seq) {
  return parse_numbered_file_name(name, "snapshot-", ".snap", seq);
}

namespace {

bool endsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string loadReason(const std::string& status, const std::string& why) {
  return why.empty() ? status : status + ": " + why;
}

}  // namespace

bool inspect_wal(const InspectOptions& opts, InspectResult* out) {
  FileLayer* fs = opts.files ? opts.files : posix_file_layer();
  *out = InspectResult{};
  std::vector<std::string> names;
  if (int e = fs->listDir(opts.dir, &names)) {
    out->err = e;
    out->errPath = opts.dir;
    return false;
  }
  for (const std::string& n : names) {
    uint64_t first;
    if (parse_segment_file_name(n, &first)) {
      InspectedSegment s;
      s.name = n;
      s.path = opts.dir + "/" + n;
      s.nameSeq = first;
      out->segments.push_back(std::move(s));
    } else if (n.compare(0, 4, "wal-") == 0 || endsWith(n, ".dropped") || endsWith(n, ".damaged") ||
               endsWith(n, ".tmp")) {
      out->otherFiles.push_back(n);
    }
  }
  std::sort(out->segments.begin(), out->segments.end(),
            [](const InspectedSegment& a, const InspectedSegment& b) { return a.nameSeq < b.nameSeq; });
  std::sort(out->otherFiles.begin(), out->otherFiles.end());
  for (InspectedSegment& s : out->segments) {
    uint64_t size = 0;
    if (fs->fileSize(s.path, &size) == 0) s.fileBytes = size;
  }

  size_t start = 0;
  if (opts.fromSeq > 0)
    for (size_t i = 0; i < out->segments.size(); ++i)
      if (out->segments[i].nameSeq <= opts.fromSeq) start = i;

  SeqChain chain;
  std::vector<uint8_t> buf;
  for (size_t si = start; si < out->segments.size(); ++si) {
    InspectedSegment& seg = out->segments[si];
    seg.scanned = true;
    seg.endOffset = kSegmentHeaderSize;
    if (int e = fs->readFile(seg.path, &buf)) {
      out->err = e;
      out->errPath = seg.path;
      return false;
    }
    seg.fileBytes = buf.size();
    out->fileBytes += buf.size();
    auto damage = [&](uint64_t offset, std::string what) {
      out->damage.found = true;
      out->damage.file = seg.path;
      out->damage.offset = offset;
      out->damage.seq = chain.started() ? chain.expected() : seg.nameSeq;
      out->damage.what = std::move(what);
    };
    SegmentHeader hdr{};
    seg.header = decode_segment_header(buf.data(), buf.size(), &hdr);
    if (seg.header != SegmentStatus::Ok) {
      damage(0, std::string("segment header: ") + to_string(seg.header));
      break;
    }
    seg.headerSeq = hdr.first_seq;
    seg.headerBytes = hdr.segment_size;
    if (hdr.first_seq != seg.nameSeq) {
      damage(0, "segment header names first seq " + std::to_string(hdr.first_seq) + ", file name " +
                    std::to_string(seg.nameSeq));
      break;
    }
    size_t pos = kSegmentHeaderSize;
    while (pos < buf.size()) {
      WalRecord r{};
      size_t used = 0;
      const DecodeStatus ds = decode_record(buf.data() + pos, buf.size() - pos, &r, &used);
      if (ds == DecodeStatus::End) {
        if (!wal_all_zero(buf.data() + pos, buf.size() - pos)) damage(pos, "zeroed record header before more data");
        break;
      }
      if (ds != DecodeStatus::Ok) {
        damage(pos, std::string("record ") + to_string(ds));
        break;
      }
      if (seg.records == 0 && r.seq != seg.nameSeq) {
        damage(pos, "first record has seq " + std::to_string(r.seq) + ", segment starts at " +
                        std::to_string(seg.nameSeq));
        break;
      }
      if (std::string bad = chain.check(r); !bad.empty()) {
        damage(pos, std::move(bad));
        break;
      }
      if (seg.records == 0) seg.firstSeq = r.seq;
      seg.lastSeq = r.seq;
      ++seg.records;
      seg.recordBytes += used;
      seg.endOffset = pos + used;
      ++out->records;
      ++out->recordsByType[static_cast<int>(r.type)];
      out->recordBytes += used;
      if (r.type != WalType::Trade && r.type != WalType::Clock) {
        if (out->firstSeq == 0) out->firstSeq = r.seq;
        out->lastSeq = r.seq;
      }
      if (opts.onRecord && !opts.onRecord(InspectedRecord{&seg, pos, used, r})) {
        out->stopped = true;
        return true;
      }
      pos += used;
    }
    if (out->damage.found) break;
  }
  return true;
}

int list_snapshots(const std::string& dir, FileLayer* files, bool check, const EngineLimits& limits,
                   std::vector<SnapshotFile>* out) {
  FileLayer* fs = files ? files : posix_file_layer();
  out->clear();
  std::vector<std::string> names;
  if (int e = fs->listDir(dir, &names)) return e;
  for (const std::string& n : names) {
    uint64_t seq;
    if (!parse_snapshot_file_name(n, &seq)) continue;
    SnapshotFile s;
    s.name = n;
    s.path = dir + "/" + n;
    s.nameSeq = seq;
    out->push_back(std::move(s));
  }
  std::sort(out->begin(), out->end(), [](const SnapshotFile& a, const SnapshotFile& b) { return a.nameSeq < b.nameSeq; });
  std::vector<uint8_t> buf;
  for (SnapshotFile& s : *out) {
    uint64_t size = 0;
    if (fs->fileSize(s.path, &size) == 0) s.bytes = size;
    if (int e = fs->readFile(s.path, &buf, check ? UINT64_MAX : kSnapshotHeaderSize)) {
      s.status = "io error";
      s.why = std::strerror(e);
      continue;
    }
    if (!check) {
      SnapshotStatus st = decode_snapshot_header(buf.data(), buf.size(), &s.info);
      s.status = to_string(st);
      s.ok = st == SnapshotStatus::Ok;
      continue;
    }
    s.checked = true;
    MatchingEngine scratch(limits);
    SnapshotStatus st = load_snapshot(buf.data(), buf.size(), &scratch, &s.info, &s.why);
    s.status = to_string(st);
    s.ok = st == SnapshotStatus::Ok;
    if (s.ok)
      for (uint32_t i = 0; i < scratch.symbolCount(); ++i) s.symbols.push_back(scratch.symbolName(i));
  }
  return 0;
}

bool verify_wal(const VerifyOptions& opts, VerifyResult* out) {
  FileLayer* fs = opts.files ? opts.files : posix_file_layer();
  *out = VerifyResult{};
  std::vector<SnapshotFile> snaps;
  if (int e = list_snapshots(opts.dir, fs, false, opts.limits, &snaps)) {
    out->dirExists = e != ENOENT && e != ENOTDIR;
    out->status = RecoveryStatus::IoError;
    out->recovery.err = e;
    out->recovery.damageFile = opts.dir;
    return false;
  }

  // 1. The snapshot open() starts from: the newest that loads (lib/recovery.ts).
  MatchingEngine engine(opts.limits);
  size_t used = snaps.size();
  std::vector<uint8_t> buf;
  for (size_t k = snaps.size(); k-- > 0;) {
    const SnapshotFile& s = snaps[k];
    std::string reason;
    if (int e = fs->readFile(s.path, &buf)) {
      reason = loadReason("io error", std::strerror(e));
    } else {
      SnapshotInfo info;
      std::string why;
      SnapshotStatus st = load_snapshot(buf.data(), buf.size(), &engine, &info, &why);
      if (st == SnapshotStatus::Ok) {
        used = k;
        out->snapshotUsed = s.path;
        out->snapshotSeq = info.seq;
        out->snapshotOrders = info.orders;
        if (info.seq != s.nameSeq)
          out->anomalies.push_back({s.path, 0, info.seq,
                                    "snapshot holds the state after seq " + std::to_string(info.seq) +
                                        ", its name says " + std::to_string(s.nameSeq)});
        break;
      }
      reason = loadReason(to_string(st), why);
    }
    out->snapshotsSkipped.push_back({s.path, 0, s.nameSeq, reason});
    engine.reset();
  }

  // 2. The log after it, exactly as open() replays it, but touching nothing.
  const uint64_t base = engine.lastSeq();
  RecoveryOptions ro;
  ro.dir = opts.dir;
  ro.mode = RecoveryMode::TolerateTail;
  ro.repair = false;
  ro.files = fs;
  out->status = recover_wal(ro, &engine, &out->recovery);
  out->lastSeq = engine.lastSeq();
  out->stateDigest = engine.digest();

  // 3. What a fallback would need: the older snapshots...
  for (size_t k = 0; k < used && used < snaps.size(); ++k) {
    const SnapshotFile& s = snaps[k];
    std::string reason;
    if (int e = fs->readFile(s.path, &buf)) {
      reason = loadReason("io error", std::strerror(e));
    } else {
      MatchingEngine scratch(opts.limits);
      SnapshotInfo info;
      std::string why;
      SnapshotStatus st = load_snapshot(buf.data(), buf.size(), &scratch, &info, &why);
      if (st == SnapshotStatus::Ok) continue;
      reason = loadReason(to_string(st), why);
    }
    out->fallback.push_back({s.path, 0, s.nameSeq, "older snapshot damaged (" + reason + ")"});
  }

  // ... and the segments before the one recovery starts at, walked like every other one.
  inspect_wal(InspectOptions{opts.dir, 0, fs, nullptr}, &out->walk);
  const InspectResult& w = out->walk;
  std::vector<WalSegmentFile> segs;
  for (const InspectedSegment& s : w.segments) segs.push_back({s.nameSeq, s.name, s.path});
  const size_t start = recovery_start_segment(fs, segs, base);
  if (w.err) {
    out->anomalies.push_back({w.errPath, 0, 0, std::string("cannot read: ") + std::strerror(w.err)});
  } else if (w.damage.found) {
    size_t at = 0;
    while (at < w.segments.size() && w.segments[at].path != w.damage.file) ++at;
    const bool recoveryFound =
        out->status != RecoveryStatus::Ok || out->recovery.tornTail || out->recovery.droppedFirstSeq != 0;
    if (at < start) {
      out->fallback.push_back({w.damage.file, w.damage.offset, w.damage.seq,
                               w.damage.what + " (before the segment recovery starts at)"});
    } else if (!recoveryFound) {
      // Recovery read this part and found it clean: the two scans disagree.
      out->anomalies.push_back({w.damage.file, w.damage.offset, w.damage.seq,
                                w.damage.what + " (found by the inspection walk, not by recovery)"});
    }
  }
  // A segment is written at its full size before it gets its name; a different size means
  // something cut or extended it, and records at the end of a shorter one may be gone.
  for (const InspectedSegment& s : w.segments) {
    if (!s.scanned || s.header != SegmentStatus::Ok || s.fileBytes == s.headerBytes) continue;
    char what[200];
    std::snprintf(what, sizeof what, "segment file is %" PRIu64 " bytes, its header says %" PRIu64 "%s", s.fileBytes,
                  s.headerBytes, s.fileBytes < s.headerBytes ? " (cut short: records at its end may be gone)" : "");
    out->anomalies.push_back({s.path, s.fileBytes, 0, what});
  }
  return out->whole();
}

}  // namespace durabook
