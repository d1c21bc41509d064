#include "engine/text/chat_template.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/value_json.h"

namespace stride::engine::text {

absl::StatusOr<ChatTemplate> ChatTemplate::Parse(const std::string& source, std::string bos_token,
                                                 std::string eos_token) {
  auto parsed = jinja::Template::Parse(source);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load chat template: ", parsed.status().message()));
  }
  return ChatTemplate(std::move(*parsed), std::move(bos_token), std::move(eos_token));
}

absl::StatusOr<std::string> ChatTemplate::Render(const nlohmann::ordered_json& messages,
                                                 const ChatTemplateOptions& options) const {
  if (!messages.is_array()) return absl::InvalidArgumentError("messages must be a JSON array");
  if (!options.kwargs.is_object()) {
    return absl::InvalidArgumentError("chat template kwargs must be a JSON object");
  }
  std::vector<std::pair<std::string, jinja::Value>> vars;
  // transformers: render(messages=..., tools=..., documents=..., add_generation_prompt=...,
  // **special_tokens, **kwargs), later keys overriding the special tokens.
  vars.emplace_back("bos_token", jinja::Value::String(bos_token_));
  vars.emplace_back("eos_token", jinja::Value::String(eos_token_));
  for (const auto& [key, value] : options.kwargs.items()) {
    if (key == "messages" || key == "tools" || key == "documents" ||
        key == "add_generation_prompt") {
      return absl::InvalidArgumentError(
          absl::StrCat("chat template kwargs may not set '", key, "'"));
    }
    STRIDE_ASSIGN_OR_RETURN(jinja::Value v, jinja::ValueFromJson(value));
    vars.emplace_back(key, std::move(v));
  }
  STRIDE_ASSIGN_OR_RETURN(jinja::Value message_values, jinja::ValueFromJson(messages));
  vars.emplace_back("messages", std::move(message_values));
  STRIDE_ASSIGN_OR_RETURN(jinja::Value tools, jinja::ValueFromJson(options.tools));
  vars.emplace_back("tools", std::move(tools));
  vars.emplace_back("documents", jinja::Value::None());
  vars.emplace_back("add_generation_prompt", jinja::Value::Bool(options.add_generation_prompt));
  return template_.Render(vars, options.limits);
}

}  // namespace stride::engine::text
