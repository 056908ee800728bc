// Journal: where the matching engine hands each accepted input (and, optionally, each trade)
// to be logged, in the order it applies them. The WAL implements it; an in-memory engine
// has none. Calls happen on the matching thread and must not block for long: the WAL
// journal encodes into its SPSC ring and waits only when the ring is full.
#pragma once
#include <cstdint>
#include <string_view>

#include "types.h"

namespace durabook {

class WalWriter;

class Journal {
 public:
  virtual ~Journal() = default;
  // The engine clock changed; the record belongs to the input that follows (same seq).
  virtual void logClock(uint64_t seq, int64_t ts) = 0;
  virtual void logNew(uint64_t seq, const NewOrderCmd& cmd) = 0;
  virtual void logCancel(uint64_t seq, int64_t id) = 0;
  virtual void logModify(uint64_t seq, const ModifyCmd& cmd) = 0;
  virtual void logAddSymbol(uint64_t seq, uint32_t symbol, std::string_view name) = 0;
  // Only called when wantsTrades(); carries the seq of the command that made the trade.
  virtual void logTrade(uint64_t seq, const Trade& t) = 0;
  virtual bool wantsTrades() const = 0;
  // Non-null when this journal is the WAL writer. The engine then calls the writer's logging
  // methods by their own type: direct calls that inline into the engine's command code, instead
  // of an indirect call per record that also makes the compiler spill and reload the engine's
  // state around it (a command logs one to a few records, on the matching thread).
  virtual WalWriter* asWalWriter() { return nullptr; }
};

}  // namespace durabook
