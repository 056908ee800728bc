// WAL inspection for the `durabook wal verify|dump|stats` tools: a read-only walk over the
// segments of an engine directory, a listing of its snapshots, and a verify that takes exactly
// the path Engine.open() takes. Node-free; nothing here writes to the directory.
//
//  - inspect_wal() walks every segment in order (wal-<first seq>.log, see wal_writer.h), decodes
//    each record with decode_record(), checks the sequence chain the way recovery does, hands
//    each record to a callback, and stops at the first damage, which it names (file, byte
//    offset, the seq expected there, what is wrong). It does not replay anything.
//  - list_snapshots() lists snapshot-<seq>.snap files, newest last, optionally loading each
//    one into a scratch engine to check its content (checksums and consistency).
//  - verify_wal() answers "would Engine.open() recover this directory losing nothing?" by
//    doing what open() does (lib/recovery.ts): load the newest snapshot that loads, falling
//    back to older ones, then recover_wal() in tolerate-tail mode with repair off on that
//    scratch engine. So verify and open() agree by construction. It also checks what open()
//    does not read but a fallback would: older snapshots and the segments before the recovery
//    start, and segment files shorter or longer than their header says.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "file_layer.h"
#include "matching_engine.h"
#include "snapshot.h"
#include "wal_format.h"
#include "wal_recovery.h"

namespace durabook {

// Snapshot file name for a seq: snapshot-<20 digits>.snap (lib/files.ts uses the same names).
std::string snapshot_file_name(uint64_t seq);
// Parses a snapshot file name; false for anything else (*.tmp, *.damaged included).
bool parse_snapshot_file_name(const std::string& name, uint64_t* seq);

// Where and what the first damage is. `seq` is the sequence number expected at the damage
// (0 when nothing can be said, e.g. a bad header of the first segment).
struct WalDamage {
  bool found = false;
  std::string file;  // full path
  uint64_t offset = 0;
  uint64_t seq = 0;
  std::string what;
};

struct InspectedSegment {
  std::string name;
  std::string path;
  uint64_t nameSeq = 0;      // first seq, from the file name
  uint64_t fileBytes = 0;    // size on disk
  bool scanned = false;      // false: after the first damage (or before fromSeq), not read
  SegmentStatus header = SegmentStatus::Ok;
  uint64_t headerSeq = 0;    // first seq in the header (when the header decodes)
  uint64_t headerBytes = 0;  // segment size in the header (when the header decodes)
  uint64_t records = 0;      // records decoded
  uint64_t recordBytes = 0;  // their bytes, padding included
  uint64_t firstSeq = 0;     // seq of the first / last record decoded (0: none)
  uint64_t lastSeq = 0;
  uint64_t endOffset = 0;    // just past the last record decoded (kSegmentHeaderSize if none)
};

// One record as the walk found it.
struct InspectedRecord {
  const InspectedSegment* segment;
  uint64_t offset;  // byte offset of the record in the segment file
  size_t size;      // padded size
  WalRecord record;
};

struct InspectOptions {
  std::string dir;
  // Start at the segment that holds this seq (the last one whose first seq <= fromSeq);
  // 0: from the first segment. Records are still reported from the start of that segment.
  uint64_t fromSeq = 0;
  FileLayer* files = nullptr;  // default: posix_file_layer()
  // Called for every record decoded (in log order); return false to stop the walk.
  std::function<bool(const InspectedRecord&)> onRecord;
};

constexpr int kWalTypeCount = 7;  // index = static_cast<int>(WalType), 0 unused

struct InspectResult {
  std::vector<InspectedSegment> segments;  // every wal-*.log file, by first seq
  std::vector<std::string> otherFiles;     // wal-next.tmp, *.dropped, *.damaged, *.tmp, …
  uint64_t records = 0;
  uint64_t recordsByType[kWalTypeCount] = {};
  uint64_t recordBytes = 0;  // padded bytes of the records decoded
  uint64_t fileBytes = 0;    // bytes of the segment files scanned
  uint64_t firstSeq = 0;     // first / last command (input) seq decoded (0: none)
  uint64_t lastSeq = 0;
  bool stopped = false;      // the callback asked to stop
  WalDamage damage;          // the first damage, if any (the walk stops there)
  int err = 0;               // I/O error (errno) reading errPath; the walk stops there
  std::string errPath;
};

// Walks the log. Returns false only on an I/O error (out->err); damage is reported in
// out->damage with true returned. A directory that does not exist is an I/O error (ENOENT).
bool inspect_wal(const InspectOptions& opts, InspectResult* out);

struct SnapshotFile {
  std::string name;
  std::string path;
  uint64_t nameSeq = 0;
  uint64_t bytes = 0;
  bool checked = false;  // loaded in full (list_snapshots with check = true)
  // Header status, or (checked) the status of a full load; "io error" if unreadable.
  std::string status;
  bool ok = false;
  std::string why;       // what was wrong with the content, when known
  SnapshotInfo info;     // from the header (or the full load)
  std::vector<std::string> symbols;  // symbol names (checked and ok only)
};

// Lists snapshot files, oldest first. With check, each one is loaded into a scratch engine
// with `limits` (content fully checked); otherwise only its header is read. Returns 0 or errno
// of listing the directory.
int list_snapshots(const std::string& dir, FileLayer* files, bool check, const EngineLimits& limits,
                   std::vector<SnapshotFile>* out);

struct VerifyOptions {
  std::string dir;
  EngineLimits limits;  // the limits the engine runs with (replay can depend on them)
  FileLayer* files = nullptr;
};

// A problem off the path open() takes: open() would not notice, a fallback would.
struct VerifyFinding {
  std::string file;
  uint64_t offset = 0;
  uint64_t seq = 0;
  std::string what;
};

struct VerifyResult {
  bool dirExists = true;
  // --- the path Engine.open() takes ----------------------------------------------------
  std::string snapshotUsed;      // path, empty when recovery starts from an empty engine
  uint64_t snapshotSeq = 0;
  uint64_t snapshotOrders = 0;
  std::vector<VerifyFinding> snapshotsSkipped;  // newer snapshots open() would pass over
  RecoveryStatus status = RecoveryStatus::Ok;  // recover_wal, tolerate-tail, repair off
  RecoveryResult recovery;
  uint64_t lastSeq = 0;          // the state open() would reach (when status is Ok)
  uint64_t stateDigest = 0;      // MatchingEngine::digest() of that state
  // --- what open() does not read ---------------------------------------------------------
  std::vector<VerifyFinding> fallback;  // damaged older snapshots, damage before the start
  std::vector<VerifyFinding> anomalies; // segment size different from its header, …
  InspectResult walk;                   // the full inspection walk (no callback)

  // open() would succeed and cut, skip or drop nothing.
  bool openClean() const {
    return dirExists && snapshotsSkipped.empty() && status == RecoveryStatus::Ok && !recovery.tornTail &&
           recovery.bytesTruncated == 0 && recovery.droppedFirstSeq == 0;
  }
  // Nothing wrong anywhere.
  bool whole() const { return openClean() && fallback.empty() && anomalies.empty(); }
};

// Read-only. Returns out->whole().
bool verify_wal(const VerifyOptions& opts, VerifyResult* out);

}  // namespace durabook
