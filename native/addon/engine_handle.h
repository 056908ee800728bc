// EngineHandle: what one JS Engine's native methods share — the core engine, the shared
// command/result buffers, and the conversions every entry point uses.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "file_layer.h"
#include "matching_engine.h"
#include "wal_writer.h"

namespace durabook {

// The engine clock, read once per native call. The coarse clock costs ~6 ns here against
// ~31 ns for the precise one (measured on this machine), a sixth of a per-call budget; its
// resolution is the kernel tick (1-4 ms). Timestamps are logged, never used for matching.
inline int64_t nowMicros(bool precise) {
  timespec ts;
  clock_gettime(precise ? CLOCK_REALTIME : CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// A JS number to int64 only when it is a safe integer; NaN and infinities fail the range test
// before the cast, which would otherwise be undefined behaviour.
inline bool toInt64(double d, int64_t* out) {
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0)) return false;
  int64_t v = static_cast<int64_t>(d);
  if (static_cast<double>(v) != d) return false;
  *out = v;
  return true;
}

// Decodes a new order from JS numbers. flags: bit0 sell, bits1-2 tif, bit3 market,
// bit4 postOnly, bit5 hasPrice — the same bits as the WAL's NEW record.
inline CommandError decodeNew(double sym, double id, double price, double qty, double flagBits, NewOrderCmd* out) {
  int64_t s, flags;
  if (!toInt64(sym, &s) || s < 0 || s > UINT32_MAX) return CommandError::UnknownSymbol;
  if (!toInt64(id, &out->id)) return CommandError::BadId;
  if (!toInt64(qty, &out->qty)) return CommandError::BadQty;
  if (!toInt64(flagBits, &flags) || flags < 0 || flags > 63) return CommandError::BadSide;
  out->symbol = static_cast<uint32_t>(s);
  out->side = (flags & 1) ? Side::Sell : Side::Buy;
  out->tif = static_cast<Tif>((flags >> 1) & 3);
  out->market = (flags >> 3) & 1;
  out->postOnly = (flags >> 4) & 1;
  out->hasPrice = (flags >> 5) & 1;
  out->price = 0;
  if (out->hasPrice && !toInt64(price, &out->price)) return CommandError::BadPrice;
  return CommandError::Ok;
}

// Decodes a modify; flags: bit0 hasPrice, bit1 hasQty.
inline CommandError decodeModify(double id, double price, double qty, double flagBits, ModifyCmd* out) {
  int64_t flags;
  if (!toInt64(id, &out->id)) return CommandError::BadId;
  if (!toInt64(flagBits, &flags) || flags < 0 || flags > 3) return CommandError::EmptyModify;
  out->hasPrice = flags & 1;
  out->hasQty = (flags >> 1) & 1;
  out->price = out->qty = 0;
  if (out->hasPrice && !toInt64(price, &out->price)) return CommandError::BadPrice;
  if (out->hasQty && !toInt64(qty, &out->qty)) return CommandError::BadQty;
  return CommandError::Ok;
}

constexpr int kResHeader = 6;
// res[1] codes beyond the CommandErrors: the WAL failed (fail-stop), or a checked engine
// found a broken invariant.
constexpr double kEngineFailedCode = -254;
constexpr double kInvariantBrokenCode = -255;

// One batch command decoded and validated by submitBatch's first pass, applied by its second.
struct DecodedCmd {
  DecodedCmd() : n{} {}
  uint8_t kind;  // 0 new, 1 cancel, 2 modify
  union {
    NewOrderCmd n;
    ModifyCmd m;
    int64_t cancelId;
  };
};

struct EngineHandle {
  explicit EngineHandle(const EngineLimits& limits) : engine(limits) {}
  ~EngineHandle() {
    // An engine collected without close(): stop the writer (it drains and syncs) before the
    // engine it serves goes away.
    if (wal) wal->close();
    if (tsfn) napi_release_threadsafe_function(tsfn, napi_tsfn_abort);
  }
  // Fail-stop: once the WAL failed, no command may apply.
  bool failed() const { return wal && wal->failed(); }

  MatchingEngine engine;
  std::unique_ptr<WalWriter> wal;
  // Wakes JS once per watermark advance it asked for (or on failure); wakeQueued coalesces
  // calls so a burst of syncs queues at most one callback.
  napi_threadsafe_function tsfn = nullptr;
  std::atomic<bool> wakeQueued{false};
  FileLayer* files = posix_file_layer();
#if defined(DURABOOK_TEST_HOOKS)
  std::unique_ptr<FaultInjectingFileLayer> faults;
#endif
  double* cmd = nullptr;
  double* res = nullptr;
  size_t resLen = 0;
  Napi::Reference<Napi::Float64Array> cmdRef;
  Napi::Reference<Napi::Float64Array> resRef;
  bool checkInvariants = false;
  bool preciseClock = false;
  std::string invariantError;
  int64_t now() const { return nowMicros(preciseClock); }
  std::vector<LevelView> bids, asks;
  std::vector<DecodedCmd> batch;  // submitBatch's decoded commands, reused
};

}  // namespace durabook
