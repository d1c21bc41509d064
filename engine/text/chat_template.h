// Chat templates: renders the Jinja2 `chat_template` of a HuggingFace tokenizer_config.json into
// the prompt text, byte-identical to transformers' apply_chat_template(..., tokenize=False).
// The template sees what transformers passes: `messages`, `tools` (None when absent),
// `documents` (None), `add_generation_prompt`, `bos_token`, `eos_token` and every extra kwarg
// (e.g. `enable_thinking`), plus the globals raise_exception and strftime_now. The interpreter
// is engine/text/jinja/.
//
// Pass JSON as nlohmann::ordered_json (plain nlohmann::json converts implicitly but sorts object
// keys): templates that print tool schemas with `tojson` show keys in the order they arrive.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/template.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  // Extra template variables (chat_template_kwargs), e.g. {"enable_thinking": false}.
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();
  // OpenAI-style tool list; null: no tools (the template sees `tools` as None).
  nlohmann::ordered_json tools = nullptr;
  // Bounds on one render (time and memory); the defaults suit real prompts.
  jinja::RenderLimits limits;
};

class ChatTemplate {
 public:
  // Parses once; the error names unsupported syntax and its line and column.
  static absl::StatusOr<ChatTemplate> Parse(const std::string& source, std::string bos_token,
                                            std::string eos_token);

  // messages: JSON array of {"role", "content", optional "tool_calls", "name", ...}, as OpenAI
  // sends them. Errors: the template's raise_exception (message kept), type errors and undefined
  // values used in an invalid way (InvalidArgument), exceeded limits (ResourceExhausted).
  absl::StatusOr<std::string> Render(const nlohmann::ordered_json& messages,
                                     const ChatTemplateOptions& options) const;

 private:
  ChatTemplate(jinja::Template tmpl, std::string bos_token, std::string eos_token)
      : template_(std::move(tmpl)),
        bos_token_(std::move(bos_token)),
        eos_token_(std::move(eos_token)) {}

  jinja::Template template_;
  std::string bos_token_;
  std::string eos_token_;
};

}  // namespace stride::engine::text
