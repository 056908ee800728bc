#include <cstring>
#include <random>
#include <vector>

#include "check.h"
#include "crc32c.h"

using namespace durabook;

namespace {

// Runs `check` against every implementation this machine can run: the dispatching entry
// point, the portable code, and the instruction when present.
// A failure names the implementation that produced it.
template <typename F>
void for_each_impl(F check) {
  auto run = [&](const char* name, auto fn) {
    const int before = durabook::test::current_failures();
    check(fn);
    if (durabook::test::current_failures() != before) std::fprintf(stderr, "  (in %s)\n", name);
  };
  run("crc32c", [](const void* p, size_t n) { return crc32c(p, n); });
  run("portable", [](const void* p, size_t n) { return crc32c_portable(p, n); });
  if (crc32c_hw_available()) {
    run("hw", [](const void* p, size_t n) { return crc32c_hw(p, n); });
  }
}

}  // namespace

TEST(crc32c_rfc3720_vectors) {
  uint8_t buf[32];
  for_each_impl([&](auto fn) {
    std::memset(buf, 0x00, sizeof buf);
    CHECK_EQ(fn(buf, sizeof buf), 0x8A9136AAu);
    std::memset(buf, 0xFF, sizeof buf);
    CHECK_EQ(fn(buf, sizeof buf), 0x62A8AB43u);
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(i);
    CHECK_EQ(fn(buf, sizeof buf), 0x46DD794Eu);
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(31 - i);
    CHECK_EQ(fn(buf, sizeof buf), 0x113FDB5Cu);
  });
}

TEST(crc32c_check_value) {
  for_each_impl([](auto fn) {
    CHECK_EQ(fn("123456789", 9), 0xE3069283u);
    CHECK_EQ(fn("", 0), 0u);  // ~(~0) with nothing in between
    CHECK_EQ(fn("a", 1), 0xC1D04330u);
  });
}

TEST(crc32c_hw_matches_portable) {
  if (!crc32c_hw_available()) {
    std::fprintf(stderr, "  (no SSE4.2 on this CPU: hw path not exercised)\n");
    return;
  }
  std::mt19937_64 rng(12345);
  std::vector<uint8_t> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  // Every length up to 300 at every alignment 0..15: covers each 1-, 2- and 4-byte step of
  // the hw head and tail, alone and together, and its 8-byte body, and the 8-byte body and tail of slicing-by-8.
  for (size_t off = 0; off < 16; ++off) {
    for (size_t n = 0; n <= 300; ++n) {
      const uint8_t* p = buf.data() + off;
      if (crc32c_hw(p, n) != crc32c_portable(p, n)) {
        CHECK_EQ(crc32c_hw(p, n), crc32c_portable(p, n));
        std::fprintf(stderr, "  at offset %zu length %zu\n", off, n);
        return;
      }
    }
  }
  // And random longer spans.
  for (int i = 0; i < 2000; ++i) {
    const size_t off = rng() % 16;
    const size_t n = rng() % 4096;
    CHECK_EQ(crc32c_hw(buf.data() + off, n), crc32c_portable(buf.data() + off, n));
  }
}

TEST(crc32c_extend_composes) {
  std::mt19937_64 rng(777);
  std::vector<uint8_t> buf(1000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  const uint32_t whole = crc32c(buf.data(), buf.size());
  CHECK_EQ(whole, crc32c_portable(buf.data(), buf.size()));
  for (size_t split = 0; split <= buf.size(); split += 7) {
    const uint32_t a = crc32c(buf.data(), split);
    CHECK_EQ(crc32c_extend(a, buf.data() + split, buf.size() - split), whole);
  }
  // Three pieces, and the empty extension is the identity.
  uint32_t c = crc32c_extend(0, buf.data(), 10);
  c = crc32c_extend(c, buf.data() + 10, 0);
  c = crc32c_extend(c, buf.data() + 10, 500);
  c = crc32c_extend(c, buf.data() + 510, 490);
  CHECK_EQ(c, whole);
  CHECK_EQ(crc32c_extend(0, "123456789", 9), 0xE3069283u);
}

TEST(crc32c_detects_single_bit_flips) {
  uint8_t buf[64];
  for (int i = 0; i < 64; ++i) buf[i] = static_cast<uint8_t>(i * 37 + 1);
  const uint32_t good = crc32c(buf, sizeof buf);
  for (size_t bit = 0; bit < sizeof buf * 8; ++bit) {
    buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CHECK(crc32c(buf, sizeof buf) != good);
    buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}
