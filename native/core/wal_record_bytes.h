// A record's bytes, as the matching thread writes them: the header's field offsets,
// little-endian loads and stores, and one encoder per fixed-size record type. The layout
// (diagram and payload offsets) is documented in wal_format.h; encode_record() there
// dispatches to these encoders, and the WAL writer calls them straight into a ring slot.
//
// Why a second entry point beside encode_record(): the hot Journal calls (new, cancel, trade)
// used to build a WalRecord (a 56-byte union, zeroed), call out of line, switch on the type
// and zero the slot. Here each record is a handful of 8-byte stores, padding included, built
// from the caller's own values, and nothing else touches the slot.
//
// Every encoder writes exactly its padded size, CRC field zero (seal_record() fills it on the
// writer thread), and returns that size; 0 (writing nothing) if the record is not
// representable.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wal_format.h"

namespace durabook {

// Header field offsets (wal_format.h's diagram).
constexpr size_t kWalCrcOff = 0;
constexpr size_t kWalLenOff = 4;
constexpr size_t kWalTypeOff = 6;
constexpr size_t kWalFlagsOff = 7;
constexpr size_t kWalSeqOff = 8;
constexpr size_t kWalPayloadOff = kRecordHeaderSize;

// NEW flags.
constexpr uint8_t kWalNewSell = 1u << 0;
constexpr unsigned kWalNewTifShift = 1;
constexpr uint8_t kWalNewTifMask = 3u << kWalNewTifShift;
constexpr uint8_t kWalNewMarket = 1u << 3;
constexpr uint8_t kWalNewPostOnly = 1u << 4;
constexpr uint8_t kWalNewHasPrice = 1u << 5;
constexpr uint8_t kWalNewKnownFlags = kWalNewSell | kWalNewTifMask | kWalNewMarket | kWalNewPostOnly | kWalNewHasPrice;

// MODIFY flags.
constexpr uint8_t kWalModHasPrice = 1u << 0;
constexpr uint8_t kWalModHasQty = 1u << 1;
constexpr uint8_t kWalModKnownFlags = kWalModHasPrice | kWalModHasQty;

// Little-endian loads and stores through memcpy: records sit at arbitrary addresses in ring
// slots and read buffers, and memcpy is the one unaligned access that is not UB. On
// little-endian hosts each compiles to a single mov.
template <typename U>
inline U wal_to_le(U v) {
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
    if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(v));
    if constexpr (sizeof(U) == 8) return static_cast<U>(__builtin_bswap64(v));
  }
  return v;
}

template <typename U>
inline void wal_store(uint8_t* p, U v) {
  v = wal_to_le(v);
  std::memcpy(p, &v, sizeof v);
}

template <typename U>
inline U wal_load(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof v);
  return wal_to_le(v);
}

inline void wal_store_i64(uint8_t* p, int64_t v) { wal_store<uint64_t>(p, static_cast<uint64_t>(v)); }

// The first 16 bytes. One 8-byte store covers CRC (zero), Length, Type and Flags: read as a
// little-endian u64 they are bits 0-31, 32-47, 48-55 and 56-63.
inline void wal_put_header(uint8_t* out, size_t len, WalType type, uint8_t flags, uint64_t seq) {
  wal_store<uint64_t>(out + kWalCrcOff, (static_cast<uint64_t>(len) << 32) |
                                            (static_cast<uint64_t>(type) << 48) |
                                            (static_cast<uint64_t>(flags) << 56));
  wal_store<uint64_t>(out + kWalSeqOff, seq);
}

inline size_t wal_encode_new(uint8_t* out, uint64_t seq, const WalNew& n) {
  if (static_cast<uint8_t>(n.side) > 1 || static_cast<uint8_t>(n.tif) > 2) return 0;
  const uint8_t flags = static_cast<uint8_t>((n.side == WalSide::Sell ? kWalNewSell : 0) |
                                             (static_cast<uint8_t>(n.tif) << kWalNewTifShift) |
                                             (n.market ? kWalNewMarket : 0) | (n.post_only ? kWalNewPostOnly : 0) |
                                             (n.has_price ? kWalNewHasPrice : 0));
  wal_put_header(out, kWalNewLen, WalType::New, flags, seq);
  wal_store_i64(out + 16, n.id);
  wal_store_i64(out + 24, n.has_price ? n.price : 0);
  wal_store_i64(out + 32, n.qty);
  wal_store<uint64_t>(out + 40, n.symbol);  // symbol u32, then the 4 padding bytes
  return wal_align8(kWalNewLen);
}

inline size_t wal_encode_cancel(uint8_t* out, uint64_t seq, int64_t id) {
  wal_put_header(out, kWalCancelLen, WalType::Cancel, 0, seq);
  wal_store_i64(out + 16, id);
  return kWalCancelLen;
}

inline size_t wal_encode_modify(uint8_t* out, uint64_t seq, const WalModify& m) {
  const uint8_t flags = static_cast<uint8_t>((m.has_price ? kWalModHasPrice : 0) | (m.has_qty ? kWalModHasQty : 0));
  wal_put_header(out, kWalModifyLen, WalType::Modify, flags, seq);
  wal_store_i64(out + 16, m.id);
  wal_store_i64(out + 24, m.has_price ? m.price : 0);
  wal_store_i64(out + 32, m.has_qty ? m.qty : 0);
  return kWalModifyLen;
}

inline size_t wal_encode_clock(uint8_t* out, uint64_t seq, int64_t ts_us) {
  wal_put_header(out, kWalClockLen, WalType::Clock, 0, seq);
  wal_store_i64(out + 16, ts_us);
  return kWalClockLen;
}

inline size_t wal_encode_trade(uint8_t* out, uint64_t seq, const WalTrade& t) {
  wal_put_header(out, kWalTradeLen, WalType::Trade, 0, seq);
  wal_store_i64(out + 16, t.maker_id);
  wal_store_i64(out + 24, t.taker_id);
  wal_store_i64(out + 32, t.price);
  wal_store_i64(out + 40, t.qty);
  return kWalTradeLen;
}

static_assert(kWalCancelLen % 8 == 0 && kWalModifyLen % 8 == 0 && kWalClockLen % 8 == 0 && kWalTradeLen % 8 == 0,
              "the encoders above write no padding for these types");

}  // namespace durabook
