#include "server/openai/chat_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "server/openai/api_error.h"
#include "server/openai/fields.h"
#include "server/openai/json_body.h"

namespace stride::server::openai {
namespace {

bool KnownRole(const std::string& role) {
  return role == "system" || role == "developer" || role == "user" || role == "assistant" ||
         role == "tool";
}

// A message's content as one string. An assistant message may omit it (tool calls): it becomes
// "", as vLLM renders it, since templates apply string filters to content.
absl::StatusOr<Json> NormalizeContent(const Json& message, const std::string& where) {
  const std::string param = where + ".content";
  auto it = message.find("content");
  if (it == message.end() || it->is_null()) {
    if (message.value("role", "") == "assistant") return Json("");
    return InvalidParam(param, param + " is required");
  }
  if (it->is_string()) return *it;
  if (!it->is_array()) {
    return InvalidParam(param, param + " must be a string or a list of content parts");
  }
  std::string joined;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& part = (*it)[i];
    const std::string part_param = absl::StrCat(param, "[", i, "]");
    if (!part.is_object()) return InvalidParam(part_param, part_param + " must be an object");
    const Json* type = FieldOrNull(part, "type");
    if (type == nullptr || !type->is_string() || *type != "text") {
      return InvalidParam(part_param, "only content parts of type \"text\" are supported");
    }
    const Json* text = FieldOrNull(part, "text");
    if (text == nullptr || !text->is_string()) {
      return InvalidParam(part_param, part_param + ".text must be a string");
    }
    if (i > 0) joined += "\n";
    joined += text->get_ref<const std::string&>();
  }
  return Json(std::move(joined));
}

absl::StatusOr<Json> NormalizeMessage(const Json& message, size_t index) {
  const std::string where = absl::StrCat("messages[", index, "]");
  if (!message.is_object()) return InvalidParam(where, where + " must be an object");
  const Json* role = FieldOrNull(message, "role");
  if (role == nullptr || !role->is_string()) {
    return InvalidParam(where + ".role", where + ".role is required and must be a string");
  }
  const std::string role_text = role->get<std::string>();
  if (!KnownRole(role_text)) {
    return InvalidParam(where + ".role",
                        "role must be one of system, developer, user, assistant, tool");
  }
  Json out = {{"role", role_text}};
  STRIDE_ASSIGN_OR_RETURN(out["content"], NormalizeContent(message, where));
  for (const char* key : {"name", "tool_call_id", "reasoning_content"}) {
    const Json* value = FieldOrNull(message, key);
    if (value == nullptr) continue;
    if (!value->is_string()) {
      return InvalidParam(absl::StrCat(where, ".", key), absl::StrCat(key, " must be a string"));
    }
    out[key] = *value;
  }
  if (const Json* calls = FieldOrNull(message, "tool_calls")) {
    if (!calls->is_array()) return InvalidParam(where + ".tool_calls", "tool_calls must be a list");
    for (const Json& call : *calls) {
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) {
        return InvalidParam(where + ".tool_calls", "each tool call needs a function object");
      }
    }
    out["tool_calls"] = *calls;
  }
  return out;
}

absl::Status ParseTools(const Json& body, ChatRequest* r) {
  if (const Json* tools = FieldOrNull(body, "tools")) {
    if (!tools->is_array()) return InvalidParam("tools", "tools must be a list");
    for (const Json& tool : *tools) {
      if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object() ||
          !tool["function"].contains("name") || !tool["function"]["name"].is_string()) {
        return InvalidParam("tools", "each tool needs a function object with a name");
      }
    }
    if (!tools->empty()) r->tools = *tools;
  }
  if (const Json* choice = FieldOrNull(body, "tool_choice")) {
    if (!choice->is_string() || (*choice != "none" && *choice != "auto")) {
      return InvalidParam("tool_choice", "tool_choice must be \"none\" or \"auto\"");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseChatOnlyFields(const Json& body, const RequestContext& context, ChatRequest* r) {
  STRIDE_ASSIGN_OR_RETURN(auto max_completion, OptionalIntIn(body, "max_completion_tokens", 1,
                                                             context.limits.max_tokens));
  if (max_completion) r->common.max_tokens = max_completion;
  STRIDE_ASSIGN_OR_RETURN(auto logprobs, OptionalBool(body, "logprobs"));
  r->logprobs = logprobs.value_or(false);
  STRIDE_ASSIGN_OR_RETURN(auto top,
                          OptionalIntIn(body, "top_logprobs", 0, context.limits.max_logprobs));
  if (top && !r->logprobs) {
    return InvalidParam("top_logprobs", "top_logprobs needs logprobs: true");
  }
  r->top_logprobs = static_cast<int>(top.value_or(0));
  r->common.sampling.logprobs = r->logprobs ? r->top_logprobs : -1;
  STRIDE_ASSIGN_OR_RETURN(auto generation_prompt, OptionalBool(body, "add_generation_prompt"));
  r->add_generation_prompt = generation_prompt.value_or(true);
  STRIDE_ASSIGN_OR_RETURN(auto continue_final, OptionalBool(body, "continue_final_message"));
  if (continue_final.value_or(false)) {
    return InvalidParam("continue_final_message", "continue_final_message is not supported");
  }
  STRIDE_ASSIGN_OR_RETURN(auto echo, OptionalBool(body, "echo"));
  if (echo.value_or(false)) return InvalidParam("echo", "echo is not supported for chat");
  if (const Json* kwargs = FieldOrNull(body, "chat_template_kwargs")) {
    if (!kwargs->is_object()) {
      return InvalidParam("chat_template_kwargs", "chat_template_kwargs must be an object");
    }
    r->chat_template_kwargs = *kwargs;
  }
  if (const Json* format = FieldOrNull(body, "response_format")) {
    if (!format->is_object() || format->value("type", "") != "text") {
      return InvalidParam("response_format",
                          "only response_format {\"type\": \"text\"} is supported");
    }
  }
  return ParseTools(body, r);
}

}  // namespace

absl::StatusOr<Json> NormalizeMessages(const Json* messages, const RequestLimits& limits) {
  if (messages == nullptr) return InvalidParam("messages", "messages is required");
  if (!messages->is_array() || messages->empty()) {
    return InvalidParam("messages", "messages must be a non-empty list of message objects");
  }
  if (messages->size() > static_cast<size_t>(limits.max_messages)) {
    return InvalidParam("messages", absl::StrCat("at most ", limits.max_messages, " messages"));
  }
  Json out = Json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    STRIDE_ASSIGN_OR_RETURN(Json message, NormalizeMessage((*messages)[i], i));
    out.push_back(std::move(message));
  }
  return out;
}

absl::StatusOr<ChatRequest> ParseChatRequest(const Json& body, const RequestContext& context) {
  ChatRequest r;
  STRIDE_ASSIGN_OR_RETURN(r.common, ParseCommonRequest(body, context));
  STRIDE_ASSIGN_OR_RETURN(r.messages,
                          NormalizeMessages(FieldOrNull(body, "messages"), context.limits));
  STRIDE_RETURN_IF_ERROR(ParseChatOnlyFields(body, context, &r));
  return r;
}

absl::StatusOr<ChatRequest> ParseChatBody(absl::string_view body, const RequestContext& context) {
  STRIDE_ASSIGN_OR_RETURN(Json value, ParseJsonObject(body));
  return ParseChatRequest(value, context);
}

}  // namespace stride::server::openai
