#include "crc32c.h"

#include <array>
#include <cassert>
#include <cstring>

#if defined(__x86_64__)
#define DURABOOK_CRC32C_X86 1
// Including the header is fine without -msse4.2: GCC and Clang declare the intrinsics with
// their own target attribute, so only the function that calls them needs target("sse4.2").
#include <nmmintrin.h>
#endif

namespace durabook {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // Castagnoli, bit-reflected

// Slicing-by-8 tables: kTables[k][b] is the CRC of byte b followed by k zero bytes. Built at
// compile time so there is no static-initialisation order to worry about (the WAL may be
// opened from another static's constructor) and no first-call race.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1u) ? kPoly : 0u);
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t b = 0; b < 256; ++b) {
      const uint32_t prev = t[k - 1][b];
      t[k][b] = (prev >> 8) ^ t[0][prev & 0xFFu];
    }
  }
  return t;
}

constexpr Tables kTables = make_tables();
static_assert(kTables[0][1] == 0xF26B8303u, "table generation diverged from the published table");

// Assembled from bytes so the table code is correct on big-endian hosts too; on little-endian
// hosts compilers fold it into one load.
inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Both extend functions work on the raw register value (not inverted); the public functions
// apply the ~ at entry and exit so that extend() composes.
uint32_t extend_portable(uint32_t state, const uint8_t* p, size_t n) {
  while (n >= 8) {
    const uint32_t lo = load_le32(p) ^ state;
    const uint32_t hi = load_le32(p + 4);
    state = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^
            kTables[5][(lo >> 16) & 0xFF] ^ kTables[4][lo >> 24] ^
            kTables[3][hi & 0xFF] ^ kTables[2][(hi >> 8) & 0xFF] ^
            kTables[1][(hi >> 16) & 0xFF] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) state = (state >> 8) ^ kTables[0][(state ^ *p++) & 0xFF];
  return state;
}

#if DURABOOK_CRC32C_X86
// One dependent chain of 8-byte crc32 instructions. The 3-way interleaved variant (LevelDB,
// Intel's paper) only pays off for buffers of kilobytes; ours are records of at most 64 bytes
// and 64-byte segment headers, where its setup costs more than it saves.
__attribute__((target("sse4.2"))) uint32_t extend_hw(uint32_t state, const uint8_t* p,
                                                     size_t n) {
  // The crc32 instruction is a dependent chain (3 cycles each), so a WAL record (under 64
  // bytes, its checksummed part starting 4 bytes into an 8-aligned record) costs what its step
  // count costs: reach 8-byte alignment and finish the tail in at most one 4-, 2- and 1-byte
  // step each, not byte by byte (a third of the time of sealing a record went there). The
  // alignment is kept because the record was usually just stored: an 8-byte load that spans
  // two earlier stores cannot be forwarded from them and waits for both to retire (measured:
  // unaligned 8-byte steps sealed a NEW record in 10.3 ns, aligned ones in 6.4 ns).
  // An aligned start and a whole number of 8-byte words (a segment header, a read buffer)
  // skip the head and the tail with one test each: six tests there cost an aligned 48-byte
  // buffer 2 ns of its 5 (micro_bench, where independent checksums overlap).
  if ((reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    if ((reinterpret_cast<uintptr_t>(p) & 1) != 0 && n >= 1) {
      state = _mm_crc32_u8(state, *p);
      p += 1;
      n -= 1;
    }
    if ((reinterpret_cast<uintptr_t>(p) & 2) != 0 && n >= 2) {
      uint16_t v;
      std::memcpy(&v, p, 2);
      state = _mm_crc32_u16(state, v);
      p += 2;
      n -= 2;
    }
    if ((reinterpret_cast<uintptr_t>(p) & 4) != 0 && n >= 4) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      state = _mm_crc32_u32(state, v);
      p += 4;
      n -= 4;
    }
  }
  uint64_t wide = state;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // the instruction consumes the bytes in memory order (LE)
    wide = _mm_crc32_u64(wide, v);
    p += 8;
    n -= 8;
  }
  state = static_cast<uint32_t>(wide);
  if (n != 0) {
    if (n >= 4) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      state = _mm_crc32_u32(state, v);
      p += 4;
      n -= 4;
    }
    if (n >= 2) {
      uint16_t v;
      std::memcpy(&v, p, 2);
      state = _mm_crc32_u16(state, v);
      p += 2;
      n -= 2;
    }
    if (n >= 1) state = _mm_crc32_u8(state, *p);
  }
  return state;
}

bool detect_hw() {
  // __builtin_cpu_init() is only needed when called before constructors have run (e.g. from
  // an ifunc resolver or another static's constructor), which we cannot rule out; it is cheap.
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif

}  // namespace

bool crc32c_hw_available() {
#if DURABOOK_CRC32C_X86
  // A function-local static: initialised once, thread-safely, on first use.
  static const bool available = detect_hw();
  return available;
#else
  return false;
#endif
}

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
#if DURABOOK_CRC32C_X86
  if (crc32c_hw_available()) return ~extend_hw(~crc, p, n);
#endif
  return ~extend_portable(~crc, p, n);
}

uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

uint32_t crc32c_portable(const void* data, size_t n) {
  return ~extend_portable(~0u, static_cast<const uint8_t*>(data), n);
}

uint32_t crc32c_hw(const void* data, size_t n) {
#if DURABOOK_CRC32C_X86
  // Invariant: only called on CPUs with SSE4.2; elsewhere the crc32 instruction is #UD.
  assert(crc32c_hw_available());
  return ~extend_hw(~0u, static_cast<const uint8_t*>(data), n);
#else
  return crc32c_portable(data, n);
#endif
}

}  // namespace durabook
