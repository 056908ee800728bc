// MatchingEngine: many symbols' books, the id index, the sequence counter and the engine
// clock. Each command is validated, given the next seq, handed to the journal, then applied;
// a command that fails validation changes nothing and consumes no seq.
//
// Trades of the commands since the last clearTrades() accumulate in trades(), so the per-call
// binding reads one command's trades and the batch binding many, without allocation.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "id_index.h"
#include "journal.h"
#include "order_book.h"
#include "order_pool.h"
#include "types.h"

namespace durabook {

struct LevelView {
  int64_t price;
  int64_t qty;
  uint32_t orders;
};

class MatchingEngine {
 public:
  explicit MatchingEngine(const EngineLimits& limits = {});

  // --- commands -------------------------------------------------------------------------
  CommandError addSymbol(std::string_view name, Report* r);
  CommandError submit(const NewOrderCmd& cmd, Report* r);
  CommandError cancel(int64_t id, Report* r);
  CommandError modify(const ModifyCmd& cmd, Report* r);

  // The checks submit()/modify()/cancel() make before applying anything, exposed so that a
  // batch can be refused whole before any of it applies.
  CommandError validateNew(const NewOrderCmd& c) const;
  static CommandError validateModify(const ModifyCmd& c);
  static CommandError validateCancel(int64_t id);

  // Sets the engine clock (microseconds). The change is logged with the next command.
  void setClock(int64_t ts) {
    if (ts != clock_) {
      clock_ = ts;
      clockDirty_ = true;
    }
  }
  int64_t clock() const { return clock_; }

  // A hint before submit/cancel/modify of `id`: starts loading the id index's line for it, so
  // that the miss overlaps whatever the caller does first (clock read, decoding the next command).
  void prefetchId(int64_t id) const { ids_.prefetch(id); }

  // Replay: the next command must carry exactly this seq (checked by the replay driver).
  uint64_t lastSeq() const { return seq_; }

  void setJournal(Journal* j) {
    journal_ = j;
    wal_ = j != nullptr ? j->asWalWriter() : nullptr;
  }
  std::vector<Trade>& trades() { return trades_; }
  void clearTrades() { trades_.clear(); }

  // --- queries --------------------------------------------------------------------------
  uint32_t symbolCount() const { return static_cast<uint32_t>(names_.size()); }
  const std::string& symbolName(uint32_t s) const { return names_[s]; }
  // Symbol index or UINT32_MAX.
  uint32_t findSymbol(std::string_view name) const;
  // Fills up to `n` levels per side, best first; returns counts through the out params.
  void depth(uint32_t symbol, uint32_t n, std::vector<LevelView>* bids, std::vector<LevelView>* asks) const;
  // Best level of a side, or false when the side is empty.
  bool best(uint32_t symbol, Side s, LevelView* out) const;
  const Order* findOrder(int64_t id) const;
  uint32_t restingOrders() const { return pool_.live(); }

  // 64-bit digest of the whole state: equal digests mean equal books, FIFO order, ids and seq.
  uint64_t digest() const;
  // Checks every structural invariant; returns an empty string when they hold, else what broke.
  std::string checkInvariants() const;

  // Conservation counters (quantity submitted = filled + resting + cancelled/killed/reduced).
  struct Totals {
    uint64_t submittedQty = 0;  // includes quantity added by modify qty-up
    uint64_t filledQty = 0;     // taker side of trades (= maker side)
    uint64_t removedQty = 0;    // cancelled, killed, reduced, or rejected-before-resting
  };
  const Totals& totals() const { return totals_; }

  const EngineLimits& limits() const { return limits_; }

  // --- snapshot support (snapshot.cc) ----------------------------------------------------
  // Visits resting orders symbol by symbol, bids then asks, levels worst to best, FIFO order.
  template <typename F>
  void forEachRestingOrder(F&& f) const {
    for (uint32_t s = 0; s < books_.size(); ++s) {
      const OrderBook& book = books_[s];
      for (Side side : {Side::Buy, Side::Sell}) {
        const BookSide& bs = book.side(side);
        for (size_t i = bs.size(); i-- > 0;)
          for (uint32_t o = book.level(bs.nth(i)).head; o != kNil; o = pool_[o].next) f(pool_[o]);
      }
    }
  }
  // Adds a symbol without logging or consuming a seq.
  bool restoreSymbol(std::string_view name);
  // Appends a resting order at the back of its level, without matching or logging. Returns
  // false (changing nothing) for a live duplicate id or a level total past the safe range.
  bool restoreOrder(const Order& o);
  void restoreCounters(uint64_t seq, int64_t clock, const Totals& totals) {
    seq_ = seq;
    clock_ = clock;
    clockDirty_ = false;
    totals_ = totals;
  }
  // Back to an empty engine (no symbols, seq 0).
  void reset();

 private:
  void beginCommand(Report* r, int64_t id);
  // Matches `qty` of a taker against the opposite side; returns the quantity left.
  int64_t match(OrderBook& book, Side takerSide, bool hasLimit, int64_t limit, int64_t qty, int64_t takerId);
  bool crossesBest(const OrderBook& book, Side takerSide, int64_t limit) const;
  int64_t availableAgainst(const OrderBook& book, Side takerSide, bool hasLimit, int64_t limit, int64_t need) const;
  // Rests a remainder; on failure reports the reason and returns false (nothing rests).
  bool rest(uint32_t symbol, Side side, int64_t id, int64_t price, int64_t qty, bool postOnly, Reason* why);
  void finishTaker(Report* r, int64_t qty, int64_t left, bool canRest, const NewOrderCmd& c);
  void logClockIfDirty();
  // Calls log(journal) with the journal, if there is one: the WAL writer by its own type, so
  // that the call inlines (Journal::asWalWriter); any other journal through the interface.
  template <typename Log>
  void toJournal(Log&& log);

  EngineLimits limits_;
  std::vector<OrderBook> books_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> symbolIndex_;
  OrderPool pool_;
  IdIndex ids_;
  std::vector<Trade> trades_;
  Journal* journal_ = nullptr;
  WalWriter* wal_ = nullptr;  // journal_->asWalWriter()
  uint64_t seq_ = 0;
  int64_t clock_ = 0;
  bool clockDirty_ = false;
  Totals totals_;
};

}  // namespace durabook
