// Binding of the durable side: WAL writer start/stop and watermark, recovery scan, snapshot
// load/serialize/write, and the test-only fault-injection layer. None of this is on the
// per-command path; results come back as plain JS objects.
#include "durability.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "snapshot.h"
#include "wal_recovery.h"
#if defined(DURABOOK_TEST_HOOKS)
#include "crash_sim_file_layer.h"
#include "test_bugs.h"
#endif

namespace durabook {
namespace {

EngineHandle* handleOf(const Napi::CallbackInfo& info) { return static_cast<EngineHandle*>(info.Data()); }

std::string errnoName(int err) {
  switch (err) {
    case EIO: return "EIO";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EDQUOT: return "EDQUOT";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    default: return "E" + std::to_string(err);
  }
}

Napi::Object statusObject(Napi::Env env, const WalStatus& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", st.ok());
  if (!st.ok()) {
    o.Set("errno", st.err);
    o.Set("code", errnoName(st.err));
    o.Set("op", st.op);
    o.Set("path", st.path);
    o.Set("message", st.message());
  }
  return o;
}

std::string stringOpt(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

double numberOpt(const Napi::Object& o, const char* k, double fallback) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// --- WAL writer ---------------------------------------------------------------------------

void CallJsWake(napi_env env, napi_value jsCb, void*, void*) {
  if (env == nullptr || jsCb == nullptr) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, jsCb, 0, nullptr, nullptr);
}

void queueWake(EngineHandle* h) {
  // One queued callback at a time: JS clears the flag (ackWake) before it reads the watermark
  // or the failure, so a sync or failure that lands in between is seen by that read or queues
  // anew. seq_cst, as ackWake's exchange: see there.
  if (!h->wakeQueued.exchange(true, std::memory_order_seq_cst))
    napi_call_threadsafe_function(h->tsfn, nullptr, napi_tsfn_nonblocking);
}

// openWal(options, onWake) → status. options: dir, durable, segmentBytes, ringCapacity,
// asyncFlushMs, asyncFlushRecords, writerCpu, logTrades, resumeSegment, resumeOffset, nextSeq.
Napi::Value OpenWal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EngineHandle* h = handleOf(info);
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "openWal(options, onWake)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (h->wal) return statusObject(env, WalStatus{EEXIST, "open", "wal already open"});
  Napi::Object o = info[0].As<Napi::Object>();
  WalWriterOptions wo;
  wo.dir = stringOpt(o, "dir");
  wo.mode = o.Get("durable").ToBoolean().Value() ? WalMode::Durable : WalMode::Async;
  wo.segmentBytes = static_cast<uint64_t>(numberOpt(o, "segmentBytes", static_cast<double>(wo.segmentBytes)));
  wo.ringCapacity = static_cast<size_t>(numberOpt(o, "ringCapacity", static_cast<double>(wo.ringCapacity)));
  wo.asyncFlushMs = static_cast<uint32_t>(numberOpt(o, "asyncFlushMs", wo.asyncFlushMs));
  wo.asyncFlushRecords = static_cast<uint32_t>(numberOpt(o, "asyncFlushRecords", wo.asyncFlushRecords));
  wo.writerCpu = static_cast<int>(numberOpt(o, "writerCpu", -1));
  wo.logTrades = o.Get("logTrades").ToBoolean().Value();
  wo.files = h->files;
#if defined(DURABOOK_TEST_HOOKS)
  // Under crash simulation the layer learns each watermark the moment it is published: what
  // the engine had acknowledged when power went is what recovery must bring back.
  if (auto* sim = dynamic_cast<CrashSimFileLayer*>(h->files)) {
    wo.publishHook = [sim](uint64_t seq) { sim->noteAcknowledged(seq); };
  }
#endif
  std::optional<WalResume> resume;
  const std::string seg = stringOpt(o, "resumeSegment");
  const double nextSeq = numberOpt(o, "nextSeq", 1);
  if (!seg.empty() || nextSeq > 1) {
    resume = WalResume{seg, static_cast<uint64_t>(numberOpt(o, "resumeOffset", 0)), static_cast<uint64_t>(nextSeq)};
  }
  std::unique_ptr<WalWriter> w;
  WalStatus st = WalWriter::open(wo, resume, &w);
  if (!st.ok()) return statusObject(env, st);

  napi_value name = Napi::String::New(env, "durabook.walWake");
  napi_status ns = napi_create_threadsafe_function(env, info[1], nullptr, name, 0, 1, nullptr, nullptr, nullptr,
                                                   CallJsWake, &h->tsfn);
  if (ns != napi_ok) {
    w->close();
    return statusObject(env, WalStatus{EINVAL, "threadsafe function", wo.dir});
  }
  // An idle engine must not keep the process alive; JS refs it while promises wait.
  napi_unref_threadsafe_function(env, h->tsfn);
  w->setCallbacks([h] { queueWake(h); }, [h] { queueWake(h); });
  h->wal = std::move(w);
  h->engine.setJournal(h->wal.get());
  return statusObject(env, st);
}

Napi::Value AckWake(const Napi::CallbackInfo& info) {
  // An RMW, not a store: the writer's queueWake() is one too, so of the two the later one sees
  // the earlier's effects. Either the writer finds the flag clear and queues a wake, or JS's
  // next read (the watermark, walError()) sees what the writer did before its exchange. A plain
  // store could still sit in this CPU's store buffer while those reads are served.
  handleOf(info)->wakeQueued.exchange(false, std::memory_order_seq_cst);
  return info.Env().Undefined();
}

Napi::Value DurableSeq(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  return Napi::Number::New(info.Env(), h->wal ? static_cast<double>(h->wal->durableSeq()) : 0);
}

Napi::Value RequestWake(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  int64_t seq;
  if (!h->wal || info.Length() < 1 || !info[0].IsNumber() || !toInt64(info[0].As<Napi::Number>().DoubleValue(), &seq) ||
      seq < 0)
    return Napi::Boolean::New(info.Env(), true);
  return Napi::Boolean::New(info.Env(), h->wal->requestWake(static_cast<uint64_t>(seq)));
}

Napi::Value RefWake(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  if (h->tsfn) {
    if (info.Length() > 0 && info[0].ToBoolean().Value()) napi_ref_threadsafe_function(info.Env(), h->tsfn);
    else napi_unref_threadsafe_function(info.Env(), h->tsfn);
  }
  return info.Env().Undefined();
}

Napi::Value WalError(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  if (!h->wal || !h->wal->failed()) return info.Env().Undefined();
  return statusObject(info.Env(), h->wal->error());
}

// A writer's counters as numbers, for a later walStats(out, since) to diff against
// (kWalStatsLength of them; every count stays below 2^53, so doubles hold them exactly):
//
//   [0] records  [1] bytes  [2] syncs  [3] batches  [4] segments  [5] ringHighWater
//   [6] producerWaits  [7] writerWakes  [8] sync count  [9] sync totalNs  [10] sync maxNs
//   [11] writeNs  [12] zeroFillNs  [13] producerWaitNs
//   [14 .. 14 + DurationHistogram::kBuckets) the sync histogram's buckets
constexpr size_t kWalStatsHead = 14;
constexpr size_t kWalStatsLength = kWalStatsHead + DurationHistogram::kBuckets;

// The head fields of the layout above, in its order: one list for both directions.
std::array<uint64_t*, kWalStatsHead> headFields(WalStats& s) {
  return {&s.records,      &s.bytes,        &s.syncs,         &s.batches,      &s.segments,    &s.ringHighWater,
          &s.producerWaits, &s.writerWakes, &s.syncNs.count, &s.syncNs.totalNs, &s.syncNs.maxNs,
          &s.writeNs,       &s.zeroFillNs,  &s.producerWaitNs};
}

void encodeWalStats(WalStats& s, double* out) {
  const auto head = headFields(s);
  for (size_t i = 0; i < kWalStatsHead; ++i) out[i] = static_cast<double>(*head[i]);
  for (size_t b = 0; b < DurationHistogram::kBuckets; ++b) out[kWalStatsHead + b] = static_cast<double>(s.syncNs.buckets[b]);
}

// Inverse of encodeWalStats. The array comes from JS: a value that is not a count (negative,
// NaN, fractional after a caller wrote into it) reads as 0, never as undefined behaviour.
WalStats decodeWalStats(const double* in) {
  auto count = [](double d) { return d >= 1 && d < 18446744073709551616.0 ? static_cast<uint64_t>(d) : uint64_t{0}; };
  WalStats s;
  const auto head = headFields(s);
  for (size_t i = 0; i < kWalStatsHead; ++i) *head[i] = count(in[i]);
  for (size_t b = 0; b < DurationHistogram::kBuckets; ++b) s.syncNs.buckets[b] = count(in[kWalStatsHead + b]);
  return s;
}

// Argument i: absent or undefined (nullptr, *ok stays true), or a Float64Array of exactly
// kWalStatsLength numbers. Anything else clears *ok: the JS layer and this addon disagree
// about the layout (a stale build), which must not pass for an interval of zeros.
double* statsArray(const Napi::CallbackInfo& info, size_t i, bool* ok) {
  if (info.Length() <= i || info[i].IsUndefined()) return nullptr;
  if (info[i].IsTypedArray()) {
    Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
    if (ta.TypedArrayType() == napi_float64_array && ta.ElementLength() == kWalStatsLength)
      return ta.As<Napi::Float64Array>().Data();
  }
  *ok = false;
  return nullptr;
}

// walStats(out?: Float64Array, since?: Float64Array) → stats | undefined. `out` receives the
// counters as they stand (encodeWalStats); with `since` (an earlier `out`) the stats are those
// of the interval between the two (WalStats::since).
Napi::Value WalStatsJs(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  bool ok = true;
  double* out = statsArray(info, 0, &ok);
  const double* since = statsArray(info, 1, &ok);
  if (!ok) {
    Napi::TypeError::New(info.Env(), "walStats(out?, since?): Float64Arrays of walStatsLength numbers").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (!h->wal) return info.Env().Undefined();
  WalStats s = h->wal->stats();
  if (out) encodeWalStats(s, out);
  if (since) s = s.since(decodeWalStats(since));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("records", static_cast<double>(s.records));
  o.Set("bytes", static_cast<double>(s.bytes));
  o.Set("syncs", static_cast<double>(s.syncs));
  o.Set("batches", static_cast<double>(s.batches));
  o.Set("segments", static_cast<double>(s.segments));
  o.Set("ringHighWater", static_cast<double>(s.ringHighWater));
  o.Set("producerWaits", static_cast<double>(s.producerWaits));
  o.Set("writerWakes", static_cast<double>(s.writerWakes));
  o.Set("producerWaitNs", static_cast<double>(s.producerWaitNs));
  o.Set("writeNs", static_cast<double>(s.writeNs));
  o.Set("zeroFillNs", static_cast<double>(s.zeroFillNs));
  o.Set("durableSeq", static_cast<double>(h->wal->durableSeq()));
  const DurationHistogram::Snapshot& d = s.syncNs;
  Napi::Object sync = Napi::Object::New(info.Env());
  sync.Set("count", static_cast<double>(d.count));
  sync.Set("mean", d.count == 0 ? 0.0 : static_cast<double>(d.totalNs) / static_cast<double>(d.count));
  sync.Set("p50", static_cast<double>(d.quantile(0.5)));
  sync.Set("p99", static_cast<double>(d.quantile(0.99)));
  sync.Set("p999", static_cast<double>(d.quantile(0.999)));
  sync.Set("max", static_cast<double>(d.maxNs));
  sync.Set("timeP50", static_cast<double>(d.timeQuantile(0.5)));
  sync.Set("timeP99", static_cast<double>(d.timeQuantile(0.99)));
  o.Set("syncNs", sync);
  return o;
}

// closeWal() → status: drains, syncs, joins the writer. The engine stops logging.
Napi::Value CloseWal(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  WalStatus st;
  if (h->wal) {
    st = h->wal->close();
    h->engine.setJournal(nullptr);
  }
  if (h->tsfn) {
    napi_release_threadsafe_function(h->tsfn, napi_tsfn_release);
    h->tsfn = nullptr;
  }
  return statusObject(info.Env(), st);
}

// --- recovery -----------------------------------------------------------------------------

// recover({ dir, mode: 'tolerate-tail'|'strict'|'point-in-time', repair }) → result object
Napi::Value Recover(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EngineHandle* h = handleOf(info);
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "recover(options)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  RecoveryOptions ro;
  ro.dir = stringOpt(o, "dir");
  const std::string mode = stringOpt(o, "mode");
  ro.mode = mode == "strict" ? RecoveryMode::Strict
            : mode == "point-in-time" ? RecoveryMode::PointInTime
                                      : RecoveryMode::TolerateTail;
  ro.repair = !o.Has("repair") || o.Get("repair").ToBoolean().Value();
  ro.files = h->files;
  RecoveryResult r;
  // Replay logs nothing: the journal (if any) is detached while recovering.
  h->engine.setJournal(nullptr);
  RecoveryStatus st = recover_wal(ro, &h->engine, &r);
  if (h->wal) h->engine.setJournal(h->wal.get());
  Napi::Object out = Napi::Object::New(env);
  out.Set("status", to_string(st));
  out.Set("recordsScanned", static_cast<double>(r.recordsScanned));
  out.Set("commandsReplayed", static_cast<double>(r.commandsReplayed));
  out.Set("tradesVerified", static_cast<double>(r.tradesVerified));
  out.Set("lastSeq", static_cast<double>(h->engine.lastSeq()));
  out.Set("bytesTruncated", static_cast<double>(r.bytesTruncated));
  out.Set("tornTail", r.tornTail);
  out.Set("damageFile", r.damageFile);
  out.Set("damageOffset", static_cast<double>(r.damageOffset));
  out.Set("damageSeq", static_cast<double>(r.damageSeq));
  out.Set("damage", r.damage);
  out.Set("droppedFirstSeq", static_cast<double>(r.droppedFirstSeq));
  out.Set("droppedLastSeq", static_cast<double>(r.droppedLastSeq));
  out.Set("errno", r.err);
  out.Set("errCode", r.err ? errnoName(r.err) : std::string());
  out.Set("errMessage", r.err ? std::string(std::strerror(r.err)) : std::string());
  out.Set("resumeSegment", r.resumeSegment);
  out.Set("resumeOffset", static_cast<double>(r.resumeOffset));
  Napi::Array segs = Napi::Array::New(env, r.segments.size());
  for (size_t i = 0; i < r.segments.size(); ++i) segs.Set(static_cast<uint32_t>(i), r.segments[i]);
  out.Set("segments", segs);
  return out;
}

// --- snapshots ----------------------------------------------------------------------------

// loadSnapshot(path) → { status, why, seq, orders, symbols, errno }
Napi::Value LoadSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EngineHandle* h = handleOf(info);
  Napi::Object out = Napi::Object::New(env);
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "loadSnapshot(path)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint8_t> buf;
  if (int e = h->files->readFile(info[0].As<Napi::String>().Utf8Value(), &buf)) {
    out.Set("status", "io error");
    out.Set("errno", e);
    out.Set("why", std::string(std::strerror(e)));
    return out;
  }
  SnapshotInfo si;
  std::string why;
  SnapshotStatus st = load_snapshot(buf.data(), buf.size(), &h->engine, &si, &why);
  out.Set("status", to_string(st));
  out.Set("why", why);
  out.Set("seq", static_cast<double>(si.seq));
  out.Set("orders", static_cast<double>(si.orders));
  out.Set("symbols", static_cast<double>(si.symbols));
  out.Set("bytes", static_cast<double>(buf.size()));
  return out;
}

Napi::Value ResetEngine(const Napi::CallbackInfo& info) {
  handleOf(info)->engine.reset();
  return info.Env().Undefined();
}

Napi::Value SymbolNames(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  Napi::Array a = Napi::Array::New(info.Env(), h->engine.symbolCount());
  for (uint32_t i = 0; i < h->engine.symbolCount(); ++i) a.Set(i, h->engine.symbolName(i));
  return a;
}

// serializeSnapshot() → Buffer holding the state after lastSeq.
Napi::Value SerializeSnapshot(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  auto* bytes = new std::vector<uint8_t>();
  encode_snapshot(h->engine, bytes);
  return Napi::Buffer<uint8_t>::New(info.Env(), bytes->data(), bytes->size(),
                                    [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, bytes);
}

// Writes a file the crash-safe way off the JS thread: name.tmp, fdatasync, rename, fsync dir.
class DurableFileWorker : public Napi::AsyncWorker {
 public:
  DurableFileWorker(Napi::Function cb, FileLayer* fs, std::string dir, std::string name, Napi::Buffer<uint8_t> data)
      : Napi::AsyncWorker(cb), fs_(fs), dir_(std::move(dir)), name_(std::move(name)), data_(data.Data()),
        len_(data.Length()), ref_(Napi::Persistent(data)) {}

  void Execute() override {
    const std::string tmp = dir_ + "/" + name_ + ".tmp";
    const std::string final = dir_ + "/" + name_;
    int fd = -1;
    if ((err_ = fs_->open(tmp, kOpenCreate | kOpenTruncate, &fd))) return fail("open", tmp);
    err_ = fs_->pwrite(fd, data_, len_, 0);
    if (!err_) err_ = fs_->fdatasync(fd);
    const int closeErr = fs_->close(fd);
    if (err_) return fail("write", tmp);
    if ((err_ = closeErr)) return fail("close", tmp);
    if ((err_ = fs_->rename(tmp, final))) return fail("rename", tmp);
    if ((err_ = fs_->fsyncDir(dir_))) return fail("fsync", dir_);
  }

  void OnOK() override { Callback().Call({Env().Null()}); }
  void OnError(const Napi::Error&) override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("errno", err_);
    o.Set("code", errnoName(err_));
    o.Set("op", op_);
    o.Set("path", path_);
    o.Set("message", op_ + " " + path_ + ": " + std::strerror(err_));
    Callback().Call({o});
  }

 private:
  void fail(const char* op, const std::string& path) {
    op_ = op;
    path_ = path;
    SetError(op_);
  }
  FileLayer* fs_;
  std::string dir_, name_;
  const uint8_t* data_;
  size_t len_;
  Napi::Reference<Napi::Buffer<uint8_t>> ref_;
  int err_ = 0;
  std::string op_, path_;
};

// writeDurableFile(dir, name, buffer, callback(err|null))
Napi::Value WriteDurableFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsBuffer() || !info[3].IsFunction()) {
    Napi::TypeError::New(env, "writeDurableFile(dir, name, buffer, callback)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* w = new DurableFileWorker(info[3].As<Napi::Function>(), handleOf(info)->files,
                                  info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                                  info[2].As<Napi::Buffer<uint8_t>>());
  w->Queue();
  return env.Undefined();
}

#if defined(DURABOOK_TEST_HOOKS)
// --- test hooks: fault injection ----------------------------------------------------------

bool parseOp(const std::string& s, FileOp* op) {
  static const std::pair<const char*, FileOp> ops[] = {
      {"open", FileOp::kOpen},         {"pwritev", FileOp::kPwritev},   {"pread", FileOp::kPread},
      {"fdatasync", FileOp::kFdatasync}, {"fsyncDir", FileOp::kFsyncDir}, {"rename", FileOp::kRename},
      {"unlink", FileOp::kUnlink},     {"ftruncate", FileOp::kFtruncate}, {"close", FileOp::kClose},
      {"listDir", FileOp::kListDir},   {"fileSize", FileOp::kFileSize}, {"mkdir", FileOp::kMkdir},
      {"dropCache", FileOp::kDropCache}};
  for (const auto& [name, value] : ops)
    if (s == name) {
      *op = value;
      return true;
    }
  return false;
}

// enableFaults(): route this engine's file calls through a FaultInjectingFileLayer.
Napi::Value EnableFaults(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  if (!h->faults) h->faults = std::make_unique<FaultInjectingFileLayer>(posix_file_layer());
  h->files = h->faults.get();
  return info.Env().Undefined();
}

// addFault({ op, errno, nth, andAfter, path }) → bool
Napi::Value AddFault(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  if (!h->faults || info.Length() < 1 || !info[0].IsObject()) return Napi::Boolean::New(info.Env(), false);
  Napi::Object o = info[0].As<Napi::Object>();
  FaultRule rule{};
  if (!parseOp(stringOpt(o, "op"), &rule.op)) return Napi::Boolean::New(info.Env(), false);
  rule.err = static_cast<int>(numberOpt(o, "errno", EIO));
  rule.nth = static_cast<uint64_t>(numberOpt(o, "nth", 0));
  rule.and_after = o.Get("andAfter").ToBoolean().Value();
  rule.path_contains = stringOpt(o, "path");
  h->faults->addFault(rule);
  return Napi::Boolean::New(info.Env(), true);
}

// --- test hooks: power-loss simulation ------------------------------------------------------

CrashSimFileLayer* crashSimOf(EngineHandle* h) { return dynamic_cast<CrashSimFileLayer*>(h->faults.get()); }

// enableCrashSim({ crashAt, policy, seed, realSync, syncLatencyUs }) → bool: route this engine's file calls
// through a CrashSimFileLayer (which is also the fault layer: addFault() works on it). Call
// before the WAL is opened. False for an unknown policy.
Napi::Value EnableCrashSim(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() || h->wal) return Napi::Boolean::New(env, false);
  Napi::Object o = info[0].As<Napi::Object>();
  CrashSimOptions opts;
  opts.crashAt = static_cast<uint64_t>(numberOpt(o, "crashAt", 0));
  opts.seed = static_cast<uint64_t>(numberOpt(o, "seed", 1));
  opts.realSync = o.Get("realSync").ToBoolean().Value();
  opts.syncLatencyUs = static_cast<uint32_t>(numberOpt(o, "syncLatencyUs", 0));
  const std::string policy = stringOpt(o, "policy");
  if (!policy.empty() && !parse_crash_policy(policy, &opts.policy)) return Napi::Boolean::New(env, false);
  h->faults = std::make_unique<CrashSimFileLayer>(posix_file_layer(), opts);
  h->files = h->faults.get();
  return Napi::Boolean::New(env, true);
}

Napi::Value CrashSimCalls(const Napi::CallbackInfo& info) {
  CrashSimFileLayer* sim = crashSimOf(handleOf(info));
  return Napi::Number::New(info.Env(), sim ? static_cast<double>(sim->mutatingCalls()) : -1);
}

Napi::Value CrashSimCrashed(const Napi::CallbackInfo& info) {
  CrashSimFileLayer* sim = crashSimOf(handleOf(info));
  return Napi::Boolean::New(info.Env(), sim != nullptr && sim->crashed());
}

Napi::Value CrashReportJs(Napi::Env env, const CrashReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("crashed", r.crashed);
  o.Set("atCall", static_cast<double>(r.atCall));
  o.Set("op", r.op);
  o.Set("path", r.path);
  o.Set("acknowledged", static_cast<double>(r.acknowledged));
  o.Set("writesKept", static_cast<double>(r.writesKept));
  o.Set("writesLost", static_cast<double>(r.writesLost));
  o.Set("writesTorn", static_cast<double>(r.writesTorn));
  o.Set("writesLostBySyncError", static_cast<double>(r.writesLostBySyncError));
  o.Set("namesKept", static_cast<double>(r.namesKept));
  o.Set("namesUndone", static_cast<double>(r.namesUndone));
  o.Set("rewriteError", r.rewriteError);
  Napi::Array d = Napi::Array::New(env, r.details.size());
  for (size_t i = 0; i < r.details.size(); ++i) d.Set(static_cast<uint32_t>(i), r.details[i]);
  o.Set("details", d);
  return o;
}

// crashSimCrash() → report: power loss now (if it has not happened), then what it did.
Napi::Value CrashSimCrash(const Napi::CallbackInfo& info) {
  CrashSimFileLayer* sim = crashSimOf(handleOf(info));
  if (!sim) return info.Env().Undefined();
  sim->crashNow();
  return CrashReportJs(info.Env(), sim->report());
}

Napi::Value CrashSimReport(const Napi::CallbackInfo& info) {
  CrashSimFileLayer* sim = crashSimOf(handleOf(info));
  if (!sim) return info.Env().Undefined();
  return CrashReportJs(info.Env(), sim->report());
}

// setPlantedBugs(mask) → the previous mask. Process-wide (native/core/test_bugs.h).
Napi::Value SetPlantedBugs(const Napi::CallbackInfo& info) {
  const uint32_t mask = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  return Napi::Number::New(info.Env(), test_bugs.exchange(mask));
}

Napi::Value FaultCalls(const Napi::CallbackInfo& info) {
  EngineHandle* h = handleOf(info);
  FileOp op;
  if (!h->faults || info.Length() < 1 || !info[0].IsString() || !parseOp(info[0].As<Napi::String>().Utf8Value(), &op))
    return Napi::Number::New(info.Env(), -1);
  return Napi::Number::New(info.Env(), static_cast<double>(h->faults->calls(op)));
}
#endif

}  // namespace

void registerDurabilityMethods(Napi::Env env, Napi::Object obj, EngineHandle* h) {
  auto bind = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    obj.Set(name, Napi::Function::New(env, fn, name, h));
  };
  bind("openWal", OpenWal);
  bind("ackWake", AckWake);
  bind("durableSeq", DurableSeq);
  bind("requestWake", RequestWake);
  bind("refWake", RefWake);
  bind("walError", WalError);
  bind("walStats", WalStatsJs);
  bind("closeWal", CloseWal);
  bind("recover", Recover);
  bind("loadSnapshot", LoadSnapshot);
  bind("resetEngine", ResetEngine);
  bind("symbolNames", SymbolNames);
  bind("serializeSnapshot", SerializeSnapshot);
  bind("writeDurableFile", WriteDurableFile);
#if defined(DURABOOK_TEST_HOOKS)
  bind("enableFaults", EnableFaults);
  bind("addFault", AddFault);
  bind("faultCalls", FaultCalls);
  bind("enableCrashSim", EnableCrashSim);
  bind("crashSimCalls", CrashSimCalls);
  bind("crashSimCrashed", CrashSimCrashed);
  bind("crashSimCrash", CrashSimCrash);
  bind("crashSimReport", CrashSimReport);
#endif
}

void registerDurabilityModule(Napi::Env env, Napi::Object exports) {
  exports.Set("walStatsLength", Napi::Number::New(env, static_cast<double>(kWalStatsLength)));
#if defined(DURABOOK_TEST_HOOKS)
  exports.Set("setPlantedBugs", Napi::Function::New(env, SetPlantedBugs, "setPlantedBugs"));
#endif
}

}  // namespace durabook
