#pragma once
#include <napi.h>

#include "engine_handle.h"

namespace durabook {
// Adds the WAL, recovery, snapshot (and, in test builds, fault-injection) methods to an
// engine's method object.
void registerDurabilityMethods(Napi::Env env, Napi::Object obj, EngineHandle* h);
// Module-level: walStatsLength (the size of walStats()'s raw counters); in test builds also
// setPlantedBugs(mask).
void registerDurabilityModule(Napi::Env env, Napi::Object exports);
}  // namespace durabook
