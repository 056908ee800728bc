#include "order_book.h"

#include <algorithm>
#include <cassert>

namespace durabook {

size_t BookSide::locate(int64_t price, bool* found) const {
  const size_t n = prices_.size();
  // Most prices touched are near the top: scan the last few before bisecting.
  constexpr size_t kScan = 8;
  size_t i = n;
  for (size_t k = 0; k < kScan && i > 0; ++k) {
    int64_t p = prices_[i - 1];
    if (p == price) {
      *found = true;
      return i - 1;
    }
    // Moving towards the front means moving away from the best price.
    if (better(price, p)) {
      *found = false;
      return i;
    }
    --i;
  }
  // prices_ ascends for bids and descends for asks; bisect in [0, i).
  size_t pos;
  if (side_ == Side::Buy) {
    pos = static_cast<size_t>(std::lower_bound(prices_.begin(), prices_.begin() + i, price) - prices_.begin());
  } else {
    pos = static_cast<size_t>(
        std::lower_bound(prices_.begin(), prices_.begin() + i, price, std::greater<int64_t>()) - prices_.begin());
  }
  *found = pos < i && prices_[pos] == price;
  return pos;
}

uint32_t BookSide::find(int64_t price) const {
  bool found;
  size_t pos = locate(price, &found);
  return found ? levelIds_[pos] : kNil;
}

void BookSide::insertAt(size_t pos, int64_t price, uint32_t levelId) {
  prices_.insert(prices_.begin() + static_cast<ptrdiff_t>(pos), price);
  levelIds_.insert(levelIds_.begin() + static_cast<ptrdiff_t>(pos), levelId);
}

void BookSide::erase(int64_t price) {
  bool found;
  size_t pos = locate(price, &found);
  // Invariant: a level being removed is present on its side.
  assert(found);
  prices_.erase(prices_.begin() + static_cast<ptrdiff_t>(pos));
  levelIds_.erase(levelIds_.begin() + static_cast<ptrdiff_t>(pos));
}

uint32_t OrderBook::newLevel(int64_t price) {
  uint32_t id;
  if (!freeLevels_.empty()) {
    id = freeLevels_.back();
    freeLevels_.pop_back();
  } else {
    levels_.emplace_back();
    id = static_cast<uint32_t>(levels_.size() - 1);
  }
  levels_[id] = PriceLevel{price, 0, 0, kNil, kNil};
  return id;
}

bool OrderBook::append(OrderPool& pool, uint32_t o, uint32_t maxLevels) {
  Order& ord = pool[o];
  BookSide& bs = side(ord.side);
  bool found;
  size_t pos = bs.locate(ord.price, &found);
  uint32_t lid;
  if (found) {
    lid = bs.nth(bs.size() - 1 - pos);
    // Invariant: a level's total stays a safe integer, so depth() never rounds.
    if (levels_[lid].qty > kMaxSafeInteger - ord.qty) return false;
  } else {
    if (bs.size() >= maxLevels) return false;
    lid = newLevel(ord.price);
    bs.insertAt(pos, ord.price, lid);
  }
  PriceLevel& L = levels_[lid];
  ord.level = lid;
  ord.prev = L.tail;
  ord.next = kNil;
  if (L.tail != kNil) pool[L.tail].next = o; else L.head = o;
  L.tail = o;
  L.qty += ord.qty;
  ++L.count;
  return true;
}

void OrderBook::remove(OrderPool& pool, uint32_t o) {
  Order& ord = pool[o];
  BookSide& bs = side(ord.side);
  uint32_t lid = ord.level;
  PriceLevel& L = levels_[lid];
  if (ord.prev != kNil) pool[ord.prev].next = ord.next; else L.head = ord.next;
  if (ord.next != kNil) pool[ord.next].prev = ord.prev; else L.tail = ord.prev;
  L.qty -= ord.qty;
  if (--L.count == 0) {
    // The empty level leaves its side: O(1) at the top of the book, a bisect deeper down.
    if (bs.best() == lid) bs.popBest(); else bs.erase(ord.price);
    freeLevel(lid);
  }
}

void OrderBook::reduce(OrderPool& pool, uint32_t o, int64_t newQty) {
  Order& ord = pool[o];
  uint32_t lid = ord.level;
  // Invariant: reduce only shrinks a resting order; a cancel or fill removes it instead.
  assert(newQty > 0 && newQty < ord.qty);
  levels_[lid].qty -= ord.qty - newQty;
  ord.qty = newQty;
}

}  // namespace durabook
