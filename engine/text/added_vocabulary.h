// Added tokens of tokenizer.json ("added_tokens"): strings such as "<|im_start|>" or "<s>" that
// are cut out of the input before the normalizer and the model run, honouring each token's
// single_word, lstrip, rstrip and normalized flags. Matching is leftmost-longest, as in
// HuggingFace tokenizers. Used by Tokenizer for encoding and for special-token lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/text/normalizer.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A [begin, end) byte range of some text: an added token when token_id is set, else plain text.
struct TextSegment {
  size_t begin = 0;
  size_t end = 0;
  std::optional<int32_t> token_id;
};

class AddedVocabulary {
 public:
  // `normalizer` (may be null) normalizes the content of tokens with normalized = true.
  static absl::StatusOr<AddedVocabulary> FromJson(const nlohmann::json& added_tokens,
                                                  const Normalizer* normalizer);

  // Cuts raw input at the tokens with normalized = false.
  std::vector<TextSegment> SplitRaw(std::string_view text) const { return Split(raw_trie_, text); }
  // Cuts already-normalized text at the tokens with normalized = true.
  std::vector<TextSegment> SplitNormalized(std::string_view text) const {
    return Split(normalized_trie_, text);
  }
  bool has_normalized_tokens() const { return !normalized_trie_.empty(); }

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* FindById(int32_t id) const;
  std::optional<int32_t> FindByContent(std::string_view content) const;

 private:
  // Byte trie over token contents; nodes are numbered, node 0 is the root.
  class Trie {
   public:
    void Insert(std::string_view key, int32_t token_index);
    bool empty() const { return terminal_.size() <= 1; }
    // The leftmost-longest match starting at or after `from`: {begin, end, token index}.
    bool FindNext(std::string_view text, size_t from, size_t* begin, size_t* end,
                  int32_t* token_index) const;

   private:
    absl::flat_hash_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child
    std::vector<int32_t> terminal_ = {-1};          // node -> token index or -1
    bool first_byte_[256] = {};
  };

  std::vector<TextSegment> Split(const Trie& trie, std::string_view text) const;

  std::vector<AddedToken> tokens_;
  absl::flat_hash_map<int32_t, size_t> index_by_id_;
  absl::flat_hash_map<std::string, size_t> index_by_content_;
  Trie raw_trie_;
  Trie normalized_trie_;
};

}  // namespace stride::engine::text
