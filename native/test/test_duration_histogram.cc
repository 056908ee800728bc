#include <cstdint>

#include "check.h"
#include "duration_histogram.h"

using namespace durabook;

TEST(duration_histogram_buckets_tile_the_range_and_are_narrow) {
  using H = DurationHistogram;
  // Every bucket starts right after the previous one ends: no value falls between two.
  CHECK_EQ(H::bucketLow(0), uint64_t{0});
  for (size_t b = 1; b < H::kBuckets; ++b) CHECK_EQ(H::bucketLow(b), H::bucketHigh(b - 1) + 1);
  // A value lands in the bucket that holds it; a bucket is at most 1/kSub of its floor wide.
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{15}, uint64_t{16}, uint64_t{17}, uint64_t{100},
                     uint64_t{1023}, uint64_t{1024}, uint64_t{299'999}, uint64_t{12'345'678},
                     (uint64_t{1} << 39) + 5, (uint64_t{1} << 40) - 1}) {
    const size_t b = H::bucketOf(v);
    CHECK(b < H::kBuckets);
    CHECK(H::bucketLow(b) <= v);
    CHECK(v <= H::bucketHigh(b));
    // (The last bucket also takes everything beyond the range, so it has no top.)
    if (v >= 2 * H::kSub && b + 1 < H::kBuckets) CHECK((H::bucketHigh(b) - H::bucketLow(b) + 1) * H::kSub <= H::bucketLow(b));
  }
  // Beyond the range: the last bucket, never an index past the end.
  CHECK_EQ(H::bucketOf(uint64_t{1} << 40), H::kBuckets - 1);
  CHECK_EQ(H::bucketOf(UINT64_MAX), H::kBuckets - 1);
}

TEST(duration_histogram_quantiles_bound_the_truth_from_above) {
  DurationHistogram h;
  CHECK_EQ(h.snapshot().quantile(0.99), uint64_t{0});  // no samples
  // 1..1000 us: the true p50 is 500 us, p99 990 us.
  for (uint64_t us = 1; us <= 1000; ++us) h.record(us * 1000);
  const DurationHistogram::Snapshot s = h.snapshot();
  CHECK_EQ(s.count, uint64_t{1000});
  CHECK_EQ(s.totalNs, uint64_t{500'500'000});
  CHECK_EQ(s.maxNs, uint64_t{1'000'000});
  CHECK(s.quantile(0.5) >= 500'000);
  CHECK(s.quantile(0.5) <= 500'000 + 500'000 / 8);
  CHECK(s.quantile(0.99) >= 990'000);
  CHECK(s.quantile(0.99) <= 1'000'000);  // capped at the maximum
  CHECK_EQ(s.quantile(1.0), uint64_t{1'000'000});
}

TEST(duration_histogram_time_quantile_weighs_long_samples_by_their_length) {
  // 990 syncs of 200 us and 10 of 50 ms: by count the p99 is a short one; by time, the long
  // ones are 72% of all syncing, so a random moment most likely falls inside one of them.
  DurationHistogram h;
  for (int i = 0; i < 990; ++i) h.record(200'000);
  for (int i = 0; i < 10; ++i) h.record(50'000'000);
  const DurationHistogram::Snapshot s = h.snapshot();
  CHECK(s.quantile(0.99) < 250'000);
  CHECK(s.quantile(0.999) >= 50'000'000);
  CHECK(s.timeQuantile(0.25) < 250'000);    // 28% of the time is short syncs
  CHECK(s.timeQuantile(0.5) >= 50'000'000);
  CHECK(s.timeQuantile(0.99) >= 50'000'000);
  CHECK(s.timeQuantile(0.99) <= 50'000'000);  // capped at the maximum
}

TEST(duration_histogram_since_describes_only_the_later_samples) {
  // 1000 samples of 100 us and one of 50 ms, a snapshot, then 100 of 1 ms.
  DurationHistogram h;
  for (int i = 0; i < 1000; ++i) h.record(100'000);
  h.record(50'000'000);
  const DurationHistogram::Snapshot a = h.snapshot();
  for (int i = 0; i < 100; ++i) h.record(1'000'000);
  const DurationHistogram::Snapshot b = h.snapshot();
  const DurationHistogram::Snapshot d = b.since(a);
  CHECK_EQ(d.count, uint64_t{100});
  CHECK_EQ(d.totalNs, uint64_t{100'000'000});
  CHECK(d.quantile(0.5) >= 1'000'000);
  CHECK(d.quantile(0.5) <= 1'000'000 + 1'000'000 / 8);
  CHECK(b.quantile(0.5) < 1'000'000);  // since the start: mostly the 100 us samples
  // The interval's maximum is its own (the 50 ms sample came before it), within a bucket.
  CHECK(d.maxNs >= 1'000'000);
  CHECK(d.maxNs <= 1'000'000 + 1'000'000 / 8);
  CHECK(d.timeQuantile(0.99) <= d.maxNs);
  // Nothing in between: an empty interval, all zeros; the wrong way round: empty too.
  const DurationHistogram::Snapshot none = b.since(b);
  CHECK_EQ(none.count, uint64_t{0});
  CHECK_EQ(none.maxNs, uint64_t{0});
  CHECK_EQ(none.quantile(0.99), uint64_t{0});
  CHECK_EQ(a.since(b).count, uint64_t{0});
  CHECK_EQ(countSince(5, 7), uint64_t{0});
}
