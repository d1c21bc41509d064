// A HuggingFace tokenizer (tokenizer.json + tokenizer_config.json) whose encodings equal those of
// the HuggingFace `tokenizers` library for BPE models: byte-level BPE (Llama-3, Qwen) and
// SentencePiece-style BPE with byte fallback (Llama-2, Mistral). Encoding runs added-token
// matching, the normalizer, the pre-tokenizer, the BPE model and the post-processor's special
// tokens; decoding runs the decoder chain. Immutable after loading, so one instance serves every
// thread (front ends, `stride tokenize`, the offline generator).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/added_vocabulary.h"
#include "engine/text/bpe_model.h"
#include "engine/text/decoder.h"
#include "engine/text/normalizer.h"
#include "engine/text/post_processor.h"
#include "engine/text/pre_tokenizer.h"
#include "engine/text/tokenizer_config.h"

namespace stride::engine::text {

class Tokenizer {
 public:
  // `dir` holds tokenizer.json and, optionally, tokenizer_config.json, generation_config.json
  // (extra EOS ids) and chat_template.jinja.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromDirectory(const std::string& dir);
  // From file contents; `config_json` may be empty (no tokenizer_config.json).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(std::string_view tokenizer_json,
                                                             std::string_view config_json = "");

  // Invalid UTF-8 input is an InvalidArgument error.
  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_special_tokens) const;
  // Ids outside the vocabulary are an InvalidArgument error. The result is valid UTF-8.
  absl::StatusOr<std::string> Decode(std::span<const int32_t> ids, bool skip_special_tokens) const;

  // One past the largest id (model vocabulary and added tokens).
  int vocab_size() const { return vocab_size_; }
  std::optional<int32_t> bos_token_id() const { return bos_token_id_; }
  std::vector<int32_t> eos_token_ids() const { return eos_token_ids_; }
  const std::string& chat_template() const { return config_.chat_template; }
  // Token texts for chat templates; "" when the config names none.
  std::string bos_token() const { return config_.bos_token.value_or(""); }
  std::string eos_token() const { return config_.eos_token.value_or(""); }
  // True for added tokens marked special (the ones skip_special_tokens drops).
  bool IsSpecial(int32_t id) const;
  // Id of an added token or vocabulary entry, by its exact text.
  std::optional<int32_t> TokenToId(std::string_view token) const;

 private:
  Tokenizer() = default;
  // Encodes text between added tokens. `at_input_start`: it begins at offset 0 of the input.
  void EncodePlain(std::string_view text, bool at_input_start, std::vector<int32_t>* ids) const;
  void EncodeNormalized(std::string text, bool at_input_start, std::vector<int32_t>* ids) const;
  // Applies add_bos_token / add_eos_token from the config on top of the post-processor.
  void ResolveSpecialTokenWrap();

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  SpecialTokenWrap wrap_;
  TokenizerConfig config_;
  int vocab_size_ = 0;
  std::optional<int32_t> bos_token_id_;
  std::vector<int32_t> eos_token_ids_;
};

}  // namespace stride::engine::text
