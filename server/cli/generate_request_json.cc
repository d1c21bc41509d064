#include "server/cli/generate_request_json.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace stride::server::cli {
namespace {

using nlohmann::json;

template <typename T>
absl::Status Read(const json& line, const char* key, T* out) {
  auto it = line.find(key);
  if (it == line.end() || it->is_null()) return absl::OkStatus();
  try {
    *out = it->get<T>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("field '", key, "' has the wrong type"));
  }
  return absl::OkStatus();
}

json LogprobJson(const engine::TokenLogprob& lp) {
  json top = json::array();
  for (const auto& [id, value] : lp.top) top.push_back(json::array({id, value}));
  return top;
}

}  // namespace

absl::StatusOr<engine::GenerateRequest> ParseGenerateRequest(
    const json& line, const engine::GenerateRequest& defaults,
    const engine::text::Tokenizer* tokenizer) {
  if (!line.is_object()) return absl::InvalidArgumentError("a request must be a JSON object");
  engine::GenerateRequest r = defaults;
  engine::SamplingParams& s = r.sampling;
  std::vector<int32_t> ids;
  STRIDE_RETURN_IF_ERROR(Read(line, "prompt_ids", &ids));
  STRIDE_RETURN_IF_ERROR(Read(line, "prompt_token_ids", &ids));
  std::string prompt;
  STRIDE_RETURN_IF_ERROR(Read(line, "prompt", &prompt));
  if (!ids.empty() && !prompt.empty()) {
    return absl::InvalidArgumentError("give either 'prompt' or 'prompt_ids', not both");
  }
  if (!prompt.empty()) {
    if (tokenizer == nullptr) {
      return absl::InvalidArgumentError("'prompt' text needs a tokenizer (--tokenizer)");
    }
    STRIDE_ASSIGN_OR_RETURN(ids, tokenizer->Encode(prompt, /*add_special_tokens=*/true));
  }
  if (!ids.empty()) r.prompt_token_ids = std::move(ids);
  STRIDE_RETURN_IF_ERROR(Read(line, "max_tokens", &s.max_tokens));
  STRIDE_RETURN_IF_ERROR(Read(line, "min_tokens", &s.min_tokens));
  STRIDE_RETURN_IF_ERROR(Read(line, "temperature", &s.temperature));
  STRIDE_RETURN_IF_ERROR(Read(line, "top_p", &s.top_p));
  STRIDE_RETURN_IF_ERROR(Read(line, "top_k", &s.top_k));
  STRIDE_RETURN_IF_ERROR(Read(line, "min_p", &s.min_p));
  STRIDE_RETURN_IF_ERROR(Read(line, "repetition_penalty", &s.repetition_penalty));
  STRIDE_RETURN_IF_ERROR(Read(line, "presence_penalty", &s.presence_penalty));
  STRIDE_RETURN_IF_ERROR(Read(line, "frequency_penalty", &s.frequency_penalty));
  STRIDE_RETURN_IF_ERROR(Read(line, "ignore_eos", &s.ignore_eos));
  STRIDE_RETURN_IF_ERROR(Read(line, "stop_token_ids", &s.stop_token_ids));
  STRIDE_RETURN_IF_ERROR(Read(line, "logprobs", &s.logprobs));
  STRIDE_RETURN_IF_ERROR(Read(line, "prompt_logprobs", &s.prompt_logprobs));
  STRIDE_RETURN_IF_ERROR(Read(line, "n", &s.n));
  STRIDE_RETURN_IF_ERROR(Read(line, "priority", &r.priority));
  if (line.contains("seed") && !line["seed"].is_null()) {
    uint64_t seed = 0;
    STRIDE_RETURN_IF_ERROR(Read(line, "seed", &seed));
    s.seed = seed;
  }
  if (line.contains("logit_bias") && !line["logit_bias"].is_null()) {
    std::map<std::string, float> bias;
    STRIDE_RETURN_IF_ERROR(Read(line, "logit_bias", &bias));
    s.logit_bias.clear();
    for (const auto& [key, value] : bias) {
      int32_t token = 0;
      if (!absl::SimpleAtoi(key, &token)) {
        return absl::InvalidArgumentError(absl::StrCat("logit_bias key '", key, "' is not a token id"));
      }
      s.logit_bias.emplace_back(token, value);
    }
  }
  if (r.prompt_token_ids.empty()) {
    return absl::InvalidArgumentError("a request needs 'prompt' or 'prompt_ids'");
  }
  return r;
}

json GenerateResultJson(const engine::GenerateRequest& request,
                        const std::vector<engine::TokenLogprob>& prompt_logprobs,
                        const std::vector<SequenceResult>& sequences,
                        const engine::text::Tokenizer* tokenizer) {
  auto sequence_json = [&](const SequenceResult& seq) {
    json out;
    out["token_ids"] = seq.token_ids;
    json logprobs = json::array(), top = json::array();
    for (const auto& lp : seq.logprobs) {
      logprobs.push_back(lp.logprob);
      top.push_back(LogprobJson(lp));
    }
    out["logprobs"] = logprobs;
    out["top_logprobs"] = top;
    out["text"] = nullptr;
    if (tokenizer != nullptr) {
      absl::StatusOr<std::string> text = tokenizer->Decode(seq.token_ids, true);
      if (text.ok()) out["text"] = *text;
    }
    out["finish_reason"] = engine::FinishReasonName(seq.finish_reason);
    if (!seq.status.ok()) out["error"] = std::string(seq.status.message());
    return out;
  };
  json result = sequence_json(sequences.front());
  result["prompt_token_ids"] = request.prompt_token_ids;
  if (request.sampling.prompt_logprobs >= 0) {
    json prompt = json::array({nullptr}), prompt_top = json::array({nullptr});
    for (const auto& lp : prompt_logprobs) {
      prompt.push_back(lp.logprob);
      prompt_top.push_back(LogprobJson(lp));
    }
    result["prompt_logprobs"] = prompt;
    result["prompt_top_logprobs"] = prompt_top;
  }
  if (sequences.size() > 1) {
    result["outputs"] = json::array();
    for (const SequenceResult& seq : sequences) result["outputs"].push_back(sequence_json(seq));
  }
  return result;
}

}  // namespace stride::server::cli
