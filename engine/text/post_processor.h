// Post-processors of HuggingFace tokenizer.json ("post_processor" section), reduced to what a
// single sequence needs: the special-token ids placed before and after the encoded text when
// add_special_tokens is set. Supported types: TemplateProcessing, ByteLevel (adds nothing),
// BertProcessing, RobertaProcessing and Sequence of these.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

struct SpecialTokenWrap {
  std::vector<int32_t> prefix;
  std::vector<int32_t> suffix;
};

// A JSON null adds nothing. Unknown types are an error naming the type.
absl::StatusOr<SpecialTokenWrap> ParsePostProcessor(const nlohmann::json& config);

}  // namespace stride::engine::text
