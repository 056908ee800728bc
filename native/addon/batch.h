#pragma once
#include <napi.h>

#include "engine_handle.h"

namespace durabook {
// Adds submitBatch/copyBatchTrades to an engine's method object.
void registerBatchMethods(Napi::Env env, Napi::Object obj, EngineHandle* h);
}  // namespace durabook
