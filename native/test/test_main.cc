// Runs every registered core test; a name filter may be given as argv[1].
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  using namespace durabook::test;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const TestCase& t : registry()) {
    if (filter && std::strstr(t.name, filter) == nullptr) continue;
    current_failures() = 0;
    std::fprintf(stderr, "core test %s\n", t.name);
    t.fn();
    if (current_failures() == 0) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "  -> %s FAILED (%d checks)\n", t.name, current_failures());
    }
  }
  std::printf("core: %d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
