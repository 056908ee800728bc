// Helpers shared by the WAL tests (test_wal_recovery, test_wal_inspect, test_wal_fuzz,
// test_wal_writer) and the libFuzzer target native/fuzz/wal_recovery_fuzz.cc: a Journal that
// keeps what an engine logs as WalRecords (a log without the writer thread), segment files
// written from records, and the scratch directories of scratch_dir.h.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "file_layer.h"
#include "journal.h"
#include "journal_records.h"
#include "scratch_dir.h"
#include "wal_format.h"
#include "wal_recovery.h"  // segment_file_name

namespace durabook::test {

// The records of a command stream in the order and form the engine journals them (the same
// mapping the WAL writer uses: journal_records.h).
class CollectingJournal : public Journal {
 public:
  std::vector<WalRecord> recs;
  bool trades = true;  // wantsTrades(): whether the engine logs trade records

  void logClock(uint64_t seq, int64_t ts) override { recs.push_back(wal_clock_record(seq, ts)); }
  void logNew(uint64_t seq, const NewOrderCmd& c) override { recs.push_back(wal_new_record(seq, c)); }
  void logCancel(uint64_t seq, int64_t id) override { recs.push_back(wal_cancel_record(seq, id)); }
  void logModify(uint64_t seq, const ModifyCmd& m) override { recs.push_back(wal_modify_record(seq, m)); }
  void logAddSymbol(uint64_t seq, uint32_t symbol, std::string_view name) override {
    recs.push_back(wal_add_symbol_record(seq, symbol, name));
  }
  void logTrade(uint64_t seq, const Trade& t) override { recs.push_back(wal_trade_record(seq, t)); }
  bool wantsTrades() const override { return trades; }
};

// Where writeSegments put a record: the file (index into *files) and the byte offset in it.
struct Placement {
  size_t file;
  size_t offset;
};

// Writes `recs` as segment files of `segBytes` each in `dir`, laid out as the writer lays them
// out (header, records, zero fill), named after each file's first seq; appends the paths to
// *files and returns where each record went.
inline std::vector<Placement> writeSegments(const std::string& dir, const std::vector<WalRecord>& recs,
                                            size_t segBytes, std::vector<std::string>* files) {
  std::vector<Placement> where;
  std::vector<uint8_t> seg;
  auto flush = [&]() {
    if (seg.empty()) return;
    seg.resize(segBytes, 0);
    FILE* f = std::fopen(files->back().c_str(), "wb");
    std::fwrite(seg.data(), 1, seg.size(), f);
    std::fclose(f);
    seg.clear();
  };
  for (const WalRecord& r : recs) {
    uint8_t buf[kMaxRecordSize];
    const size_t n = encode_record(r, buf);
    seal_record(buf);
    if (seg.empty() || seg.size() + n > segBytes) {
      flush();
      files->push_back(dir + "/" + segment_file_name(r.seq));
      seg.resize(kSegmentHeaderSize);
      encode_segment_header(SegmentHeader{r.seq, segBytes}, seg.data());
    }
    where.push_back({files->size() - 1, seg.size()});
    seg.insert(seg.end(), buf, buf + n);
  }
  flush();
  return where;
}

// A whole file's bytes (empty if it cannot be read).
inline std::vector<uint8_t> readAll(const std::string& path) {
  std::vector<uint8_t> data;
  if (posix_file_layer()->readFile(path, &data) != 0) data.clear();
  return data;
}

}  // namespace durabook::test
