// How each Journal call becomes a WAL record: the one mapping that the WAL writer logs (through
// the payload builders wal_new/wal_modify/wal_trade and the encoders of wal_record_bytes.h)
// and that the tests' collecting journal compares against (as WalRecords). Fields a command
// leaves out (a market order's price, a modify's missing price or quantity) are zero, as the
// encoders write them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "types.h"
#include "wal_format.h"

namespace durabook {

inline WalRecord wal_record(WalType type, uint64_t seq) {
  WalRecord r{};
  r.type = type;
  r.seq = seq;
  return r;
}

inline WalRecord wal_clock_record(uint64_t seq, int64_t ts) {
  WalRecord r = wal_record(WalType::Clock, seq);
  r.clock.ts_us = ts;
  return r;
}

inline WalNew wal_new(const NewOrderCmd& c) {
  return WalNew{c.id, c.hasPrice ? c.price : 0, c.qty, c.symbol,
                c.side == Side::Sell ? WalSide::Sell : WalSide::Buy,
                static_cast<WalTif>(static_cast<uint8_t>(c.tif)), c.market, c.postOnly, c.hasPrice};
}

inline WalRecord wal_new_record(uint64_t seq, const NewOrderCmd& c) {
  WalRecord r = wal_record(WalType::New, seq);
  r.new_order = wal_new(c);
  return r;
}

inline WalRecord wal_cancel_record(uint64_t seq, int64_t id) {
  WalRecord r = wal_record(WalType::Cancel, seq);
  r.cancel.id = id;
  return r;
}

inline WalModify wal_modify(const ModifyCmd& m) {
  return WalModify{m.id, m.hasPrice ? m.price : 0, m.hasQty ? m.qty : 0, m.hasPrice, m.hasQty};
}

inline WalRecord wal_modify_record(uint64_t seq, const ModifyCmd& m) {
  WalRecord r = wal_record(WalType::Modify, seq);
  r.modify = wal_modify(m);
  return r;
}

inline WalRecord wal_add_symbol_record(uint64_t seq, uint32_t symbol, std::string_view name) {
  WalRecord r = wal_record(WalType::AddSymbol, seq);
  r.add_symbol.symbol = symbol;
  // A name longer than the format allows keeps its true length so that encode_record refuses
  // it (and the writer fails stop) instead of logging a silently shortened name.
  r.add_symbol.name_len = static_cast<uint16_t>(std::min<size_t>(name.size(), 0xffff));
  std::memcpy(r.add_symbol.name, name.data(), std::min(name.size(), kMaxSymbolNameLen));
  return r;
}

inline WalTrade wal_trade(const Trade& t) { return WalTrade{t.makerId, t.takerId, t.price, t.qty}; }

inline WalRecord wal_trade_record(uint64_t seq, const Trade& t) {
  WalRecord r = wal_record(WalType::Trade, seq);
  r.trade = wal_trade(t);
  return r;
}

}  // namespace durabook
