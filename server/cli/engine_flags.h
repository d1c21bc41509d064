// Flags that build an engine (model, weights, scheduler, KV cache), shared by `stride generate`
// and `stride serve`. Dashes and underscores are interchangeable on the command line.
#pragma once

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "engine/engine_factory.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, load_format);

namespace stride::server::cli {

// Reads the engine flags into options, validating the ones with a fixed set of values.
absl::StatusOr<engine::EngineOptions> EngineOptionsFromFlags();

// --async_scheduling is auto, true or false (a string flag, so that "not given" can mean the
// backend's default); this spells its bare form as =true and --noasync_scheduling /
// --no_async_scheduling as =false, as absl does for bool flags. `arg` has underscores already.
std::string SpellOutEngineFlag(const std::string& arg);

}  // namespace stride::server::cli
