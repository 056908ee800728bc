#include <chrono>
#include <cstdint>
#include <thread>

#include <sys/resource.h>

#include "check.h"
#include "spsc_ring.h"

using namespace durabook;

namespace {

// ThreadSanitizer slows the hand-off ~15x; a few million values still interleave plenty.
#if defined(__SANITIZE_THREAD__)
constexpr uint64_t kStressCount = 4'000'000;
#else
constexpr uint64_t kStressCount = 20'000'000;
#endif

// Busy-waits a little, then yields: with two cores and two threads spinning, a thread that
// never yields can starve the very thread it waits for when the scheduler co-locates them.
struct Backoff {
  unsigned spins = 0;
  void pause() {
    if (++spins < 64) return;
    spins = 0;
    std::this_thread::yield();
  }
  void reset() { spins = 0; }
};

}  // namespace

TEST(ring_capacity_rounds_up_to_power_of_two) {
  CHECK_EQ(SpscRing<int>(0).capacity(), size_t{1});
  CHECK_EQ(SpscRing<int>(1).capacity(), size_t{1});
  CHECK_EQ(SpscRing<int>(3).capacity(), size_t{4});
  CHECK_EQ(SpscRing<int>(8).capacity(), size_t{8});
  CHECK_EQ(SpscRing<int>(9).capacity(), size_t{16});
  CHECK_EQ(SpscRing<int>(1000).capacity(), size_t{1024});
}

TEST(ring_indices_on_separate_cache_lines) {
  // Two index lines, two cached-copy lines, one line of read-only fields.
  CHECK(alignof(SpscRing<int>) >= 64);
  CHECK(sizeof(SpscRing<int>) >= 5 * 64);
}

#if defined(__linux__) && defined(RUSAGE_THREAD)
// The producer's first lap must not fault pages in: a minor fault is a microsecond or more on
// the matching thread, one per 4 KiB of slots. Left to first touch, these 2^20 slots of 64
// bytes take 16,384 faults here (64 MiB: above glibc's largest mmap threshold, so always a
// fresh mapping, never reused heap that an earlier test has touched).
TEST(ring_first_lap_takes_no_page_faults) {
  struct Line {
    uint8_t bytes[64];
  };
  SpscRing<Line> r(size_t{1} << 20);
  rusage before{}, after{};
  getrusage(RUSAGE_THREAD, &before);
  for (size_t i = 0; i < r.capacity(); ++i) {
    Line* s = r.try_reserve();
    CHECK(s != nullptr);
    s->bytes[0] = static_cast<uint8_t>(i);
    s->bytes[63] = static_cast<uint8_t>(i);
    r.commit();
  }
  getrusage(RUSAGE_THREAD, &after);
  // A few faults of this thread's own (its stack, the allocator) may land in the window.
  CHECK(after.ru_minflt - before.ru_minflt < 8);
}
#endif

TEST(ring_empty_and_full) {
  SpscRing<int> r(4);
  CHECK(r.empty());
  CHECK_EQ(r.read_available(), size_t{0});
  CHECK(r.front() == nullptr);
  CHECK(r.peek(0) == nullptr);
  for (int i = 0; i < 4; ++i) CHECK(r.try_push(i));
  // Full uses every slot: free-running indices need no sentinel slot.
  CHECK(!r.try_push(99));
  CHECK(r.try_reserve() == nullptr);
  CHECK(!r.empty());
  CHECK_EQ(r.read_available(), size_t{4});
  REQUIRE(r.front() != nullptr);
  CHECK_EQ(*r.front(), 0);
  r.pop();
  CHECK(r.try_push(4));
  CHECK(!r.try_push(5));
  for (int want = 1; want <= 4; ++want) {
    REQUIRE(r.front() != nullptr);
    CHECK_EQ(*r.front(), want);
    r.pop();
  }
  CHECK(r.empty());
  CHECK(r.front() == nullptr);
}

TEST(ring_wraps_around_many_times) {
  SpscRing<uint64_t> r(8);
  uint64_t next_in = 0, next_out = 0;
  // Uneven batch sizes so the head and tail meet at every slot index.
  for (int round = 0; round < 1000; ++round) {
    const int n_in = 1 + round % 8;
    for (int i = 0; i < n_in; ++i) {
      if (!r.try_push(next_in)) break;
      ++next_in;
    }
    const size_t n_out = r.read_available() > 3 ? r.read_available() - 3 : r.read_available();
    for (size_t i = 0; i < n_out; ++i) {
      REQUIRE(r.front() != nullptr);
      CHECK_EQ(*r.front(), next_out);
      ++next_out;
      r.pop();
    }
  }
  while (const uint64_t* v = r.front()) {
    CHECK_EQ(*v, next_out);
    ++next_out;
    r.pop();
  }
  CHECK_EQ(next_in, next_out);
  CHECK(next_in > 1000);
}

TEST(ring_reserve_commit_is_invisible_until_commit) {
  SpscRing<int> r(2);
  int* slot = r.try_reserve();
  REQUIRE(slot != nullptr);
  *slot = 42;
  CHECK_EQ(r.read_available(), size_t{0});
  CHECK(r.front() == nullptr);
  CHECK(r.empty());
  // Reserving again before commit hands back the same slot, not a second one.
  CHECK(r.try_reserve() == slot);
  r.commit();
  CHECK_EQ(r.read_available(), size_t{1});
  REQUIRE(r.front() != nullptr);
  CHECK_EQ(*r.front(), 42);

  int* second = r.try_reserve();
  REQUIRE(second != nullptr);
  CHECK(second != slot);
  *second = 43;
  r.commit();
  CHECK(r.try_reserve() == nullptr);  // full: the unpopped 42 still holds its slot
  r.pop();
  int* third = r.try_reserve();
  CHECK(third == slot);  // capacity 2: the freed slot comes round again
}

TEST(ring_peek_and_batch_pop) {
  SpscRing<int> r(8);
  for (int i = 0; i < 6; ++i) CHECK(r.try_push(100 + i));
  CHECK_EQ(r.read_available(), size_t{6});
  for (size_t i = 0; i < 6; ++i) {
    const int* v = r.peek(i);
    REQUIRE(v != nullptr);
    CHECK_EQ(*v, 100 + static_cast<int>(i));
  }
  CHECK(r.peek(6) == nullptr);
  CHECK_EQ(r.read_available(), size_t{6});  // peeking consumed nothing
  r.pop(4);
  CHECK_EQ(r.read_available(), size_t{2});
  REQUIRE(r.peek(0) != nullptr);
  CHECK_EQ(*r.peek(0), 104);
  // Pushes after the consumer's last look become visible to peek without read_available().
  for (int i = 6; i < 12; ++i) CHECK(r.try_push(100 + i));
  REQUIRE(r.peek(7) != nullptr);
  CHECK_EQ(*r.peek(7), 111);
  CHECK(r.peek(8) == nullptr);
  r.pop(8);
  CHECK(r.empty());
}

TEST(ring_front_is_writable_in_place) {
  SpscRing<int> r(4);
  CHECK(r.try_push(1));
  int* f = r.front();
  REQUIRE(f != nullptr);
  *f = 7;  // the consumer owns the slot until pop()
  CHECK_EQ(*r.peek(0), 7);
}

// Moves kStressCount sequential values through a tiny ring between two threads. Each side
// alternates between its two APIs (push vs reserve/commit; front/pop vs peek/pop(n)) so both
// publication paths race against both consumption paths.
TEST(ring_two_thread_stress) {
  SpscRing<uint64_t> r(16);
  REQUIRE(r.capacity() == 16);
  const auto start = std::chrono::steady_clock::now();

  std::thread producer([&] {
    Backoff backoff;
    for (uint64_t i = 0; i < kStressCount;) {
      if ((i & 1) == 0) {
        if (r.try_push(i)) {
          ++i;
          backoff.reset();
          continue;
        }
      } else if (uint64_t* slot = r.try_reserve()) {
        *slot = i;
        r.commit();
        ++i;
        backoff.reset();
        continue;
      }
      backoff.pause();
    }
  });

  uint64_t expected = 0;
  uint64_t mismatches = 0;
  Backoff backoff;
  bool batch = false;
  while (expected < kStressCount) {
    if (batch) {
      const size_t n = r.read_available();
      if (n == 0) {
        backoff.pause();
        continue;
      }
      for (size_t i = 0; i < n; ++i) {
        if (*r.peek(i) != expected + i) ++mismatches;
      }
      r.pop(n);
      expected += n;
    } else {
      const uint64_t* v = r.front();
      if (v == nullptr) {
        backoff.pause();
        continue;
      }
      if (*v != expected) ++mismatches;
      r.pop();
      ++expected;
    }
    backoff.reset();
    batch = !batch;
  }
  producer.join();

  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "  %llu values in %.2f s (%.1f M/s)\n",
               static_cast<unsigned long long>(kStressCount), secs, kStressCount / secs / 1e6);
  CHECK_EQ(mismatches, uint64_t{0});
  CHECK_EQ(expected, kStressCount);
  CHECK(r.empty());
}
