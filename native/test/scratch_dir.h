// Scratch directories for the core tests: made under /tmp, removed with everything in them.
#pragma once
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "file_layer.h"

namespace durabook::test {

// A fresh directory /tmp/durabook-<what>-XXXXXX ("" if mkdtemp failed).
inline std::string makeScratchDir(const char* what) {
  std::string tmpl = std::string("/tmp/durabook-") + what + "-XXXXXX";
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

// Removes what `dir` holds (subdirectories too), keeping `dir` itself.
inline void clearDir(const std::string& dir) {
  std::vector<std::string> names;
  posix_file_layer()->listDir(dir, &names);
  for (const auto& n : names) {
    const std::string p = dir + "/" + n;
    if (::unlink(p.c_str()) != 0) {
      clearDir(p);
      ::rmdir(p.c_str());
    }
  }
}

inline void removeDir(const std::string& dir) {
  clearDir(dir);
  ::rmdir(dir.c_str());
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace durabook::test
