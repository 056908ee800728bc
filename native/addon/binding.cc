// The Node-API binding: a thin layer over the core MatchingEngine.
//
// Why commands and results travel through shared Float64Arrays: a Node-API call costs ~30 ns
// but converting arguments and building a JS object in native code costs several times that.
// JS writes a command's fields into `cmd`, calls a method whose one argument is the engine's
// slot, and reads the report from `res`; the report object is built in JS, where object
// creation is cheap.
// Every value read from `cmd` is re-validated here: no input may corrupt the book.
//
// res layout after submit/cancel/modify/addSymbol:
//   [0] seq  [1] status (or -CommandError when refused)  [2] reason  [3] filledQty
//   [4] remainingQty  [5] tradeCount  [6 + 3i ..] makerId, price, qty of trade i
// (trades past the buffer's capacity are fetched with readTrades(from)).
//
// submit/cancel/modify are one function object each per addon instance (per Node environment),
// shared by every engine. A JS call site then always sees the same target, and TurboFan calls
// it straight through the API-callback builtin; with a function object per engine, a second
// engine made the call site megamorphic and every call took V8's generic (C++ runtime) path.
// They take no argument: the engine writes its slot number into the instance's one-element
// `callSlot` Float64Array just before the call (`callSlot[0] = slot; native.submit()`). Reading
// an argument would cost more than the rest of the binding together: napi_get_cb_info copies
// the argument vector and napi_get_value_uint32 converts the value, ~90 instructions a call.
#include <napi.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "batch.h"
#include "cpu_affinity.h"
#include "durability.h"
#include "engine_handle.h"
#include "memory_lock.h"
#include "wal_tools.h"

namespace durabook {
namespace {

EngineHandle* handleOf(const Napi::CallbackInfo& info) { return static_cast<EngineHandle*>(info.Data()); }

// The engines of one addon instance, by slot; the shared per-command functions look them up.
// Owned jointly by the instance data and every live engine's finalizer, so that neither
// teardown order frees it under the other.
struct AddonState {
  std::vector<EngineHandle*> handles;
  std::vector<uint32_t> freeSlots;
  napi_ref submitFn = nullptr;
  napi_ref cancelFn = nullptr;
  napi_ref modifyFn = nullptr;
  // callSlot[0]: the slot of the engine a per-command call is for (written by JS before the
  // call). The backing store of a Float64Array held by callSlotRef, so it stays put.
  double* callSlot = nullptr;
  napi_ref callSlotRef = nullptr;

  uint32_t add(EngineHandle* h) {
    if (!freeSlots.empty()) {
      uint32_t s = freeSlots.back();
      freeSlots.pop_back();
      handles[s] = h;
      return s;
    }
    handles.push_back(h);
    return static_cast<uint32_t>(handles.size() - 1);
  }
  void release(uint32_t s) {
    handles[s] = nullptr;
    freeSlots.push_back(s);
  }
};

// The per-command methods skip node-addon-api's CallbackInfo (argument vector, `this`, a
// wrapper object) and read no argument: only the function's data (the AddonState) and the slot
// in callSlot, validated like any other input.
template <void (*Fn)(EngineHandle*)>
napi_value RawMethod(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  const AddonState* st = static_cast<const AddonState*>(data);
  const double s = st->callSlot[0];
  const size_t n = st->handles.size();
  if (!(s >= 0 && s < static_cast<double>(n)) || static_cast<double>(static_cast<size_t>(s)) != s ||
      st->handles[static_cast<size_t>(s)] == nullptr) {
    napi_throw_type_error(env, nullptr, "callSlot[0] must be the slot of a live engine");
    return nullptr;
  }
  Fn(st->handles[static_cast<size_t>(s)]);
  return nullptr;
}

std::shared_ptr<AddonState>& addonState(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return *static_cast<std::shared_ptr<AddonState>*>(data);
}

void writeRefusal(EngineHandle* h, CommandError e) {
  h->res[1] = -static_cast<double>(static_cast<int>(e));
  h->res[5] = 0;
}

void writeTrades(EngineHandle* h, uint32_t from, uint32_t count) {
  const std::vector<Trade>& trades = h->engine.trades();
  const size_t cap = (h->resLen - kResHeader) / 3;
  double* out = h->res + kResHeader;
  for (uint32_t i = 0; i < count && i < cap; ++i) {
    const Trade& t = trades[from + i];
    out[3 * i] = static_cast<double>(t.makerId);
    out[3 * i + 1] = static_cast<double>(t.price);
    out[3 * i + 2] = static_cast<double>(t.qty);
  }
}

void writeReport(EngineHandle* h, CommandError e, const Report& r) {
  if (e != CommandError::Ok) {
    writeRefusal(h, e);
    return;
  }
  if (h->checkInvariants) {
    h->invariantError = h->engine.checkInvariants();
    if (!h->invariantError.empty()) {
      h->res[1] = kInvariantBrokenCode;
      return;
    }
  }
  double* res = h->res;
  res[0] = static_cast<double>(r.seq);
  res[1] = static_cast<double>(static_cast<int>(r.status));
  res[2] = static_cast<double>(static_cast<int>(r.reason));
  res[3] = static_cast<double>(r.filledQty);
  res[4] = static_cast<double>(r.remainingQty);
  res[5] = static_cast<double>(r.tradeCount);
  if (r.tradeCount) writeTrades(h, r.tradeBegin, r.tradeCount);
}

// cmd: [0] symbol [1] id [2] price [3] qty [4] flags (see decodeNew)
void Submit(EngineHandle* h) {
  const double* c = h->cmd;
  NewOrderCmd cmd;
  if (CommandError e = decodeNew(c[0], c[1], c[2], c[3], c[4], &cmd); e != CommandError::Ok) return writeRefusal(h, e);
  h->engine.prefetchId(cmd.id);  // the duplicate-id probe's line loads during the clock read
  if (h->failed()) return void(h->res[1] = kEngineFailedCode);
  h->engine.setClock(h->now());
  h->engine.clearTrades();
  Report r;
  const WalBurst burst(h->wal.get());  // the command's records (clock, input, trades): one check
  writeReport(h, h->engine.submit(cmd, &r), r);
}

// cmd: [1] id
void Cancel(EngineHandle* h) {
  int64_t id;
  if (!toInt64(h->cmd[1], &id)) return writeRefusal(h, CommandError::BadId);
  h->engine.prefetchId(id);
  if (h->failed()) return void(h->res[1] = kEngineFailedCode);
  h->engine.setClock(h->now());
  h->engine.clearTrades();
  Report r;
  const WalBurst burst(h->wal.get());  // the command's records (clock, input, trades): one check
  writeReport(h, h->engine.cancel(id, &r), r);

}

// cmd: [1] id [2] price [3] qty [4] flags (bit0 hasPrice, bit1 hasQty)
void Modify(EngineHandle* h) {
  const double* c = h->cmd;
  ModifyCmd cmd;
  if (CommandError e = decodeModify(c[1], c[2], c[3], c[4], &cmd); e != CommandError::Ok) return writeRefusal(h, e);
  if (h->failed()) return void(h->res[1] = kEngineFailedCode);
  h->engine.setClock(h->now());
  h->engine.clearTrades();
  Report r;
  const WalBurst burst(h->wal.get());  // the command's records (clock, input, trades): one check
  writeReport(h, h->engine.modify(cmd, &r), r);
}

Napi::Value AddSymbol(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  if (info.Length() < 1 || !info[0].IsString()) return writeRefusal(h, CommandError::BadSymbolName), info.Env().Undefined();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (h->failed()) return h->res[1] = kEngineFailedCode, info.Env().Undefined();
  h->engine.setClock(h->now());
  h->engine.clearTrades();
  Report r;
  writeReport(h, h->engine.addSymbol(name, &r), r);
  return info.Env().Undefined();
}

// Fetches trades [from, from + capacity) of the last command into res[6..].
Napi::Value ReadTrades(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  int64_t from;
  const size_t n = h->engine.trades().size();
  if (!toInt64(h->cmd[0], &from) || from < 0 || static_cast<size_t>(from) >= n) return info.Env().Undefined();
  writeTrades(h, static_cast<uint32_t>(from), static_cast<uint32_t>(n - static_cast<size_t>(from)));
  return info.Env().Undefined();
}

bool symbolArg(EngineHandle* h, uint32_t* sym) {
  int64_t s;
  if (!toInt64(h->cmd[0], &s) || s < 0 || s >= h->engine.symbolCount()) return false;
  *sym = static_cast<uint32_t>(s);
  return true;
}

// cmd: [0] symbol → res: [0] hasBid [1] bidPrice [2] bidQty [3] hasAsk [4] askPrice [5] askQty
Napi::Value Bbo(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  uint32_t sym;
  if (!symbolArg(h, &sym)) return Napi::Boolean::New(info.Env(), false);
  LevelView v;
  bool b = h->engine.best(sym, Side::Buy, &v);
  h->res[0] = b;
  h->res[1] = b ? static_cast<double>(v.price) : 0;
  h->res[2] = b ? static_cast<double>(v.qty) : 0;
  bool a = h->engine.best(sym, Side::Sell, &v);
  h->res[3] = a;
  h->res[4] = a ? static_cast<double>(v.price) : 0;
  h->res[5] = a ? static_cast<double>(v.qty) : 0;
  return Napi::Boolean::New(info.Env(), true);
}

// cmd: [0] symbol [1] levels → [nBids, nAsks, (price, qty, orders)...] written into res when it
// fits (returns true), else into a new Float64Array (returned); undefined for a bad symbol.
Napi::Value Depth(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  uint32_t sym;
  int64_t n;
  if (!symbolArg(h, &sym) || !toInt64(h->cmd[1], &n) || n < 0) return info.Env().Undefined();
  const uint32_t levels = n > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(n);
  h->engine.depth(sym, levels, &h->bids, &h->asks);
  const size_t len = 2 + 3 * (h->bids.size() + h->asks.size());
  Napi::Float64Array fresh;
  double* out = h->res;
  if (len > h->resLen) {
    fresh = Napi::Float64Array::New(info.Env(), len);
    out = fresh.Data();
  }
  out[0] = static_cast<double>(h->bids.size());
  out[1] = static_cast<double>(h->asks.size());
  size_t k = 2;
  for (const auto* side : {&h->bids, &h->asks})
    for (const LevelView& l : *side) {
      out[k++] = static_cast<double>(l.price);
      out[k++] = static_cast<double>(l.qty);
      out[k++] = static_cast<double>(l.orders);
    }
  if (out == h->res) return Napi::Boolean::New(info.Env(), true);
  return fresh;
}

// cmd: [1] id → res: [0] found [1] symbol [2] side [3] price [4] remainingQty; returns found.
Napi::Value OrderQuery(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  int64_t id;
  const Order* o = toInt64(h->cmd[1], &id) ? h->engine.findOrder(id) : nullptr;
  if (!o) return Napi::Boolean::New(info.Env(), false);
  h->res[1] = o->symbol;
  h->res[2] = static_cast<double>(static_cast<int>(o->side));
  h->res[3] = static_cast<double>(o->price);
  h->res[4] = static_cast<double>(o->qty);
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value Digest(const Napi::CallbackInfo& info) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(handleOf(info)->engine.digest()));
  return Napi::String::New(info.Env(), buf);
}

Napi::Value CheckInvariants(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  std::string why = h->invariantError.empty() ? h->engine.checkInvariants() : h->invariantError;
  return Napi::String::New(info.Env(), why);
}

Napi::Value SetCheckInvariants(const Napi::CallbackInfo& info) {
  handleOf(info)->checkInvariants = info.Length() > 0 && info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

Napi::Value LastSeq(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(handleOf(info)->engine.lastSeq()));
}

uint32_t limitOption(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return fallback;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 4294967295.0)) return fallback;
  return static_cast<uint32_t>(d);
}

// createEngine({ maxOrders, maxLevels, maxSymbols }, cmd: Float64Array, res: Float64Array)
Napi::Value CreateEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "createEngine(options, cmd, res)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray cmdTa = info[1].As<Napi::TypedArray>();
  Napi::TypedArray resTa = info[2].As<Napi::TypedArray>();
  if (cmdTa.TypedArrayType() != napi_float64_array || resTa.TypedArrayType() != napi_float64_array ||
      cmdTa.ElementLength() < 8 || resTa.ElementLength() < kResHeader + 3) {
    Napi::TypeError::New(env, "cmd and res must be Float64Arrays (cmd >= 8, res >= 9 elements)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  EngineLimits limits;
  limits.maxOrders = limitOption(opts, "maxOrders", limits.maxOrders);
  limits.maxLevels = limitOption(opts, "maxLevels", limits.maxLevels);
  limits.maxSymbols = limitOption(opts, "maxSymbols", limits.maxSymbols);
  const bool preciseClock = opts.Get("preciseClock").ToBoolean().Value();

  auto* h = new EngineHandle(limits);
  h->preciseClock = preciseClock;
  Napi::Float64Array cmd = cmdTa.As<Napi::Float64Array>();
  Napi::Float64Array res = resTa.As<Napi::Float64Array>();
  h->cmd = cmd.Data();
  h->res = res.Data();
  h->resLen = res.ElementLength();
  h->cmdRef = Napi::Persistent(cmd);
  h->resRef = Napi::Persistent(res);

  Napi::Object obj = Napi::Object::New(env);
  auto bind = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    obj.Set(name, Napi::Function::New(env, fn, name, h));
  };
  std::shared_ptr<AddonState> st = addonState(env);
  const uint32_t slot = st->add(h);
  auto bindShared = [&](const char* name, napi_ref ref) {
    napi_value fn;
    napi_get_reference_value(env, ref, &fn);
    obj.Set(name, Napi::Value(env, fn));
  };
  bindShared("submit", st->submitFn);
  bindShared("cancel", st->cancelFn);
  bindShared("modify", st->modifyFn);
  obj.Set("slot", Napi::Number::New(env, slot));
  bind("addSymbol", AddSymbol);
  bind("readTrades", ReadTrades);
  bind("bbo", Bbo);
  bind("depth", Depth);
  bind("order", OrderQuery);
  bind("digest", Digest);
  bind("checkInvariants", CheckInvariants);
  bind("setCheckInvariants", SetCheckInvariants);
  bind("lastSeq", LastSeq);
  registerBatchMethods(env, obj, h);
  registerDurabilityMethods(env, obj, h);
  // The handle lives as long as the object that carries its methods.
  struct Owner {
    std::shared_ptr<AddonState> st;
    uint32_t slot;
  };
  obj.AddFinalizer(
      [](Napi::Env, EngineHandle* p, Owner* o) {
        o->st->release(o->slot);
        delete o;
        delete p;
      },
      h, new Owner{std::move(st), slot});
  return obj;
}

// pinCurrentThread(cpu): pins the calling thread (the JS thread that runs matching) to one CPU,
// e.g. away from the WAL writer's and the disk interrupts' CPU in a benchmark. Returns 0 or
// the errno (EINVAL for a CPU this process may not use).
Napi::Value PinCurrentThread(const Napi::CallbackInfo& info) {
  const double cpu = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  const bool whole = cpu >= 0 && cpu <= 1 << 20 && cpu == static_cast<int>(cpu);
  return Napi::Number::New(info.Env(), whole ? pin_thread(pthread_self(), static_cast<int>(cpu)) : EINVAL);
}

// lockMemory(onFault): locks the process's code in RAM (memory_lock.h: file-backed mappings,
// not mlockall, which V8 cannot live with). Returns { errno, bytes, mappings, capable,
// limitBytes }: the cap facts let the JS error say what to raise.
Napi::Value LockMemory(const Napi::CallbackInfo& info) {
  const bool onFault = info.Length() > 0 && info[0].ToBoolean().Value();
  const MemoryLockResult r = lock_code(onFault ? MemoryLockMode::kOnFault : MemoryLockMode::kAll);
  const MemoryLockLimit lim = memory_lock_limit();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("errno", r.err);
  out.Set("bytes", static_cast<double>(r.bytes));
  out.Set("mappings", r.mappings);
  out.Set("capable", lim.capable);
  out.Set("limitBytes", static_cast<double>(lim.limitBytes));
  return out;
}

Napi::Value UnlockMemory(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), unlock_code()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* st = new std::shared_ptr<AddonState>(std::make_shared<AddonState>());
  napi_set_instance_data(
      env, st, [](napi_env, void* data, void*) { delete static_cast<std::shared_ptr<AddonState>*>(data); }, nullptr);
  auto shared = [&](const char* name, napi_callback cb, napi_ref* ref) {
    napi_value fn;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, st->get(), &fn);
    napi_create_reference(env, fn, 1, ref);
  };
  void* slotData = nullptr;
  napi_value slotBuf;
  napi_value slotArray;
  if (napi_create_arraybuffer(env, sizeof(double), &slotData, &slotBuf) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, 1, slotBuf, 0, &slotArray) != napi_ok ||
      napi_create_reference(env, slotArray, 1, &(*st)->callSlotRef) != napi_ok) {
    // Without callSlot the per-command functions are not registered at all.
    Napi::Error::New(env, "durabook: cannot create the addon's callSlot").ThrowAsJavaScriptException();
    return exports;
  }
  (*st)->callSlot = static_cast<double*>(slotData);
  (*st)->callSlot[0] = -1;  // no engine yet
  exports.Set("callSlot", Napi::Value(env, slotArray));
  shared("submit", RawMethod<Submit>, &(*st)->submitFn);
  shared("cancel", RawMethod<Cancel>, &(*st)->cancelFn);
  shared("modify", RawMethod<Modify>, &(*st)->modifyFn);
  exports.Set("createEngine", Napi::Function::New(env, CreateEngine, "createEngine"));
  exports.Set("resHeader", Napi::Number::New(env, kResHeader));
  exports.Set("pinCurrentThread", Napi::Function::New(env, PinCurrentThread, "pinCurrentThread"));
  exports.Set("lockMemory", Napi::Function::New(env, LockMemory, "lockMemory"));
  exports.Set("unlockMemory", Napi::Function::New(env, UnlockMemory, "unlockMemory"));
  registerWalTools(env, exports);
  registerDurabilityModule(env, exports);
  return exports;
}

}  // namespace
}  // namespace durabook

static Napi::Object InitDurabook(Napi::Env env, Napi::Object exports) { return durabook::Init(env, exports); }
NODE_API_MODULE(durabook, InitDurabook)
