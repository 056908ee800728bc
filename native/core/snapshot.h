// Snapshot codec: the whole matching-engine state as one checksummed byte image, so recovery
// can start from it instead of replaying the log from the beginning.
//
// Header (64 bytes), then the body:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Magic "DURASNAP" (8 bytes)                 |  0
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                     Format version (u32) = 1                  |  8
//   +---------------------------------------------------------------+
//   |     CRC32C of the 64 header bytes with this field zero        |  12
//   +---------------------------------------------------------------+
//   |          Sequence number of the last applied command          |  16
//   +---------------------------------------------------------------+
//   |                     Engine clock (i64, µs)                    |  24
//   +---------------------------------------------------------------+
//   |                     Body length (u64)                         |  32
//   +-------------------------------+-------------------------------+
//   |     CRC32C of the body        |     Symbol count (u32)        |  40
//   +-------------------------------+-------------------------------+
//   |                     Resting order count (u64)                 |  48
//   +---------------------------------------------------------------+
//   |                     Zero (8 bytes)                            |  56
//   +---------------------------------------------------------------+
//
// Body: conservation totals (submitted, filled, removed: 3 x u64), then per symbol
// u16 nameLen + name bytes, then the resting orders, 40 bytes each:
//
//   +--------+------+----------+------+------+-------+-----+------+
//   | symbol | side | postOnly | zero |  id  | price | qty |  ts  |
//   |  u32   |  u8  |    u8    | u16  | i64  |  i64  | i64 | i64  |
//   +--------+------+----------+------+------+-------+-----+------+
//
// Orders are listed symbol by symbol, bids then asks, levels from the worst price to the best
// and each level in FIFO order, so that loading them back appends every level at the top of
// its side (O(1)) and rebuilds every queue in its original order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "matching_engine.h"

namespace durabook {

constexpr size_t kSnapshotHeaderSize = 64;
constexpr size_t kSnapshotOrderSize = 40;

struct SnapshotInfo {
  uint64_t seq = 0;
  int64_t clock = 0;
  uint32_t symbols = 0;
  uint64_t orders = 0;
};

enum class SnapshotStatus { Ok, Truncated, BadMagic, BadVersion, BadHeaderCrc, BadBodyCrc, BadContent, NotEmpty };
const char* to_string(SnapshotStatus s);

// Appends the engine's state to *out.
void encode_snapshot(const MatchingEngine& engine, std::vector<uint8_t>* out);
// Reads only the header (e.g. to pick the newest snapshot without loading it).
SnapshotStatus decode_snapshot_header(const uint8_t* p, size_t n, SnapshotInfo* info);
// Loads a snapshot into an engine that has no symbols yet. On any status but Ok the engine
// is left empty; *why says what was wrong when the content itself is inconsistent.
SnapshotStatus load_snapshot(const uint8_t* p, size_t n, MatchingEngine* engine, SnapshotInfo* info,
                             std::string* why);

}  // namespace durabook
