// libFuzzer target: load_snapshot (and decode_snapshot_header) on raw bytes.
//
// Byte 0 steers the run, the rest is the snapshot image:
//
//   bit 0  reseal: recompute the body CRC (over the body length the header declares, clipped
//          to what is there) and then the header CRC, so that mutations reach the content
//          checks (symbol table, order table, price order, duplicate ids, invariants)
//
// What must hold for every input: no crash, no out-of-bounds access, no undefined behaviour
// (ASan + UBSan build), no hang. A refused image leaves the engine empty (no symbols, seq 0).
// An accepted image gives an engine that passes checkInvariants(), encodes back to an image
// that loads to the same digest, and keeps its invariants through a few commands (a sweep of
// each side of each book, a cancel and a modify of a resting order).
//
// Seeds: DURABOOK_FUZZ_WRITE_SEEDS=DIR ./snapshot_fuzz writes snapshots of a few engines.
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crc32c.h"
#include "matching_engine.h"
#include "snapshot.h"

using namespace durabook;

namespace {

[[noreturn]] void broken(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "snapshot_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

void reseal(std::vector<uint8_t>& img) {
  if (img.size() < kSnapshotHeaderSize) return;
  uint64_t bodyLen;
  std::memcpy(&bodyLen, img.data() + 32, 8);
  const uint64_t have = img.size() - kSnapshotHeaderSize;
  const uint32_t bodyCrc = crc32c(img.data() + kSnapshotHeaderSize, bodyLen < have ? bodyLen : have);
  std::memcpy(img.data() + 40, &bodyCrc, 4);
  std::memset(img.data() + 12, 0, 4);
  const uint32_t crc = crc32c(img.data(), kSnapshotHeaderSize);
  std::memcpy(img.data() + 12, &crc, 4);
}

void exercise(MatchingEngine& e) {
  Report r;
  // Modify and cancel a resting order, if there is one.
  int64_t someId = 0;
  e.forEachRestingOrder([&](const Order& o) {
    if (someId == 0) someId = o.id;
  });
  if (someId != 0) {
    const Order* o = e.findOrder(someId);
    if (!o) broken("a listed resting order cannot be found");
    ModifyCmd m{someId, o->price, 1, false, true};
    e.clearTrades();
    e.modify(m, &r);
    std::string why = e.checkInvariants();
    if (!why.empty()) broken("invariant broken after a modify:", why);
    e.cancel(someId, &r);
    why = e.checkInvariants();
    if (!why.empty()) broken("invariant broken after a cancel:", why);
  }
  // Sweep both sides of every book with market orders.
  for (uint32_t s = 0; s < e.symbolCount(); ++s) {
    for (Side side : {Side::Buy, Side::Sell}) {
      NewOrderCmd c;
      c.id = kMaxSafeInteger;
      c.symbol = s;
      c.side = side;
      c.qty = kMaxSafeInteger;
      c.market = true;
      c.tif = Tif::Ioc;
      e.clearTrades();
      if (e.submit(c, &r) != CommandError::Ok) broken("a valid market order was refused");
      const std::string why = e.checkInvariants();
      if (!why.empty()) broken("invariant broken after a sweep:", why);
    }
  }
}

void writeSeeds(const char* dir) {
  ::mkdir(dir, 0755);
  int n = 0;
  auto save = [&](const MatchingEngine& e) {
    std::vector<uint8_t> img{0};
    encode_snapshot(e, &img);
    const std::string path = std::string(dir) + "/seed-" + std::to_string(++n);
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    std::fwrite(img.data(), 1, img.size(), f);
    std::fclose(f);
  };
  save(MatchingEngine{});
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    MatchingEngine e;
    Report r;
    e.setClock(1'700'000'000'000'000);
    e.addSymbol("AAPL", &r);
    e.addSymbol("SPRD", &r);
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 10 * static_cast<int>(seed); ++i) {
      NewOrderCmd c;
      c.id = 1 + i;
      c.symbol = static_cast<uint32_t>(rng() % 2);
      c.side = rng() & 1 ? Side::Sell : Side::Buy;
      c.price = (c.symbol ? -2 : 100) + (c.side == Side::Sell ? 1 : -1) * static_cast<int64_t>(rng() % 4);
      c.qty = 1 + static_cast<int64_t>(rng() % 30);
      c.hasPrice = true;
      c.postOnly = rng() % 5 == 0;
      e.submit(c, &r);
    }
    save(e);
  }
  std::fprintf(stderr, "snapshot_fuzz: wrote %d seeds to %s\n", n, dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seeds = std::getenv("DURABOOK_FUZZ_WRITE_SEEDS")) {
    writeSeeds(seeds);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> img(data + 1, data + size);
  if (data[0] & 1) reseal(img);
  // An exact-size heap copy, so that ASan sees any read past the end of the image.
  std::unique_ptr<uint8_t[]> exact(new uint8_t[img.size() ? img.size() : 1]);
  if (!img.empty()) std::memcpy(exact.get(), img.data(), img.size());

  SnapshotInfo header{};
  decode_snapshot_header(exact.get(), img.size(), &header);

  MatchingEngine e;
  SnapshotInfo info{};
  std::string why;
  const SnapshotStatus st = load_snapshot(exact.get(), img.size(), &e, &info, &why);
  if (st != SnapshotStatus::Ok) {
    if (e.symbolCount() != 0 || e.lastSeq() != 0 || e.restingOrders() != 0)
      broken("a refused snapshot left state behind:", to_string(st));
    return 0;
  }
  const std::string bad = e.checkInvariants();
  if (!bad.empty()) broken("an accepted snapshot breaks an invariant:", bad);
  // Round trip: encode the loaded engine, load that, same digest.
  std::vector<uint8_t> again;
  encode_snapshot(e, &again);
  MatchingEngine e2;
  SnapshotInfo info2{};
  std::string why2;
  if (load_snapshot(again.data(), again.size(), &e2, &info2, &why2) != SnapshotStatus::Ok)
    broken("the re-encoded snapshot does not load:", why2);
  if (e2.digest() != e.digest()) broken("the re-encoded snapshot loads to another state");
  exercise(e);
  return 0;
}
