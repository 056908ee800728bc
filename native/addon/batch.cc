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

// Decodes and validates one command into *d (the same checks submit/cancel/modify make).
inline CommandError decodeAt(const EngineHandle* h, const double* c, DecodedCmd* d) {
  int64_t op;
  if (!toInt64(c[0], &op) || op < 0 || op > (63 << 2 | 3)) return CommandError::BadSide;
  const int64_t kind = op & 3;
  d->kind = static_cast<uint8_t>(kind);
  const double flags = static_cast<double>(op >> 2);
  switch (kind) {
    case kNew: {
      CommandError e = decodeNew(c[1], c[2], c[3], c[4], flags, &d->n);
      return e != CommandError::Ok ? e : h->engine.validateNew(d->n);
    }
    case kCancel:
      if (!toInt64(c[2], &d->cancelId)) return CommandError::BadId;
      return MatchingEngine::validateCancel(d->cancelId);
    case kModify: {
      d->m = ModifyCmd{};
      CommandError e = decodeModify(c[2], c[3], c[4], flags, &d->m);
      return e != CommandError::Ok ? e : MatchingEngine::validateModify(d->m);
    }
    default:
      return CommandError::BadSide;
  }
}

inline int64_t idOf(const DecodedCmd& d) {
  return d.kind == kNew ? d.n.id : d.kind == kCancel ? d.cancelId : d.m.id;
}

void copyTrades(EngineHandle* h, double* out, size_t cap) {
  const std::vector<Trade>& trades = h->engine.trades();
  const size_t n = trades.size() < cap ? trades.size() : cap;
  for (size_t i = 0; i < n; ++i) {
    out[kTradeStride * i] = static_cast<double>(trades[i].makerId);
    out[kTradeStride * i + 1] = static_cast<double>(trades[i].takerId);
    out[kTradeStride * i + 2] = static_cast<double>(trades[i].price);
    out[kTradeStride * i + 3] = static_cast<double>(trades[i].qty);
  }
}

bool float64Array(const Napi::Value& v, double** data, size_t* len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) return false;
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  *data = a.Data();
  *len = a.ElementLength();
  return true;
}

// submitBatch(cmds, count, out, trades) → total trades (>= 0); or -(1 + index) of the first
// refused command, with the CommandError in out[0], having applied nothing.
Napi::Value SubmitBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* h = static_cast<EngineHandle*>(info.Data());
  double *cmds, *out, *trades;
  size_t cmdLen, outLen, tradeLen;
  if (info.Length() < 4 || !float64Array(info[0], &cmds, &cmdLen) || !info[1].IsNumber() ||
      !float64Array(info[2], &out, &outLen) || !float64Array(info[3], &trades, &tradeLen)) {
    Napi::TypeError::New(env, "submitBatch(cmds, count, out, trades)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t count;
  if (!toInt64(info[1].As<Napi::Number>().DoubleValue(), &count) || count < 0 ||
      static_cast<size_t>(count) * kCmdStride > cmdLen || static_cast<size_t>(count) * kOutStride > outLen) {
    Napi::RangeError::New(env, "batch count out of range for its buffers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Pass 1 decodes and validates every command into the handle's scratch array; pass 2 applies
  // them from there, so that each command is decoded once and a refused batch changes nothing.
  std::vector<DecodedCmd>& dec = h->batch;
  if (dec.size() < static_cast<size_t>(count)) dec.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    CommandError e = decodeAt(h, cmds + kCmdStride * i, &dec[i]);
    if (e != CommandError::Ok) {
      out[0] = static_cast<double>(static_cast<int>(e));
      return Napi::Number::New(env, static_cast<double>(-1 - i));
    }
  }
  if (h->failed()) {
    out[0] = kEngineFailedCode;
    return Napi::Number::New(env, -1);
  }
  MatchingEngine& engine = h->engine;
  engine.setClock(h->now());
  engine.clearTrades();
  Report r;
  if (count > 0) engine.prefetchId(idOf(dec[0]));
  for (int64_t i = 0; i < count; ++i) {
    const DecodedCmd& d = dec[i];
    // The next command's id-index line loads while this one is applied.
    if (i + 1 < count) engine.prefetchId(idOf(dec[i + 1]));
    // Invariant: validated above, so every command applies (CommandError::Ok).
    if (d.kind == kNew) engine.submit(d.n, &r);
    else if (d.kind == kCancel) engine.cancel(d.cancelId, &r);
    else engine.modify(d.m, &r);
    double* o = out + kOutStride * i;
    o[0] = static_cast<double>(r.seq);
    o[1] = static_cast<double>(static_cast<int>(r.status));
    o[2] = static_cast<double>(static_cast<int>(r.reason));
    o[3] = static_cast<double>(r.filledQty);
    o[4] = static_cast<double>(r.remainingQty);
    o[5] = static_cast<double>(r.tradeBegin + r.tradeCount);
  }
  const size_t total = h->engine.trades().size();
  copyTrades(h, trades, tradeLen / kTradeStride);
  return Napi::Number::New(env, static_cast<double>(total));
}

// copyBatchTrades(trades): the last batch's trades into a buffer big enough for all of them.
Napi::Value CopyBatchTrades(const Napi::CallbackInfo& info) {
  auto* h = static_cast<EngineHandle*>(info.Data());
  double* trades;
  size_t len;
  if (info.Length() < 1 || !float64Array(info[0], &trades, &len)) {
    Napi::TypeError::New(info.Env(), "copyBatchTrades(trades)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  copyTrades(h, trades, len / kTradeStride);
  return info.Env().Undefined();
}

}  // namespace

void registerBatchMethods(Napi::Env env, Napi::Object obj, EngineHandle* h) {
  obj.Set("submitBatch", Napi::Function::New(env, SubmitBatch, "submitBatch", h));
  obj.Set("copyBatchTrades", Napi::Function::New(env, CopyBatchTrades, "copyBatchTrades", h));
}

}  // namespace durabook
