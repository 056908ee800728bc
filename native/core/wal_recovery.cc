#include "wal_recovery.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "test_bugs.h"
#include "wal_format.h"

namespace durabook {

const char* to_string(RecoveryStatus s) {
  switch (s) {
    case RecoveryStatus::Ok: return "ok";
    case RecoveryStatus::Corrupt: return "corrupt";
    case RecoveryStatus::Diverged: return "diverged";
    case RecoveryStatus::IoError: return "io error";
  }
  return "unknown";
}

std::string segment_file_name(uint64_t firstSeq) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "wal-%020" PRIu64 ".log", firstSeq);
  return buf;
}

bool parse_numbered_file_name(const std::string& name, const char* prefix, const char* suffix, uint64_t* seq) {
  const size_t p = std::strlen(prefix), x = std::strlen(suffix);
  if (name.size() != p + 20 + x || name.compare(0, p, prefix) != 0 || name.compare(p + 20, x, suffix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = p; i < p + 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *seq = v;
  return true;
}

bool parse_segment_file_name(const std::string& name, uint64_t* firstSeq) {
  return parse_numbered_file_name(name, "wal-", ".log", firstSeq);
}

std::string SeqChain::check(const WalRecord& r) {
  if (!started_) {
    started_ = true;
    lastInput_ = r.type == WalType::Trade ? r.seq : r.seq - 1;
  }
  char buf[160];
  if (r.type == WalType::Trade) {
    if (r.seq != lastInput_ || clockPending_) {
      std::snprintf(buf, sizeof buf, "trade record with seq %" PRIu64 " where %" PRIu64 " was expected", r.seq, lastInput_);
      return buf;
    }
    return {};
  }
  const uint64_t want = lastInput_ + 1;
  if (r.seq != want || (r.type == WalType::Clock && clockPending_)) {
    std::snprintf(buf, sizeof buf, "seq %" PRIu64 " where %" PRIu64 " was expected", r.seq, want);
    return buf;
  }
  if (r.type == WalType::Clock) {
    clockPending_ = true;
  } else {
    clockPending_ = false;
    lastInput_ = r.seq;
  }
  return {};
}

namespace {

// The replay state carried across segments.
class Replayer {
 public:
  Replayer(MatchingEngine* engine, RecoveryResult* out) : e_(engine), out_(out) {}

  // Checks the sequence chain for the next record; returns an empty string or what is wrong.
  std::string chain(const WalRecord& r) { return chain_.check(r); }

  // Applies a chained record. Returns Ok, or Diverged with *why.
  RecoveryStatus apply(const WalRecord& r, std::string* why) {
    // Records the starting state already covers are checked (chain) but not applied; a trade
    // is verified only against a command this replay applied.
    if (r.type == WalType::Trade ? !(applied_ && r.seq == e_->lastSeq()) : r.seq <= e_->lastSeq())
      return RecoveryStatus::Ok;
    char buf[200];
    switch (r.type) {
      case WalType::Clock:
        pendingClock_ = r.clock.ts_us;
        hasPendingClock_ = true;
        return RecoveryStatus::Ok;
      case WalType::Trade: {
        sawTrades_ = true;
        const std::vector<Trade>& made = e_->trades();
        const WalTrade& t = r.trade;
        if (verified_ >= made.size() || made[verified_].makerId != t.maker_id || made[verified_].takerId != t.taker_id ||
            made[verified_].price != t.price || made[verified_].qty != t.qty) {
          std::snprintf(buf, sizeof buf,
                        "seq %" PRIu64 ": logged trade #%zu (maker %" PRId64 ", %" PRId64 " @ %" PRId64
                        ") is not what replay produced",
                        r.seq, verified_ + 1, t.maker_id, t.qty, t.price);
          *why = buf;
          return RecoveryStatus::Diverged;
        }
        ++verified_;
        ++out_->tradesVerified;
        return RecoveryStatus::Ok;
      }
      default:
        break;
    }
    if (RecoveryStatus s = finishCommand(why); s != RecoveryStatus::Ok) return s;
    if (r.seq != e_->lastSeq() + 1) {
      std::snprintf(buf, sizeof buf, "log continues at seq %" PRIu64 " but the state is at %" PRIu64, r.seq,
                    e_->lastSeq());
      *why = buf;
      return RecoveryStatus::Diverged;
    }
    if (hasPendingClock_) e_->setClock(pendingClock_);
    hasPendingClock_ = false;
    e_->clearTrades();
    Report rep;
    CommandError err = CommandError::Ok;
    switch (r.type) {
      case WalType::New: {
        const WalNew& n = r.new_order;
        NewOrderCmd c;
        c.id = n.id;
        c.price = n.price;
        c.qty = n.qty;
        c.symbol = n.symbol;
        c.side = n.side == WalSide::Sell ? Side::Sell : Side::Buy;
        c.tif = static_cast<Tif>(n.tif);
        c.market = n.market;
        c.postOnly = n.post_only;
        c.hasPrice = n.has_price;
        err = e_->submit(c, &rep);
        break;
      }
      case WalType::Cancel:
        err = e_->cancel(r.cancel.id, &rep);
        break;
      case WalType::Modify: {
        ModifyCmd m{r.modify.id, r.modify.price, r.modify.qty, r.modify.has_price, r.modify.has_qty};
        err = e_->modify(m, &rep);
        break;
      }
      case WalType::AddSymbol:
        err = e_->addSymbol(std::string_view(r.add_symbol.name, r.add_symbol.name_len), &rep);
        break;
      default:
        break;
    }
    if (err != CommandError::Ok) {
      std::snprintf(buf, sizeof buf, "seq %" PRIu64 ": the engine refuses the logged command (error %d)", r.seq,
                    static_cast<int>(err));
      *why = buf;
      return RecoveryStatus::Diverged;
    }
    ++out_->commandsReplayed;
    applied_ = true;
    verified_ = 0;
    sawTrades_ = false;
    return RecoveryStatus::Ok;
  }

  // The previous command's logged trades, if any were logged, must be all replay produced.
  // At the very end of the log a command's trade records may be cut short (the tail).
  RecoveryStatus finishCommand(std::string* why) {
    if (sawTrades_ && verified_ != e_->trades().size()) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "seq %" PRIu64 ": %zu trades logged, replay produced %zu", e_->lastSeq(),
                    verified_, e_->trades().size());
      *why = buf;
      return RecoveryStatus::Diverged;
    }
    return RecoveryStatus::Ok;
  }

#if defined(DURABOOK_TEST_HOOKS)
  // PLANTED BUG 3 (test_bugs.h): carry on at `next` (a clock or command record) as if the
  // records before it had never been logged: the chain and the engine's seq jump over them.
  void plantedResync(const WalRecord& next) {
    chain_.restart(next.seq - 1);
    hasPendingClock_ = false;
    sawTrades_ = false;
    verified_ = 0;
    if (e_->lastSeq() < chain_.lastInput()) e_->restoreCounters(chain_.lastInput(), e_->clock(), e_->totals());
  }
#endif

  uint64_t lastInput() const { return chain_.lastInput(); }
  // The last applied command logged some of its trades but not all replay produced.
  bool tradesCutShort() const { return applied_ && sawTrades_ && verified_ < e_->trades().size(); }
  bool clockPending() const { return chain_.clockPending(); }

 private:
  MatchingEngine* e_;
  RecoveryResult* out_;
  SeqChain chain_;
  int64_t pendingClock_ = 0;
  bool hasPendingClock_ = false;
  size_t verified_ = 0;
  bool sawTrades_ = false;
  bool applied_ = false;
};

// Highest seq of a record that decodes cleanly anywhere at or after `from` (8-byte steps).
// Used to tell a torn tail (nothing valid follows) from damage in the middle of the log.
bool validRecordAfter(const std::vector<uint8_t>& buf, size_t from, uint64_t* maxSeq) {
  bool found = false;
  for (size_t p = (from + 8) & ~size_t{7}; p + kRecordHeaderSize <= buf.size(); p += 8) {
    WalRecord r{};
    size_t used;
    if (decode_record(buf.data() + p, buf.size() - p, &r, &used) == DecodeStatus::Ok) {
      found = true;
      *maxSeq = std::max(*maxSeq, r.seq);
    }
  }
  return found;
}

// The first record of a segment; false when it cannot be read.
bool readFirstRecord(FileLayer* fs, const std::string& path, WalRecord* r, size_t* used) {
  uint8_t head[kSegmentHeaderSize + kMaxRecordSize];
  int fd;
  if (fs->open(path, kOpenReadOnly, &fd) != 0) return false;
  size_t got = 0;
  const int e = fs->pread(fd, head, sizeof head, 0, &got);
  fs->close(fd);
  return e == 0 && got > kSegmentHeaderSize &&
         decode_record(head + kSegmentHeaderSize, got - kSegmentHeaderSize, r, used) == DecodeStatus::Ok;
}

// Padded size of the first record of a segment, or kMaxRecordSize when it cannot be read
// (the bound any record respects).
size_t firstRecordSize(FileLayer* fs, const std::string& path) {
  WalRecord r{};
  size_t used = 0;
  return readFirstRecord(fs, path, &r, &used) ? used : kMaxRecordSize;
}

size_t lastNonZero(const std::vector<uint8_t>& buf, size_t from) {
  size_t end = buf.size();
  while (end > from && buf[end - 1] == 0) --end;
  return end;
}

}  // namespace

size_t recovery_start_segment(FileLayer* fs, const std::vector<WalSegmentFile>& segs, uint64_t base) {
  size_t start = 0;
  for (size_t i = 0; i < segs.size(); ++i)
    if (segs[i].firstSeq <= base + 1) start = i;
  WalRecord r{};
  size_t used = 0;
  if (start > 0 && start < segs.size() && segs[start].firstSeq == base + 1 && readFirstRecord(fs, segs[start].path, &r, &used) &&
      r.type == WalType::Trade)
    --start;  // command base + 1 began in the segment before
  return start;
}

RecoveryStatus recover_wal(const RecoveryOptions& opts, MatchingEngine* engine, RecoveryResult* out) {
  FileLayer* fs = opts.files ? opts.files : posix_file_layer();
  *out = RecoveryResult{};
  std::vector<std::string> names;
  if (int e = fs->listDir(opts.dir, &names)) {
    if (e == ENOENT) return RecoveryStatus::Ok;
    out->err = e;
    out->damageFile = opts.dir;
    return RecoveryStatus::IoError;
  }
  std::vector<WalSegmentFile> segs;
  for (const std::string& n : names) {
    uint64_t first;
    if (parse_segment_file_name(n, &first)) segs.push_back({first, n, opts.dir + "/" + n});
  }
  std::sort(segs.begin(), segs.end(), [](const WalSegmentFile& a, const WalSegmentFile& b) { return a.firstSeq < b.firstSeq; });
  if (segs.empty()) return RecoveryStatus::Ok;

  const uint64_t base = engine->lastSeq();
  const size_t start = recovery_start_segment(fs, segs, base);
  if (segs[start].firstSeq > base + 1) {
    out->damageFile = segs[start].path;
    out->damageSeq = base + 1;
    out->damage = "the log starts after the state it must continue: records " + std::to_string(base + 1) + ".." +
                  std::to_string(segs[start].firstSeq - 1) + " are missing";
    return RecoveryStatus::Corrupt;
  }

  Replayer rp(engine, out);
  std::vector<uint8_t> buf;
  // The one cut recovery makes (segment index, offset), decided once the scan is over.
  size_t cutSeg = SIZE_MAX, cutOff = 0;
  size_t setAsideFrom = SIZE_MAX;  // a bad first segment: it and all later ones set aside
  size_t recordsSeg = SIZE_MAX, recordsEnd = 0;  // the last whole segment holding records
  size_t resumeEnd = kSegmentHeaderSize;  // end of the good records of the last whole segment

  // Cuts the log at byte `off` of segment `si`: zeroes what follows in that segment and sets
  // later segments aside (renamed *.dropped, never read again). The writer resumes at the cut.
  auto cutAt = [&](size_t si, size_t off) -> RecoveryStatus {
    std::vector<uint8_t> data;
    if (int e = fs->readFile(segs[si].path, &data)) {
      out->err = e;
      out->damageFile = segs[si].path;
      return RecoveryStatus::IoError;
    }
    if (off == SIZE_MAX) off = resumeEnd;  // keep this segment's records
    const size_t end = lastNonZero(data, off);
    out->bytesTruncated += end > off ? end - off : 0;
    for (size_t sj = si + 1; sj < segs.size(); ++sj) {
      std::vector<uint8_t> later;
      if (fs->readFile(segs[sj].path, &later) == 0 && later.size() > kSegmentHeaderSize)
        out->bytesTruncated += lastNonZero(later, kSegmentHeaderSize) - kSegmentHeaderSize;
    }
    // A segment cut short (point-in-time past external damage) regains its pre-written size,
    // so that the directory is whole again even if no writer ever appends to it.
    SegmentHeader hdr{};
    const bool shortFile = decode_segment_header(data.data(), data.size(), &hdr) == SegmentStatus::Ok &&
                           data.size() < hdr.segment_size;
    if (opts.repair) {
      int fd = -1;
      int e = end > off || shortFile ? fs->open(segs[si].path, kOpenReadWrite, &fd) : 0;
      if (!e && fd >= 0) {
        if (end > off) {
          std::vector<uint8_t> zeros(end - off, 0);
          e = fs->pwrite(fd, zeros.data(), zeros.size(), off);
        }
        if (!e && shortFile) e = fs->ftruncate(fd, hdr.segment_size);
        if (!e) e = fs->fdatasync(fd);
        fs->close(fd);
      }
      for (size_t sj = si + 1; sj < segs.size() && !e; ++sj) e = fs->rename(segs[sj].path, segs[sj].path + ".dropped");
      if (!e) e = fs->fsyncDir(opts.dir);
      if (e) {
        out->damageFile = segs[si].path;
        out->err = e;
        return RecoveryStatus::IoError;
      }
    }
    out->resumeSegment = segs[si].path;
    out->resumeOffset = off;
    out->resumeSegmentSize = data.size();
    return RecoveryStatus::Ok;
  };

  // Where the last input record ends: the log may be cut back to it when the trades that
  // follow it were cut short by a crash (they are re-derived by replay; the input is whole).
  size_t inputSeg = SIZE_MAX, inputEnd = 0;
  // Where the newest CLOCK record starts (a clock still pending at the end has no command).
  size_t clockSeg = SIZE_MAX, clockPos = 0;
  for (size_t si = start; si < segs.size(); ++si) {
    const WalSegmentFile& seg = segs[si];
    out->segments.push_back(seg.name);
    if (int e = fs->readFile(seg.path, &buf)) {
      out->err = e;
      out->damageFile = seg.path;
      return RecoveryStatus::IoError;
    }
    size_t pos = 0;
    size_t goodEnd = kSegmentHeaderSize;  // just past the last record that ends a command
    std::string what;
    bool externalDamage = false;  // not something a crash can leave behind
    SegmentHeader hdr{};
    SegmentStatus hs = decode_segment_header(buf.data(), buf.size(), &hdr);
    // A header that decodes but names another segment, or a size no writer uses, is as bad as
    // one that does not decode: the segment is never trusted, repaired or appended to.
    bool headerBad = hs != SegmentStatus::Ok;
    if (hs != SegmentStatus::Ok) {
      what = std::string("segment header: ") + to_string(hs);
    } else if (hdr.first_seq != seg.firstSeq) {
      headerBad = true;
      what = "segment header names first seq " + std::to_string(hdr.first_seq) + ", file name " +
             std::to_string(seg.firstSeq);
    } else if (hdr.segment_size < kSegmentHeaderSize + kMaxRecordSize || hdr.segment_size > kMaxSegmentBytes || hdr.segment_size % 8 != 0) {
      headerBad = true;
      what = "segment header names an impossible size " + std::to_string(hdr.segment_size);
    } else {
      // Segments are pre-written to their full size before they are named: a shorter file was
      // cut by something other than a crash, and what it held is unknown.
      externalDamage = buf.size() < hdr.segment_size;
      pos = kSegmentHeaderSize;
      bool first = true;
      while (pos < buf.size()) {
        WalRecord r{};
        size_t used = 0;
        DecodeStatus ds = decode_record(buf.data() + pos, buf.size() - pos, &r, &used);
        if (ds == DecodeStatus::End) {
          if (!wal_all_zero(buf.data() + pos, buf.size() - pos)) {
            what = "zeroed record header before more data";
          } else if (si + 1 < segs.size() && hdr.segment_size - pos >= firstRecordSize(fs, segs[si + 1].path)) {
            // The writer moves to a new segment only when the next record does not fit, so a
            // segment with a successor ends with less room than the successor's first record:
            // more zeros than that mean records were lost from its end.
            what = "zeroed records at the end of a segment that has a successor";
          }
          break;
        }
        if (ds != DecodeStatus::Ok) {
#if defined(DURABOOK_TEST_HOOKS)
          // PLANTED BUG 3 (test_bugs.h): step over the corrupt record to the next clock or
          // command record that decodes, and carry on from there.
          if (planted(kBugSkipCorruptRecord)) {
            size_t next = (pos + 8) & ~size_t{7};
            WalRecord nr{};
            size_t nused = 0;
            for (; next + kRecordHeaderSize <= buf.size(); next += 8) {
              if (decode_record(buf.data() + next, buf.size() - next, &nr, &nused) == DecodeStatus::Ok &&
                  nr.type != WalType::Trade)
                break;
            }
            if (next + kRecordHeaderSize <= buf.size() && nr.seq > rp.lastInput()) {
              rp.plantedResync(nr);
              pos = next;
              continue;
            }
          }
#endif
          what = std::string("record ") + to_string(ds);
          break;
        }
        if (first && si == start && r.type == WalType::Trade && r.seq > base) {
          // The state ends before this command and the log holds only its trades.
          out->damageFile = seg.path;
          out->damageOffset = pos;
          out->damageSeq = r.seq;
          out->damage = "the log starts after the state it must continue: the input record of command " +
                        std::to_string(r.seq) + " is missing";
          return RecoveryStatus::Corrupt;
        }
        if (first && r.seq != seg.firstSeq) {
          what = "first record has seq " + std::to_string(r.seq) + ", segment starts at " + std::to_string(seg.firstSeq);
          break;
        }
        first = false;
        if (std::string bad = rp.chain(r); !bad.empty()) {
          what = bad;
          break;
        }
        std::string why;
        if (rp.apply(r, &why) != RecoveryStatus::Ok) {
          out->damageFile = seg.path;
          out->damageOffset = pos;
          out->damageSeq = r.seq;
          out->damage = why;
          return RecoveryStatus::Diverged;
        }
        ++out->recordsScanned;
        if (r.type == WalType::Clock) {
          clockSeg = si;
          clockPos = pos;
        }
        pos += used;
        // A trailing CLOCK record belongs to a command that never made it: not a resume point.
        if (r.type != WalType::Clock) goodEnd = pos;
        if (r.type != WalType::Clock && r.type != WalType::Trade) {
          inputSeg = si;
          inputEnd = pos;
        }
      }
      if (externalDamage && what.empty()) pos = buf.size();
      if (externalDamage) {
        what = "segment cut short: " + std::to_string(buf.size()) + " bytes, its header says " +
               std::to_string(hdr.segment_size) + (what.empty() ? "" : " (" + what + ")");
      }
    }
    if (what.empty()) {
      out->resumeSegment = seg.path;
      out->resumeOffset = goodEnd;
      out->resumeSegmentSize = buf.size();
      resumeEnd = goodEnd;
      if (goodEnd > kSegmentHeaderSize) {
        recordsSeg = si;
        recordsEnd = goodEnd;
      }
      continue;
    }

    // Damage at `pos` (or a header problem at 0). Torn tail only if nothing valid follows.
    const size_t at = headerBad ? 0 : pos;
    out->damageFile = seg.path;
    out->damageOffset = at;
    out->damageSeq = rp.lastInput() + 1;
    out->damage = what;
    uint64_t maxSeq = 0;
    bool laterData = externalDamage || validRecordAfter(buf, at, &maxSeq);
    std::vector<uint8_t> other;
    for (size_t sj = si + 1; sj < segs.size(); ++sj) {
      if (fs->readFile(segs[sj].path, &other) != 0) {
        laterData = true;  // cannot prove it is only a tail
        continue;
      }
      if (validRecordAfter(other, kSegmentHeaderSize - 8, &maxSeq)) laterData = true;
    }
    const bool torn = !laterData;
    if (opts.mode == RecoveryMode::Strict || (!torn && opts.mode == RecoveryMode::TolerateTail)) {
      return RecoveryStatus::Corrupt;
    }
    // Cut here: a torn tail in TolerateTail/PointInTime, or the damaged rest in PointInTime.
    if (!torn) {
      out->droppedFirstSeq = rp.lastInput() + 1;
      out->droppedLastSeq = std::max(maxSeq, out->droppedFirstSeq);
    }
    out->tornTail = torn;
    if (!headerBad) {
      cutSeg = si;
      cutOff = std::max(goodEnd, kSegmentHeaderSize);
    } else if (si > start) {
      // A segment whose header is bad is set aside whole: the log ends with the one before.
      cutSeg = si - 1;
      cutOff = SIZE_MAX;
    } else {
      // ... and when it is the first one read, no segment the state reaches is left to append
      // to: it and everything after it are set aside, and the writer starts a new segment.
      setAsideFrom = si;
    }
    break;
  }
  if (setAsideFrom != SIZE_MAX) {
    out->resumeSegment.clear();
    out->resumeOffset = 0;
    for (size_t sj = setAsideFrom; sj < segs.size(); ++sj) {
      std::vector<uint8_t> data;
      if (fs->readFile(segs[sj].path, &data) == 0 && data.size() > kSegmentHeaderSize)
        out->bytesTruncated += lastNonZero(data, kSegmentHeaderSize) - kSegmentHeaderSize;
    }
    if (opts.repair) {
      int e = 0;
      for (size_t sj = setAsideFrom; sj < segs.size() && !e; ++sj) e = fs->rename(segs[sj].path, segs[sj].path + ".dropped");
      if (!e) e = fs->fsyncDir(opts.dir);
      if (e) {
        out->err = e;
        return RecoveryStatus::IoError;
      }
    }
  }

  // A crash at a segment switch can leave a CLOCK record at the end of the old segment whose
  // command never reached the new one (the writer's batch began with the clock, which fit, and
  // the command, which did not; the clock was synced, the new segment installed, and power went
  // before the command was written). Resuming in the new segment would put the next command's
  // clock record after this orphan, a chain every later recovery refuses. Within one segment
  // the resume point already stops before a trailing clock (goodEnd); across segments, cut the
  // log back to the clock (the empty newer segment is set aside, as for a cut-short trade list).
  // (Found by the power-loss harness, test/recovery/power-loss.test.ts.)
  const size_t resumeSeg = cutSeg != SIZE_MAX ? cutSeg : segs.size() - 1;
  if (rp.clockPending() && clockSeg != SIZE_MAX && clockSeg < resumeSeg) {
    if (opts.mode == RecoveryMode::Strict) {
      out->damageFile = segs[clockSeg].path;
      out->damageOffset = clockPos;
      out->damageSeq = rp.lastInput() + 1;
      out->damage = "a clock record at the end of the segment has no command after it";
      return RecoveryStatus::Corrupt;
    }
    if (cutSeg == SIZE_MAX) out->tornTail = true;  // else the damage cut already says what it is
    cutSeg = clockSeg;
    cutOff = clockPos;
  }

  // Segments after the last record hold nothing: installed right before a crash at a switch,
  // or left with only their torn first record (cut above, back to their header). Resume at the
  // end of the last segment that has records, so that the writer fills it up before it moves
  // on, as it always does. A segment with a successor then always ends less than one record
  // short of full, which is what lets recovery see records zeroed from its end. (Resuming in
  // the new segment instead let a record smaller than the one that moved the writer on go
  // there while the old segment had room for it: found by the power-loss harness.)
  const bool nothingLeftInCut = cutSeg != SIZE_MAX && cutOff <= kSegmentHeaderSize && cutSeg > recordsSeg;
  if (setAsideFrom == SIZE_MAX && recordsSeg != SIZE_MAX &&
      ((cutSeg == SIZE_MAX && recordsSeg + 1 < segs.size()) || nothingLeftInCut)) {
    cutSeg = recordsSeg;
    cutOff = recordsEnd;
  }

  // A crash in the middle of a command's trade records leaves a partial list at the end.
  // Left in place, the next command would follow it and the next recovery would report
  // divergence: cut the log back to the end of the command's input record.
  if (rp.tradesCutShort() && inputSeg != SIZE_MAX) {
    if (opts.mode == RecoveryMode::Strict) {
      out->damageFile = segs[inputSeg].path;
      out->damageOffset = inputEnd;
      out->damageSeq = rp.lastInput();
      out->damage = "the trades of the last command are cut short";
      return RecoveryStatus::Corrupt;
    }
    out->tornTail = true;
    if (cutSeg == SIZE_MAX || inputSeg < cutSeg || (inputSeg == cutSeg && inputEnd < cutOff)) {
      cutSeg = inputSeg;
      cutOff = inputEnd;
    }
  }
  if (cutSeg != SIZE_MAX) {
    if (RecoveryStatus st = cutAt(cutSeg, cutOff); st != RecoveryStatus::Ok) return st;
  }
  out->lastSeq = engine->lastSeq();
  return RecoveryStatus::Ok;
}

}  // namespace durabook
