// OrderBook: the price levels of one symbol. Each side keeps its levels in a vector sorted so
// that the best price is at the back: the top of the book, where nearly all activity is, is
// popped and pushed in O(1) and found by a short scan, while any safe-integer price (negative
// or far away) still works through binary search. Orders at a level form an intrusive FIFO
// through the shared OrderPool, which makes cancel O(1) once the id index gave the slot.
#pragma once
#include <cstdint>
#include <vector>

#include "order_pool.h"
#include "types.h"

namespace durabook {

struct PriceLevel {
  int64_t price;
  int64_t qty;      // sum of the orders' remaining quantities; <= kMaxSafeInteger
  uint32_t count;   // orders in the FIFO
  uint32_t head;    // oldest order (matched first)
  uint32_t tail;    // newest order
};

class BookSide {
 public:
  // Bids keep ascending prices (best = highest = back); asks descending (best = lowest = back).
  explicit BookSide(Side s) : side_(s) {}

  bool empty() const { return levelIds_.empty(); }
  size_t size() const { return levelIds_.size(); }
  uint32_t best() const { return levelIds_.back(); }
  // i-th best level (0 = best).
  uint32_t nth(size_t i) const { return levelIds_[levelIds_.size() - 1 - i]; }
  int64_t nthPrice(size_t i) const { return prices_[prices_.size() - 1 - i]; }

  // Index in the sorted vectors where price is or would be inserted; sets found.
  size_t locate(int64_t price, bool* found) const;
  uint32_t find(int64_t price) const;  // level id or kNil
  void insertAt(size_t pos, int64_t price, uint32_t levelId);
  void popBest() {
    levelIds_.pop_back();
    prices_.pop_back();
  }
  void erase(int64_t price);
  void clear() {
    levelIds_.clear();
    prices_.clear();
  }

  // True when `price` is better than `other` for this side (higher bid, lower ask).
  bool better(int64_t price, int64_t other) const {
    return side_ == Side::Buy ? price > other : price < other;
  }

 private:
  Side side_;
  std::vector<int64_t> prices_;     // sorted, best at back
  std::vector<uint32_t> levelIds_;  // parallel to prices_
};

class OrderBook {
 public:
  OrderBook() : bids_(Side::Buy), asks_(Side::Sell) {}

  BookSide& side(Side s) { return s == Side::Buy ? bids_ : asks_; }
  const BookSide& side(Side s) const { return s == Side::Buy ? bids_ : asks_; }
  PriceLevel& level(uint32_t id) { return levels_[id]; }
  const PriceLevel& level(uint32_t id) const { return levels_[id]; }

  // Appends order slot `o` (price, qty, side already set) at the back of its level, creating
  // the level if needed. Returns false, changing nothing, if a new level would exceed
  // maxLevels or the level's total would leave the safe-integer range.
  bool append(OrderPool& pool, uint32_t o, uint32_t maxLevels);
  // Unlinks order slot `o` from its level (removing the level when it empties).
  void remove(OrderPool& pool, uint32_t o);
  // Reduces a resting order's quantity in place (priority kept). Invariant: 0 < newQty < qty.
  void reduce(OrderPool& pool, uint32_t o, int64_t newQty);
  // Removes the best level of a side once matching emptied it.
  void dropBest(Side s) {
    BookSide& bs = side(s);
    freeLevel(bs.best());
    bs.popBest();
  }

  void clear() {
    bids_.clear();
    asks_.clear();
    levels_.clear();
    freeLevels_.clear();
  }

 private:
  uint32_t newLevel(int64_t price);
  void freeLevel(uint32_t id) { freeLevels_.push_back(id); }

  BookSide bids_;
  BookSide asks_;
  std::vector<PriceLevel> levels_;
  std::vector<uint32_t> freeLevels_;
};

}  // namespace durabook
