#include "server/openai/tokenize_request.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "server/openai/api_error.h"
#include "server/openai/chat_request.h"
#include "server/openai/fields.h"
#include "server/openai/json_body.h"

namespace stride::server::openai {
namespace {

absl::Status CheckModel(const Json& body, const RequestContext& context) {
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> model, OptionalString(body, "model"));
  if (model && *model != context.served_model_name) {
    return absl::NotFoundError(absl::StrCat("The model `", *model, "` does not exist"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenizeRequest> ParseTokenizeBody(absl::string_view body,
                                                  const RequestContext& context) {
  STRIDE_ASSIGN_OR_RETURN(Json value, ParseJsonObject(body));
  STRIDE_RETURN_IF_ERROR(CheckModel(value, context));
  TokenizeRequest r;
  const Json* messages = FieldOrNull(value, "messages");
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> prompt, OptionalString(value, "prompt"));
  if ((messages != nullptr) == prompt.has_value()) {
    return InvalidParam("prompt", "give exactly one of prompt (a string) or messages");
  }
  r.is_chat = messages != nullptr;
  if (r.is_chat) {
    STRIDE_ASSIGN_OR_RETURN(r.messages, NormalizeMessages(messages, context.limits));
    STRIDE_ASSIGN_OR_RETURN(auto generation_prompt, OptionalBool(value, "add_generation_prompt"));
    r.add_generation_prompt = generation_prompt.value_or(true);
    if (const Json* kwargs = FieldOrNull(value, "chat_template_kwargs")) {
      if (!kwargs->is_object()) {
        return InvalidParam("chat_template_kwargs", "chat_template_kwargs must be an object");
      }
      r.chat_template_kwargs = *kwargs;
    }
    if (const Json* tools = FieldOrNull(value, "tools")) {
      if (!tools->is_array()) return InvalidParam("tools", "tools must be a list");
      if (!tools->empty()) r.tools = *tools;
    }
  } else {
    r.prompt = std::move(*prompt);
  }
  STRIDE_ASSIGN_OR_RETURN(auto special, OptionalBool(value, "add_special_tokens"));
  r.add_special_tokens = special.value_or(!r.is_chat);
  return r;
}

absl::StatusOr<DetokenizeRequest> ParseDetokenizeBody(absl::string_view body,
                                                      const RequestContext& context) {
  STRIDE_ASSIGN_OR_RETURN(Json value, ParseJsonObject(body));
  STRIDE_RETURN_IF_ERROR(CheckModel(value, context));
  const Json* tokens = FieldOrNull(value, "tokens");
  if (tokens == nullptr || !tokens->is_array()) {
    return InvalidParam("tokens", "tokens must be a list of token ids");
  }
  if (tokens->size() > static_cast<size_t>(context.limits.max_prompt_token_ids)) {
    return InvalidParam("tokens", "too many tokens");
  }
  DetokenizeRequest r;
  for (const Json& v : *tokens) {
    absl::StatusOr<int64_t> id = IntValue(v, "tokens");
    if (!id.ok() || *id < 0 || *id >= context.vocab_size) {
      return InvalidParam("tokens",
                          absl::StrCat("tokens must be integers in [0, ", context.vocab_size, ")"));
    }
    r.tokens.push_back(static_cast<int32_t>(*id));
  }
  return r;
}

}  // namespace stride::server::openai
