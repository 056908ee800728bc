#include "wal_format.h"

#include <bit>
#include <cassert>
#include <cstring>

#include "crc32c.h"
#include "wal_record_bytes.h"

namespace durabook {
namespace {

// Segment header field offsets.
constexpr char kMagic[8] = {'D', 'U', 'R', 'A', 'B', 'O', 'O', 'K'};
constexpr size_t kSegVersionOff = 8;
constexpr size_t kSegCrcOff = 12;
constexpr size_t kSegFirstSeqOff = 16;
constexpr size_t kSegSizeOff = 24;
constexpr size_t kSegReservedOff = 32;

int64_t load_i64(const uint8_t* p) { return static_cast<int64_t>(wal_load<uint64_t>(p)); }

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
  switch (r.type) {
    case WalType::New:
      return wal_encode_new(out, r.seq, r.new_order);
    case WalType::Cancel:
      return wal_encode_cancel(out, r.seq, r.cancel.id);
    case WalType::Modify:
      return wal_encode_modify(out, r.seq, r.modify);
    case WalType::Clock:
      return wal_encode_clock(out, r.seq, r.clock.ts_us);
    case WalType::Trade:
      return wal_encode_trade(out, r.seq, r.trade);
    case WalType::AddSymbol: {
      const WalAddSymbol& a = r.add_symbol;
      if (a.name_len > kMaxSymbolNameLen) return 0;
      const size_t len = kWalAddSymbolBaseLen + a.name_len;
      const size_t size = wal_align8(len);
      // Invariant: every record fits a ring slot.
      assert(size <= kMaxRecordSize);
      std::memset(out, 0, size);  // the padding after the name
      wal_put_header(out, len, WalType::AddSymbol, 0, r.seq);
      wal_store<uint32_t>(out + kWalPayloadOff, a.symbol);
      wal_store<uint16_t>(out + kWalPayloadOff + 4, a.name_len);
      std::memcpy(out + kWalPayloadOff + 6, a.name, a.name_len);
      return size;
    }
  }
  return 0;
}

void seal_record(uint8_t* rec) {
  const size_t len = wal_load<uint16_t>(rec + kWalLenOff);
  // Invariant: only encoded records are sealed; a bad length here is a bug upstream, and
  // sealing it would give garbage a valid checksum.
  assert(len >= kRecordHeaderSize && len <= kMaxRecordSize);
  wal_store<uint32_t>(rec + kWalCrcOff, crc32c(rec + kWalLenOff, len - kWalLenOff));
}

DecodeStatus decode_record(const uint8_t* p, size_t avail, WalRecord* out, size_t* consumed) {
  *consumed = 0;
  if (avail < kRecordHeaderSize) {
    // Pre-written zeros that end the buffer read as the end of the log; anything else is the
    // start of a record cut short.
    return wal_all_zero(p, avail) ? DecodeStatus::End : DecodeStatus::Truncated;
  }
  const size_t len = wal_load<uint16_t>(p + kWalLenOff);
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
  if (crc32c(p + kWalLenOff, len - kWalLenOff) != wal_load<uint32_t>(p + kWalCrcOff)) {
    return DecodeStatus::BadCrc;
  }
  const uint8_t type = p[kWalTypeOff];
  const uint8_t flags = p[kWalFlagsOff];
  if (!known_type(type)) return DecodeStatus::BadType;
  const uint8_t* pl = p + kWalPayloadOff;

  if (static_cast<WalType>(type) == WalType::AddSymbol) {
    if (len < kWalAddSymbolBaseLen) return DecodeStatus::BadLength;
    const size_t name_len = wal_load<uint16_t>(pl + 4);
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
      if ((flags & ~kWalNewKnownFlags) != 0) return DecodeStatus::BadType;
      if (((flags & kWalNewTifMask) >> kWalNewTifShift) > 2) return DecodeStatus::BadType;
      break;
    case WalType::Modify:
      if ((flags & ~kWalModKnownFlags) != 0) return DecodeStatus::BadType;
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
  r.seq = wal_load<uint64_t>(p + kWalSeqOff);
  switch (r.type) {
    case WalType::New: {
      WalNew& n = r.new_order;
      n.side = (flags & kWalNewSell) ? WalSide::Sell : WalSide::Buy;
      n.tif = static_cast<WalTif>((flags & kWalNewTifMask) >> kWalNewTifShift);
      n.market = (flags & kWalNewMarket) != 0;
      n.post_only = (flags & kWalNewPostOnly) != 0;
      n.has_price = (flags & kWalNewHasPrice) != 0;
      n.id = load_i64(pl + 0);
      n.price = load_i64(pl + 8);
      n.qty = load_i64(pl + 16);
      n.symbol = wal_load<uint32_t>(pl + 24);
      break;
    }
    case WalType::Cancel:
      r.cancel.id = load_i64(pl);
      break;
    case WalType::Modify: {
      WalModify& m = r.modify;
      m.has_price = (flags & kWalModHasPrice) != 0;
      m.has_qty = (flags & kWalModHasQty) != 0;
      m.id = load_i64(pl + 0);
      m.price = load_i64(pl + 8);
      m.qty = load_i64(pl + 16);
      break;
    }
    case WalType::AddSymbol: {
      WalAddSymbol& a = r.add_symbol;
      a.symbol = wal_load<uint32_t>(pl + 0);
      a.name_len = wal_load<uint16_t>(pl + 4);
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
  wal_store<uint32_t>(out + kSegVersionOff, h.version);
  wal_store<uint64_t>(out + kSegFirstSeqOff, h.first_seq);
  wal_store<uint64_t>(out + kSegSizeOff, h.segment_size);
  // The CRC field is still zero here, which is exactly what the checksum is defined over.
  wal_store<uint32_t>(out + kSegCrcOff, crc32c(out, kSegmentHeaderSize));
}

SegmentStatus decode_segment_header(const uint8_t* p, size_t avail, SegmentHeader* out) {
  if (avail < kSegmentHeaderSize) return SegmentStatus::Truncated;
  if (wal_all_zero(p, kSegmentHeaderSize)) return SegmentStatus::Empty;
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return SegmentStatus::BadMagic;
  // Version before CRC: a future format may checksum differently, and "written by a newer
  // version" is the message that helps its reader.
  const uint32_t version = wal_load<uint32_t>(p + kSegVersionOff);
  if (version != kWalFormatVersion) return SegmentStatus::BadVersion;

  uint8_t copy[kSegmentHeaderSize];
  std::memcpy(copy, p, kSegmentHeaderSize);
  std::memset(copy + kSegCrcOff, 0, 4);
  if (crc32c(copy, kSegmentHeaderSize) != wal_load<uint32_t>(p + kSegCrcOff)) {
    return SegmentStatus::BadCrc;
  }
  if (!wal_all_zero(p + kSegReservedOff, kSegmentHeaderSize - kSegReservedOff)) {
    return SegmentStatus::BadVersion;
  }
  out->version = version;
  out->first_seq = wal_load<uint64_t>(p + kSegFirstSeqOff);
  out->segment_size = wal_load<uint64_t>(p + kSegSizeOff);
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
