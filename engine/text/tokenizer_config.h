// The parts of tokenizer_config.json that encoding and chat rendering need: BOS/EOS token texts
// (plain strings or {"content": ...} objects), add_bos_token / add_eos_token and the chat
// template. Read by Tokenizer::FromDirectory.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace stride::engine::text {

struct TokenizerConfig {
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<bool> add_bos_token;  // unset: the post-processor decides alone
  std::optional<bool> add_eos_token;
  std::string chat_template;  // "" when none
};

// Parses the text of tokenizer_config.json.
absl::StatusOr<TokenizerConfig> ParseTokenizerConfig(std::string_view json_text);

}  // namespace stride::engine::text
