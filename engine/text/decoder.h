// Decoders of HuggingFace tokenizer.json ("decoder" section): turn token strings back into text.
// Each step rewrites the list of token strings (HuggingFace's decode_chain); the result is their
// concatenation. Supported types: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip,
// Metaspace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void DecodeChain(std::vector<std::string>* tokens) const = 0;
};

// Builds the decoder described by `config`; a JSON null gives nullptr (tokens are joined with
// spaces, as HuggingFace does without a decoder). Unknown types are an error naming the type.
absl::StatusOr<std::unique_ptr<Decoder>> ParseDecoder(const nlohmann::json& config);

}  // namespace stride::engine::text
