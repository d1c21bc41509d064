#include "server/http/chat_renderer.h"

#include <optional>

#if __has_include("engine/text/chat_template.h")
#include "engine/text/chat_template.h"
#define STRIDE_HAVE_CHAT_TEMPLATE 1
#endif

namespace stride::server::http {

#ifdef STRIDE_HAVE_CHAT_TEMPLATE
struct ChatRenderer::Impl {
  std::optional<engine::text::ChatTemplate> chat_template;
};

absl::StatusOr<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(
    const engine::text::Tokenizer& tokenizer) {
  auto impl = std::make_unique<Impl>();
  if (!tokenizer.chat_template().empty()) {
    auto parsed = engine::text::ChatTemplate::Parse(tokenizer.chat_template(),
                                                    tokenizer.bos_token(), tokenizer.eos_token());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError("the tokenizer's chat template is not supported: " +
                                        std::string(parsed.status().message()));
    }
    impl->chat_template.emplace(std::move(*parsed));
  }
  return std::unique_ptr<ChatRenderer>(new ChatRenderer(std::move(impl)));
}

absl::StatusOr<std::string> ChatRenderer::Render(const nlohmann::ordered_json& messages,
                                                 bool add_generation_prompt,
                                                 const nlohmann::ordered_json& kwargs,
                                                 const nlohmann::ordered_json& tools) const {
  if (!impl_->chat_template) {
    return absl::InvalidArgumentError("this model has no chat template; use /v1/completions");
  }
  engine::text::ChatTemplateOptions options;
  options.add_generation_prompt = add_generation_prompt;
  options.kwargs = kwargs;
  options.tools = tools;
  auto rendered = impl_->chat_template->Render(messages, options);
  if (!rendered.ok()) {
    return absl::InvalidArgumentError("the chat template failed on these messages: " +
                                      std::string(rendered.status().message()));
  }
  return std::string(*rendered);
}

bool ChatRenderer::has_template() const { return impl_->chat_template.has_value(); }
#else
// Built before engine/text/chat_template.h existed: chat requests are answered with a 400.
struct ChatRenderer::Impl {};

absl::StatusOr<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(const engine::text::Tokenizer&) {
  return std::unique_ptr<ChatRenderer>(new ChatRenderer(std::make_unique<Impl>()));
}

absl::StatusOr<std::string> ChatRenderer::Render(const nlohmann::ordered_json&, bool,
                                                 const nlohmann::ordered_json&,
                                                 const nlohmann::ordered_json&) const {
  return absl::InvalidArgumentError("chat templates are not supported by this build");
}

bool ChatRenderer::has_template() const { return false; }
#endif

ChatRenderer::ChatRenderer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatRenderer::~ChatRenderer() = default;

}  // namespace stride::server::http
