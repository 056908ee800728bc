// micro_bench: nanoseconds per operation of the native pieces the JS benchmarks cannot reach:
// WAL record encoding, sealing (CRC32C), decoding, and CRC32C itself (hardware and portable).
//
//   micro_bench [--json] [--iters N]
//
// Each case runs N iterations (default 20M / bytes-scaled) a few times and reports the best
// round, so that a noisy neighbour costs a round, not the result.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "crc32c.h"
#include "wal_format.h"

using namespace durabook;

namespace {

volatile uint64_t g_sink;

template <typename F>
double bestNsPerOp(uint64_t iters, F&& f) {
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t acc = 0;
    for (uint64_t i = 0; i < iters; ++i) acc += f(i);
    auto t1 = std::chrono::steady_clock::now();
    g_sink = acc;
    double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(iters);
    if (ns < best) best = ns;
  }
  return best;
}

WalRecord newRecord(uint64_t seq) {
  WalRecord r{};
  r.type = WalType::New;
  r.seq = seq;
  r.new_order.id = static_cast<int64_t>(seq);
  r.new_order.price = 10'000 + static_cast<int64_t>(seq & 63);
  r.new_order.qty = 1 + static_cast<int64_t>(seq % 100);
  r.new_order.symbol = 0;
  r.new_order.side = (seq & 1) ? WalSide::Sell : WalSide::Buy;
  r.new_order.tif = WalTif::Gtc;
  r.new_order.has_price = true;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  uint64_t iters = 20'000'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--iters" && i + 1 < argc) iters = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: micro_bench [--json] [--iters N]\n");
      return 2;
    }
  }
  struct Result {
    std::string name;
    double ns;
    size_t bytes;
  };
  std::vector<Result> results;

  alignas(8) uint8_t rec[kMaxRecordSize];
  results.push_back({"encode NEW record", bestNsPerOp(iters, [&](uint64_t i) {
                       WalRecord r = newRecord(i);
                       return encode_record(r, rec) + rec[8];
                     }), 0});
  {
    WalRecord r = newRecord(1);
    size_t n = encode_record(r, rec);
    results.push_back({"seal NEW record (CRC32C)", bestNsPerOp(iters, [&](uint64_t i) {
                         rec[16] = static_cast<uint8_t>(i);
                         seal_record(rec);
                         return static_cast<uint64_t>(rec[0]);
                       }), n});
    seal_record(rec);
    results.push_back({"encode + seal NEW record", bestNsPerOp(iters, [&](uint64_t i) {
                         WalRecord rr = newRecord(i);
                         encode_record(rr, rec);
                         seal_record(rec);
                         return static_cast<uint64_t>(rec[0]);
                       }), n});
    WalRecord r2 = newRecord(7);
    encode_record(r2, rec);
    seal_record(rec);
    WalRecord out{};
    results.push_back({"decode NEW record (CRC check)", bestNsPerOp(iters, [&](uint64_t) {
                         size_t consumed = 0;
                         decode_record(rec, sizeof rec, &out, &consumed);
                         return static_cast<uint64_t>(consumed) + static_cast<uint64_t>(out.seq);
                       }), n});
  }
  std::vector<uint8_t> buf(1 << 20);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t len : {size_t{48}, size_t{4096}, size_t{1} << 20}) {
    const uint64_t n = std::max<uint64_t>(16, iters * 48 / len / (len > 4096 ? 4 : 1));
    if (crc32c_hw_available()) {
      results.push_back({"crc32c hw " + std::to_string(len) + " B", bestNsPerOp(n, [&](uint64_t i) {
                           buf[0] = static_cast<uint8_t>(i);
                           return static_cast<uint64_t>(crc32c_hw(buf.data(), len));
                         }), len});
    }
    results.push_back({"crc32c portable " + std::to_string(len) + " B", bestNsPerOp(n / 4 + 1, [&](uint64_t i) {
                         buf[0] = static_cast<uint8_t>(i);
                         return static_cast<uint64_t>(crc32c_portable(buf.data(), len));
                       }), len});
  }

  if (json) {
    std::printf("[");
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      double gbps = r.bytes ? static_cast<double>(r.bytes) / r.ns : 0;
      std::printf("%s{\"name\":\"%s\",\"ns\":%.2f,\"bytes\":%zu,\"GBps\":%.3f}", i ? "," : "", r.name.c_str(), r.ns,
                  r.bytes, gbps);
    }
    std::printf("]\n");
  } else {
    for (const Result& r : results) {
      if (r.bytes) std::printf("%-34s %10.2f ns  %8.2f GB/s\n", r.name.c_str(), r.ns, static_cast<double>(r.bytes) / r.ns);
      else std::printf("%-34s %10.2f ns\n", r.name.c_str(), r.ns);
    }
  }
  return 0;
}
