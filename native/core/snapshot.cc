#include "snapshot.h"

#include <cstring>

#include "crc32c.h"

namespace durabook {

namespace {

constexpr char kMagic[8] = {'D', 'U', 'R', 'A', 'S', 'N', 'A', 'P'};
constexpr uint32_t kVersion = 1;

template <typename T>
void put(std::vector<uint8_t>* out, size_t at, T v) {
  std::memcpy(out->data() + at, &v, sizeof v);
}
template <typename T>
void append(std::vector<uint8_t>* out, T v) {
  const size_t at = out->size();
  out->resize(at + sizeof v);
  put(out, at, v);
}
template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

const char* to_string(SnapshotStatus s) {
  switch (s) {
    case SnapshotStatus::Ok: return "ok";
    case SnapshotStatus::Truncated: return "truncated";
    case SnapshotStatus::BadMagic: return "bad magic";
    case SnapshotStatus::BadVersion: return "unsupported version";
    case SnapshotStatus::BadHeaderCrc: return "header checksum mismatch";
    case SnapshotStatus::BadBodyCrc: return "body checksum mismatch";
    case SnapshotStatus::BadContent: return "inconsistent content";
    case SnapshotStatus::NotEmpty: return "target engine not empty";
  }
  return "unknown";
}

void encode_snapshot(const MatchingEngine& e, std::vector<uint8_t>* out) {
  const size_t base = out->size();
  out->resize(base + kSnapshotHeaderSize, 0);
  const size_t body = out->size();
  const MatchingEngine::Totals& t = e.totals();
  append(out, t.submittedQty);
  append(out, t.filledQty);
  append(out, t.removedQty);
  for (uint32_t s = 0; s < e.symbolCount(); ++s) {
    const std::string& name = e.symbolName(s);
    append(out, static_cast<uint16_t>(name.size()));
    out->insert(out->end(), name.begin(), name.end());
  }
  out->reserve(out->size() + static_cast<size_t>(e.restingOrders()) * kSnapshotOrderSize);
  uint64_t orders = 0;
  e.forEachRestingOrder([&](const Order& o) {
    const size_t at = out->size();
    out->resize(at + kSnapshotOrderSize, 0);
    put(out, at, o.symbol);
    put(out, at + 4, static_cast<uint8_t>(o.side));
    put(out, at + 5, static_cast<uint8_t>(o.postOnly));
    put(out, at + 8, o.id);
    put(out, at + 16, o.price);
    put(out, at + 24, o.qty);
    put(out, at + 32, o.ts);
    ++orders;
  });
  const uint64_t bodyLen = out->size() - body;
  std::memcpy(out->data() + base, kMagic, 8);
  put(out, base + 8, kVersion);
  put(out, base + 16, e.lastSeq());
  put(out, base + 24, e.clock());
  put(out, base + 32, bodyLen);
  put(out, base + 40, crc32c(out->data() + body, bodyLen));
  put(out, base + 44, e.symbolCount());
  put(out, base + 48, orders);
  put(out, base + 12, crc32c(out->data() + base, kSnapshotHeaderSize));
}

SnapshotStatus decode_snapshot_header(const uint8_t* p, size_t n, SnapshotInfo* info) {
  if (n < kSnapshotHeaderSize) return SnapshotStatus::Truncated;
  if (std::memcmp(p, kMagic, 8) != 0) return SnapshotStatus::BadMagic;
  uint8_t header[kSnapshotHeaderSize];
  std::memcpy(header, p, sizeof header);
  std::memset(header + 12, 0, 4);
  if (crc32c(header, sizeof header) != get<uint32_t>(p + 12)) return SnapshotStatus::BadHeaderCrc;
  if (get<uint32_t>(p + 8) != kVersion) return SnapshotStatus::BadVersion;
  info->seq = get<uint64_t>(p + 16);
  info->clock = get<int64_t>(p + 24);
  info->symbols = get<uint32_t>(p + 44);
  info->orders = get<uint64_t>(p + 48);
  return SnapshotStatus::Ok;
}

SnapshotStatus load_snapshot(const uint8_t* p, size_t n, MatchingEngine* e, SnapshotInfo* info, std::string* why) {
  if (e->symbolCount() != 0 || e->lastSeq() != 0) return SnapshotStatus::NotEmpty;
  SnapshotStatus st = decode_snapshot_header(p, n, info);
  if (st != SnapshotStatus::Ok) return st;
  const uint64_t bodyLen = get<uint64_t>(p + 32);
  if (bodyLen > n - kSnapshotHeaderSize) return SnapshotStatus::Truncated;
  const uint8_t* b = p + kSnapshotHeaderSize;
  if (crc32c(b, bodyLen) != get<uint32_t>(p + 40)) return SnapshotStatus::BadBodyCrc;

  // The checksum matched, but a snapshot is trusted no further than its content is consistent:
  // every field is checked as it is loaded, and any inconsistency leaves the engine empty.
  auto bad = [&](const char* what) {
    *why = what;
    e->reset();
    return SnapshotStatus::BadContent;
  };
  const uint8_t* end = b + bodyLen;
  if (end - b < 24) return bad("body shorter than its totals");
  MatchingEngine::Totals totals{get<uint64_t>(b), get<uint64_t>(b + 8), get<uint64_t>(b + 16)};
  b += 24;
  for (uint32_t s = 0; s < info->symbols; ++s) {
    if (end - b < 2) return bad("symbol table truncated");
    const uint16_t len = get<uint16_t>(b);
    b += 2;
    if (len == 0 || len > kMaxSymbolNameBytes || end - b < len) return bad("bad symbol name length");
    std::string_view name(reinterpret_cast<const char*>(b), len);
    for (char ch : name)
      if (ch < 0x21 || ch > 0x7e) return bad("symbol name has a non-printable byte");
    if (!e->restoreSymbol(name)) return bad("duplicate symbol");
    b += len;
  }
  // Divide rather than multiply: a crafted count must not wrap around to a matching size.
  const uint64_t tableBytes = static_cast<uint64_t>(end - b);
  if (tableBytes % kSnapshotOrderSize != 0 || tableBytes / kSnapshotOrderSize != info->orders)
    return bad("order table size mismatch");
  int64_t lastPrice = 0;
  uint32_t lastSymbol = UINT32_MAX;
  int lastSide = -1;
  for (uint64_t i = 0; i < info->orders; ++i, b += kSnapshotOrderSize) {
    Order o{};
    o.symbol = get<uint32_t>(b);
    const uint8_t side = b[4], postOnly = b[5];
    o.id = get<int64_t>(b + 8);
    o.price = get<int64_t>(b + 16);
    o.qty = get<int64_t>(b + 24);
    o.ts = get<int64_t>(b + 32);
    if (o.symbol >= info->symbols || side > 1 || postOnly > 1 || get<uint16_t>(b + 6) != 0)
      return bad("order with a bad symbol, side or flag");
    if (o.id < 1 || o.id > kMaxSafeInteger || o.qty < 1 || o.qty > kMaxSafeInteger || o.price < -kMaxSafeInteger ||
        o.price > kMaxSafeInteger)
      return bad("order with an out-of-range id, price or quantity");
    o.side = static_cast<Side>(side);
    o.postOnly = postOnly != 0;
    // Invariant: within one side, prices never get worse as the listing goes on.
    const bool sameSide = o.symbol == lastSymbol && side == lastSide;
    if (sameSide && (o.side == Side::Buy ? o.price < lastPrice : o.price > lastPrice))
      return bad("orders out of price order");
    if (o.symbol < lastSymbol && lastSymbol != UINT32_MAX) return bad("symbols out of order");
    if (!e->restoreOrder(o)) return bad("duplicate order id or level total out of range");
    lastSymbol = o.symbol;
    lastSide = side;
    lastPrice = o.price;
  }
  e->restoreCounters(info->seq, info->clock, totals);
  std::string broken = e->checkInvariants();
  if (!broken.empty()) return bad("snapshot state breaks an invariant");
  return SnapshotStatus::Ok;
}

}  // namespace durabook
