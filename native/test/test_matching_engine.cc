// Core matching tests, Node-free: hand-checked rules plus a random run that checks every
// structural invariant after every command.
#include <random>
#include <string>

#include "check.h"
#include "matching_engine.h"

using namespace durabook;

namespace {

NewOrderCmd limit(int64_t id, Side side, int64_t price, int64_t qty, Tif tif = Tif::Gtc) {
  NewOrderCmd c;
  c.id = id;
  c.side = side;
  c.price = price;
  c.qty = qty;
  c.tif = tif;
  c.hasPrice = true;
  return c;
}

NewOrderCmd market(int64_t id, Side side, int64_t qty) {
  NewOrderCmd c;
  c.id = id;
  c.side = side;
  c.qty = qty;
  c.market = true;
  c.tif = Tif::Ioc;
  return c;
}

MatchingEngine withSymbol() {
  MatchingEngine e;
  Report r;
  e.addSymbol("X", &r);
  return e;
}

}  // namespace

TEST(engine_price_time_priority_and_maker_price) {
  MatchingEngine e = withSymbol();
  Report r;
  CHECK(e.submit(limit(1, Side::Sell, 101, 5), &r) == CommandError::Ok);
  CHECK(e.submit(limit(2, Side::Sell, 100, 5), &r) == CommandError::Ok);
  CHECK(e.submit(limit(3, Side::Sell, 100, 5), &r) == CommandError::Ok);
  e.clearTrades();
  CHECK(e.submit(limit(4, Side::Buy, 101, 12), &r) == CommandError::Ok);
  CHECK(r.status == OrderStatus::Filled);
  CHECK_EQ(r.filledQty, 12);
  REQUIRE(r.tradeCount == 3);
  const auto& t = e.trades();
  CHECK_EQ(t[0].makerId, 2);
  CHECK_EQ(t[0].price, 100);
  CHECK_EQ(t[1].makerId, 3);
  CHECK_EQ(t[2].makerId, 1);
  CHECK_EQ(t[2].price, 101);
  CHECK_EQ(t[2].qty, 2);
  CHECK_EQ(e.findOrder(1)->qty, 3);
  CHECK(e.checkInvariants().empty());
}

TEST(engine_seq_counts_accepted_commands_only) {
  MatchingEngine e = withSymbol();  // seq 1
  Report r;
  CHECK(e.submit(limit(0, Side::Buy, 1, 1), &r) == CommandError::BadId);
  CHECK_EQ(e.lastSeq(), 1u);
  CHECK(e.cancel(99, &r) == CommandError::Ok);
  CHECK(r.status == OrderStatus::Rejected && r.reason == Reason::UnknownOrder);
  CHECK_EQ(r.seq, 2u);
}

TEST(engine_rejects_and_kills) {
  MatchingEngine e = withSymbol();
  Report r;
  e.submit(limit(1, Side::Sell, 100, 10), &r);
  CHECK(e.submit(limit(1, Side::Buy, 90, 1), &r) == CommandError::Ok);
  CHECK(r.reason == Reason::DuplicateOrderId);
  NewOrderCmd po = limit(2, Side::Buy, 100, 1);
  po.postOnly = true;
  e.submit(po, &r);
  CHECK(r.status == OrderStatus::Rejected && r.reason == Reason::PostOnlyWouldCross);
  e.submit(limit(3, Side::Buy, 100, 11, Tif::Fok), &r);
  CHECK(r.status == OrderStatus::Cancelled && r.filledQty == 0 && r.tradeCount == 0);
  e.submit(limit(4, Side::Buy, 100, 4, Tif::Ioc), &r);
  CHECK(r.status == OrderStatus::Filled);
  e.submit(market(5, Side::Buy, 10), &r);
  CHECK(r.status == OrderStatus::Cancelled);
  CHECK_EQ(r.filledQty, 6);
  CHECK(e.findOrder(1) == nullptr);
  CHECK(e.checkInvariants().empty());
}

TEST(engine_modify_priority) {
  MatchingEngine e = withSymbol();
  Report r;
  e.submit(limit(1, Side::Buy, 100, 10), &r);
  e.submit(limit(2, Side::Buy, 100, 10), &r);
  ModifyCmd down{1, 0, 4, false, true};
  e.modify(down, &r);
  CHECK(r.status == OrderStatus::New && r.remainingQty == 4);
  ModifyCmd up{2, 0, 20, false, true};
  e.modify(up, &r);  // 2 goes behind... nothing: 1 stays first either way
  e.clearTrades();
  e.submit(market(3, Side::Sell, 5), &r);
  REQUIRE(r.tradeCount == 2);
  CHECK_EQ(e.trades()[0].makerId, 1);
  CHECK_EQ(e.trades()[0].qty, 4);
  CHECK_EQ(e.trades()[1].makerId, 2);
  CHECK(e.checkInvariants().empty());
}

TEST(engine_limits_cancel_the_remainder) {
  EngineLimits lim;
  lim.maxOrders = 2;
  lim.maxLevels = 2;
  MatchingEngine e(lim);
  Report r;
  e.addSymbol("X", &r);
  e.submit(limit(1, Side::Buy, 100, 1), &r);
  e.submit(limit(2, Side::Buy, 99, 1), &r);
  e.submit(limit(3, Side::Buy, 98, 1), &r);
  CHECK(r.status == OrderStatus::Cancelled && r.reason == Reason::OrderLimit);
  lim.maxOrders = 10;
  MatchingEngine f(lim);
  f.addSymbol("X", &r);
  f.submit(limit(1, Side::Buy, 100, 1), &r);
  f.submit(limit(2, Side::Buy, 99, 1), &r);
  f.submit(limit(3, Side::Buy, 98, 1), &r);
  CHECK(r.status == OrderStatus::Cancelled && r.reason == Reason::LevelLimit);
  f.submit(limit(4, Side::Buy, 99, 1), &r);
  CHECK(r.status == OrderStatus::New);
  CHECK(f.checkInvariants().empty());
}

TEST(engine_far_and_negative_prices) {
  MatchingEngine e = withSymbol();
  Report r;
  e.submit(limit(1, Side::Buy, -kMaxSafeInteger, 1), &r);
  e.submit(limit(2, Side::Sell, kMaxSafeInteger, 1), &r);
  for (int i = 0; i < 100; ++i) e.submit(limit(10 + i, Side::Buy, -5000 + i * 37, 1), &r);
  CHECK(e.checkInvariants().empty());
  e.submit(market(500, Side::Sell, 1000), &r);
  CHECK_EQ(r.filledQty, 101);
  CHECK(e.checkInvariants().empty());
}

TEST(engine_random_commands_keep_invariants) {
  MatchingEngine e;
  Report r;
  e.addSymbol("A", &r);
  e.addSymbol("B", &r);
  std::mt19937_64 rng(7);
  int64_t nextId = 1;
  for (int i = 0; i < 60000; ++i) {
    e.clearTrades();
    const int kind = static_cast<int>(rng() % 10);
    const int64_t id = kind < 6 ? nextId++ : 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(nextId));
    if (kind < 6) {
      NewOrderCmd c = limit(id, rng() & 1 ? Side::Sell : Side::Buy, 1000 + static_cast<int64_t>(rng() % 21) - 10,
                            1 + static_cast<int64_t>(rng() % 50), static_cast<Tif>(rng() % 3));
      c.symbol = static_cast<uint32_t>(rng() % 2);
      if (c.tif == Tif::Gtc && rng() % 5 == 0) c.postOnly = true;
      if (rng() % 10 == 0) {
        c.market = true;
        c.tif = Tif::Ioc;
        c.postOnly = false;
        c.hasPrice = rng() & 1;
      }
      CHECK(e.submit(c, &r) == CommandError::Ok);
    } else if (kind < 8) {
      CHECK(e.cancel(id, &r) == CommandError::Ok);
    } else {
      ModifyCmd m{id, 1000 + static_cast<int64_t>(rng() % 21) - 10, 1 + static_cast<int64_t>(rng() % 60),
                  (rng() & 1) != 0, true};
      CHECK(e.modify(m, &r) == CommandError::Ok);
    }
    if (i % 97 == 0 || i > 59000) {
      std::string why = e.checkInvariants();
      if (!why.empty()) {
        CHECK_EQ(why, std::string());
        return;
      }
    }
  }
  CHECK(e.restingOrders() > 0);
}
