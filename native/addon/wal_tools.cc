// Module-level bindings of the WAL inspection core (native/core/wal_inspect.h) for the
// `durabook wal` tools. Read-only; none of this touches an engine or the per-command path.
//
//   walVerify(dir, { maxOrders?, maxLevels?, maxSymbols? }) → verify result (see lib/cli/wal.ts)
//   walInspect(dir, { fromSeq?, records? }, onRecord?)    → walk summary; onRecord(record) is
//       called for every record when given (return false to stop)
//   walSnapshots(dir, { check? })                         → snapshot files, oldest first
#include "wal_tools.h"

#include <cstring>

#include "wal_inspect.h"

namespace durabook {
namespace {

double num(uint64_t v) { return static_cast<double>(v); }
double num(int64_t v) { return static_cast<double>(v); }

std::string stringArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string();
}

Napi::Object optionsArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsObject() ? info[i].As<Napi::Object>() : Napi::Object::New(info.Env());
}

double numberOpt(const Napi::Object& o, const char* k, double fallback) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

uint32_t limitOpt(const Napi::Object& o, const char* k, uint32_t fallback) {
  const double d = numberOpt(o, k, -1);
  return d >= 1 && d <= 4294967295.0 ? static_cast<uint32_t>(d) : fallback;
}

const char* typeName(WalType t) {
  switch (t) {
    case WalType::New: return "NEW";
    case WalType::Cancel: return "CANCEL";
    case WalType::Modify: return "MODIFY";
    case WalType::AddSymbol: return "ADD_SYMBOL";
    case WalType::Clock: return "CLOCK";
    case WalType::Trade: return "TRADE";
  }
  return "UNKNOWN";
}

Napi::Object damageObject(Napi::Env env, const WalDamage& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("file", d.file);
  o.Set("offset", num(d.offset));
  o.Set("seq", num(d.seq));
  o.Set("what", d.what);
  return o;
}

Napi::Object findingObject(Napi::Env env, const VerifyFinding& f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("file", f.file);
  o.Set("offset", num(f.offset));
  o.Set("seq", num(f.seq));
  o.Set("what", f.what);
  return o;
}

Napi::Array findingArray(Napi::Env env, const std::vector<VerifyFinding>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), findingObject(env, v[i]));
  return a;
}

Napi::Object recordObject(Napi::Env env, const InspectedRecord& ir) {
  const WalRecord& r = ir.record;
  Napi::Object o = Napi::Object::New(env);
  o.Set("seq", num(r.seq));
  o.Set("type", typeName(r.type));
  o.Set("segment", ir.segment->name);
  o.Set("offset", num(ir.offset));
  o.Set("size", static_cast<double>(ir.size));
  switch (r.type) {
    case WalType::New: {
      const WalNew& n = r.new_order;
      o.Set("symbol", static_cast<double>(n.symbol));
      o.Set("id", num(n.id));
      o.Set("side", n.side == WalSide::Sell ? "sell" : "buy");
      o.Set("orderType", n.market ? "market" : "limit");
      o.Set("tif", n.tif == WalTif::Ioc ? "ioc" : n.tif == WalTif::Fok ? "fok" : "gtc");
      if (n.has_price) o.Set("price", num(n.price));
      o.Set("qty", num(n.qty));
      o.Set("postOnly", n.post_only);
      break;
    }
    case WalType::Cancel:
      o.Set("id", num(r.cancel.id));
      break;
    case WalType::Modify:
      o.Set("id", num(r.modify.id));
      if (r.modify.has_price) o.Set("price", num(r.modify.price));
      if (r.modify.has_qty) o.Set("qty", num(r.modify.qty));
      break;
    case WalType::AddSymbol:
      o.Set("symbol", static_cast<double>(r.add_symbol.symbol));
      o.Set("name", std::string(r.add_symbol.name, r.add_symbol.name_len));
      break;
    case WalType::Clock:
      o.Set("ts", num(r.clock.ts_us));
      break;
    case WalType::Trade:
      o.Set("makerId", num(r.trade.maker_id));
      o.Set("takerId", num(r.trade.taker_id));
      o.Set("price", num(r.trade.price));
      o.Set("qty", num(r.trade.qty));
      break;
  }
  return o;
}

Napi::Object inspectObject(Napi::Env env, const InspectResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array segs = Napi::Array::New(env, r.segments.size());
  for (size_t i = 0; i < r.segments.size(); ++i) {
    const InspectedSegment& s = r.segments[i];
    Napi::Object so = Napi::Object::New(env);
    so.Set("name", s.name);
    so.Set("path", s.path);
    so.Set("nameSeq", num(s.nameSeq));
    so.Set("fileBytes", num(s.fileBytes));
    so.Set("scanned", s.scanned);
    so.Set("header", to_string(s.header));
    so.Set("headerSeq", num(s.headerSeq));
    so.Set("headerBytes", num(s.headerBytes));
    so.Set("records", num(s.records));
    so.Set("recordBytes", num(s.recordBytes));
    so.Set("firstSeq", num(s.firstSeq));
    so.Set("lastSeq", num(s.lastSeq));
    so.Set("endOffset", num(s.endOffset));
    segs.Set(static_cast<uint32_t>(i), so);
  }
  o.Set("segments", segs);
  Napi::Array other = Napi::Array::New(env, r.otherFiles.size());
  for (size_t i = 0; i < r.otherFiles.size(); ++i) other.Set(static_cast<uint32_t>(i), r.otherFiles[i]);
  o.Set("otherFiles", other);
  o.Set("records", num(r.records));
  Napi::Object byType = Napi::Object::New(env);
  for (int t = 1; t < kWalTypeCount; ++t) byType.Set(typeName(static_cast<WalType>(t)), num(r.recordsByType[t]));
  o.Set("recordsByType", byType);
  o.Set("recordBytes", num(r.recordBytes));
  o.Set("fileBytes", num(r.fileBytes));
  o.Set("firstSeq", num(r.firstSeq));
  o.Set("lastSeq", num(r.lastSeq));
  o.Set("stopped", r.stopped);
  o.Set("damage", r.damage.found ? Napi::Value(damageObject(env, r.damage)) : env.Null());
  if (r.err) {
    o.Set("errno", r.err);
    o.Set("error", r.errPath + ": " + std::strerror(r.err));
  } else {
    o.Set("error", env.Null());
  }
  return o;
}

// walInspect(dir, { fromSeq }, onRecord?) → summary
Napi::Value WalInspect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "walInspect(dir, options, onRecord?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opts = optionsArg(info, 1);
  InspectOptions io;
  io.dir = stringArg(info, 0);
  const double from = numberOpt(opts, "fromSeq", 0);
  io.fromSeq = from > 0 && from <= 9007199254740991.0 ? static_cast<uint64_t>(from) : 0;
  bool threw = false;
  // Declared here: the callback below runs inside inspect_wal(), after the if block ends.
  Napi::Function cb;
  if (info.Length() > 2 && info[2].IsFunction()) {
    cb = info[2].As<Napi::Function>();
    io.onRecord = [&](const InspectedRecord& r) {
      Napi::Value ret = cb.Call({recordObject(env, r)});
      if (env.IsExceptionPending()) {
        threw = true;
        return false;
      }
      return !(ret.IsBoolean() && !ret.As<Napi::Boolean>().Value());
    };
  }
  InspectResult res;
  inspect_wal(io, &res);
  if (threw) return env.Undefined();  // the callback's exception propagates
  return inspectObject(env, res);
}

// walSnapshots(dir, { check, maxOrders, maxLevels, maxSymbols }) → [{ name, path, … }] | { error }
Napi::Value WalSnapshots(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts = optionsArg(info, 1);
  EngineLimits limits;
  limits.maxOrders = limitOpt(opts, "maxOrders", limits.maxOrders);
  limits.maxLevels = limitOpt(opts, "maxLevels", limits.maxLevels);
  limits.maxSymbols = limitOpt(opts, "maxSymbols", limits.maxSymbols);
  std::vector<SnapshotFile> snaps;
  const std::string dir = stringArg(info, 0);
  if (int e = list_snapshots(dir, nullptr, opts.Get("check").ToBoolean().Value(), limits, &snaps)) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", e);
    o.Set("error", dir + ": " + std::strerror(e));
    return o;
  }
  Napi::Array a = Napi::Array::New(env, snaps.size());
  for (size_t i = 0; i < snaps.size(); ++i) {
    const SnapshotFile& s = snaps[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", s.name);
    o.Set("path", s.path);
    o.Set("nameSeq", num(s.nameSeq));
    o.Set("bytes", num(s.bytes));
    o.Set("checked", s.checked);
    o.Set("ok", s.ok);
    o.Set("status", s.status);
    o.Set("why", s.why);
    o.Set("seq", num(s.info.seq));
    o.Set("clock", num(s.info.clock));
    o.Set("orders", num(s.info.orders));
    o.Set("symbolCount", static_cast<double>(s.info.symbols));
    Napi::Array names = Napi::Array::New(env, s.symbols.size());
    for (size_t k = 0; k < s.symbols.size(); ++k) names.Set(static_cast<uint32_t>(k), s.symbols[k]);
    o.Set("symbols", names);
    a.Set(static_cast<uint32_t>(i), o);
  }
  return a;
}

// walVerify(dir, { maxOrders, maxLevels, maxSymbols }) → result
Napi::Value WalVerify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "walVerify(dir, options?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opts = optionsArg(info, 1);
  VerifyOptions vo;
  vo.dir = stringArg(info, 0);
  vo.limits.maxOrders = limitOpt(opts, "maxOrders", vo.limits.maxOrders);
  vo.limits.maxLevels = limitOpt(opts, "maxLevels", vo.limits.maxLevels);
  vo.limits.maxSymbols = limitOpt(opts, "maxSymbols", vo.limits.maxSymbols);
  VerifyResult v;
  verify_wal(vo, &v);
  const RecoveryResult& r = v.recovery;
  Napi::Object o = Napi::Object::New(env);
  o.Set("whole", v.whole());
  o.Set("openClean", v.openClean());
  o.Set("dirExists", v.dirExists);
  if (v.snapshotUsed.empty()) {
    o.Set("snapshot", env.Null());
  } else {
    Napi::Object s = Napi::Object::New(env);
    s.Set("path", v.snapshotUsed);
    s.Set("seq", num(v.snapshotSeq));
    s.Set("orders", num(v.snapshotOrders));
    o.Set("snapshot", s);
  }
  o.Set("snapshotsSkipped", findingArray(env, v.snapshotsSkipped));
  o.Set("status", to_string(v.status));
  o.Set("tornTail", r.tornTail);
  o.Set("bytesTruncated", num(r.bytesTruncated));
  o.Set("recordsScanned", num(r.recordsScanned));
  o.Set("recordsReplayed", num(r.commandsReplayed));
  o.Set("tradesVerified", num(r.tradesVerified));
  o.Set("lastSeq", num(v.lastSeq));
  char digest[17];
  std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(v.stateDigest));
  o.Set("digest", std::string(digest));
  const bool damaged = !r.damage.empty() || v.status != RecoveryStatus::Ok;
  if (damaged) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("file", r.damageFile);
    d.Set("offset", num(r.damageOffset));
    d.Set("seq", num(r.damageSeq));
    d.Set("what", r.err ? std::string(std::strerror(r.err)) : r.damage);
    // What open() would do about it (tolerate-tail mode).
    const char* kind = v.status == RecoveryStatus::Corrupt    ? "corrupt"
                       : v.status == RecoveryStatus::Diverged ? "diverged"
                       : v.status == RecoveryStatus::IoError  ? "io error"
                       : r.tornTail                           ? "torn tail"
                                                              : "damage";
    d.Set("kind", kind);
    o.Set("damage", d);
  } else {
    o.Set("damage", env.Null());
  }
  o.Set("errno", r.err);
  Napi::Array segs = Napi::Array::New(env, r.segments.size());
  for (size_t i = 0; i < r.segments.size(); ++i) segs.Set(static_cast<uint32_t>(i), r.segments[i]);
  o.Set("segmentsRead", segs);
  o.Set("fallback", findingArray(env, v.fallback));
  o.Set("anomalies", findingArray(env, v.anomalies));
  o.Set("walk", inspectObject(env, v.walk));
  return o;
}

}  // namespace

void registerWalTools(Napi::Env env, Napi::Object exports) {
  exports.Set("walVerify", Napi::Function::New(env, WalVerify, "walVerify"));
  exports.Set("walInspect", Napi::Function::New(env, WalInspect, "walInspect"));
  exports.Set("walSnapshots", Napi::Function::New(env, WalSnapshots, "walSnapshots"));
}

}  // namespace durabook
