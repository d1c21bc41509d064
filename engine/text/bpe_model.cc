#include "engine/text/bpe_model.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "engine/text/json_fields.h"
#include "engine/text/utf8.h"

namespace stride::engine::text {
namespace {

using nlohmann::json;

// A merge is "left right" (older files) or ["left", "right"].
absl::StatusOr<std::pair<std::string, std::string>> ParseMerge(const json& merge) {
  if (merge.is_string()) {
    const std::string& s = merge.get_ref<const std::string&>();
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad BPE merge '", s, "'"));
    }
    return std::make_pair(s.substr(0, space), s.substr(space + 1));
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return std::make_pair(merge[0].get<std::string>(), merge[1].get<std::string>());
  }
  return absl::InvalidArgumentError(absl::StrCat("bad BPE merge ", merge.dump()));
}

std::string OptionalString(const json& config, const char* key) {
  auto it = config.find(key);
  return it != config.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromJson(const json& config) {
  STRIDE_ASSIGN_OR_RETURN(std::string type, GetString(config, "type"));
  if (type != "BPE") {
    return absl::UnimplementedError(absl::StrCat("unsupported model type '", type, "'"));
  }
  if (auto it = config.find("dropout");
      it != config.end() && it->is_number() && it->get<double>() > 0.0) {
    return absl::UnimplementedError("BPE dropout is not supported (encodings must be exact)");
  }
  std::unique_ptr<BpeModel> model(new BpeModel());
  auto vocab_it = config.find("vocab");
  if (vocab_it == config.end() || !vocab_it->is_object()) {
    return absl::InvalidArgumentError("tokenizer field 'vocab' is missing or not an object");
  }
  model->vocab_.reserve(vocab_it->size());
  int32_t max_id = -1;
  for (const auto& [token, id_json] : vocab_it->items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 ||
        id_json.get<int64_t>() > INT32_MAX - 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad id for vocabulary token '", token, "'"));
    }
    const int32_t id = id_json.get<int32_t>();
    model->vocab_[token] = id;
    max_id = std::max(max_id, id);
  }
  model->id_to_token_.assign(max_id + 1, "");
  model->has_id_.assign(max_id + 1, false);
  for (const auto& [token, id] : model->vocab_) {
    model->id_to_token_[id] = token;
    model->has_id_[id] = true;
  }

  model->continuing_subword_prefix_ = OptionalString(config, "continuing_subword_prefix");
  model->end_of_word_suffix_ = OptionalString(config, "end_of_word_suffix");
  STRIDE_ASSIGN_OR_RETURN(model->fuse_unk_, GetBoolOr(config, "fuse_unk", false));
  STRIDE_ASSIGN_OR_RETURN(model->byte_fallback_, GetBoolOr(config, "byte_fallback", false));
  STRIDE_ASSIGN_OR_RETURN(model->ignore_merges_, GetBoolOr(config, "ignore_merges", false));
  const std::string unk = OptionalString(config, "unk_token");
  if (!unk.empty()) {
    model->unk_id_ = model->TokenToId(unk);
    if (!model->unk_id_) {
      return absl::InvalidArgumentError(absl::StrCat("unk_token '", unk, "' is not in the vocab"));
    }
  }
  for (int b = 0; b < 256; ++b) {
    model->byte_ids_[b] = model->TokenToId(absl::StrFormat("<0x%02X>", b));
  }

  STRIDE_ASSIGN_OR_RETURN(const json* merges, GetArray(config, "merges"));
  model->merges_.reserve(merges->size());
  const size_t prefix_len = model->continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    STRIDE_ASSIGN_OR_RETURN(auto pair, ParseMerge((*merges)[rank]));
    const auto left = model->TokenToId(pair.first);
    const auto right = model->TokenToId(pair.second);
    if (!left || !right) {
      return absl::InvalidArgumentError(
          absl::StrCat("BPE merge '", pair.first, " ", pair.second, "' uses a token not in vocab"));
    }
    std::string merged = pair.first;
    if (prefix_len > 0 &&
        pair.second.compare(0, prefix_len, model->continuing_subword_prefix_) == 0) {
      merged.append(pair.second, prefix_len);
    } else {
      merged += pair.second;
    }
    const auto new_id = model->TokenToId(merged);
    if (!new_id) {
      return absl::InvalidArgumentError(
          absl::StrCat("BPE merge result '", merged, "' is not in the vocab"));
    }
    // A repeated pair keeps its last rank, as HuggingFace's map construction does.
    model->merges_[PairKey(*left, *right)] = {static_cast<int32_t>(rank), *new_id};
  }
  return model;
}

std::optional<int32_t> BpeModel::TokenToId(std::string_view token) const {
  auto it = vocab_.find(absl::string_view(token.data(), token.size()));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

bool BpeModel::HasId(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < has_id_.size() && has_id_[id];
}

void BpeModel::Tokenize(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto it = vocab_.find(absl::string_view(word.data(), word.size())); it != vocab_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable) {
    absl::ReaderMutexLock lock(&cache_mutex_);
    if (auto it = cache_.find(absl::string_view(word.data(), word.size())); it != cache_.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> word_ids;
  MergeWord(word, &word_ids);
  ids->insert(ids->end(), word_ids.begin(), word_ids.end());
  if (cacheable) {
    absl::MutexLock lock(&cache_mutex_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(word, std::move(word_ids));
  }
}

void BpeModel::MergeWord(std::string_view word, std::vector<int32_t>* ids) const {
  int32_t pending_unk = -1;  // an unknown character not yet emitted (maybe fused); -1: none
  std::string symbol;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t len = std::max<size_t>(1, Utf8CharLength(word, pos));
    const bool is_first = pos == 0;
    const bool is_last = pos + len >= word.size();
    symbol.clear();
    if (!is_first) symbol += continuing_subword_prefix_;
    symbol.append(word.substr(pos, len));
    if (is_last) symbol += end_of_word_suffix_;
    pos += len;

    if (auto it = vocab_.find(symbol); it != vocab_.end()) {
      if (pending_unk >= 0) {
        ids->push_back(pending_unk);
        pending_unk = -1;
      }
      ids->push_back(it->second);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (char c : symbol) all_bytes &= byte_ids_[static_cast<unsigned char>(c)].has_value();
      if (all_bytes) {
        // HuggingFace emits the bytes without flushing a pending unk first; keep that order.
        for (char c : symbol) ids->push_back(*byte_ids_[static_cast<unsigned char>(c)]);
        continue;
      }
    }
    if (!unk_id_) continue;  // no unk token: the character is dropped, as HuggingFace does
    if (pending_unk >= 0 && !fuse_unk_) ids->push_back(pending_unk);
    pending_unk = *unk_id_;
  }
  if (pending_unk >= 0) ids->push_back(pending_unk);
  ApplyMerges(merges_, ids);
}

}  // namespace stride::engine::text
