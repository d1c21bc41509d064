// The model's chat template, parsed once at start-up from the tokenizer's tokenizer_config.json
// (or chat_template.jinja), and rendered per chat request. A tokenizer without a template gives
// a renderer that answers every render with a 400.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/text/tokenizer.h"
#include "nlohmann/json.hpp"

namespace stride::server::http {

class ChatRenderer {
 public:
  // Fails (a start-up error) when the template exists but cannot be parsed.
  static absl::StatusOr<std::unique_ptr<ChatRenderer>> Create(const engine::text::Tokenizer& tok);
  ~ChatRenderer();

  bool has_template() const;
  // `messages` are normalized (see openai::NormalizeMessages); `tools` is null or a list.
  absl::StatusOr<std::string> Render(const nlohmann::ordered_json& messages,
                                     bool add_generation_prompt,
                                     const nlohmann::ordered_json& kwargs,
                                     const nlohmann::ordered_json& tools) const;

 private:
  struct Impl;
  explicit ChatRenderer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stride::server::http
