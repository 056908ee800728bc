// Plain value types shared by the core: commands, reports, trades, and the codes that name
// why a command was refused. Nothing here allocates or knows about Node.
#pragma once
#include <cstddef>
#include <cstdint>

namespace durabook {

// Every number crossing the JS boundary is a JS number, so the engine keeps all prices,
// quantities and ids inside the safe-integer range; sums stay inside it too (see LEVEL_LIMIT).
constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1

enum class Side : uint8_t { Buy = 0, Sell = 1 };
enum class Tif : uint8_t { Gtc = 0, Ioc = 1, Fok = 2 };

enum class OrderStatus : uint8_t { New = 0, PartiallyFilled = 1, Filled = 2, Cancelled = 3, Rejected = 4 };

// Business outcomes: the command was valid, is logged, and the report says why it did not
// (fully) happen. Values are shared with lib/ (lib/native.ts keeps the same order).
enum class Reason : uint8_t {
  None = 0,
  PostOnlyWouldCross = 1,
  DuplicateOrderId = 2,
  UnknownOrder = 3,
  OrderLimit = 4,
  LevelLimit = 5,
};

// Why the core refused a command outright: it changes nothing, logs nothing, consumes no seq.
// lib/ validates first and throws with a friendlier message; this is the native side's own
// guard so that no input can corrupt the book even if it bypasses the TypeScript layer.
enum class CommandError : uint8_t {
  Ok = 0,
  BadId,
  BadQty,
  BadPrice,
  BadSide,
  BadTif,
  MissingPrice,
  MarketTif,        // market orders are immediate-or-cancel by definition
  PostOnlyNotGtc,   // postOnly only makes sense on a resting (limit gtc) order
  EmptyModify,      // neither price nor qty given
  UnknownSymbol,
  BadSymbolName,
  DuplicateSymbol,
  SymbolLimit,
  SeqMismatch,      // replay: a logged record's seq is not the next one
};

struct NewOrderCmd {
  int64_t id = 0;
  int64_t price = 0;  // limit price; protection price of a market order when hasPrice
  int64_t qty = 0;
  uint32_t symbol = 0;
  Side side = Side::Buy;
  Tif tif = Tif::Gtc;
  bool market = false;
  bool postOnly = false;
  bool hasPrice = false;
};

struct ModifyCmd {
  int64_t id = 0;
  int64_t price = 0;
  int64_t qty = 0;  // new remaining quantity
  bool hasPrice = false;
  bool hasQty = false;
};

struct Trade {
  int64_t makerId;
  int64_t takerId;
  int64_t price;
  int64_t qty;
};

// The outcome of one command. Its trades are trades()[tradeBegin, tradeBegin + tradeCount).
struct Report {
  uint64_t seq = 0;
  int64_t id = 0;
  int64_t filledQty = 0;
  int64_t remainingQty = 0;
  uint32_t tradeBegin = 0;
  uint32_t tradeCount = 0;
  OrderStatus status = OrderStatus::Rejected;
  Reason reason = Reason::None;
};

struct EngineLimits {
  uint32_t maxOrders = 10'000'000;
  uint32_t maxLevels = 1'000'000;  // per side of one book
  uint32_t maxSymbols = 65'536;
};

constexpr uint32_t kMaxSymbolNameBytes = 32;

}  // namespace durabook
