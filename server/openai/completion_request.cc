#include "server/openai/completion_request.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "server/openai/api_error.h"
#include "server/openai/fields.h"
#include "server/openai/json_body.h"

namespace stride::server::openai {
namespace {

absl::StatusOr<std::vector<int32_t>> TokenIds(const Json& list, const RequestContext& context) {
  if (list.empty()) return InvalidParam("prompt", "a token-id prompt must not be empty");
  if (list.size() > static_cast<size_t>(context.limits.max_prompt_token_ids)) {
    return InvalidParam("prompt", "the prompt has too many token ids");
  }
  std::vector<int32_t> ids;
  ids.reserve(list.size());
  for (const Json& v : list) {
    absl::StatusOr<int64_t> id = IntValue(v, "prompt");
    if (!id.ok() || *id < 0 || *id >= context.vocab_size) {
      return InvalidParam("prompt", absl::StrCat("prompt token ids must be integers in [0, ",
                                                 context.vocab_size, ")"));
    }
    ids.push_back(static_cast<int32_t>(*id));
  }
  return ids;
}

absl::StatusOr<std::vector<Prompt>> ParsePrompts(const Json& body, const RequestContext& context) {
  const Json* prompt = FieldOrNull(body, "prompt");
  if (prompt == nullptr) return InvalidParam("prompt", "prompt is required");
  std::vector<Prompt> prompts;
  auto add_text = [&](const Json& text) -> absl::Status {
    if (text.get_ref<const std::string&>().empty()) {
      return InvalidParam("prompt", "the prompt must not be empty");
    }
    prompts.push_back(Prompt{true, text.get<std::string>(), {}});
    return absl::OkStatus();
  };
  if (prompt->is_string()) {
    STRIDE_RETURN_IF_ERROR(add_text(*prompt));
    return prompts;
  }
  if (!prompt->is_array() || prompt->empty()) {
    return InvalidParam("prompt",
                        "prompt must be a string, a list of strings, a list of token "
                        "ids or a list of token-id lists, and not empty");
  }
  if (prompt->front().is_number()) {  // one prompt of token ids
    STRIDE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TokenIds(*prompt, context));
    prompts.push_back(Prompt{false, "", std::move(ids)});
    return prompts;
  }
  if (prompt->size() > static_cast<size_t>(context.limits.max_prompts)) {
    return InvalidParam(
        "prompt", absl::StrCat("at most ", context.limits.max_prompts, " prompts per request"));
  }
  for (const Json& item : *prompt) {
    if (item.is_string()) {
      STRIDE_RETURN_IF_ERROR(add_text(item));
    } else if (item.is_array()) {
      STRIDE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TokenIds(item, context));
      prompts.push_back(Prompt{false, "", std::move(ids)});
    } else {
      return InvalidParam("prompt", "a prompt list holds strings or lists of token ids");
    }
  }
  return prompts;
}

}  // namespace

absl::StatusOr<CompletionRequest> ParseCompletionRequest(const Json& body,
                                                         const RequestContext& context) {
  CompletionRequest r;
  STRIDE_ASSIGN_OR_RETURN(r.common, ParseCommonRequest(body, context));
  STRIDE_ASSIGN_OR_RETURN(r.prompts, ParsePrompts(body, context));
  STRIDE_ASSIGN_OR_RETURN(auto echo, OptionalBool(body, "echo"));
  r.echo = echo.value_or(false);
  STRIDE_ASSIGN_OR_RETURN(auto logprobs,
                          OptionalIntIn(body, "logprobs", 0, context.limits.max_logprobs));
  r.logprobs = logprobs ? static_cast<int>(*logprobs) : -1;
  STRIDE_ASSIGN_OR_RETURN(auto suffix, OptionalString(body, "suffix"));
  if (suffix) return InvalidParam("suffix", "suffix is not supported");
  scheduler::SamplingParams& s = r.common.sampling;
  s.logprobs = r.logprobs;
  if (r.echo && r.logprobs >= 0) s.prompt_logprobs = std::max(s.prompt_logprobs, r.logprobs);
  return r;
}

absl::StatusOr<CompletionRequest> ParseCompletionBody(absl::string_view body,
                                                      const RequestContext& context) {
  STRIDE_ASSIGN_OR_RETURN(Json value, ParseJsonObject(body));
  return ParseCompletionRequest(value, context);
}

}  // namespace stride::server::openai
