// DurationHistogram: how long the WAL writer's fdatasync calls took, kept by the writer as it
// runs, so that a durable-ack tail can be set beside the syncs that made it (a probe run before
// or after measures another disk moment: on a shared virtual disk the two differ by 10x).
//
// Log-linear buckets, HDR-style: below 2^kSubBits ns one bucket per nanosecond, then kSub
// buckets per power of two, so a bucket is at most 1/kSub (12.5%) wide relative to its floor.
//
//   value  0 .. 7        | 8 .. 15      | 16 .. 31     | ... | 2^k .. 2^(k+1)-1
//   index  0 .. 7        | 8 .. 15      | 16 .. 23     | ... | 8(k-2) .. 8(k-2)+7
//          (one per ns)    (one per ns)   (2 ns wide)          (2^(k-3) ns wide)
//
// Threads: one recorder (the writer thread); snapshot() from any thread. Each counter is a
// relaxed atomic written only by the recorder (a load and a store, no locked RMW), so a reader
// may see a snapshot that is a few samples behind, or whose count and buckets disagree by a
// sample in flight; never a torn value.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace durabook {

// A monotonic counter's growth from `earlier` to `later`, two reads of it in that order. Saturates,
// so that reads passed in the wrong order give 0 rather than a count near 2^64.
inline uint64_t countSince(uint64_t later, uint64_t earlier) { return later > earlier ? later - earlier : 0; }

class DurationHistogram {
 public:
  static constexpr unsigned kSubBits = 3;
  static constexpr uint64_t kSub = 1u << kSubBits;
  // Values of 2^kMaxBits ns (~18 minutes) and more share the last bucket.
  static constexpr unsigned kMaxBits = 40;
  static constexpr size_t kBuckets = (kMaxBits - kSubBits + 1) * kSub;

  static size_t bucketOf(uint64_t ns) {
    if (ns < 2 * kSub) return static_cast<size_t>(ns);
    const unsigned k = static_cast<unsigned>(std::bit_width(ns)) - 1;  // 2^k <= ns < 2^(k+1)
    if (k >= kMaxBits) return kBuckets - 1;
    const uint64_t sub = (ns >> (k - kSubBits)) & (kSub - 1);
    return (k - kSubBits + 1) * kSub + static_cast<size_t>(sub);
  }
  // Smallest and largest value a bucket holds.
  static uint64_t bucketLow(size_t b) {
    if (b < 2 * kSub) return b;
    const unsigned k = static_cast<unsigned>(b / kSub) + kSubBits - 1;
    return (uint64_t{1} << k) + (uint64_t{b % kSub} << (k - kSubBits));
  }
  static uint64_t bucketHigh(size_t b) { return b + 1 == kBuckets ? UINT64_MAX : bucketLow(b + 1) - 1; }

  // What a reader gets: plain numbers, and the statistics derived from them.
  struct Snapshot {
    uint64_t count = 0;
    uint64_t totalNs = 0;
    uint64_t maxNs = 0;
    std::array<uint64_t, kBuckets> buckets{};

    // The q-quantile of the samples (0 < q <= 1), as the top of its bucket, capped at the
    // maximum: never below the true quantile, at most 12.5% above it. 0 with no samples.
    uint64_t quantile(double q) const;
    // The same, but each sample weighted by its own duration: the duration of the sync in
    // progress at a moment picked at random in the writer's syncing time. Under a steady stream
    // of durable waits, that is the sync a random wait runs into, so a few long syncs weigh as
    // much as the many waits they held up (a count quantile gives them their count only).
    uint64_t timeQuantile(double q) const;
    // The samples recorded after `earlier`, a snapshot of the same histogram taken before this
    // one: count, total and buckets are differences, so every statistic above then describes
    // that interval alone (a monitor's "last minute" rather than "since open"). An interval's
    // largest sample is not kept; maxNs is the top of its highest bucket, capped at this
    // snapshot's maxNs: never below the truth, at most 12.5% above it, like the quantiles.
    Snapshot since(const Snapshot& earlier) const;

   private:
    // A bucket's samples' total duration, from its midpoint (their own durations are not
    // kept): within the bucket width, as the quantile itself is.
    double weight(size_t b) const {
      const double mid = (static_cast<double>(bucketLow(b)) + static_cast<double>(std::min(bucketHigh(b), maxNs))) / 2;
      return mid * static_cast<double>(buckets[b]);
    }
  };

  void record(uint64_t ns) {
    bump(buckets_[bucketOf(ns)], 1);
    bump(count_, 1);
    bump(total_ns_, ns);
    if (ns > max_ns_.load(std::memory_order_relaxed)) max_ns_.store(ns, std::memory_order_relaxed);
  }

  Snapshot snapshot() const {
    Snapshot s;
    s.count = count_.load(std::memory_order_relaxed);
    s.totalNs = total_ns_.load(std::memory_order_relaxed);
    s.maxNs = max_ns_.load(std::memory_order_relaxed);
    for (size_t b = 0; b < kBuckets; ++b) s.buckets[b] = buckets_[b].load(std::memory_order_relaxed);
    return s;
  }

 private:
  // Single recorder: a plain read-modify-write, visible to readers as one store.
  static void bump(std::atomic<uint64_t>& c, uint64_t by) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> total_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
};

inline uint64_t DurationHistogram::Snapshot::quantile(double q) const {
  uint64_t n = 0;
  for (uint64_t c : buckets) n += c;
  if (n == 0) return 0;
  // The rank of the quantile sample, 1-based: ceil(q * n), at least 1.
  double want = q * static_cast<double>(n);
  uint64_t rank = static_cast<uint64_t>(want);
  if (static_cast<double>(rank) < want) ++rank;
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += buckets[b];
    if (seen >= rank) return std::min(bucketHigh(b), maxNs);
  }
  return maxNs;
}

inline uint64_t DurationHistogram::Snapshot::timeQuantile(double q) const {
  double total = 0;
  for (size_t b = 0; b < kBuckets; ++b) total += weight(b);
  if (total <= 0) return quantile(q);  // only zero-length samples
  const double want = q * total;
  double seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    if (buckets[b] == 0) continue;
    seen += weight(b);
    if (seen >= want) return std::min(bucketHigh(b), maxNs);
  }
  return maxNs;
}

inline DurationHistogram::Snapshot DurationHistogram::Snapshot::since(const Snapshot& earlier) const {
  Snapshot d;
  d.count = countSince(count, earlier.count);
  d.totalNs = countSince(totalNs, earlier.totalNs);
  size_t top = kBuckets;
  for (size_t b = 0; b < kBuckets; ++b) {
    d.buckets[b] = countSince(buckets[b], earlier.buckets[b]);
    if (d.buckets[b] != 0) top = b;
  }
  d.maxNs = top == kBuckets ? 0 : std::min(bucketHigh(top), maxNs);
  return d;
}

}  // namespace durabook
