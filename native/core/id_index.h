// IdIndex: order id -> order slot, an open-addressing hash table with linear probing and
// backward-shift deletion (no tombstones, so probe chains never rot under churn).
//
// Why not std::unordered_map: one allocation per node and a pointer chase per lookup; this
// table allocates only when it grows, and a lookup is usually one cache line.
#pragma once
#include <cassert>
#include <cstdint>
#include <memory>

namespace durabook {

class IdIndex {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  explicit IdIndex(uint32_t initialCapacity = 1024) { allocate(roundUp(initialCapacity)); }

  uint32_t size() const { return size_; }

  uint32_t find(int64_t id) const {
    for (uint64_t i = home(id);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == id) return s.value;
      if (s.id == 0) return kNotFound;
    }
  }

  // Starts loading the cache line where a probe for `id` begins (a hint: no effect on state).
  void prefetch(int64_t id) const { __builtin_prefetch(&slots_[home(id)]); }

  // Invariant: id > 0 and not present.
  void insert(int64_t id, uint32_t value) {
    assert(id > 0);
    if ((size_ + 1) * 2 > capacity()) grow();
    for (uint64_t i = home(id);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id == 0) {
        s.id = id;
        s.value = value;
        ++size_;
        return;
      }
      assert(s.id != id);
    }
  }

  // Updates the slot of a present id (an order moved in the pool).
  void update(int64_t id, uint32_t value) {
    for (uint64_t i = home(id);; i = (i + 1) & mask_) {
      if (slots_[i].id == id) {
        slots_[i].value = value;
        return;
      }
      assert(slots_[i].id != 0);
    }
  }

  bool erase(int64_t id) {
    uint64_t i = home(id);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].id == id) break;
      if (slots_[i].id == 0) return false;
    }
    // Backward shift: pull later members of the cluster into the hole when their home
    // position allows it, so that every key stays reachable from its home without tombstones.
    uint64_t hole = i;
    for (uint64_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const Slot& s = slots_[j];
      if (s.id == 0) break;
      uint64_t h = home(s.id);
      // s may move to the hole iff its home is not cyclically inside (hole, j].
      bool homeInRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (!homeInRange) {
        slots_[hole] = s;
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
  }

  void clear() {
    for (uint64_t i = 0; i <= mask_; ++i) slots_[i] = Slot{};
    size_ = 0;
  }

  uint64_t capacity() const { return mask_ + 1; }
  size_t memoryBytes() const { return capacity() * sizeof(Slot); }

  template <typename F>
  void forEach(F&& f) const {
    for (uint64_t i = 0; i <= mask_; ++i)
      if (slots_[i].id != 0) f(slots_[i].id, slots_[i].value);
  }

 private:
  struct Slot {
    int64_t id = 0;  // 0 marks an empty slot: ids are > 0
    uint32_t value = 0;
  };

  static uint64_t roundUp(uint64_t n) {
    uint64_t c = 16;
    while (c < n) c <<= 1;
    return c;
  }

  // Blocks of 8 consecutive ids share 8 consecutive slots (two cache lines); the blocks
  // themselves are spread by Fibonacci hashing. Callers mostly use rising ids, so a new id
  // usually lands next to the last one instead of on a cold line, while ids in any other
  // pattern (strided, sparse, adversarial multiples) still scatter across the table.
  uint64_t home(int64_t id) const {
    const uint64_t u = static_cast<uint64_t>(id);
    return (((u >> 3) * 0x9E3779B97F4A7C15ull) >> (shift_ + 3) << 3) | (u & 7);
  }

  void allocate(uint64_t cap) {
    slots_ = std::make_unique<Slot[]>(cap);
    mask_ = cap - 1;
    shift_ = 64 - __builtin_ctzll(cap);
    size_ = 0;
  }

  void grow() {
    std::unique_ptr<Slot[]> old = std::move(slots_);
    uint64_t oldCap = mask_ + 1;
    allocate(oldCap * 2);
    for (uint64_t i = 0; i < oldCap; ++i)
      if (old[i].id != 0) insert(old[i].id, old[i].value);
  }

  std::unique_ptr<Slot[]> slots_;
  uint64_t mask_ = 0;
  unsigned shift_ = 0;
  uint32_t size_ = 0;
};

}  // namespace durabook
