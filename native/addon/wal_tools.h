#pragma once
#include <napi.h>

namespace durabook {
// Adds the module-level WAL inspection functions (walVerify, walInspect, walSnapshots) that the
// `durabook wal verify|dump|stats` tools use (native/core/wal_inspect.h).
void registerWalTools(Napi::Env env, Napi::Object exports);
}  // namespace durabook
