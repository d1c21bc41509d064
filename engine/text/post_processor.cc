#include "engine/text/post_processor.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/json_fields.h"

namespace stride::engine::text {
namespace {

using nlohmann::json;

// The "single" template: [SpecialToken..., Sequence A, SpecialToken...].
absl::StatusOr<SpecialTokenWrap> ParseTemplate(const json& config) {
  STRIDE_ASSIGN_OR_RETURN(const json* single, GetArray(config, "single"));
  auto specials = config.find("special_tokens");
  SpecialTokenWrap wrap;
  bool seen_sequence = false;
  for (const json& piece : *single) {
    if (piece.contains("Sequence")) {
      STRIDE_ASSIGN_OR_RETURN(std::string id, GetString(piece["Sequence"], "id"));
      if (id != "A" || seen_sequence) {
        return absl::InvalidArgumentError("TemplateProcessing 'single' must hold sequence A once");
      }
      seen_sequence = true;
      continue;
    }
    if (!piece.contains("SpecialToken")) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad TemplateProcessing piece ", piece.dump()));
    }
    STRIDE_ASSIGN_OR_RETURN(std::string name, GetString(piece["SpecialToken"], "id"));
    if (specials == config.end() || !specials->is_object() || !specials->contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("TemplateProcessing special token '", name, "' has no ids"));
    }
    STRIDE_ASSIGN_OR_RETURN(const json* ids, GetArray((*specials)[name], "ids"));
    for (const json& id : *ids) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
        return absl::InvalidArgumentError(absl::StrCat("bad id for special token '", name, "'"));
      }
      (seen_sequence ? wrap.suffix : wrap.prefix).push_back(id.get<int32_t>());
    }
  }
  if (!seen_sequence) {
    return absl::InvalidArgumentError("TemplateProcessing 'single' has no sequence A");
  }
  return wrap;
}

// {"cls": ["[CLS]", 101], "sep": ["[SEP]", 102]}: [CLS] A [SEP].
absl::StatusOr<SpecialTokenWrap> ParseClsSep(const json& config) {
  const auto id_of = [&](const char* key) -> absl::StatusOr<int32_t> {
    auto it = config.find(key);
    if (it == config.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat("post_processor field '", key, "' is bad"));
    }
    return (*it)[1].get<int32_t>();
  };
  STRIDE_ASSIGN_OR_RETURN(int32_t cls, id_of("cls"));
  STRIDE_ASSIGN_OR_RETURN(int32_t sep, id_of("sep"));
  return SpecialTokenWrap{{cls}, {sep}};
}

}  // namespace

absl::StatusOr<SpecialTokenWrap> ParsePostProcessor(const json& config) {
  if (config.is_null()) return SpecialTokenWrap{};
  STRIDE_ASSIGN_OR_RETURN(std::string type, GetString(config, "type"));
  if (type == "TemplateProcessing") return ParseTemplate(config);
  if (type == "ByteLevel") return SpecialTokenWrap{};  // only adjusts offsets
  if (type == "BertProcessing" || type == "RobertaProcessing") return ParseClsSep(config);
  if (type == "Sequence") {
    // Each processor wraps the result of the previous one.
    SpecialTokenWrap wrap;
    STRIDE_ASSIGN_OR_RETURN(const json* list, GetArray(config, "processors"));
    for (const json& item : *list) {
      STRIDE_ASSIGN_OR_RETURN(SpecialTokenWrap inner, ParsePostProcessor(item));
      inner.prefix.insert(inner.prefix.end(), wrap.prefix.begin(), wrap.prefix.end());
      wrap.suffix.insert(wrap.suffix.end(), inner.suffix.begin(), inner.suffix.end());
      wrap.prefix = std::move(inner.prefix);
    }
    return wrap;
  }
  return absl::UnimplementedError(absl::StrCat("unsupported post_processor type '", type, "'"));
}

}  // namespace stride::engine::text
