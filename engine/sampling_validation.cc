#include "engine/sampling_validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace stride::engine {
namespace {

absl::Status Bad(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", rule));
}

}  // namespace

absl::Status ValidateSamplingParams(const scheduler::SamplingParams& p, int vocab_size) {
  if (!std::isfinite(p.temperature) || p.temperature < 0) {
    return Bad("temperature", "must be a finite number >= 0");
  }
  if (!(p.top_p > 0 && p.top_p <= 1)) return Bad("top_p", "must be in (0, 1]");
  if (p.top_k < -1) return Bad("top_k", "must be -1 or 0 (off) or a positive count");
  if (!(p.min_p >= 0 && p.min_p <= 1)) return Bad("min_p", "must be in [0, 1]");
  if (!(std::isfinite(p.repetition_penalty) && p.repetition_penalty > 0)) {
    return Bad("repetition_penalty", "must be a finite number > 0");
  }
  if (!(p.presence_penalty >= -2 && p.presence_penalty <= 2)) {
    return Bad("presence_penalty", "must be in [-2, 2]");
  }
  if (!(p.frequency_penalty >= -2 && p.frequency_penalty <= 2)) {
    return Bad("frequency_penalty", "must be in [-2, 2]");
  }
  for (const auto& [token, bias] : p.logit_bias) {
    if (token < 0 || token >= vocab_size) {
      return Bad("logit_bias", absl::StrCat("has token id ", token, " outside the vocabulary"));
    }
    if (!(bias >= -100 && bias <= 100)) return Bad("logit_bias", "values must be in [-100, 100]");
  }
  if (p.max_tokens < 1) return Bad("max_tokens", "must be at least 1");
  if (p.min_tokens < 0 || p.min_tokens > p.max_tokens) {
    return Bad("min_tokens", "must be in [0, max_tokens]");
  }
  for (int32_t token : p.stop_token_ids) {
    if (token < 0 || token >= vocab_size) {
      return Bad("stop_token_ids", absl::StrCat("has token id ", token, " outside the vocabulary"));
    }
  }
  if (p.logprobs > kMaxLogprobs) return Bad("logprobs", absl::StrCat("must be at most ", kMaxLogprobs));
  if (p.prompt_logprobs > kMaxLogprobs) {
    return Bad("prompt_logprobs", absl::StrCat("must be at most ", kMaxLogprobs));
  }
  if (p.n < 1 || p.n > kMaxN) return Bad("n", absl::StrCat("must be in [1, ", kMaxN, "]"));
  return absl::OkStatus();
}

}  // namespace stride::engine
