#include "engine/text/tokenizer_config.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {
namespace {

using nlohmann::json;

absl::StatusOr<std::optional<std::string>> TokenText(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_object()) {
    auto content = it->find("content");
    if (content != it->end() && content->is_string()) {
      return std::optional<std::string>(content->get<std::string>());
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("tokenizer_config.json: '", key,
                                                 "' is neither a string nor {\"content\": ...}"));
}

absl::StatusOr<std::optional<bool>> OptionalBool(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer_config.json: '", key, "' is not a boolean"));
  }
  return std::optional<bool>(it->get<bool>());
}

// A string, or a list of {"name", "template"} where the one named "default" (else the first) wins.
absl::StatusOr<std::string> ChatTemplate(const json& config) {
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    const json* chosen = nullptr;
    for (const json& item : *it) {
      if (!item.is_object() || !item.contains("template") || !item["template"].is_string()) {
        return absl::InvalidArgumentError("tokenizer_config.json: bad chat_template list entry");
      }
      if (chosen == nullptr || item.value("name", "") == "default") chosen = &item;
    }
    return chosen == nullptr ? std::string() : (*chosen)["template"].get<std::string>();
  }
  return absl::InvalidArgumentError("tokenizer_config.json: 'chat_template' is not a string");
}

}  // namespace

absl::StatusOr<TokenizerConfig> ParseTokenizerConfig(std::string_view json_text) {
  json config = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError("tokenizer_config.json is not a JSON object");
  }
  TokenizerConfig result;
  STRIDE_ASSIGN_OR_RETURN(result.bos_token, TokenText(config, "bos_token"));
  STRIDE_ASSIGN_OR_RETURN(result.eos_token, TokenText(config, "eos_token"));
  STRIDE_ASSIGN_OR_RETURN(result.add_bos_token, OptionalBool(config, "add_bos_token"));
  STRIDE_ASSIGN_OR_RETURN(result.add_eos_token, OptionalBool(config, "add_eos_token"));
  STRIDE_ASSIGN_OR_RETURN(result.chat_template, ChatTemplate(config));
  return result;
}

}  // namespace stride::engine::text
