// The write-ahead log's byte format: record codec and segment file header.
//
// The matching thread encodes a record (CRC left zero) straight into a ring slot, through the
// per-type encoders of wal_record_bytes.h that encode_record() also dispatches to; the writer
// thread seals it (seal_record computes the CRC32C) and writes it out. So the
// checksum costs the matching thread nothing, and a record is at most kMaxRecordSize bytes so
// that it fits a fixed-size slot.
//
// All integers are little-endian. Every record starts at an 8-byte aligned offset and is
// followed by zero padding up to the next multiple of 8.
//
// Record header (16 bytes):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                   CRC32C of bytes [4, Length)                 |  0
//   +-------------------------------+---------------+---------------+
//   |            Length             |     Type      |     Flags     |  4
//   +-------------------------------+---------------+---------------+
//   |                        Sequence number                        |  8
//   |                          (u64)                                |
//   +---------------------------------------------------------------+
//   |                        Payload                               ...  16
//  ...                                                              |
//   +---------------------------------------------------------------+
//   |        Zero padding to the next multiple of 8 (not in CRC)  ...
//   +---------------------------------------------------------------+
//
//   Length  unpadded record length, header included. 0 means "no record here": segments are
//           pre-written with zeros, so the first all-zero header is the end of the log.
//   CRC     covers the header from Length on and the payload, not the padding; the padding
//           must be zero all the same (decode checks it).
//
// Payloads (offsets from the start of the record):
//
//   Type 1 NEW, Length 44 (48 padded; must stay <= 48)
//     Flags: bit0 side (0 buy, 1 sell) | bits1-2 tif (0 gtc, 1 ioc, 2 fok) | bit3 market
//            | bit4 postOnly | bit5 hasPrice | bits6-7 zero
//     @16 id i64 | @24 price i64 (0 when !hasPrice) | @32 qty i64 | @40 symbol u32
//
//   Type 2 CANCEL, Length 24, Flags 0
//     @16 id i64
//
//   Type 3 MODIFY, Length 40
//     Flags: bit0 hasPrice | bit1 hasQty | bits2-7 zero
//     @16 id i64 | @24 price i64 (0 when absent) | @32 qty i64 (0 when absent)
//
//   Type 4 ADD_SYMBOL, Length 22 + n (n <= 32), Flags 0
//     @16 symbol u32 | @20 nameLen u16 (= n) | @22 name bytes (not NUL-terminated)
//
//   Type 5 CLOCK, Length 24, Flags 0
//     @16 ts i64 (engine clock, microseconds since the Unix epoch)
//
//   Type 6 TRADE, Length 48, Flags 0
//     @16 makerId i64 | @24 takerId i64 | @32 price i64 | @40 qty i64
//
// Segment file header (64 bytes at offset 0 of every segment file; records follow at 64):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Magic "DURABOOK" (8 bytes)                 |  0
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                     Format version (u32) = 1                  |  8
//   +---------------------------------------------------------------+
//   |     CRC32C of the 64 header bytes with this field zero        |  12
//   +---------------------------------------------------------------+
//   |                First sequence number (u64)                    |  16
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                Segment size in bytes (u64)                    |  24
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                       Zero (32 bytes)                        ...  32
//  ...                                                              |
//   +---------------------------------------------------------------+
#pragma once
#include <cstddef>
#include <cstdint>

namespace durabook {

constexpr size_t kRecordHeaderSize = 16;
constexpr size_t kMaxRecordSize = 64;
constexpr size_t kMaxSymbolNameLen = 32;
constexpr size_t kSegmentHeaderSize = 64;
constexpr uint32_t kWalFormatVersion = 1;

constexpr size_t wal_align8(size_t n) { return (n + 7) & ~size_t{7}; }

enum class WalType : uint8_t { New = 1, Cancel = 2, Modify = 3, AddSymbol = 4, Clock = 5, Trade = 6 };
enum class WalSide : uint8_t { Buy = 0, Sell = 1 };
enum class WalTif : uint8_t { Gtc = 0, Ioc = 1, Fok = 2 };

// Unpadded lengths of the fixed-size records; ADD_SYMBOL is kWalAddSymbolBaseLen + nameLen.
constexpr size_t kWalNewLen = 44;
constexpr size_t kWalCancelLen = 24;
constexpr size_t kWalModifyLen = 40;
constexpr size_t kWalAddSymbolBaseLen = 22;
constexpr size_t kWalClockLen = 24;
constexpr size_t kWalTradeLen = 48;
static_assert(wal_align8(kWalNewLen) <= 48, "NEW is the hot record; keep it to 48 bytes");
static_assert(wal_align8(kWalAddSymbolBaseLen + kMaxSymbolNameLen) <= kMaxRecordSize);
static_assert(wal_align8(kWalTradeLen) <= kMaxRecordSize);

struct WalNew {
  int64_t id;
  int64_t price;  // meaningful only if has_price; encoded as 0 otherwise
  int64_t qty;
  uint32_t symbol;
  WalSide side;
  WalTif tif;
  bool market;
  bool post_only;
  bool has_price;
};

struct WalCancel {
  int64_t id;
};

struct WalModify {
  int64_t id;
  int64_t price;  // encoded as 0 unless has_price
  int64_t qty;    // encoded as 0 unless has_qty
  bool has_price;
  bool has_qty;
};

struct WalAddSymbol {
  uint32_t symbol;
  uint16_t name_len;  // <= kMaxSymbolNameLen
  char name[kMaxSymbolNameLen];  // name_len bytes, no terminator
};

struct WalClock {
  int64_t ts_us;  // engine clock, microseconds since the Unix epoch
};

struct WalTrade {
  int64_t maker_id;
  int64_t taker_id;
  int64_t price;
  int64_t qty;
};

// One decoded record. `type` says which union member is live. Trivially copyable, so it can
// travel through an SpscRing or be memcpy'd. Value-initialise (`WalRecord r{};`) to get zeros.
struct WalRecord {
  WalType type;
  uint64_t seq;
  union {
    WalNew new_order;
    WalCancel cancel;
    WalModify modify;
    WalAddSymbol add_symbol;
    WalClock clock;
    WalTrade trade;
  };
};

// Compares type, seq and the live payload (for ADD_SYMBOL, only the first name_len bytes).
bool operator==(const WalRecord& a, const WalRecord& b);

// Writes `r` to out[0, returned size) with the CRC field zero and the padding zeroed, and
// returns the padded size (a multiple of 8, at most kMaxRecordSize). Returns 0, writing
// nothing, if `r` cannot be represented (unknown type, side/tif out of range, name too long).
// `out` must have room for kMaxRecordSize bytes. No allocation.
size_t encode_record(const WalRecord& r, uint8_t* out);

// Computes and stores the CRC of an encoded record. Runs on the writer thread.
// Precondition: rec holds a record produced by encode_record().
void seal_record(uint8_t* rec);

enum class DecodeStatus {
  Ok,
  End,        // Length is 0 and the header (or what the buffer holds of it) is all zero
  Truncated,  // the record, padding included, runs past the end of the buffer
  BadLength,  // Length < 16, > kMaxRecordSize, wrong for the type, or nameLen disagrees
  BadCrc,     // checksum mismatch, or non-zero padding (not checksummed, but must be zero)
  BadType,    // checksum fine but the type, or a flag bit / tif value, is not one we define
};
const char* to_string(DecodeStatus s);

// Decodes the record at p[0, avail); p needs no alignment in memory. On Ok fills *out and sets *consumed to the padded size; on any
// other status leaves *out alone and sets *consumed to 0.
//
// End only vouches for the header: a caller that must tell "end of log" from "zeroed hole
// followed by more records" should also check wal_all_zero() on the rest of the segment.
// Sequence numbers are not checked here; they rise by one across records, which only the
// reader of the whole log can check.
DecodeStatus decode_record(const uint8_t* p, size_t avail, WalRecord* out, size_t* consumed);

// True if p[0, n) is all zero bytes.
bool wal_all_zero(const uint8_t* p, size_t n);

struct SegmentHeader {
  uint64_t first_seq;
  uint64_t segment_size;
  uint32_t version = kWalFormatVersion;  // tests write other versions; the WAL never does
};

enum class SegmentStatus {
  Ok,
  Empty,       // all 64 bytes zero: a pre-written segment whose header was never written
  Truncated,   // fewer than kSegmentHeaderSize bytes available
  BadMagic,
  BadVersion,  // a version we do not read, or non-zero reserved bytes under a valid CRC
  BadCrc,
};
const char* to_string(SegmentStatus s);

// Writes the complete 64-byte header, CRC included, to out[0, kSegmentHeaderSize).
void encode_segment_header(const SegmentHeader& h, uint8_t* out);
SegmentStatus decode_segment_header(const uint8_t* p, size_t avail, SegmentHeader* out);

}  // namespace durabook
