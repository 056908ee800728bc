// The batch entry point: many commands, one boundary crossing, no JS object per command.
//
// Command buffer (Float64Array), 5 numbers per command, written by lib/batch.ts:
//
//   +------+--------+------+-------+------+
//   |  op  | symbol |  id  | price | qty  |     op = kind | flags << 2
//   +------+--------+------+-------+------+     kind 0 new (flags as decodeNew)
//                                               kind 1 cancel, kind 2 modify (flags as decodeModify)
// Result buffer, 6 numbers per command:
//
//   +-----+--------+--------+-----------+--------------+----------+
//   | seq | status | reason | filledQty | remainingQty | tradeEnd |   trades of command i are
//   +-----+--------+--------+-----------+--------------+----------+   [tradeEnd(i-1), tradeEnd(i))
// Trade buffer, 4 numbers per trade: makerId, takerId, price, qty.
//
// The whole batch is validated before any of it applies: a refused batch changes nothing.
#include "batch.h"

namespace durabook {
namespace {

constexpr int kCmdStride = 5;
constexpr int kOutStride = 6;
constexpr int kTradeStride = 4;

enum BatchKind : int64_t { kNew = 0, kCancel = 1, kModify = 2 };

constexpr double kMaxSafe = 9007199254740991.0;

// The NEW flag combinations (bit0 sell, bits1-2 tif, bit3 market, bit4 postOnly, bit5
// hasPrice) that MatchingEngine::validateNew accepts, as a 64-bit mask: the same rules, so
// that the fast decode below may skip the call. A combination outside the mask is decoded by
// decodeNew + validateNew, which name the exact error; an unlisted valid one only costs that.
constexpr uint64_t validNewFlags() {
  uint64_t mask = 0;
  for (int f = 0; f < 64; ++f) {
    const int tif = (f >> 1) & 3;
    const bool market = (f >> 3) & 1, postOnly = (f >> 4) & 1, hasPrice = (f >> 5) & 1;
    bool ok = tif <= 2;
    if (market) ok = ok && tif == 1 && !postOnly;
    else ok = ok && hasPrice && (!postOnly || tif == 0);
    if (ok) mask |= uint64_t{1} << f;
  }
  return mask;
}
constexpr uint64_t kValidNewFlags = validNewFlags();

// d is a safe integer >= 1 (NaN fails the range test).
inline bool positiveSafe(double d) { return d >= 1 && d <= kMaxSafe && static_cast<double>(static_cast<int64_t>(d)) == d; }
inline bool anySafe(double d) {
  return d >= -kMaxSafe && d <= kMaxSafe && static_cast<double>(static_cast<int64_t>(d)) == d;
}

// Decodes and validates one command into *d (the same checks submit/cancel/modify make). The
// common shapes (a NEW of valid flags, a cancel) are checked inline; anything that fails
// those checks goes through the general decoders, which find the exact error.
inline CommandError decodeAt(const EngineHandle* h, uint32_t symbols, const double* c, DecodedCmd* d) {
  const double opd = c[0];
  if (!(opd >= 0 && opd <= (63 << 2 | 3))) return CommandError::BadSide;
  const int op = static_cast<int>(opd);
  if (static_cast<double>(op) != opd) return CommandError::BadSide;
  const int kind = op & 3;
  const int flags = op >> 2;
  d->kind = static_cast<uint8_t>(kind);
  if (kind == kNew) {
    const double sym = c[1], id = c[2], price = c[3], qty = c[4];
    const bool hasPrice = (flags >> 5) & 1;
    if (((kValidNewFlags >> flags) & 1) && sym >= 0 && sym < symbols && static_cast<double>(static_cast<uint32_t>(sym)) == sym &&
        positiveSafe(id) && positiveSafe(qty) && (!hasPrice || anySafe(price))) {
      NewOrderCmd& n = d->n;
      n.id = static_cast<int64_t>(id);
      n.price = hasPrice ? static_cast<int64_t>(price) : 0;
      n.qty = static_cast<int64_t>(qty);
      n.symbol = static_cast<uint32_t>(sym);
      n.side = (flags & 1) ? Side::Sell : Side::Buy;
      n.tif = static_cast<Tif>((flags >> 1) & 3);
      n.market = (flags >> 3) & 1;
      n.postOnly = (flags >> 4) & 1;
      n.hasPrice = hasPrice;
      return CommandError::Ok;
    }
    CommandError e = decodeNew(sym, id, price, qty, static_cast<double>(flags), &d->n);
    return e != CommandError::Ok ? e : h->engine.validateNew(d->n);
  }
  if (kind == kCancel) {
    if (positiveSafe(c[2])) {
      d->cancelId = static_cast<int64_t>(c[2]);
      return CommandError::Ok;
    }
    if (!toInt64(c[2], &d->cancelId)) return CommandError::BadId;
    return MatchingEngine::validateCancel(d->cancelId);
  }
  if (kind == kModify) {
    d->m = ModifyCmd{};
    CommandError e = decodeModify(c[2], c[3], c[4], static_cast<double>(flags), &d->m);
    return e != CommandError::Ok ? e : MatchingEngine::validateModify(d->m);
  }
  return CommandError::BadSide;
}

inline int64_t idOf(const DecodedCmd& d) {
  return d.kind == kNew ? d.n.id : d.kind == kCancel ? d.cancelId : d.m.id;
}

void copyTrades(EngineHandle* h, double* out, size_t cap) {
  const std::vector<Trade>& trades = h->engine.trades();
  const size_t n = trades.size() < cap ? trades.size() : cap;
  const Trade* t = trades.data();
  for (size_t i = 0; i < n; ++i, out += kTradeStride) {
    out[0] = static_cast<double>(t[i].makerId);
    out[1] = static_cast<double>(t[i].takerId);
    out[2] = static_cast<double>(t[i].price);
    out[3] = static_cast<double>(t[i].qty);
  }
}

// One N-API call per array (type, length and data together).
bool float64Array(napi_env env, napi_value v, double** data, size_t* len) {
  napi_typedarray_type type;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, v, &type, len, &p, nullptr, nullptr) != napi_ok || type != napi_float64_array) return false;
  *data = static_cast<double*>(p);
  return true;
}

// submitBatch(cmds, count, out, trades) → total trades (>= 0); or -(1 + index) of the first
// refused command, with the CommandError in out[0], having applied nothing.
napi_value SubmitBatch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data = nullptr;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
  auto* h = static_cast<EngineHandle*>(data);
  double *cmds, *out, *trades;
  size_t cmdLen, outLen, tradeLen;
  double countD;
  if (argc < 4 || !float64Array(env, argv[0], &cmds, &cmdLen) || napi_get_value_double(env, argv[1], &countD) != napi_ok ||
      !float64Array(env, argv[2], &out, &outLen) || !float64Array(env, argv[3], &trades, &tradeLen)) {
    napi_throw_type_error(env, nullptr, "submitBatch(cmds, count, out, trades)");
    return nullptr;
  }
  int64_t count;
  if (!toInt64(countD, &count) || count < 0 || static_cast<size_t>(count) * kCmdStride > cmdLen ||
      static_cast<size_t>(count) * kOutStride > outLen) {
    napi_throw_range_error(env, nullptr, "batch count out of range for its buffers");
    return nullptr;
  }
  // Pass 1 decodes and validates every command into the handle's scratch array; pass 2 applies
  // them from there, so that each command is decoded once and a refused batch changes nothing.
  std::vector<DecodedCmd>& decoded = h->batch;
  if (decoded.size() < static_cast<size_t>(count)) decoded.resize(static_cast<size_t>(count));
  DecodedCmd* dec = decoded.data();
  const uint32_t symbols = h->engine.symbolCount();
  for (int64_t i = 0; i < count; ++i) {
    CommandError e = decodeAt(h, symbols, cmds + kCmdStride * i, &dec[i]);
    if (e != CommandError::Ok) {
      out[0] = static_cast<double>(static_cast<int>(e));
      napi_create_double(env, static_cast<double>(-1 - i), &result);
      return result;
    }
  }
  if (h->failed()) {
    out[0] = kEngineFailedCode;
    napi_create_double(env, -1, &result);
    return result;
  }
  MatchingEngine& engine = h->engine;
  engine.setClock(h->now());
  engine.clearTrades();
  Report r;
  // The whole batch is one burst: the parked-writer check once, not once per record.
  const WalBurst burst(h->wal.get());
  if (count > 0) engine.prefetchId(idOf(dec[0]));
  double* o = out;
  for (int64_t i = 0; i < count; ++i, o += kOutStride) {
    const DecodedCmd& d = dec[i];
    // The next command's id-index line loads while this one is applied.
    if (i + 1 < count) engine.prefetchId(idOf(dec[i + 1]));
    // Invariant: validated above, so every command applies (CommandError::Ok).
    if (d.kind == kNew) engine.submit(d.n, &r);
    else if (d.kind == kCancel) engine.cancel(d.cancelId, &r);
    else engine.modify(d.m, &r);
    o[0] = static_cast<double>(r.seq);
    o[1] = static_cast<double>(static_cast<int>(r.status));
    o[2] = static_cast<double>(static_cast<int>(r.reason));
    o[3] = static_cast<double>(r.filledQty);
    o[4] = static_cast<double>(r.remainingQty);
    o[5] = static_cast<double>(r.tradeBegin + r.tradeCount);
  }
  const size_t total = engine.trades().size();
  copyTrades(h, trades, tradeLen / kTradeStride);
  napi_create_double(env, static_cast<double>(total), &result);
  return result;
}

// copyBatchTrades(trades): the last batch's trades into a buffer big enough for all of them.
Napi::Value CopyBatchTrades(const Napi::CallbackInfo& info) {
  auto* h = static_cast<EngineHandle*>(info.Data());
  double* trades;
  size_t len;
  if (info.Length() < 1 || !float64Array(info.Env(), info[0], &trades, &len)) {
    Napi::TypeError::New(info.Env(), "copyBatchTrades(trades)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  copyTrades(h, trades, len / kTradeStride);
  return info.Env().Undefined();
}

}  // namespace

void registerBatchMethods(Napi::Env env, Napi::Object obj, EngineHandle* h) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "submitBatch", NAPI_AUTO_LENGTH, SubmitBatch, h, &fn));
  obj.Set("submitBatch", Napi::Value(env, fn));
  obj.Set("copyBatchTrades", Napi::Function::New(env, CopyBatchTrades, "copyBatchTrades", h));
}

}  // namespace durabook
