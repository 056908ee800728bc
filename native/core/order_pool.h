// OrderPool: storage for resting orders, addressed by 32-bit slot index, with a free list.
// Slots are reused, so a steady-state book allocates nothing per order; the vector grows
// (doubling) only when more orders rest at once than ever before.
#pragma once
#include <cstdint>
#include <vector>

#include "types.h"

namespace durabook {

constexpr uint32_t kNil = UINT32_MAX;

struct Order {
  int64_t id;
  int64_t price;
  int64_t qty;   // remaining (resting) quantity; > 0 while the order rests
  int64_t ts;    // engine clock when it entered its current queue position
  uint32_t prev; // FIFO neighbours within the level (kNil at the ends)
  uint32_t next;
  uint32_t level;  // PriceLevel id within the symbol's book
  uint32_t symbol;
  Side side;
  bool postOnly;
};

class OrderPool {
 public:
  uint32_t allocate() {
    if (freeHead_ != kNil) {
      uint32_t i = freeHead_;
      freeHead_ = orders_[i].next;
      ++live_;
      return i;
    }
    orders_.emplace_back();
    ++live_;
    return static_cast<uint32_t>(orders_.size() - 1);
  }

  void release(uint32_t i) {
    orders_[i].next = freeHead_;
    orders_[i].id = 0;
    freeHead_ = i;
    --live_;
  }

  Order& operator[](uint32_t i) { return orders_[i]; }
  const Order& operator[](uint32_t i) const { return orders_[i]; }
  uint32_t live() const { return live_; }
  size_t slots() const { return orders_.size(); }
  void reserve(size_t n) { orders_.reserve(n); }
  void clear() {
    orders_.clear();
    freeHead_ = kNil;
    live_ = 0;
  }

 private:
  std::vector<Order> orders_;
  uint32_t freeHead_ = kNil;
  uint32_t live_ = 0;
};

}  // namespace durabook
