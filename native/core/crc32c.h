// CRC32C (Castagnoli): the checksum of every WAL record and segment header.
//
// Castagnoli rather than the zlib CRC32 because x86 has an instruction for it (SSE4.2 `crc32`),
// so sealing a record on the writer thread costs a few cycles, and because it detects more
// error patterns at the short lengths our records have.
//
// Parameters: reflected polynomial 0x82F63B78, initial value ~0, final xor ~0 (the iSCSI /
// RFC 3720 variant), so crc32c("123456789") == 0xE3069283.
#pragma once
#include <cstddef>
#include <cstdint>

namespace durabook {

// Checksum of data[0, n). Uses the SSE4.2 instruction when the CPU has it (checked once).
uint32_t crc32c(const void* data, size_t n);

// Continues a checksum: crc32c_extend(crc32c(a), b) == crc32c(a ++ b), and
// crc32c_extend(0, p, n) == crc32c(p, n). Lets a caller checksum a record that is not
// contiguous in memory without copying it.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);

// The two implementations behind crc32c(), exposed so tests can check one against the other.
uint32_t crc32c_portable(const void* data, size_t n);
// Precondition: crc32c_hw_available(). On other CPUs (or non-x86 builds) it would fault, so it
// asserts in debug builds and falls back to the portable code on non-x86 builds.
uint32_t crc32c_hw(const void* data, size_t n);
bool crc32c_hw_available();

}  // namespace durabook
