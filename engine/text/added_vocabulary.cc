#include "engine/text/added_vocabulary.h"

#include <algorithm>
#include <utility>

#include <utf8proc.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/json_fields.h"
#include "engine/text/utf8.h"

namespace stride::engine::text {
namespace {

using nlohmann::json;

// Unicode White_Space (Rust's char::is_whitespace).
bool IsWhiteSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Letters, marks, numbers and connector punctuation ('_'): what a regex \w accepts.
bool IsWordChar(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// The code point that ends at text[end) (text is valid UTF-8, end > 0).
char32_t LastChar(std::string_view text, size_t end, size_t* begin) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  size_t pos = start;
  *begin = start;
  return DecodeUtf8(text, &pos);
}

}  // namespace

void AddedVocabulary::Trie::Insert(std::string_view key, int32_t token_index) {
  if (key.empty()) return;
  int32_t node = 0;
  for (char c : key) {
    const uint64_t edge = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(c);
    auto it = edges_.find(edge);
    if (it == edges_.end()) {
      const int32_t child = static_cast<int32_t>(terminal_.size());
      terminal_.push_back(-1);
      it = edges_.emplace(edge, child).first;
    }
    node = it->second;
  }
  terminal_[node] = token_index;
  first_byte_[static_cast<unsigned char>(key[0])] = true;
}

bool AddedVocabulary::Trie::FindNext(std::string_view text, size_t from, size_t* begin, size_t* end,
                                     int32_t* token_index) const {
  for (size_t start = from; start < text.size(); ++start) {
    if (!first_byte_[static_cast<unsigned char>(text[start])]) continue;
    int32_t node = 0;
    int32_t best = -1;
    size_t best_end = 0;
    for (size_t i = start; i < text.size(); ++i) {
      const uint64_t edge =
          (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
      auto it = edges_.find(edge);
      if (it == edges_.end()) break;
      node = it->second;
      if (terminal_[node] >= 0) {
        best = terminal_[node];
        best_end = i + 1;
      }
    }
    if (best >= 0) {
      *begin = start;
      *end = best_end;
      *token_index = best;
      return true;
    }
  }
  return false;
}

absl::StatusOr<AddedVocabulary> AddedVocabulary::FromJson(const json& added_tokens,
                                                          const Normalizer* normalizer) {
  AddedVocabulary vocab;
  if (added_tokens.is_null()) return vocab;
  if (!added_tokens.is_array()) {
    return absl::InvalidArgumentError("tokenizer field 'added_tokens' is not an array");
  }
  for (const json& item : added_tokens) {
    AddedToken token;
    STRIDE_ASSIGN_OR_RETURN(int64_t id, GetInt(item, "id"));
    if (id < 0 || id > INT32_MAX - 1) {
      return absl::InvalidArgumentError(absl::StrCat("added token id ", id, " out of range"));
    }
    token.id = static_cast<int32_t>(id);
    STRIDE_ASSIGN_OR_RETURN(token.content, GetString(item, "content"));
    if (token.content.empty()) return absl::InvalidArgumentError("empty added token content");
    STRIDE_ASSIGN_OR_RETURN(token.single_word, GetBoolOr(item, "single_word", false));
    STRIDE_ASSIGN_OR_RETURN(token.lstrip, GetBoolOr(item, "lstrip", false));
    STRIDE_ASSIGN_OR_RETURN(token.rstrip, GetBoolOr(item, "rstrip", false));
    STRIDE_ASSIGN_OR_RETURN(token.normalized, GetBoolOr(item, "normalized", true));
    STRIDE_ASSIGN_OR_RETURN(token.special, GetBoolOr(item, "special", false));
    const size_t index = vocab.tokens_.size();
    if (token.normalized) {
      std::string key = token.content;
      if (normalizer != nullptr) normalizer->Normalize(&key);
      vocab.normalized_trie_.Insert(key, static_cast<int32_t>(index));
    } else {
      vocab.raw_trie_.Insert(token.content, static_cast<int32_t>(index));
    }
    vocab.index_by_id_[token.id] = index;
    vocab.index_by_content_[token.content] = index;
    vocab.tokens_.push_back(std::move(token));
  }
  return vocab;
}

const AddedToken* AddedVocabulary::FindById(int32_t id) const {
  auto it = index_by_id_.find(id);
  return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::FindByContent(std::string_view content) const {
  auto it = index_by_content_.find(absl::string_view(content.data(), content.size()));
  if (it == index_by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

std::vector<TextSegment> AddedVocabulary::Split(const Trie& trie, std::string_view text) const {
  std::vector<TextSegment> segments;
  size_t consumed = 0;  // end of the last emitted segment
  size_t search_from = 0;
  size_t begin = 0, end = 0;
  int32_t index = -1;
  while (!trie.empty() && trie.FindNext(text, search_from, &begin, &end, &index)) {
    search_from = end;  // matches never overlap, even when one is discarded below
    const AddedToken& token = tokens_[index];
    if (token.single_word) {
      size_t char_begin = 0;
      const bool space_before = begin == 0 || !IsWordChar(LastChar(text, begin, &char_begin));
      size_t after = end;
      const bool space_after = end == text.size() || !IsWordChar(DecodeUtf8(text, &after));
      if (!space_before || !space_after) continue;
    }
    if (token.lstrip) {
      size_t new_begin = begin;
      while (new_begin > 0) {
        size_t char_begin = 0;
        if (!IsWhiteSpace(LastChar(text, new_begin, &char_begin))) break;
        new_begin = char_begin;
      }
      begin = std::max(new_begin, consumed);  // an earlier match may already own those spaces
    }
    if (token.rstrip) {
      while (end < text.size()) {
        size_t next = end;
        if (!IsWhiteSpace(DecodeUtf8(text, &next))) break;
        end = next;
      }
      search_from = end;
    }
    if (consumed < begin) segments.push_back({consumed, begin, std::nullopt});
    segments.push_back({begin, end, token.id});
    consumed = end;
  }
  if (consumed < text.size()) segments.push_back({consumed, text.size(), std::nullopt});
  return segments;
}

}  // namespace stride::engine::text
