#include <climits>
#include <cstring>
#include <vector>

#include "check.h"
#include "crc32c.h"
#include "wal_format.h"

using namespace durabook;

namespace {

constexpr int64_t kMin = INT64_MIN;
constexpr int64_t kMax = INT64_MAX;

WalRecord make_new(uint64_t seq, int64_t id, int64_t price, int64_t qty, uint32_t symbol,
                   WalSide side, WalTif tif, bool market, bool post_only, bool has_price) {
  WalRecord r{};
  r.type = WalType::New;
  r.seq = seq;
  r.new_order = {id, price, qty, symbol, side, tif, market, post_only, has_price};
  return r;
}

WalRecord make_cancel(uint64_t seq, int64_t id) {
  WalRecord r{};
  r.type = WalType::Cancel;
  r.seq = seq;
  r.cancel.id = id;
  return r;
}

WalRecord make_modify(uint64_t seq, int64_t id, int64_t price, int64_t qty, bool has_price,
                      bool has_qty) {
  WalRecord r{};
  r.type = WalType::Modify;
  r.seq = seq;
  r.modify = {id, price, qty, has_price, has_qty};
  return r;
}

WalRecord make_add_symbol(uint64_t seq, uint32_t symbol, const void* name, size_t n) {
  WalRecord r{};
  r.type = WalType::AddSymbol;
  r.seq = seq;
  r.add_symbol.symbol = symbol;
  r.add_symbol.name_len = static_cast<uint16_t>(n);
  std::memcpy(r.add_symbol.name, name, n);
  return r;
}

WalRecord make_clock(uint64_t seq, int64_t ts) {
  WalRecord r{};
  r.type = WalType::Clock;
  r.seq = seq;
  r.clock.ts_us = ts;
  return r;
}

WalRecord make_trade(uint64_t seq, int64_t maker, int64_t taker, int64_t price, int64_t qty) {
  WalRecord r{};
  r.type = WalType::Trade;
  r.seq = seq;
  r.trade = {maker, taker, price, qty};
  return r;
}

// One record of every type and shape, with extreme values in every field that allows them.
std::vector<WalRecord> sample_records() {
  const char name32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  const uint8_t binary_name[5] = {0x00, 0xFF, 0x80, 0x7F, 0x01};
  std::vector<WalRecord> v;
  v.push_back(make_new(1, 1, 100, 10, 0, WalSide::Buy, WalTif::Gtc, false, false, true));
  v.push_back(make_new(UINT64_MAX, kMax, kMax, kMax, UINT32_MAX, WalSide::Sell, WalTif::Fok,
                       true, true, true));
  v.push_back(make_new(0, kMin, kMin, kMin, 7, WalSide::Sell, WalTif::Ioc, false, true, true));
  v.push_back(make_new(2, -5, -123456789, 1, 3, WalSide::Buy, WalTif::Ioc, true, false, true));
  v.push_back(make_new(3, 9, 0, 5, 1, WalSide::Sell, WalTif::Ioc, true, false, false));
  v.push_back(make_cancel(4, kMin));
  v.push_back(make_cancel(5, kMax));
  v.push_back(make_modify(6, 77, kMin, kMax, true, true));
  v.push_back(make_modify(7, 78, -1, 0, true, false));
  v.push_back(make_modify(8, 79, 0, kMax, false, true));
  v.push_back(make_modify(9, 80, 0, 0, false, false));
  v.push_back(make_add_symbol(10, 0, "", 0));
  v.push_back(make_add_symbol(11, 1, "BTC-USD", 7));
  v.push_back(make_add_symbol(12, UINT32_MAX, name32, 32));
  v.push_back(make_add_symbol(13, 5, binary_name, sizeof binary_name));
  for (size_t n = 1; n <= 32; ++n) v.push_back(make_add_symbol(100 + n, 2, name32, n));
  v.push_back(make_clock(14, 1'700'000'000'000'000));
  v.push_back(make_clock(15, kMin));
  v.push_back(make_clock(16, kMax));
  v.push_back(make_trade(17, kMax, kMin, kMin, kMax));
  v.push_back(make_trade(18, 1, 2, -300, 4));
  return v;
}

uint16_t len_of(const uint8_t* rec) { return static_cast<uint16_t>(rec[4] | (rec[5] << 8)); }

// Rewrites a header field of a sealed record and re-seals it, so the damage passes the CRC and
// reaches the check under test.
void set_len_and_reseal(uint8_t* rec, uint16_t len) {
  rec[4] = static_cast<uint8_t>(len);
  rec[5] = static_cast<uint8_t>(len >> 8);
  const uint32_t c = crc32c(rec + 4, len - 4);
  std::memcpy(rec, &c, 4);  // test host is little-endian (checked below)
}

DecodeStatus decode(const uint8_t* p, size_t n) {
  WalRecord r{};
  size_t consumed = 123;
  const DecodeStatus s = decode_record(p, n, &r, &consumed);
  if (s != DecodeStatus::Ok && consumed != 0) return DecodeStatus::Ok;  // flag it loudly
  return s;
}

}  // namespace

TEST(wal_little_endian_host_for_these_tests) {
  const uint32_t one = 1;
  uint8_t b;
  std::memcpy(&b, &one, 1);
  REQUIRE(b == 1);  // the golden-bytes tests below spell values out in LE
}

TEST(wal_sizes) {
  uint8_t buf[kMaxRecordSize];
  CHECK_EQ(encode_record(make_new(1, 1, 1, 1, 1, WalSide::Buy, WalTif::Gtc, 0, 0, 1), buf),
           size_t{48});
  CHECK_EQ(len_of(buf), 44);
  CHECK_EQ(encode_record(make_cancel(1, 1), buf), size_t{24});
  CHECK_EQ(encode_record(make_modify(1, 1, 1, 1, 1, 1), buf), size_t{40});
  CHECK_EQ(encode_record(make_clock(1, 1), buf), size_t{24});
  CHECK_EQ(encode_record(make_trade(1, 1, 1, 1, 1), buf), size_t{48});
  CHECK_EQ(encode_record(make_add_symbol(1, 1, "", 0), buf), size_t{24});
  CHECK_EQ(len_of(buf), 22);
  CHECK_EQ(encode_record(make_add_symbol(1, 1, "ABC", 3), buf), size_t{32});
  CHECK_EQ(len_of(buf), 25);
  CHECK_EQ(encode_record(make_add_symbol(1, 1, "0123456789abcdef0123456789abcdef", 32), buf),
           size_t{56});
  CHECK_EQ(len_of(buf), 54);
}

TEST(wal_new_golden_bytes) {
  // Pins the layout of the header diagram, byte by byte, for the hot record.
  uint8_t buf[kMaxRecordSize];
  std::memset(buf, 0xAA, sizeof buf);
  const WalRecord r = make_new(0x0102030405060708ull, 0x1112131415161718, -2, 0x2122232425262728,
                               0x31323334, WalSide::Sell, WalTif::Fok, true, false, true);
  REQUIRE(encode_record(r, buf) == 48);
  const uint8_t want[48] = {
      0, 0, 0, 0,                                       // crc, not yet sealed
      44, 0,                                            // len
      1,                                                // type NEW
      0x01 | (2 << 1) | 0x08 | 0x20,                    // sell, fok, market, hasPrice
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,   // seq
      0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,   // id
      0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,   // price -2
      0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,   // qty
      0x34, 0x33, 0x32, 0x31,                           // symbol
      0, 0, 0, 0};                                      // padding
  CHECK(std::memcmp(buf, want, 48) == 0);
  CHECK_EQ(buf[48], 0xAA);  // nothing written past the padded size

  seal_record(buf);
  uint32_t crc;
  std::memcpy(&crc, buf, 4);
  CHECK_EQ(crc, crc32c(buf + 4, 40));  // CRC covers [4, len), not the padding
}

TEST(wal_add_symbol_golden_bytes) {
  uint8_t buf[kMaxRecordSize];
  REQUIRE(encode_record(make_add_symbol(9, 0x01020304, "XY", 2), buf) == 24);
  const uint8_t want[24] = {0, 0, 0, 0, 24, 0, 4, 0, 9, 0, 0, 0, 0, 0, 0, 0,
                            0x04, 0x03, 0x02, 0x01, 2, 0, 'X', 'Y'};
  CHECK(std::memcmp(buf, want, 24) == 0);
}

// The fixed records other than NEW, byte by byte: each encoder writes its header as one 8-byte
// word (CRC zero, Length, Type, Flags) and must write exactly its size, nothing past it.
TEST(wal_fixed_records_golden_bytes) {
  struct Case {
    WalRecord r;
    std::vector<uint8_t> want;
  };
  const std::vector<uint8_t> seq9 = {9, 0, 0, 0, 0, 0, 0, 0};
  auto with = [&](std::vector<uint8_t> head, std::initializer_list<std::vector<uint8_t>> rest) {
    head.insert(head.end(), seq9.begin(), seq9.end());
    for (const auto& part : rest) head.insert(head.end(), part.begin(), part.end());
    return head;
  };
  const std::vector<uint8_t> v0102 = {0x02, 0x01, 0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> vm3 = {0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const std::vector<uint8_t> v7 = {7, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> v0 = {0, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> vbig = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  const Case cases[] = {
      {make_cancel(9, 0x0102), with({0, 0, 0, 0, 24, 0, 2, 0}, {v0102})},
      {make_modify(9, 0x0102, -3, 7, true, true), with({0, 0, 0, 0, 40, 0, 3, 0x03}, {v0102, vm3, v7})},
      {make_modify(9, 0x0102, -3, 7, false, true), with({0, 0, 0, 0, 40, 0, 3, 0x02}, {v0102, v0, v7})},
      {make_clock(9, 0x1122334455667788), with({0, 0, 0, 0, 24, 0, 5, 0}, {vbig})},
      {make_trade(9, 0x0102, 7, -3, 0x1122334455667788), with({0, 0, 0, 0, 48, 0, 6, 0}, {v0102, v7, vm3, vbig})},
  };
  for (const Case& c : cases) {
    uint8_t buf[kMaxRecordSize + 8];
    std::memset(buf, 0xAA, sizeof buf);
    REQUIRE(encode_record(c.r, buf) == c.want.size());
    CHECK(std::memcmp(buf, c.want.data(), c.want.size()) == 0);
    CHECK_EQ(buf[c.want.size()], 0xAA);  // nothing written past the size
    if (std::memcmp(buf, c.want.data(), c.want.size()) != 0) {
      std::fprintf(stderr, "  type %d differs\n", static_cast<int>(c.r.type));
    }
  }
}

TEST(wal_round_trip_every_type) {
  for (const WalRecord& r : sample_records()) {
    // An odd offset: the codec must not rely on aligned memory.
    uint8_t storage[kMaxRecordSize + 1];
    uint8_t* buf = storage + 1;
    const size_t size = encode_record(r, buf);
    REQUIRE(size != 0);
    CHECK(size % 8 == 0);
    CHECK(size <= kMaxRecordSize);
    seal_record(buf);
    WalRecord out{};
    size_t consumed = 0;
    CHECK(decode_record(buf, size, &out, &consumed) == DecodeStatus::Ok);
    CHECK_EQ(consumed, size);
    CHECK(out == r);
    if (!(out == r)) std::fprintf(stderr, "  type %d seq %llu\n", static_cast<int>(r.type),
                                  static_cast<unsigned long long>(r.seq));
    // A larger buffer (the rest of a segment) decodes the same and consumes only the record.
    uint8_t big[256] = {};
    std::memcpy(big, buf, size);
    CHECK(decode_record(big, sizeof big, &out, &consumed) == DecodeStatus::Ok);
    CHECK_EQ(consumed, size);
    CHECK(out == r);
  }
}

TEST(wal_absent_fields_encode_as_zero) {
  uint8_t buf[kMaxRecordSize];
  WalRecord r = make_modify(1, 5, 999, 888, false, false);
  REQUIRE(encode_record(r, buf) == 40);
  seal_record(buf);
  WalRecord out{};
  size_t consumed;
  REQUIRE(decode_record(buf, 40, &out, &consumed) == DecodeStatus::Ok);
  CHECK_EQ(out.modify.price, int64_t{0});
  CHECK_EQ(out.modify.qty, int64_t{0});
  r = make_new(1, 5, 999, 1, 0, WalSide::Buy, WalTif::Ioc, true, false, false);
  REQUIRE(encode_record(r, buf) == 48);
  seal_record(buf);
  REQUIRE(decode_record(buf, 48, &out, &consumed) == DecodeStatus::Ok);
  CHECK_EQ(out.new_order.price, int64_t{0});
  CHECK(!out.new_order.has_price);
  CHECK(out.new_order.market);
}

TEST(wal_encode_rejects_unrepresentable) {
  uint8_t buf[kMaxRecordSize];
  std::memset(buf, 0x5C, sizeof buf);
  WalRecord r = make_add_symbol(1, 1, "x", 1);
  r.add_symbol.name_len = 33;
  CHECK_EQ(encode_record(r, buf), size_t{0});
  r = make_new(1, 1, 1, 1, 1, WalSide::Buy, WalTif::Gtc, 0, 0, 1);
  r.new_order.tif = static_cast<WalTif>(3);
  CHECK_EQ(encode_record(r, buf), size_t{0});
  r.new_order.tif = WalTif::Gtc;
  r.new_order.side = static_cast<WalSide>(2);
  CHECK_EQ(encode_record(r, buf), size_t{0});
  r.type = static_cast<WalType>(0);
  CHECK_EQ(encode_record(r, buf), size_t{0});
  CHECK_EQ(buf[0], 0x5C);  // nothing written
}

TEST(wal_unsealed_record_fails_crc) {
  uint8_t buf[kMaxRecordSize];
  const size_t size = encode_record(make_cancel(1, 2), buf);
  CHECK(decode(buf, size) == DecodeStatus::BadCrc);
}

TEST(wal_every_single_bit_flip_is_caught) {
  for (const WalRecord& r : sample_records()) {
    uint8_t buf[kMaxRecordSize];
    const size_t size = encode_record(r, buf);
    REQUIRE(size != 0);
    seal_record(buf);
    // Padding bits included: they are outside the CRC but must still be zero.
    for (size_t bit = 0; bit < size * 8; ++bit) {
      buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      const DecodeStatus s = decode(buf, size);
      if (s == DecodeStatus::Ok || s == DecodeStatus::End) {
        CHECK(s != DecodeStatus::Ok && s != DecodeStatus::End);
        std::fprintf(stderr, "  type %d bit %zu -> %s\n", static_cast<int>(r.type), bit,
                     to_string(s));
      }
      // Also with room to spare after it, as in a segment: a flipped length cannot make
      // the decoder accept a different span.
      uint8_t big[128] = {};
      std::memcpy(big, buf, size);
      CHECK(decode(big, sizeof big) != DecodeStatus::Ok);
      buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
    CHECK(decode(buf, size) == DecodeStatus::Ok);
  }
}

TEST(wal_every_truncation_is_truncated) {
  for (const WalRecord& r : sample_records()) {
    uint8_t buf[kMaxRecordSize];
    const size_t size = encode_record(r, buf);
    seal_record(buf);
    for (size_t n = 1; n < size; ++n) {
      const DecodeStatus s = decode(buf, n);
      // A cut inside the CRC field can leave only zero bytes (a CRC byte may be 0), which
      // is indistinguishable from pre-written space: End is the right answer there.
      const DecodeStatus want =
          wal_all_zero(buf, n) ? DecodeStatus::End : DecodeStatus::Truncated;
      CHECK_EQ(s, want);
      if (s != want) {
        std::fprintf(stderr, "  type %d cut at %zu -> %s\n", static_cast<int>(r.type), n,
                     to_string(s));
      }
    }
    // Nothing at all is the end, not a truncated record.
    CHECK_EQ(decode(buf, 0), DecodeStatus::End);
  }
}

TEST(wal_zeros_are_end) {
  uint8_t zeros[256] = {};
  for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{8}, size_t{15}, size_t{16},
                   size_t{17}, size_t{64}, size_t{256}}) {
    CHECK_EQ(decode(zeros, n), DecodeStatus::End);
  }
  CHECK(wal_all_zero(zeros, sizeof zeros));
  // A zero length with other header bytes set is damage, not pre-written space.
  uint8_t hdr[16] = {};
  hdr[0] = 1;
  CHECK_EQ(decode(hdr, 16), DecodeStatus::BadLength);
  hdr[0] = 0;
  hdr[15] = 0x80;
  CHECK_EQ(decode(hdr, 16), DecodeStatus::BadLength);
  CHECK(!wal_all_zero(hdr, 16));
  // A partial header that is not all zero is a cut-off record.
  hdr[15] = 0;
  hdr[2] = 7;
  CHECK_EQ(decode(hdr, 4), DecodeStatus::Truncated);
}

TEST(wal_bad_length) {
  uint8_t buf[128] = {};
  REQUIRE(encode_record(make_cancel(1, 2), buf) == 24);
  uint8_t copy[128];

  // Out of range: never trusted, even for the CRC span.
  for (uint16_t len : {uint16_t{1}, uint16_t{8}, uint16_t{15}, uint16_t{65}, uint16_t{200},
                       uint16_t{0xFFFF}}) {
    std::memcpy(copy, buf, sizeof buf);
    copy[4] = static_cast<uint8_t>(len);
    copy[5] = static_cast<uint8_t>(len >> 8);
    CHECK_EQ(decode(copy, sizeof copy), DecodeStatus::BadLength);
  }
  // In range and checksummed, but wrong for the type.
  std::memcpy(copy, buf, sizeof buf);
  set_len_and_reseal(copy, 32);
  CHECK_EQ(decode(copy, sizeof copy), DecodeStatus::BadLength);
  std::memcpy(copy, buf, sizeof buf);
  set_len_and_reseal(copy, 16);
  CHECK_EQ(decode(copy, sizeof copy), DecodeStatus::BadLength);

  // ADD_SYMBOL: nameLen must agree with len, and stay within 32.
  REQUIRE(encode_record(make_add_symbol(1, 1, "ABCD", 4), buf) == 32);
  seal_record(buf);
  std::memcpy(copy, buf, sizeof buf);
  set_len_and_reseal(copy, 25);  // claims 3 name bytes, nameLen says 4
  CHECK_EQ(decode(copy, sizeof copy), DecodeStatus::BadLength);
  std::memcpy(copy, buf, sizeof buf);
  set_len_and_reseal(copy, 20);  // shorter than the fixed part
  CHECK_EQ(decode(copy, sizeof copy), DecodeStatus::BadLength);
  std::memcpy(copy, buf, sizeof buf);
  copy[20] = 3;  // nameLen 3 with len 26
  set_len_and_reseal(copy, 26);
  CHECK_EQ(decode(copy, sizeof copy), DecodeStatus::BadLength);
  // 22 + 33 = 55 fits kMaxRecordSize, but a name is at most 32 bytes.
  uint8_t big[128] = {};
  REQUIRE(encode_record(make_add_symbol(1, 1, "0123456789abcdef0123456789abcdef", 32), big) == 56);
  big[20] = 33;
  big[54] = 'X';
  set_len_and_reseal(big, 55);
  CHECK_EQ(decode(big, sizeof big), DecodeStatus::BadLength);
}

TEST(wal_bad_type_and_flags) {
  uint8_t buf[kMaxRecordSize];
  uint8_t copy[kMaxRecordSize];
  REQUIRE(encode_record(make_cancel(1, 2), buf) == 24);
  for (uint8_t type : {uint8_t{0}, uint8_t{7}, uint8_t{0x80}, uint8_t{0xFF}}) {
    std::memcpy(copy, buf, sizeof buf);
    copy[6] = type;
    seal_record(copy);
    CHECK_EQ(decode(copy, 24), DecodeStatus::BadType);
  }
  // Flags on a type that defines none.
  std::memcpy(copy, buf, sizeof buf);
  copy[7] = 1;
  seal_record(copy);
  CHECK_EQ(decode(copy, 24), DecodeStatus::BadType);

  // NEW: tif 3 and the two undefined high bits.
  REQUIRE(encode_record(make_new(1, 1, 1, 1, 1, WalSide::Buy, WalTif::Gtc, 0, 0, 1), buf) == 48);
  for (uint8_t flags : {uint8_t{3 << 1}, uint8_t{0x40}, uint8_t{0x80}}) {
    std::memcpy(copy, buf, sizeof buf);
    copy[7] = flags;
    seal_record(copy);
    CHECK_EQ(decode(copy, 48), DecodeStatus::BadType);
  }
  // MODIFY: bits 2-7.
  REQUIRE(encode_record(make_modify(1, 1, 1, 1, 1, 1), buf) == 40);
  std::memcpy(copy, buf, sizeof buf);
  copy[7] = 0x04;
  seal_record(copy);
  CHECK_EQ(decode(copy, 40), DecodeStatus::BadType);
}

TEST(wal_nonzero_padding_is_rejected) {
  uint8_t buf[kMaxRecordSize];
  REQUIRE(encode_record(make_add_symbol(1, 1, "ABC", 3), buf) == 32);
  seal_record(buf);
  for (size_t i = 25; i < 32; ++i) {
    buf[i] = 0x01;
    CHECK_EQ(decode(buf, 32), DecodeStatus::BadCrc);
    buf[i] = 0;
  }
  CHECK_EQ(decode(buf, 32), DecodeStatus::Ok);
}

TEST(wal_stream_of_records_then_end) {
  // A segment body: records back to back, then pre-written zeros.
  const std::vector<WalRecord> recs = sample_records();
  std::vector<uint8_t> seg(recs.size() * kMaxRecordSize + 128, 0);
  size_t off = 0;
  for (const WalRecord& r : recs) {
    const size_t n = encode_record(r, seg.data() + off);
    seal_record(seg.data() + off);
    off += n;
  }
  size_t pos = 0, count = 0;
  for (;;) {
    WalRecord out{};
    size_t consumed = 0;
    const DecodeStatus s = decode_record(seg.data() + pos, seg.size() - pos, &out, &consumed);
    if (s != DecodeStatus::Ok) {
      CHECK_EQ(s, DecodeStatus::End);
      break;
    }
    REQUIRE(count < recs.size());
    CHECK(out == recs[count]);
    ++count;
    pos += consumed;
  }
  CHECK_EQ(count, recs.size());
  CHECK_EQ(pos, off);
  CHECK(wal_all_zero(seg.data() + pos, seg.size() - pos));
}

TEST(wal_segment_header_round_trip) {
  uint8_t buf[kSegmentHeaderSize + 1];
  uint8_t* p = buf + 1;  // unaligned on purpose
  SegmentHeader h;
  h.first_seq = 0xFEDCBA9876543210ull;
  h.segment_size = 64ull << 20;
  encode_segment_header(h, p);
  CHECK(std::memcmp(p, "DURABOOK", 8) == 0);
  CHECK_EQ(p[8], 1);
  CHECK(wal_all_zero(p + 32, 32));
  SegmentHeader out{};
  CHECK_EQ(decode_segment_header(p, kSegmentHeaderSize, &out), SegmentStatus::Ok);
  CHECK_EQ(out.first_seq, h.first_seq);
  CHECK_EQ(out.segment_size, h.segment_size);
  CHECK_EQ(out.version, kWalFormatVersion);

  // The stored CRC is over the 64 bytes with the CRC field zero.
  uint32_t stored;
  std::memcpy(&stored, p + 12, 4);
  uint8_t copy[kSegmentHeaderSize];
  std::memcpy(copy, p, sizeof copy);
  std::memset(copy + 12, 0, 4);
  CHECK_EQ(stored, crc32c(copy, sizeof copy));
}

TEST(wal_segment_header_damage) {
  uint8_t p[kSegmentHeaderSize];
  SegmentHeader h;
  h.first_seq = 1;
  h.segment_size = 1 << 20;
  encode_segment_header(h, p);
  SegmentHeader out{};

  CHECK_EQ(decode_segment_header(p, 63, &out), SegmentStatus::Truncated);
  uint8_t zeros[kSegmentHeaderSize] = {};
  CHECK_EQ(decode_segment_header(zeros, sizeof zeros, &out), SegmentStatus::Empty);

  for (size_t bit = 0; bit < kSegmentHeaderSize * 8; ++bit) {
    p[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const SegmentStatus s = decode_segment_header(p, sizeof p, &out);
    CHECK(s != SegmentStatus::Ok);
    if (bit < 64) {
      CHECK_EQ(s, SegmentStatus::BadMagic);
    } else if (bit < 96) {
      CHECK_EQ(s, SegmentStatus::BadVersion);  // version is judged before the CRC
    } else {
      CHECK_EQ(s, SegmentStatus::BadCrc);
    }
    p[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  CHECK_EQ(decode_segment_header(p, sizeof p, &out), SegmentStatus::Ok);

  h.version = 2;
  encode_segment_header(h, p);
  CHECK_EQ(decode_segment_header(p, sizeof p, &out), SegmentStatus::BadVersion);

  // Reserved bytes set by a writer that checksummed them: not a format we know.
  h.version = kWalFormatVersion;
  encode_segment_header(h, p);
  p[40] = 1;
  std::memset(p + 12, 0, 4);
  const uint32_t c = crc32c(p, sizeof p);
  std::memcpy(p + 12, &c, 4);
  CHECK_EQ(decode_segment_header(p, sizeof p, &out), SegmentStatus::BadVersion);
}

TEST(wal_status_names) {
  for (DecodeStatus s : {DecodeStatus::Ok, DecodeStatus::End, DecodeStatus::Truncated,
                         DecodeStatus::BadLength, DecodeStatus::BadCrc, DecodeStatus::BadType}) {
    CHECK(std::strlen(to_string(s)) > 0);
  }
  CHECK(std::strlen(to_string(SegmentStatus::BadMagic)) > 0);
}
