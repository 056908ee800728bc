#include "wal_format.h"

#include <bit>
#include <cassert>
#include <cstring>

#include "crc32c.h"

namespace durabook {
namespace {

// Header field offsets.
constexpr size_t kCrcOff = 0;
constexpr size_t kLenOff = 4;
constexpr size_t kTypeOff = 6;
constexpr size_t kFlagsOff = 7;
constexpr size_t kSeqOff = 8;
constexpr size_t kPayloadOff = kRecordHeaderSize;

// NEW flags.
constexpr uint8_t kNewSell = 1u << 0;
constexpr unsigned kNewTifShift = 1;
constexpr uint8_t kNewTifMask = 3u << kNewTifShift;
constexpr uint8_t kNewMarket = 1u << 3;
constexpr uint8_t kNewPostOnly = 1u << 4;
constexpr uint8_t kNewHasPrice = 1u << 5;
constexpr uint8_t kNewKnownFlags = kNewSell | kNewTifMask | kNewMarket | kNewPostOnly | kNewHasPrice;

// MODIFY flags.
constexpr uint8_t kModHasPrice = 1u << 0;
constexpr uint8_t kModHasQty = 1u << 1;
constexpr uint8_t kModKnownFlags = kModHasPrice | kModHasQty;

// Segment header field offsets.
constexpr char kMagic[8] = {'D', 'U', 'R', 'A', 'B', 'O', 'O', 'K'};
constexpr size_t kSegVersionOff = 8;
constexpr size_t kSegCrcOff = 12;
constexpr size_t kSegFirstSeqOff = 16;
constexpr size_t kSegSizeOff = 24;
constexpr size_t kSegReservedOff = 32;

// Little-endian loads and stores through memcpy: records sit at arbitrary addresses in ring
// slots and read buffers, and memcpy is the one unaligned access that is not UB. On
// little-endian hosts each compiles to a single mov.
template <typename U>
U to_le(U v) {
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
    if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(v));
    if constexpr (sizeof(U) == 8) return static_cast<U>(__builtin_bswap64(v));
  }
  return v;
}

template <typename U>
void store(uint8_t* p, U v) {
  v = to_le(v);
  std::memcpy(p, &v, sizeof v);
}

template <typename U>
U load(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof v);
  return to_le(v);
}

void store_i64(uint8_t* p, int64_t v) { store<uint64_t>(p, static_cast<uint64_t>(v)); }
int64_t load_i64(const uint8_t* p) { return static_cast<int64_t>(load<uint64_t>(p)); }

// The unpadded length `r` encodes to, or 0 if it cannot be encoded.
size_t encoded_len(const WalRecord& r) {
  switch (r.type) {
    case WalType::New:
      if (static_cast<uint8_t>(r.new_order.side) > 1) return 0;
      if (static_cast<uint8_t>(r.new_order.tif) > 2) return 0;
      return kWalNewLen;
    case WalType::Cancel:
      return kWalCancelLen;
    case WalType::Modify:
      return kWalModifyLen;
    case WalType::AddSymbol:
      if (r.add_symbol.name_len > kMaxSymbolNameLen) return 0;
      return kWalAddSymbolBaseLen + r.add_symbol.name_len;
    case WalType::Clock:
      return kWalClockLen;
    case WalType::Trade:
      return kWalTradeLen;
  }
  return 0;
}

// The fixed length of a type, or 0 for ADD_SYMBOL (variable) and unknown types.
size_t fixed_len(uint8_t type) {
  switch (static_cast<WalType>(type)) {
    case WalType::New: return kWalNewLen;
    case WalType::Cancel: return kWalCancelLen;
    case WalType::Modify: return kWalModifyLen;
    case WalType::Clock: return kWalClockLen;
    case WalType::Trade: return kWalTradeLen;
    case WalType::AddSymbol: return 0;
  }
  return 0;
}

bool known_type(uint8_t type) { return type >= 1 && type <= 6; }

}  // namespace

bool wal_all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

size_t encode_record(const WalRecord& r, uint8_t* out) {
  const size_t len = encoded_len(r);
  if (len == 0) return 0;
  const size_t size = wal_align8(len);
  // Invariant: every record fits a ring slot.
  assert(size <= kMaxRecordSize);

  // Zeroing first covers the CRC field (sealed later), the padding, and absent fields.
  std::memset(out, 0, size);
  store<uint16_t>(out + kLenOff, static_cast<uint16_t>(len));
  out[kTypeOff] = static_cast<uint8_t>(r.type);
  store<uint64_t>(out + kSeqOff, r.seq);
  uint8_t* pl = out + kPayloadOff;
  uint8_t flags = 0;

  switch (r.type) {
    case WalType::New: {
      const WalNew& n = r.new_order;
      flags = static_cast<uint8_t>((n.side == WalSide::Sell ? kNewSell : 0) |
                                   (static_cast<uint8_t>(n.tif) << kNewTifShift) |
                                   (n.market ? kNewMarket : 0) |
                                   (n.post_only ? kNewPostOnly : 0) |
                                   (n.has_price ? kNewHasPrice : 0));
      store_i64(pl + 0, n.id);
      store_i64(pl + 8, n.has_price ? n.price : 0);
      store_i64(pl + 16, n.qty);
      store<uint32_t>(pl + 24, n.symbol);
      break;
    }
    case WalType::Cancel:
      store_i64(pl, r.cancel.id);
      break;
    case WalType::Modify: {
      const WalModify& m = r.modify;
      flags = static_cast<uint8_t>((m.has_price ? kModHasPrice : 0) | (m.has_qty ? kModHasQty : 0));
      store_i64(pl + 0, m.id);
      store_i64(pl + 8, m.has_price ? m.price : 0);
      store_i64(pl + 16, m.has_qty ? m.qty : 0);
      break;
    }
    case WalType::AddSymbol:
      store<uint32_t>(pl + 0, r.add_symbol.symbol);
      store<uint16_t>(pl + 4, r.add_symbol.name_len);
      std::memcpy(pl + 6, r.add_symbol.name, r.add_symbol.name_len);
      break;
    case WalType::Clock:
      store_i64(pl, r.clock.ts_us);
      break;
    case WalType::Trade:
      store_i64(pl + 0, r.trade.maker_id);
      store_i64(pl + 8, r.trade.taker_id);
      store_i64(pl + 16, r.trade.price);
      store_i64(pl + 24, r.trade.qty);
      break;
  }
  out[kFlagsOff] = flags;
  return size;
}

void seal_record(uint8_t* rec) {
  const size_t len = load<uint16_t>(rec + kLenOff);
  // Invariant: only encoded records are sealed; a bad length here is a bug upstream, and
  // sealing it would give garbage a valid checksum.
  assert(len >= kRecordHeaderSize && len <= kMaxRecordSize);
  store<uint32_t>(rec + kCrcOff, crc32c(rec + kLenOff, len - kLenOff));
}

DecodeStatus decode_record(const uint8_t* p, size_t avail, WalRecord* out, size_t* consumed) {
  *consumed = 0;
  if (avail < kRecordHeaderSize) {
    // Pre-written zeros that end the buffer read as the end of the log; anything else is the
    // start of a record cut short.
    return wal_all_zero(p, avail) ? DecodeStatus::End : DecodeStatus::Truncated;
  }
  const size_t len = load<uint16_t>(p + kLenOff);
  if (len == 0) {
    // A zero length with other header bytes set is not pre-written space but damage.
    return wal_all_zero(p, kRecordHeaderSize) ? DecodeStatus::End : DecodeStatus::BadLength;
  }
  // Range-check before trusting len for anything, in particular the CRC span below.
  if (len < kRecordHeaderSize || len > kMaxRecordSize) return DecodeStatus::BadLength;
  const size_t size = wal_align8(len);
  if (size > avail) return DecodeStatus::Truncated;

  // The CRC comes before every check of content: until it matches, a wrong type or length is
  // just damage, and reporting it as BadType would mislead whoever reads the error.
  if (crc32c(p + kLenOff, len - kLenOff) != load<uint32_t>(p + kCrcOff)) {
    return DecodeStatus::BadCrc;
  }
  const uint8_t type = p[kTypeOff];
  const uint8_t flags = p[kFlagsOff];
  if (!known_type(type)) return DecodeStatus::BadType;
  const uint8_t* pl = p + kPayloadOff;

  if (static_cast<WalType>(type) == WalType::AddSymbol) {
    if (len < kWalAddSymbolBaseLen) return DecodeStatus::BadLength;
    const size_t name_len = load<uint16_t>(pl + 4);
    if (name_len > kMaxSymbolNameLen || kWalAddSymbolBaseLen + name_len != len) {
      return DecodeStatus::BadLength;
    }
  } else if (len != fixed_len(type)) {
    return DecodeStatus::BadLength;
  }

  // Flag bits this version does not define mean a writer we do not understand: refuse rather
  // than replay something different from what was logged.
  switch (static_cast<WalType>(type)) {
    case WalType::New:
      if ((flags & ~kNewKnownFlags) != 0) return DecodeStatus::BadType;
      if (((flags & kNewTifMask) >> kNewTifShift) > 2) return DecodeStatus::BadType;
      break;
    case WalType::Modify:
      if ((flags & ~kModKnownFlags) != 0) return DecodeStatus::BadType;
      break;
    default:
      if (flags != 0) return DecodeStatus::BadType;
      break;
  }

  // The padding is outside the CRC, so it is checked by value; last, because a length that
  // disagrees with the type also leaves payload bytes where padding should be, and
  // BadLength names that cause better.
  if (!wal_all_zero(p + len, size - len)) return DecodeStatus::BadCrc;

  WalRecord r{};
  r.type = static_cast<WalType>(type);
  r.seq = load<uint64_t>(p + kSeqOff);
  switch (r.type) {
    case WalType::New: {
      WalNew& n = r.new_order;
      n.side = (flags & kNewSell) ? WalSide::Sell : WalSide::Buy;
      n.tif = static_cast<WalTif>((flags & kNewTifMask) >> kNewTifShift);
      n.market = (flags & kNewMarket) != 0;
      n.post_only = (flags & kNewPostOnly) != 0;
      n.has_price = (flags & kNewHasPrice) != 0;
      n.id = load_i64(pl + 0);
      n.price = load_i64(pl + 8);
      n.qty = load_i64(pl + 16);
      n.symbol = load<uint32_t>(pl + 24);
      break;
    }
    case WalType::Cancel:
      r.cancel.id = load_i64(pl);
      break;
    case WalType::Modify: {
      WalModify& m = r.modify;
      m.has_price = (flags & kModHasPrice) != 0;
      m.has_qty = (flags & kModHasQty) != 0;
      m.id = load_i64(pl + 0);
      m.price = load_i64(pl + 8);
      m.qty = load_i64(pl + 16);
      break;
    }
    case WalType::AddSymbol: {
      WalAddSymbol& a = r.add_symbol;
      a.symbol = load<uint32_t>(pl + 0);
      a.name_len = load<uint16_t>(pl + 4);
      std::memcpy(a.name, pl + 6, a.name_len);
      break;
    }
    case WalType::Clock:
      r.clock.ts_us = load_i64(pl);
      break;
    case WalType::Trade:
      r.trade.maker_id = load_i64(pl + 0);
      r.trade.taker_id = load_i64(pl + 8);
      r.trade.price = load_i64(pl + 16);
      r.trade.qty = load_i64(pl + 24);
      break;
  }
  *out = r;
  *consumed = size;
  return DecodeStatus::Ok;
}

bool operator==(const WalRecord& a, const WalRecord& b) {
  if (a.type != b.type || a.seq != b.seq) return false;
  switch (a.type) {
    case WalType::New: {
      const WalNew& x = a.new_order;
      const WalNew& y = b.new_order;
      return x.id == y.id && x.price == y.price && x.qty == y.qty && x.symbol == y.symbol &&
             x.side == y.side && x.tif == y.tif && x.market == y.market &&
             x.post_only == y.post_only && x.has_price == y.has_price;
    }
    case WalType::Cancel:
      return a.cancel.id == b.cancel.id;
    case WalType::Modify: {
      const WalModify& x = a.modify;
      const WalModify& y = b.modify;
      return x.id == y.id && x.price == y.price && x.qty == y.qty &&
             x.has_price == y.has_price && x.has_qty == y.has_qty;
    }
    case WalType::AddSymbol: {
      const WalAddSymbol& x = a.add_symbol;
      const WalAddSymbol& y = b.add_symbol;
      return x.symbol == y.symbol && x.name_len == y.name_len && x.name_len <= kMaxSymbolNameLen &&
             std::memcmp(x.name, y.name, x.name_len) == 0;
    }
    case WalType::Clock:
      return a.clock.ts_us == b.clock.ts_us;
    case WalType::Trade:
      return a.trade.maker_id == b.trade.maker_id && a.trade.taker_id == b.trade.taker_id &&
             a.trade.price == b.trade.price && a.trade.qty == b.trade.qty;
  }
  return true;  // same unknown type and seq: nothing else is defined to compare
}

const char* to_string(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::Ok: return "ok";
    case DecodeStatus::End: return "end of log";
    case DecodeStatus::Truncated: return "truncated record";
    case DecodeStatus::BadLength: return "bad record length";
    case DecodeStatus::BadCrc: return "checksum mismatch";
    case DecodeStatus::BadType: return "unknown record type or flags";
  }
  return "unknown status";
}

void encode_segment_header(const SegmentHeader& h, uint8_t* out) {
  std::memset(out, 0, kSegmentHeaderSize);
  std::memcpy(out, kMagic, sizeof kMagic);
  store<uint32_t>(out + kSegVersionOff, h.version);
  store<uint64_t>(out + kSegFirstSeqOff, h.first_seq);
  store<uint64_t>(out + kSegSizeOff, h.segment_size);
  // The CRC field is still zero here, which is exactly what the checksum is defined over.
  store<uint32_t>(out + kSegCrcOff, crc32c(out, kSegmentHeaderSize));
}

SegmentStatus decode_segment_header(const uint8_t* p, size_t avail, SegmentHeader* out) {
  if (avail < kSegmentHeaderSize) return SegmentStatus::Truncated;
  if (wal_all_zero(p, kSegmentHeaderSize)) return SegmentStatus::Empty;
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return SegmentStatus::BadMagic;
  // Version before CRC: a future format may checksum differently, and "written by a newer
  // version" is the message that helps its reader.
  const uint32_t version = load<uint32_t>(p + kSegVersionOff);
  if (version != kWalFormatVersion) return SegmentStatus::BadVersion;

  uint8_t copy[kSegmentHeaderSize];
  std::memcpy(copy, p, kSegmentHeaderSize);
  std::memset(copy + kSegCrcOff, 0, 4);
  if (crc32c(copy, kSegmentHeaderSize) != load<uint32_t>(p + kSegCrcOff)) {
    return SegmentStatus::BadCrc;
  }
  if (!wal_all_zero(p + kSegReservedOff, kSegmentHeaderSize - kSegReservedOff)) {
    return SegmentStatus::BadVersion;
  }
  out->version = version;
  out->first_seq = load<uint64_t>(p + kSegFirstSeqOff);
  out->segment_size = load<uint64_t>(p + kSegSizeOff);
  return SegmentStatus::Ok;
}

const char* to_string(SegmentStatus s) {
  switch (s) {
    case SegmentStatus::Ok: return "ok";
    case SegmentStatus::Empty: return "empty segment header";
    case SegmentStatus::Truncated: return "truncated segment header";
    case SegmentStatus::BadMagic: return "bad segment magic";
    case SegmentStatus::BadVersion: return "unsupported segment format version";
    case SegmentStatus::BadCrc: return "segment header checksum mismatch";
  }
  return "unknown status";
}

}  // namespace durabook
