// replay_bench: replays a CSV workload (DESIGN.md §5) straight through durabook::MatchingEngine,
// with no Node, no JS and no boundary crossing: the ceiling the batch API is compared against.
//
//   replay_bench FILE [--warmup N] [--batch N] [--repeat R] [--json]
//                [--wal none|async|durable] [--ring SLOTS] [--main-cpu N] [--writer-cpu N]
//
// --wal attaches a WalWriter (default options, a fresh directory under $TMPDIR or /tmp,
// removed after each repeat): the WAL's cost to the matching thread with no JS in the way.
// Each repeat's line (and the JSON's "wal", of the last repeat) gives the writer's counters
// over the timed commands: producer waits (and the time they took) mean the writer, not
// matching, set the pace, and the writer's time in writes, zero-fill and syncs says whether the
// disk or the kernel's copy into the page cache held it up. --main-cpu pins the replaying
// thread, --writer-cpu the writer. Each --batch chunk is one WAL burst, as in the binding.
//
// The first N rows build the book and are not timed. Like the batch binding, the engine clock
// is read (coarse clock) and the trade buffer cleared once per `--batch` commands (default 256);
// every report is read (status, trades, traded quantity), so the work matches what a caller of
// submitBatch() gets. Market orders get fresh ids above every limit id of the file, as the JS
// reader does. Prints commands/s per repeat, and the best and median.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "matching_engine.h"
#include "cpu_affinity.h"
#include "wal_writer.h"

using namespace durabook;

namespace {

struct Cmd {
  int64_t id;
  int64_t price;
  int64_t qty;
  uint8_t op;  // 0 limit, 1 cancel, 2 market
  uint8_t side;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "replay_bench: %s\n", msg.c_str());
  std::exit(1);
}

bool parseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return s.substr(a, b - a);
}

std::vector<Cmd> readCsv(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die(std::string("cannot open ") + path);
  std::vector<Cmd> cmds;
  std::string line;
  size_t lineNo = 0;
  bool header = false;
  int64_t maxId = 0;
  std::vector<size_t> markets;
  std::vector<std::string> f;
  while (std::getline(in, line)) {
    ++lineNo;
    line = trim(line);
    if (line.empty()) continue;
    if (!header) {
      if (line != "op,id,side,price,qty") die(std::string(path) + ":" + std::to_string(lineNo) + ": bad header");
      header = true;
      continue;
    }
    f.clear();
    size_t start = 0;
    for (;;) {
      size_t comma = line.find(',', start);
      f.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    auto bad = [&](const char* why) { die(std::string(path) + ":" + std::to_string(lineNo) + ": " + why); };
    if (f.size() != 5) bad("expected 5 fields");
    Cmd c{};
    auto side = [&](const std::string& s) -> uint8_t {
      if (s == "B") return 0;
      if (s == "S") return 1;
      bad("side must be B or S");
      return 0;
    };
    if (f[0] == "L") {
      c.op = 0;
      if (!parseInt(f[1], &c.id) || c.id <= 0) bad("bad id");
      c.side = side(f[2]);
      if (!parseInt(f[3], &c.price)) bad("bad price");
      if (!parseInt(f[4], &c.qty) || c.qty <= 0) bad("bad qty");
      maxId = std::max(maxId, c.id);
    } else if (f[0] == "C") {
      c.op = 1;
      if (!parseInt(f[1], &c.id) || c.id <= 0) bad("bad id");
    } else if (f[0] == "M") {
      c.op = 2;
      c.side = side(f[2]);
      if (!parseInt(f[4], &c.qty) || c.qty <= 0) bad("bad qty");
      markets.push_back(cmds.size());
    } else {
      bad("op must be L, C or M");
    }
    cmds.push_back(c);
  }
  if (!header) die(std::string(path) + ": empty file");
  for (size_t i : markets) cmds[i].id = ++maxId;
  return cmds;
}

int64_t coarseMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

struct Outcome {
  double seconds = 0;
  uint64_t trades = 0;
  uint64_t tradedQty = 0;
  uint64_t status[5] = {};
  uint32_t resting = 0;
  std::optional<WalStats> wal;  // with --wal: the writer's counters over the timed commands
};

// The writer's counters that tell a disk-bound run: whether the producer waited on a full ring
// (held back by the disk or a slow writer, not by matching), and where the writer's time went.
void printWalStats(const WalStats& st, bool json) {
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(json ? ",\"wal\":{\"syncs\":%llu,\"ringHighWater\":%llu,\"producerWaits\":%llu,\"writerWakes\":%llu,"
                     "\"producerWaitMs\":%.3f,\"writeMs\":%.3f,\"zeroFillMs\":%.3f,\"syncMs\":%.3f}"
                   : "; WAL %llu syncs, ring high water %llu, producer waits %llu, writer wakes %llu; "
                     "producer waited %.1f ms; writer: writes %.1f ms, zero-fill %.1f ms, syncs %.1f ms",
              u(st.syncs), u(st.ringHighWater), u(st.producerWaits), u(st.writerWakes), ms(st.producerWaitNs),
              ms(st.writeNs), ms(st.zeroFillNs), ms(st.syncNs.totalNs));
}

// Applies cmds[from, to) with the clock set and trades cleared every `batch` commands.
inline void apply(MatchingEngine& e, WalWriter* wal, const std::vector<Cmd>& cmds, size_t from, size_t to, size_t batch,
                  Outcome* o) {
  NewOrderCmd n;
  Report r;
  for (size_t b = from; b < to; b += batch) {
    const size_t end = std::min(to, b + batch);
    e.setClock(coarseMicros());
    e.clearTrades();
    const WalBurst burst(wal);  // as the batch binding does
    for (size_t i = b; i < end; ++i) {
      const Cmd& c = cmds[i];
      CommandError err;
      if (c.op == 1) {
        err = e.cancel(c.id, &r);
      } else {
        n = NewOrderCmd{};
        n.id = c.id;
        n.qty = c.qty;
        n.symbol = 0;
        n.side = c.side ? Side::Sell : Side::Buy;
        if (c.op == 0) {
          n.price = c.price;
          n.hasPrice = true;
          n.tif = Tif::Gtc;
        } else {
          n.market = true;
          n.tif = Tif::Ioc;
        }
        err = e.submit(n, &r);
      }
      if (err != CommandError::Ok) die("command " + std::to_string(i) + " refused by the engine");
      o->status[static_cast<int>(r.status)]++;
      o->trades += r.tradeCount;
      const std::vector<Trade>& t = e.trades();
      for (uint32_t k = 0; k < r.tradeCount; ++k) o->tradedQty += static_cast<uint64_t>(t[r.tradeBegin + k].qty);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  int64_t warmup = 0, batch = 256, repeat = 1;
  bool json = false;
  std::string walMode = "none";
  int64_t mainCpu = -1, writerCpu = -1, ringCapacity = 65536;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto num = [&](int64_t* out, int64_t min) {
      if (i + 1 >= argc || !parseInt(argv[i + 1], out) || *out < min) die("bad value for " + a);
      ++i;
    };
    if (a == "--warmup") num(&warmup, 0);
    else if (a == "--batch") num(&batch, 1);
    else if (a == "--repeat") num(&repeat, 1);
    else if (a == "--json") json = true;
    else if (a == "--wal" && i + 1 < argc) {
      walMode = argv[++i];
      if (walMode != "none" && walMode != "async" && walMode != "durable") die("--wal must be none, async or durable");
    }
    else if (a == "--main-cpu") num(&mainCpu, 0);
    else if (a == "--writer-cpu") num(&writerCpu, 0);
    else if (a == "--ring") num(&ringCapacity, 1);
    else if (a == "-h" || a == "--help") {
      std::puts(
          "usage: replay_bench FILE [--warmup N] [--batch N] [--repeat R] [--json]\n"
          "                    [--wal none|async|durable] [--ring SLOTS] [--main-cpu N] [--writer-cpu N]");
      return 0;
    } else if (!path && a[0] != '-') path = argv[i];
    else die("unknown argument " + a);
  }
  if (!path) die("usage: replay_bench FILE [--warmup N] [--batch N] [--repeat R] [--json]");
  const std::vector<Cmd> cmds = readCsv(path);
  if (static_cast<size_t>(warmup) > cmds.size()) die("--warmup exceeds the number of rows");
  const size_t from = static_cast<size_t>(warmup), to = cmds.size();

  std::vector<double> rates;
  Outcome last;
  if (mainCpu >= 0) {
    if (const int e = pin_thread(pthread_self(), static_cast<int>(mainCpu)); e != 0) {
      die("--main-cpu: " + std::string(std::strerror(e)));
    }
  }
  for (int64_t rep = 0; rep < repeat; ++rep) {
    MatchingEngine e;
    Report r;
    std::unique_ptr<WalWriter> wal;
    std::string walDir;
    if (walMode != "none") {
      // $TMPDIR picks the file system (a tmpfs there takes the disk out of the measurement).
      const char* tmp = std::getenv("TMPDIR");
      std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/replay-bench-wal-XXXXXX";
      if (!mkdtemp(tmpl.data())) die("mkdtemp failed in " + tmpl);
      walDir = tmpl;
      WalWriterOptions o;
      o.dir = walDir + "/wal";
      o.mode = walMode == "async" ? WalMode::Async : WalMode::Durable;
      o.writerCpu = static_cast<int>(writerCpu);
      o.ringCapacity = static_cast<size_t>(ringCapacity);
      const WalStatus st = WalWriter::open(o, std::nullopt, &wal);
      if (!st.ok()) die("WAL: " + st.message());
      e.setJournal(wal.get());
    }
    if (e.addSymbol("BENCH", &r) != CommandError::Ok) die("addSymbol failed");
    Outcome warm;
    apply(e, wal.get(), cmds, 0, from, static_cast<size_t>(batch), &warm);
    Outcome o;
    const WalStats before = wal ? wal->stats() : WalStats{};
    auto t0 = std::chrono::steady_clock::now();
    apply(e, wal.get(), cmds, from, to, static_cast<size_t>(batch), &o);
    auto t1 = std::chrono::steady_clock::now();
    o.seconds = std::chrono::duration<double>(t1 - t0).count();
    if (wal) {
      if (!wal->close().ok()) die("WAL close failed");
      o.wal = wal->stats().since(before);  // the timed commands, their final sync included
      std::error_code ec;
      std::filesystem::remove_all(walDir, ec);
    }
    o.resting = e.restingOrders();
    rates.push_back(static_cast<double>(to - from) / o.seconds);
    if (!json) {
      std::printf("repeat %lld: %.0f commands/s (%.3f s)", static_cast<long long>(rep + 1), rates.back(), o.seconds);
      if (o.wal) printWalStats(*o.wal, false);
      std::printf("\n");
    }
    last = o;
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double best = sorted.back();
  if (json) {
    std::printf(
        "{\"commands\":%zu,\"warmup\":%zu,\"batch\":%lld,\"commandsPerSec\":%.0f,\"bestCommandsPerSec\":%.0f,"
        "\"rates\":[",
        to - from, from, static_cast<long long>(batch), median, best);
    for (size_t i = 0; i < rates.size(); ++i) std::printf("%s%.0f", i ? "," : "", rates[i]);
    std::printf(
        "],\"trades\":%llu,\"tradedQty\":%llu,\"statuses\":{\"new\":%llu,\"partially_filled\":%llu,\"filled\":%llu,"
        "\"cancelled\":%llu,\"rejected\":%llu},\"restingAtEnd\":%u",
        static_cast<unsigned long long>(last.trades), static_cast<unsigned long long>(last.tradedQty),
        static_cast<unsigned long long>(last.status[0]), static_cast<unsigned long long>(last.status[1]),
        static_cast<unsigned long long>(last.status[2]), static_cast<unsigned long long>(last.status[3]),
        static_cast<unsigned long long>(last.status[4]), last.resting);
    if (last.wal) printWalStats(*last.wal, true);
    std::printf("}\n");
  } else {
    std::printf("%zu commands after %zu warmup: median %.0f commands/s, best %.0f; trades %llu, resting %u\n", to - from,
                from, median, best, static_cast<unsigned long long>(last.trades), last.resting);
  }
  return 0;
}
