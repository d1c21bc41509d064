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

}  // namespace stride::server::cli
