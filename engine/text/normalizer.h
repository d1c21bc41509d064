// Normalizers of HuggingFace tokenizer.json ("normalizer" section): rewrite each piece of input
// text (the parts between added tokens) before pre-tokenization. Supported types: Sequence, NFC,
// NFD, NFKC, NFKD (utf8proc), Prepend, Replace (string or regex pattern).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `text` (valid UTF-8) in place.
  virtual void Normalize(std::string* text) const = 0;
};

// Builds the normalizer described by `config`; a JSON null gives nullptr (no normalization).
// Unknown types are an error that names the type.
absl::StatusOr<std::unique_ptr<Normalizer>> ParseNormalizer(const nlohmann::json& config);

}  // namespace stride::engine::text
