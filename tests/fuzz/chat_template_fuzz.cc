// libFuzzer target for the chat-template interpreter (engine/text/chat_template.h and
// engine/text/jinja/). The input is a template and a JSON messages blob separated by the first
// NUL byte (no NUL: the whole input is the template and the messages are a fixed conversation).
// Parsing and rendering must return a status for anything, within small render limits, and
// never crash, hang, leak or read out of bounds. A rendered prompt must also fit the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/text/chat_template.h"
#include "nlohmann/json.hpp"

namespace {

constexpr char kDefaultMessages[] =
    R"([{"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": "<think>x</think>ok",
         "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]},
        {"role": "tool", "content": "{\"r\": 2}"},
        {"role": "user", "content": null}])";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string source(input.substr(0, split));
  nlohmann::ordered_json messages = nlohmann::ordered_json::parse(
      split == std::string_view::npos ? std::string_view(kDefaultMessages)
                                      : input.substr(split + 1),
      /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (messages.is_discarded()) messages = nlohmann::ordered_json::array();

  auto tmpl = stride::engine::text::ChatTemplate::Parse(source, "<s>", "</s>");
  if (!tmpl.ok()) return 0;
  stride::engine::text::ChatTemplateOptions options;
  options.limits.max_output_bytes = 1 << 20;
  options.limits.max_steps = 200000;
  options.kwargs = {{"enable_thinking", false}};
  options.tools = nlohmann::ordered_json::parse(
      R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])");
  auto rendered = tmpl->Render(messages, options);
  if (rendered.ok() && rendered->size() > options.limits.max_output_bytes) std::abort();
  return 0;
}
