// A tiny test harness for the Node-free core: no framework to install, output that CI's
// log reader understands ("N passed, N failed" on the last line).
//
//   TEST(ring_keeps_order) { CHECK(x == 1); CHECK_EQ(a, b); }
//
// Each TEST registers itself; test_main.cc runs them all (or those whose name contains argv[1]).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace durabook::test {

struct TestCase {
  const char* name;
  void (*fn)();
};

inline std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

// Failures of the test currently running; reset by the runner before each test.
inline int& current_failures() {
  static int n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

inline void report_failure(const char* file, int line, const std::string& what) {
  ++current_failures();
  std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
}

template <typename T>
std::string show(const T& v) {
  if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<long long>(v));
  } else if constexpr (std::is_convertible_v<T, std::string>) {
    return std::string(v);
  } else {
    return "<value>";
  }
}

}  // namespace durabook::test

#define DB_TEST_CAT2(a, b) a##b
#define DB_TEST_CAT(a, b) DB_TEST_CAT2(a, b)

#define TEST(name)                                                                  \
  static void test_##name();                                                        \
  static ::durabook::test::Registrar DB_TEST_CAT(registrar_, name)(#name, test_##name); \
  static void test_##name()

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) ::durabook::test::report_failure(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(a, b)                                                                     \
  do {                                                                                     \
    auto&& db_a_ = (a);                                                                    \
    auto&& db_b_ = (b);                                                                    \
    if (!(db_a_ == db_b_))                                                                 \
      ::durabook::test::report_failure(                                                    \
          __FILE__, __LINE__,                                                              \
          "CHECK_EQ(" #a ", " #b "): " + ::durabook::test::show(db_a_) + " != " +          \
              ::durabook::test::show(db_b_));                                              \
  } while (0)

// Stops the current test (e.g. before dereferencing something a failed check guards).
#define REQUIRE(cond)                                                                   \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      ::durabook::test::report_failure(__FILE__, __LINE__, "REQUIRE(" #cond ")");       \
      return;                                                                           \
    }                                                                                   \
  } while (0)
