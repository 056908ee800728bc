#include "matching_engine.h"

#include <cassert>

#include "wal_writer.h"

namespace durabook {

template <typename Log>
void MatchingEngine::toJournal(Log&& log) {
  if (wal_ != nullptr) {
    log(*wal_);
  } else if (journal_ != nullptr) {
    log(*journal_);
  }
}

namespace {

constexpr Side opposite(Side s) { return s == Side::Buy ? Side::Sell : Side::Buy; }

bool validPrice(int64_t p) { return p >= -kMaxSafeInteger && p <= kMaxSafeInteger; }
bool validPositive(int64_t v) { return v >= 1 && v <= kMaxSafeInteger; }

// A taker at `limit` on `takerSide` may trade with a maker resting at `makerPrice`.
bool crosses(Side takerSide, int64_t limit, int64_t makerPrice) {
  return takerSide == Side::Buy ? makerPrice <= limit : makerPrice >= limit;
}

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  }
  template <typename T>
  void add(T v) { bytes(&v, sizeof v); }
};

}  // namespace

MatchingEngine::MatchingEngine(const EngineLimits& limits) : limits_(limits) { trades_.reserve(1024); }

uint32_t MatchingEngine::findSymbol(std::string_view name) const {
  auto it = symbolIndex_.find(std::string(name));
  return it == symbolIndex_.end() ? UINT32_MAX : it->second;
}

void MatchingEngine::logClockIfDirty() {
  if (clockDirty_) {
    toJournal([&](auto& j) { j.logClock(seq_, clock_); });
    clockDirty_ = false;
  }
}

void MatchingEngine::beginCommand(Report* r, int64_t id) {
  ++seq_;
  logClockIfDirty();
  r->seq = seq_;
  r->id = id;
  r->filledQty = 0;
  r->remainingQty = 0;
  r->tradeBegin = static_cast<uint32_t>(trades_.size());
  r->tradeCount = 0;
  r->status = OrderStatus::Rejected;
  r->reason = Reason::None;
}

CommandError MatchingEngine::addSymbol(std::string_view name, Report* r) {
  if (name.empty() || name.size() > kMaxSymbolNameBytes) return CommandError::BadSymbolName;
  for (char ch : name)
    if (ch < 0x21 || ch > 0x7e) return CommandError::BadSymbolName;
  if (findSymbol(name) != UINT32_MAX) return CommandError::DuplicateSymbol;
  if (names_.size() >= limits_.maxSymbols) return CommandError::SymbolLimit;
  beginCommand(r, 0);
  uint32_t idx = static_cast<uint32_t>(names_.size());
  toJournal([&](auto& j) { j.logAddSymbol(seq_, idx, name); });
  names_.emplace_back(name);
  symbolIndex_.emplace(names_.back(), idx);
  books_.emplace_back();
  r->status = OrderStatus::New;
  return CommandError::Ok;
}

CommandError MatchingEngine::validateNew(const NewOrderCmd& c) const {
  if (!validPositive(c.id)) return CommandError::BadId;
  if (!validPositive(c.qty)) return CommandError::BadQty;
  if (c.symbol >= names_.size()) return CommandError::UnknownSymbol;
  if (static_cast<uint8_t>(c.side) > 1) return CommandError::BadSide;
  if (static_cast<uint8_t>(c.tif) > 2) return CommandError::BadTif;
  if (c.market) {
    if (c.tif != Tif::Ioc) return CommandError::MarketTif;
    if (c.postOnly) return CommandError::PostOnlyNotGtc;
    if (c.hasPrice && !validPrice(c.price)) return CommandError::BadPrice;
  } else {
    if (!c.hasPrice) return CommandError::MissingPrice;
    if (!validPrice(c.price)) return CommandError::BadPrice;
    if (c.postOnly && c.tif != Tif::Gtc) return CommandError::PostOnlyNotGtc;
  }
  return CommandError::Ok;
}

bool MatchingEngine::crossesBest(const OrderBook& book, Side takerSide, int64_t limit) const {
  const BookSide& opp = book.side(opposite(takerSide));
  return !opp.empty() && crosses(takerSide, limit, opp.nthPrice(0));
}

int64_t MatchingEngine::availableAgainst(const OrderBook& book, Side takerSide, bool hasLimit, int64_t limit,
                                         int64_t need) const {
  const BookSide& opp = book.side(opposite(takerSide));
  int64_t sum = 0;
  for (size_t i = 0; i < opp.size(); ++i) {
    const PriceLevel& L = book.level(opp.nth(i));
    if (hasLimit && !crosses(takerSide, limit, L.price)) break;
    sum += L.qty;  // both <= 2^53, so no overflow before the early return
    if (sum >= need) break;
  }
  return sum;
}

int64_t MatchingEngine::match(OrderBook& book, Side takerSide, bool hasLimit, int64_t limit, int64_t qty,
                              int64_t takerId) {
  const Side makerSide = opposite(takerSide);
  BookSide& opp = book.side(makerSide);
  const bool logTrades = wal_ != nullptr ? wal_->wantsTrades() : journal_ != nullptr && journal_->wantsTrades();
  while (qty > 0 && !opp.empty()) {
    PriceLevel& L = book.level(opp.best());
    if (hasLimit && !crosses(takerSide, limit, L.price)) break;
    while (qty > 0 && L.head != kNil) {
      const uint32_t oi = L.head;
      Order& m = pool_[oi];
      const int64_t q = m.qty < qty ? m.qty : qty;
      trades_.push_back(Trade{m.id, takerId, L.price, q});
      if (logTrades) toJournal([&](auto& j) { j.logTrade(seq_, trades_.back()); });
      qty -= q;
      m.qty -= q;
      L.qty -= q;
      totals_.filledQty += static_cast<uint64_t>(q);
      if (m.qty == 0) {
        L.head = m.next;
        if (L.head != kNil) pool_[L.head].prev = kNil; else L.tail = kNil;
        --L.count;
        ids_.erase(m.id);
        pool_.release(oi);
      }
    }
    if (L.count == 0) book.dropBest(makerSide);
  }
  return qty;
}

bool MatchingEngine::rest(uint32_t symbol, Side side, int64_t id, int64_t price, int64_t qty, bool postOnly,
                          Reason* why) {
  if (pool_.live() >= limits_.maxOrders) {
    *why = Reason::OrderLimit;
    return false;
  }
  const uint32_t oi = pool_.allocate();
  pool_[oi] = Order{id, price, qty, clock_, kNil, kNil, kNil, symbol, side, postOnly};
  if (!books_[symbol].append(pool_, oi, limits_.maxLevels)) {
    pool_.release(oi);
    *why = Reason::LevelLimit;
    return false;
  }
  ids_.insert(id, oi);
  return true;
}

// Settles a taker's outcome once matching is done. `canRest`: a gtc limit remainder rests.
void MatchingEngine::finishTaker(Report* r, int64_t qty, int64_t left, bool canRest, const NewOrderCmd& c) {
  r->filledQty = qty - left;
  r->tradeCount = static_cast<uint32_t>(trades_.size()) - r->tradeBegin;
  if (left == 0) {
    r->status = OrderStatus::Filled;
    return;
  }
  Reason why = Reason::None;
  if (canRest && rest(c.symbol, c.side, c.id, c.price, left, c.postOnly, &why)) {
    r->status = r->filledQty > 0 ? OrderStatus::PartiallyFilled : OrderStatus::New;
    r->remainingQty = left;
    return;
  }
  r->status = OrderStatus::Cancelled;
  r->reason = why;
  totals_.removedQty += static_cast<uint64_t>(left);
}

CommandError MatchingEngine::submit(const NewOrderCmd& c, Report* r) {
  if (CommandError e = validateNew(c); e != CommandError::Ok) return e;
  beginCommand(r, c.id);
  toJournal([&](auto& j) { j.logNew(seq_, c); });
  totals_.submittedQty += static_cast<uint64_t>(c.qty);

  auto reject = [&](Reason why) {
    r->status = OrderStatus::Rejected;
    r->reason = why;
    totals_.removedQty += static_cast<uint64_t>(c.qty);
    return CommandError::Ok;
  };
  if (ids_.find(c.id) != IdIndex::kNotFound) return reject(Reason::DuplicateOrderId);
  OrderBook& book = books_[c.symbol];
  if (c.postOnly && crossesBest(book, c.side, c.price)) return reject(Reason::PostOnlyWouldCross);
  const bool hasLimit = !c.market || c.hasPrice;
  if (c.tif == Tif::Fok && availableAgainst(book, c.side, hasLimit, c.price, c.qty) < c.qty) {
    r->status = OrderStatus::Cancelled;
    totals_.removedQty += static_cast<uint64_t>(c.qty);
    return CommandError::Ok;
  }
  const int64_t left = match(book, c.side, hasLimit, c.price, c.qty, c.id);
  finishTaker(r, c.qty, left, !c.market && c.tif == Tif::Gtc, c);
  return CommandError::Ok;
}

CommandError MatchingEngine::validateCancel(int64_t id) {
  return validPositive(id) ? CommandError::Ok : CommandError::BadId;
}

CommandError MatchingEngine::validateModify(const ModifyCmd& c) {
  if (!validPositive(c.id)) return CommandError::BadId;
  if (!c.hasPrice && !c.hasQty) return CommandError::EmptyModify;
  if (c.hasQty && !validPositive(c.qty)) return CommandError::BadQty;
  if (c.hasPrice && !validPrice(c.price)) return CommandError::BadPrice;
  return CommandError::Ok;
}

CommandError MatchingEngine::cancel(int64_t id, Report* r) {
  if (CommandError e = validateCancel(id); e != CommandError::Ok) return e;
  beginCommand(r, id);
  toJournal([&](auto& j) { j.logCancel(seq_, id); });
  const uint32_t oi = ids_.find(id);
  if (oi == IdIndex::kNotFound) {
    r->reason = Reason::UnknownOrder;
    return CommandError::Ok;
  }
  Order& o = pool_[oi];
  books_[o.symbol].remove(pool_, oi);
  totals_.removedQty += static_cast<uint64_t>(o.qty);
  ids_.erase(id);
  pool_.release(oi);
  r->status = OrderStatus::Cancelled;
  return CommandError::Ok;
}

CommandError MatchingEngine::modify(const ModifyCmd& c, Report* r) {
  if (CommandError e = validateModify(c); e != CommandError::Ok) return e;
  beginCommand(r, c.id);
  toJournal([&](auto& j) { j.logModify(seq_, c); });
  const uint32_t oi = ids_.find(c.id);
  if (oi == IdIndex::kNotFound) {
    r->reason = Reason::UnknownOrder;
    return CommandError::Ok;
  }
  Order& o = pool_[oi];
  const int64_t newPrice = c.hasPrice ? c.price : o.price;
  const int64_t newQty = c.hasQty ? c.qty : o.qty;
  OrderBook& book = books_[o.symbol];
  if (newPrice == o.price && newQty <= o.qty) {
    if (newQty < o.qty) {
      totals_.removedQty += static_cast<uint64_t>(o.qty - newQty);
      book.reduce(pool_, oi, newQty);
    }
    r->status = OrderStatus::New;
    r->remainingQty = newQty;
    return CommandError::Ok;
  }
  if (o.postOnly && crossesBest(book, o.side, newPrice)) {
    r->reason = Reason::PostOnlyWouldCross;
    return CommandError::Ok;
  }
  // Loses priority: leave the book and arrive again as a gtc limit with the same identity.
  NewOrderCmd again;
  again.id = c.id;
  again.price = newPrice;
  again.qty = newQty;
  again.symbol = o.symbol;
  again.side = o.side;
  again.tif = Tif::Gtc;
  again.postOnly = o.postOnly;
  again.hasPrice = true;
  totals_.removedQty += static_cast<uint64_t>(o.qty);
  totals_.submittedQty += static_cast<uint64_t>(newQty);
  book.remove(pool_, oi);
  ids_.erase(c.id);
  pool_.release(oi);
  const int64_t left = match(book, again.side, true, newPrice, newQty, c.id);
  finishTaker(r, newQty, left, true, again);
  return CommandError::Ok;
}

void MatchingEngine::depth(uint32_t symbol, uint32_t n, std::vector<LevelView>* bids,
                           std::vector<LevelView>* asks) const {
  const OrderBook& book = books_[symbol];
  auto fill = [&](Side s, std::vector<LevelView>* out) {
    out->clear();
    const BookSide& bs = book.side(s);
    for (size_t i = 0; i < bs.size() && i < n; ++i) {
      const PriceLevel& L = book.level(bs.nth(i));
      out->push_back(LevelView{L.price, L.qty, L.count});
    }
  };
  fill(Side::Buy, bids);
  fill(Side::Sell, asks);
}

bool MatchingEngine::best(uint32_t symbol, Side s, LevelView* out) const {
  const OrderBook& book = books_[symbol];
  const BookSide& bs = book.side(s);
  if (bs.empty()) return false;
  const PriceLevel& L = book.level(bs.best());
  *out = LevelView{L.price, L.qty, L.count};
  return true;
}

const Order* MatchingEngine::findOrder(int64_t id) const {
  if (id <= 0) return nullptr;
  const uint32_t oi = ids_.find(id);
  return oi == IdIndex::kNotFound ? nullptr : &pool_[oi];
}

bool MatchingEngine::restoreSymbol(std::string_view name) {
  if (findSymbol(name) != UINT32_MAX) return false;
  names_.emplace_back(name);
  symbolIndex_.emplace(names_.back(), static_cast<uint32_t>(names_.size() - 1));
  books_.emplace_back();
  return true;
}

bool MatchingEngine::restoreOrder(const Order& src) {
  if (src.symbol >= books_.size() || ids_.find(src.id) != IdIndex::kNotFound) return false;
  const uint32_t oi = pool_.allocate();
  pool_[oi] = Order{src.id, src.price, src.qty, src.ts, kNil, kNil, kNil, src.symbol, src.side, src.postOnly};
  if (!books_[src.symbol].append(pool_, oi, UINT32_MAX)) {
    pool_.release(oi);
    return false;
  }
  ids_.insert(src.id, oi);
  return true;
}

void MatchingEngine::reset() {
  books_.clear();
  names_.clear();
  symbolIndex_.clear();
  pool_.clear();
  ids_.clear();
  trades_.clear();
  seq_ = 0;
  clock_ = 0;
  clockDirty_ = false;
  totals_ = Totals{};
}

uint64_t MatchingEngine::digest() const {
  Fnv f;
  f.add(seq_);
  f.add(static_cast<uint32_t>(names_.size()));
  for (uint32_t s = 0; s < names_.size(); ++s) {
    f.bytes(names_[s].data(), names_[s].size());
    const OrderBook& book = books_[s];
    for (Side side : {Side::Buy, Side::Sell}) {
      const BookSide& bs = book.side(side);
      f.add(static_cast<uint64_t>(bs.size()));
      for (size_t i = 0; i < bs.size(); ++i) {
        const PriceLevel& L = book.level(bs.nth(i));
        f.add(L.price);
        f.add(L.qty);
        f.add(L.count);
        for (uint32_t o = L.head; o != kNil; o = pool_[o].next) {
          const Order& ord = pool_[o];
          f.add(ord.id);
          f.add(ord.qty);
          f.add(ord.ts);
          f.add(static_cast<uint8_t>(ord.postOnly));
        }
      }
    }
  }
  return f.h;
}

std::string MatchingEngine::checkInvariants() const {
  auto fail = [](std::string what) { return what; };
  uint64_t restingQty = 0;
  uint32_t restingCount = 0;
  for (uint32_t s = 0; s < names_.size(); ++s) {
    const OrderBook& book = books_[s];
    for (Side side : {Side::Buy, Side::Sell}) {
      const BookSide& bs = book.side(side);
      for (size_t i = 0; i < bs.size(); ++i) {
        const uint32_t lid = bs.nth(i);
        const PriceLevel& L = book.level(lid);
        if (L.price != bs.nthPrice(i)) return fail("level price differs from its side's price list");
        if (i > 0 && !bs.better(bs.nthPrice(i - 1), L.price)) return fail("levels not sorted best first");
        if (L.count == 0) return fail("empty level left on the book");
        int64_t sum = 0;
        uint32_t count = 0;
        uint32_t prev = kNil;
        for (uint32_t o = L.head; o != kNil; o = pool_[o].next) {
          const Order& ord = pool_[o];
          if (ord.prev != prev) return fail("FIFO back link broken");
          if (ord.qty <= 0) return fail("resting order with no quantity");
          if (ord.price != L.price || ord.side != side || ord.symbol != s || ord.level != lid)
            return fail("order filed under the wrong level");
          if (ids_.find(ord.id) != o) return fail("id index disagrees with the book");
          sum += ord.qty;
          ++count;
          prev = o;
          if (count > pool_.live()) return fail("FIFO cycle");
        }
        if (L.tail != prev) return fail("level tail is not the last order");
        if (sum != L.qty) return fail("level quantity differs from the sum of its orders");
        if (count != L.count) return fail("level count differs from its orders");
        if (L.qty > kMaxSafeInteger) return fail("level quantity beyond the safe-integer range");
        restingQty += static_cast<uint64_t>(sum);
        restingCount += count;
      }
    }
    const BookSide& bids = book.side(Side::Buy);
    const BookSide& asks = book.side(Side::Sell);
    if (!bids.empty() && !asks.empty() && bids.nthPrice(0) >= asks.nthPrice(0)) return fail("book is crossed");
  }
  if (restingCount != pool_.live() || restingCount != ids_.size())
    return fail("resting orders, pool and id index disagree in count");
  if (totals_.submittedQty != restingQty + totals_.removedQty + 2 * totals_.filledQty)
    return fail("quantity not conserved: submitted != resting + removed + 2 * filled");
  return {};
}

}  // namespace durabook
