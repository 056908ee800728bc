// The invariant checker bites: MatchingEngine::checkInvariants() is what the `checkInvariants`
// engine option runs after every command (and what load_snapshot runs on a loaded state), so a
// checker that never fails would make all of those checks worthless. Each test here builds a
// healthy book through the public API, checks that it passes, corrupts exactly one thing and
// checks that checkInvariants() names that invariant, word for word. Every message the checker
// can produce is covered (kAllInvariants lists them; the last test checks the list is complete
// against what the tests saw).
//
// How the state is corrupted, without a test hook in the engine:
//  - public snapshot-support methods (restoreOrder, restoreCounters): a crossed book, broken
//    quantity conservation;
//  - findOrder() hands out a const pointer into the engine's order pool; the pool itself is not
//    const, so writing through const_cast is well defined: wrong quantities, links, levels, ids;
//  - the engine's private books, pool and id index, reached through a member pointer named in
//    an explicit template instantiation (access checks do not apply there, [temp.spec.general]):
//    level fields and the sorted price lists, which no public method hands out.
#include <set>
#include <string>
#include <vector>

#include "check.h"
#include "matching_engine.h"

using namespace durabook;

namespace {

// --- access to private members (standard C++: explicit instantiation ignores access) -------
template <typename Tag, typename Tag::type M>
struct Rob {
  friend typename Tag::type get(Tag) { return M; }
};
struct BooksTag {
  using type = std::vector<OrderBook> MatchingEngine::*;
  friend type get(BooksTag);
};
struct PoolTag {
  using type = OrderPool MatchingEngine::*;
  friend type get(PoolTag);
};
struct IdsTag {
  using type = IdIndex MatchingEngine::*;
  friend type get(IdsTag);
};
template struct Rob<BooksTag, &MatchingEngine::books_>;
template struct Rob<PoolTag, &MatchingEngine::pool_>;
template struct Rob<IdsTag, &MatchingEngine::ids_>;

OrderBook& bookOf(MatchingEngine& e, uint32_t s = 0) { return (e.*get(BooksTag{}))[s]; }
OrderPool& poolOf(MatchingEngine& e) { return e.*get(PoolTag{}); }
IdIndex& idsOf(MatchingEngine& e) { return e.*get(IdsTag{}); }

// --- every message checkInvariants() can return ---------------------------------------------
const char* const kAllInvariants[] = {
    "level price differs from its side's price list",
    "levels not sorted best first",
    "empty level left on the book",
    "FIFO back link broken",
    "resting order with no quantity",
    "order filed under the wrong level",
    "id index disagrees with the book",
    "FIFO cycle",
    "level tail is not the last order",
    "level quantity differs from the sum of its orders",
    "level count differs from its orders",
    "level quantity beyond the safe-integer range",
    "book is crossed",
    "resting orders, pool and id index disagree in count",
    "quantity not conserved: submitted != resting + removed + 2 * filled",
};

std::set<std::string>& seen() {
  static std::set<std::string> s;
  return s;
}

NewOrderCmd limit(int64_t id, Side side, int64_t price, int64_t qty) {
  NewOrderCmd c;
  c.id = id;
  c.side = side;
  c.price = price;
  c.qty = qty;
  c.hasPrice = true;
  return c;
}

// Symbol "S". Bids: 100 x {#1 qty 10, #2 qty 5}, 99 x {#3 qty 7}. Asks: 105 x {#4 qty 3},
// 106 x {#5 qty 4}. #6 rests at 104 and is filled by #7, so that the filled total is not zero.
void build(MatchingEngine& e) {
  Report r;
  e.setClock(1'000'000);
  e.addSymbol("S", &r);
  e.submit(limit(1, Side::Buy, 100, 10), &r);
  e.submit(limit(2, Side::Buy, 100, 5), &r);
  e.submit(limit(3, Side::Buy, 99, 7), &r);
  e.submit(limit(4, Side::Sell, 105, 3), &r);
  e.submit(limit(5, Side::Sell, 106, 4), &r);
  e.submit(limit(6, Side::Sell, 104, 2), &r);  // rests, then is filled by #7
  e.submit(limit(7, Side::Buy, 104, 2), &r);
}

Order& order(MatchingEngine& e, int64_t id) { return const_cast<Order&>(*e.findOrder(id)); }

uint32_t slotOf(MatchingEngine& e, int64_t id) {
  return static_cast<uint32_t>(&order(e, id) - &poolOf(e)[0]);
}

// Runs the check and records what it said.
std::string check(const MatchingEngine& e) {
  std::string why = e.checkInvariants();
  if (!why.empty()) seen().insert(why);
  return why;
}

#define EXPECT_BROKEN(engine, what)        \
  do {                                     \
    CHECK_EQ(check(engine), std::string(what)); \
  } while (0)

}  // namespace

TEST(invariants_healthy_book_passes) {
  MatchingEngine e;
  build(e);
  CHECK_EQ(e.checkInvariants(), std::string());
  CHECK_EQ(e.restingOrders(), 5u);
  CHECK(e.totals().filledQty == 2);
}

TEST(invariants_crossed_book_via_restore_order) {
  MatchingEngine e;
  build(e);
  // A bid above the best ask, appended as a snapshot load would (no matching). The totals are
  // kept consistent so that only the crossing is wrong.
  Order o{};
  o.id = 50;
  o.price = 110;
  o.qty = 1;
  o.symbol = 0;
  o.side = Side::Buy;
  REQUIRE(e.restoreOrder(o));
  MatchingEngine::Totals t = e.totals();
  t.submittedQty += 1;
  e.restoreCounters(e.lastSeq(), e.clock(), t);
  EXPECT_BROKEN(e, "book is crossed");
}

TEST(invariants_conservation_via_restore_counters_and_restore_order) {
  {
    MatchingEngine e;
    build(e);
    MatchingEngine::Totals t = e.totals();
    t.submittedQty += 1;
    e.restoreCounters(e.lastSeq(), e.clock(), t);
    EXPECT_BROKEN(e, "quantity not conserved: submitted != resting + removed + 2 * filled");
  }
  {
    MatchingEngine e;
    build(e);
    MatchingEngine::Totals t = e.totals();
    t.filledQty -= 1;
    e.restoreCounters(e.lastSeq(), e.clock(), t);
    EXPECT_BROKEN(e, "quantity not conserved: submitted != resting + removed + 2 * filled");
  }
  {
    // An order that appears from nowhere (restored without its quantity in the totals).
    MatchingEngine e;
    build(e);
    Order o{};
    o.id = 60;
    o.price = 98;
    o.qty = 9;
    o.side = Side::Buy;
    REQUIRE(e.restoreOrder(o));
    EXPECT_BROKEN(e, "quantity not conserved: submitted != resting + removed + 2 * filled");
  }
}

TEST(invariants_order_fields) {
  {
    MatchingEngine e;
    build(e);
    order(e, 1).qty = 0;
    EXPECT_BROKEN(e, "resting order with no quantity");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 2).qty = -5;
    EXPECT_BROKEN(e, "resting order with no quantity");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 1).qty = 11;
    EXPECT_BROKEN(e, "level quantity differs from the sum of its orders");
  }
  // Filed under the wrong level: each of price, side, symbol and level id.
  {
    MatchingEngine e;
    build(e);
    order(e, 2).price = 101;
    EXPECT_BROKEN(e, "order filed under the wrong level");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 2).side = Side::Sell;
    EXPECT_BROKEN(e, "order filed under the wrong level");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 2).symbol = 1;
    EXPECT_BROKEN(e, "order filed under the wrong level");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 2).level = order(e, 3).level;
    EXPECT_BROKEN(e, "order filed under the wrong level");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 3).id = 77;  // the book says 77, the index still maps 3 here and knows no 77
    EXPECT_BROKEN(e, "id index disagrees with the book");
  }
}

TEST(invariants_fifo_links) {
  {
    MatchingEngine e;
    build(e);
    order(e, 2).prev = kNil;  // #2 follows #1 in its level
    EXPECT_BROKEN(e, "FIFO back link broken");
  }
  {
    // A cycle: the walk comes back to the head, whose back link says it is first. A cycle is
    // always caught by the back-link check (the walk ends; it cannot spin).
    MatchingEngine e;
    build(e);
    order(e, 2).next = slotOf(e, 1);
    EXPECT_BROKEN(e, "FIFO back link broken");
  }
  {
    MatchingEngine e;
    build(e);
    order(e, 1).next = kNil;  // the level's tail is still #2
    EXPECT_BROKEN(e, "level tail is not the last order");
  }
  {
    // "FIFO cycle" is the guard that stops a walk longer than there are live orders: chain a
    // released pool slot, made consistent in every other respect, behind the only live order.
    MatchingEngine e;
    Report r;
    e.addSymbol("S", &r);
    e.submit(limit(1, Side::Buy, 100, 10), &r);
    e.submit(limit(2, Side::Buy, 100, 5), &r);
    const uint32_t a = slotOf(e, 1), b = slotOf(e, 2);
    e.cancel(2, &r);
    REQUIRE(e.restingOrders() == 1);
    OrderPool& pool = poolOf(e);
    pool[a].next = b;
    pool[b] = Order{2, 100, 5, 0, a, kNil, pool[a].level, 0, Side::Buy, false};
    idsOf(e).insert(2, b);
    EXPECT_BROKEN(e, "FIFO cycle");
  }
  {
    // An order spliced from the 99 level into the 100 level, with the quantities made to add
    // up and the tail right: only the count is off.
    MatchingEngine e;
    build(e);
    const uint32_t s1 = slotOf(e, 1), s2 = slotOf(e, 2), s3 = slotOf(e, 3);
    Order& o1 = order(e, 1);
    Order& o2 = order(e, 2);
    Order& o3 = order(e, 3);
    o1.next = s3;
    o3.prev = s1;
    o3.next = s2;
    o2.prev = s3;
    o3.price = 100;
    o3.level = o1.level;
    o1.qty -= o3.qty;  // 10 - 7: the level total still matches
    EXPECT_BROKEN(e, "level count differs from its orders");
  }
}

TEST(invariants_level_fields) {
  {
    MatchingEngine e;
    build(e);
    bookOf(e).level(order(e, 1).level).price = 101;
    EXPECT_BROKEN(e, "level price differs from its side's price list");
  }
  {
    MatchingEngine e;
    build(e);
    bookOf(e).level(order(e, 3).level).count = 0;
    EXPECT_BROKEN(e, "empty level left on the book");
  }
  {
    // Bids keep ascending prices, best at the back: move 99 behind 100.
    MatchingEngine e;
    build(e);
    BookSide& bids = bookOf(e).side(Side::Buy);
    const uint32_t l99 = order(e, 3).level;
    REQUIRE(bids.size() == 2);
    bids.erase(99);
    bids.insertAt(1, 99, l99);
    EXPECT_BROKEN(e, "levels not sorted best first");
  }
  {
    // Orders and level agree on a total one past 2^53 - 1.
    MatchingEngine e;
    build(e);
    PriceLevel& L = bookOf(e).level(order(e, 1).level);
    const int64_t over = kMaxSafeInteger + 1;
    order(e, 1).qty = over - order(e, 2).qty;
    L.qty = over;
    EXPECT_BROKEN(e, "level quantity beyond the safe-integer range");
  }
}

TEST(invariants_counts_of_pool_and_index) {
  {
    MatchingEngine e;
    build(e);
    idsOf(e).insert(999, slotOf(e, 1));  // an index entry no order has
    EXPECT_BROKEN(e, "resting orders, pool and id index disagree in count");
  }
  {
    MatchingEngine e;
    build(e);
    poolOf(e).allocate();  // a pool slot that no level holds (a leak)
    EXPECT_BROKEN(e, "resting orders, pool and id index disagree in count");
  }
}

// Every message the checker has must be produced by one of the tests above (run again here, so
// that this holds whatever name filter selected this test).
TEST(invariants_every_message_was_produced) {
  seen().clear();
  test_invariants_crossed_book_via_restore_order();
  test_invariants_conservation_via_restore_counters_and_restore_order();
  test_invariants_order_fields();
  test_invariants_fifo_links();
  test_invariants_level_fields();
  test_invariants_counts_of_pool_and_index();
  for (const char* what : kAllInvariants) {
    if (!seen().count(what)) {
      CHECK_EQ(std::string("not produced by any test"), std::string(what));
    }
  }
  for (const std::string& s : seen()) {
    bool known = false;
    for (const char* what : kAllInvariants) known = known || s == what;
    if (!known) CHECK_EQ(std::string("message missing from kAllInvariants"), s);
  }
}
