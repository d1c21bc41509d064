// Pre-tokenizers of HuggingFace tokenizer.json ("pre_tokenizer" section): cut normalized text
// into the pieces ("words") that the BPE model encodes one by one. Supported types: Sequence,
// Split (regex or string pattern, every delimiter behaviour), ByteLevel and Metaspace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

struct PreToken {
  std::string text;
  // True when the piece starts at offset 0 of the original input (Metaspace's "first" scheme).
  bool at_input_start = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their sub-pieces, in order. Empty pieces are dropped.
  virtual void PreTokenize(std::vector<PreToken>* pieces) const = 0;
};

// Builds the pre-tokenizer described by `config`; a JSON null gives nullptr (the whole normalized
// text is one piece). Unknown types are an error that names the type.
absl::StatusOr<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const nlohmann::json& config);

}  // namespace stride::engine::text
