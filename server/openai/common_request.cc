#include "server/openai/common_request.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "server/openai/api_error.h"
#include "server/openai/fields.h"

namespace stride::server::openai {
namespace {

absl::Status CheckModel(const Json& body, const RequestContext& context) {
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> model, OptionalString(body, "model"));
  if (model && *model != context.served_model_name) {
    absl::Status status = absl::NotFoundError(absl::StrCat("The model `", *model,
                                                           "` does not exist; this server serves `",
                                                           context.served_model_name, "`"));
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseStop(const Json& body, const RequestLimits& limits) {
  std::vector<std::string> stops;
  const Json* stop = FieldOrNull(body, "stop");
  if (stop == nullptr) return stops;
  if (stop->is_string()) {
    stops.push_back(stop->get<std::string>());
  } else if (stop->is_array()) {
    if (stop->size() > static_cast<size_t>(limits.max_stop_strings)) {
      return InvalidParam(
          "stop", absl::StrCat("stop may hold at most ", limits.max_stop_strings, " strings"));
    }
    for (const Json& s : *stop) {
      if (!s.is_string()) return InvalidParam("stop", "stop must be a string or a list of strings");
      stops.push_back(s.get<std::string>());
    }
  } else {
    return InvalidParam("stop", "stop must be a string or a list of strings");
  }
  for (const std::string& s : stops) {
    if (s.empty()) return InvalidParam("stop", "stop strings must not be empty");
    if (s.size() > static_cast<size_t>(limits.max_stop_string_bytes)) {
      return InvalidParam("stop", absl::StrCat("stop strings may be at most ",
                                               limits.max_stop_string_bytes, " bytes long"));
    }
  }
  return stops;
}

absl::StatusOr<std::vector<std::pair<int32_t, float>>> ParseLogitBias(
    const Json& body, const RequestContext& context) {
  std::vector<std::pair<int32_t, float>> bias;
  const Json* field = FieldOrNull(body, "logit_bias");
  if (field == nullptr) return bias;
  if (!field->is_object()) {
    return InvalidParam("logit_bias", "logit_bias must be an object of token id -> bias");
  }
  if (field->size() > static_cast<size_t>(context.limits.max_logit_bias)) {
    return InvalidParam("logit_bias", absl::StrCat("logit_bias may hold at most ",
                                                   context.limits.max_logit_bias, " entries"));
  }
  for (const auto& [key, value] : field->items()) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(key, &id) || id < 0 || id >= context.vocab_size) {
      return InvalidParam("logit_bias", absl::StrCat("logit_bias keys must be token ids in [0, ",
                                                     context.vocab_size, ")"));
    }
    if (!value.is_number() || !(value.get<double>() >= -100 && value.get<double>() <= 100)) {
      return InvalidParam("logit_bias", "logit_bias values must be numbers in [-100, 100]");
    }
    bias.emplace_back(static_cast<int32_t>(id), value.get<float>());
  }
  return bias;
}

absl::StatusOr<std::vector<int32_t>> ParseStopTokenIds(const Json& body,
                                                       const RequestContext& context) {
  std::vector<int32_t> ids;
  const Json* field = FieldOrNull(body, "stop_token_ids");
  if (field == nullptr) return ids;
  if (!field->is_array() ||
      field->size() > static_cast<size_t>(context.limits.max_stop_token_ids)) {
    return InvalidParam("stop_token_ids",
                        absl::StrCat("stop_token_ids must be a list of at most ",
                                     context.limits.max_stop_token_ids, " token ids"));
  }
  for (const Json& v : *field) {
    absl::StatusOr<int64_t> id = IntValue(v, "stop_token_ids");
    if (!id.ok() || *id < 0 || *id >= context.vocab_size) {
      return InvalidParam("stop_token_ids", absl::StrCat("stop_token_ids must be token ids in [0, ",
                                                         context.vocab_size, ")"));
    }
    ids.push_back(static_cast<int32_t>(*id));
  }
  return ids;
}

absl::Status ParseSeed(const Json& body, scheduler::SamplingParams* sampling) {
  const Json* seed = FieldOrNull(body, "seed");
  if (seed == nullptr) return absl::OkStatus();
  if (seed->is_number_unsigned()) {
    sampling->seed = seed->get<uint64_t>();
  } else if (seed->is_number_integer()) {
    sampling->seed = static_cast<uint64_t>(seed->get<int64_t>());  // two's complement, like vLLM
  } else {
    return InvalidParam("seed", "seed must be an integer");
  }
  return absl::OkStatus();
}

absl::Status ParseStreamFields(const Json& body, CommonRequest* r) {
  STRIDE_ASSIGN_OR_RETURN(std::optional<bool> stream, OptionalBool(body, "stream"));
  r->stream = stream.value_or(false);
  const Json* options = FieldOrNull(body, "stream_options");
  if (options == nullptr) return absl::OkStatus();
  if (!r->stream) {
    return InvalidParam("stream_options", "stream_options is only allowed with stream: true");
  }
  if (!options->is_object())
    return InvalidParam("stream_options", "stream_options must be an object");
  STRIDE_ASSIGN_OR_RETURN(std::optional<bool> usage, OptionalBool(*options, "include_usage"));
  r->include_usage = usage.value_or(false);
  STRIDE_ASSIGN_OR_RETURN(std::optional<bool> continuous,
                          OptionalBool(*options, "continuous_usage_stats"));
  if (continuous.value_or(false)) {
    return InvalidParam("stream_options", "continuous_usage_stats is not supported");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CommonRequest> ParseCommonRequest(const Json& body, const RequestContext& context) {
  const RequestLimits& limits = context.limits;
  CommonRequest r;
  scheduler::SamplingParams& s = r.sampling;
  STRIDE_RETURN_IF_ERROR(CheckModel(body, context));
  STRIDE_ASSIGN_OR_RETURN(auto temperature, OptionalNumberIn(body, "temperature", 0, 2));
  if (temperature) s.temperature = static_cast<float>(*temperature);
  STRIDE_ASSIGN_OR_RETURN(auto top_p, OptionalNumberIn(body, "top_p", 0, 1));
  if (top_p) {
    if (*top_p <= 0) return InvalidParam("top_p", "top_p must be in (0, 1]");
    s.top_p = static_cast<float>(*top_p);
  }
  STRIDE_ASSIGN_OR_RETURN(auto top_k, OptionalIntIn(body, "top_k", -1, context.vocab_size));
  if (top_k) s.top_k = static_cast<int>(*top_k);
  STRIDE_ASSIGN_OR_RETURN(auto min_p, OptionalNumberIn(body, "min_p", 0, 1));
  if (min_p) s.min_p = static_cast<float>(*min_p);
  STRIDE_ASSIGN_OR_RETURN(auto presence, OptionalNumberIn(body, "presence_penalty", -2, 2));
  if (presence) s.presence_penalty = static_cast<float>(*presence);
  STRIDE_ASSIGN_OR_RETURN(auto frequency, OptionalNumberIn(body, "frequency_penalty", -2, 2));
  if (frequency) s.frequency_penalty = static_cast<float>(*frequency);
  STRIDE_ASSIGN_OR_RETURN(auto repetition, OptionalNumberIn(body, "repetition_penalty", 0, 10));
  if (repetition) {
    if (*repetition <= 0)
      return InvalidParam("repetition_penalty", "repetition_penalty must be > 0");
    s.repetition_penalty = static_cast<float>(*repetition);
  }
  STRIDE_ASSIGN_OR_RETURN(auto n, OptionalIntIn(body, "n", 1, limits.max_n));
  if (n) s.n = static_cast<int>(*n);
  STRIDE_ASSIGN_OR_RETURN(auto best_of, OptionalInt(body, "best_of"));
  if (best_of && *best_of != s.n) {
    return InvalidParam("best_of", "best_of is not supported (it must be absent or equal n)");
  }
  STRIDE_RETURN_IF_ERROR(ParseSeed(body, &s));
  STRIDE_ASSIGN_OR_RETURN(r.max_tokens, OptionalIntIn(body, "max_tokens", 1, limits.max_tokens));
  STRIDE_ASSIGN_OR_RETURN(auto min_tokens, OptionalIntIn(body, "min_tokens", 0, limits.max_tokens));
  if (min_tokens) s.min_tokens = static_cast<int>(*min_tokens);
  STRIDE_ASSIGN_OR_RETURN(auto ignore_eos, OptionalBool(body, "ignore_eos"));
  s.ignore_eos = ignore_eos.value_or(false);
  STRIDE_ASSIGN_OR_RETURN(s.logit_bias, ParseLogitBias(body, context));
  STRIDE_ASSIGN_OR_RETURN(s.stop_token_ids, ParseStopTokenIds(body, context));
  STRIDE_ASSIGN_OR_RETURN(r.stop, ParseStop(body, limits));
  STRIDE_ASSIGN_OR_RETURN(auto include_stop, OptionalBool(body, "include_stop_str_in_output"));
  r.include_stop_str_in_output = include_stop.value_or(false);
  STRIDE_ASSIGN_OR_RETURN(auto skip_special, OptionalBool(body, "skip_special_tokens"));
  r.skip_special_tokens = skip_special.value_or(true);
  STRIDE_ASSIGN_OR_RETURN(auto prompt_logprobs,
                          OptionalIntIn(body, "prompt_logprobs", 0, limits.max_logprobs));
  if (prompt_logprobs) s.prompt_logprobs = static_cast<int>(*prompt_logprobs);
  STRIDE_ASSIGN_OR_RETURN(auto priority, OptionalIntIn(body, "priority", -1000000, 1000000));
  r.priority = static_cast<int>(priority.value_or(0));
  STRIDE_ASSIGN_OR_RETURN(auto user, OptionalString(body, "user"));
  (void)user;  // accepted for compatibility; not used
  STRIDE_RETURN_IF_ERROR(ParseStreamFields(body, &r));
  return r;
}

absl::StatusOr<int> ResolveMaxTokens(int num_prompt_tokens, std::optional<int64_t> requested,
                                     int default_max_tokens, int max_model_len) {
  const int64_t room = static_cast<int64_t>(max_model_len) - num_prompt_tokens;
  if (room < 1) {
    return InvalidParam("prompt", absl::StrCat("the prompt has ", num_prompt_tokens,
                                               " tokens; this model's context is ", max_model_len,
                                               " tokens, which leaves no room for output"));
  }
  if (requested) {
    if (*requested > room) {
      return InvalidParam(
          "max_tokens",
          absl::StrCat("max_tokens is ", *requested, " but the prompt has ", num_prompt_tokens,
                       " tokens and the context is ", max_model_len, " tokens (", room, " left)"));
    }
    return static_cast<int>(*requested);
  }
  if (default_max_tokens <= 0) return static_cast<int>(room);
  return static_cast<int>(std::min<int64_t>(default_max_tokens, room));
}

}  // namespace stride::server::openai
