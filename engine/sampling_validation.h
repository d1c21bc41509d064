// Checks SamplingParams once, where a request enters the engine, so that a bad knob is a clear
// InvalidArgument for the user instead of a surprise inside a step.
#pragma once

#include "absl/status/status.h"
#include "scheduler/request.h"

namespace stride::engine {

inline constexpr int kMaxLogprobs = 20;
inline constexpr int kMaxN = 128;

absl::Status ValidateSamplingParams(const scheduler::SamplingParams& params, int vocab_size);

}  // namespace stride::engine
