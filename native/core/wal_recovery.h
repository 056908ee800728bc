// WAL recovery scan: reads the segments of a WAL directory in order, checks every record
// (CRC, length, type, the +1 sequence chain), replays the inputs into a MatchingEngine and,
// where trades were logged, checks that replay reproduces them.
//
// What damage means depends on where it is (DESIGN.md §4):
//  - torn tail: a bad record with no valid later record anywhere after it is the unsynced end
//    of the log; in TolerateTail mode it is cut off (zeroed and synced) and reported;
//  - anything else is corruption: Corrupt names the file, offset and sequence number, unless
//    the mode is PointInTime, which stops at the damage, reports the dropped range, and cuts
//    the log there (later segments are renamed *.dropped, never read again).
// Corrupt records are never skipped.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "file_layer.h"
#include "matching_engine.h"
#include "wal_format.h"

namespace durabook {

enum class RecoveryMode { TolerateTail, Strict, PointInTime };

// The largest segment a writer may use (WalWriterOptions::segmentBytes); a header naming a
// larger size, or one too small to hold a record, is damaged (recovery never extends a file
// to a size it cannot trust).
constexpr uint64_t kMaxSegmentBytes = 1ull << 30;

enum class RecoveryStatus {
  Ok,
  Corrupt,   // damage not at the tail (or any damage in Strict mode)
  Diverged,  // replay produced trades different from the logged ones
  IoError,
};
const char* to_string(RecoveryStatus s);

struct RecoveryOptions {
  std::string dir;
  RecoveryMode mode = RecoveryMode::TolerateTail;
  // Repair: cut a torn tail (and, in PointInTime, the damaged rest) on disk. Off for a
  // read-only verify.
  bool repair = true;
  FileLayer* files = nullptr;  // default: posix_file_layer()
};

struct RecoveryResult {
  uint64_t recordsScanned = 0;
  uint64_t commandsReplayed = 0;
  uint64_t tradesVerified = 0;
  uint64_t lastSeq = 0;
  uint64_t bytesTruncated = 0;  // torn tail (or point-in-time cut) dropped, in bytes
  bool tornTail = false;
  // Damage: where and what (empty file when none).
  std::string damageFile;
  uint64_t damageOffset = 0;
  uint64_t damageSeq = 0;  // the sequence number expected at the damage
  std::string damage;
  // PointInTime: the sequence range dropped at and after the damage (0, 0 when none known).
  uint64_t droppedFirstSeq = 0;
  uint64_t droppedLastSeq = 0;
  int err = 0;  // IoError: errno, with damageFile naming the path
  // Where the writer continues: the segment holding the last good record and the offset just
  // past it (empty when the directory holds no segment).
  std::string resumeSegment;
  uint64_t resumeOffset = 0;
  uint64_t resumeSegmentSize = 0;
  std::vector<std::string> segments;  // segment file names read, in order
};

// Segment file name for a first sequence number: wal-<20 digits>.log
std::string segment_file_name(uint64_t firstSeq);
// Parses a segment file name; false for anything else (temp files included).
bool parse_segment_file_name(const std::string& name, uint64_t* firstSeq);
// Parses `<prefix><20 digits><suffix>` (the shape of segment and snapshot names).
bool parse_numbered_file_name(const std::string& name, const char* prefix, const char* suffix, uint64_t* seq);

// The log's sequence chain, as recovery and the inspector check it: commands rise by exactly
// one; a CLOCK record carries the seq of the command it precedes (at most one before it); the
// TRADE records of a command carry that command's seq. The first record fixes the start.
class SeqChain {
 public:
  // Takes the next record; returns an empty string, or what is wrong with its seq.
  std::string check(const WalRecord& r);
  bool started() const { return started_; }
  uint64_t lastInput() const { return lastInput_; }  // seq of the last command record
  uint64_t expected() const { return lastInput_ + 1; }
  bool clockPending() const { return clockPending_; }  // a CLOCK still waits for its command
  // Continues as if the last command had been `lastInput` (the planted-bug hook only).
  void restart(uint64_t lastInput) {
    lastInput_ = lastInput;
    clockPending_ = false;
  }

 private:
  bool started_ = false;
  uint64_t lastInput_ = 0;
  bool clockPending_ = false;
};

// A segment file of a WAL directory: its first seq (from its name), name and path.
struct WalSegmentFile {
  uint64_t firstSeq;
  std::string name;
  std::string path;
};

// Index of the segment (`segs` ascending by first seq; 0 if none) that recovery from a state
// at `base` starts at: the last one named base + 1 or lower, unless that one is named base + 1
// and begins with a trade. The writer names a segment after its first record and moves on
// when the next record does not fit, so a segment named base + 1 can begin with the trades of
// command base + 1 whose input record ends the segment before it. Every segment before the
// index is wholly covered by the state.
size_t recovery_start_segment(FileLayer* fs, const std::vector<WalSegmentFile>& segs, uint64_t base);

// Replays the WAL in opts.dir into `engine`, which holds the state after its lastSeq() (an
// empty engine, or one loaded from a snapshot): records up to engine->lastSeq() are checked
// but not applied. The engine's journal must be unset (replay logs nothing).
RecoveryStatus recover_wal(const RecoveryOptions& opts, MatchingEngine* engine, RecoveryResult* out);

}  // namespace durabook
