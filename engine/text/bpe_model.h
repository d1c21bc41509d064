// The BPE model of a HuggingFace tokenizer.json ("model": {"type": "BPE", ...}): vocabulary,
// ranked merges, byte fallback (<0xNN> tokens), unknown-token fusing, ignore_merges (a piece that
// is itself in the vocabulary is one token) and a word cache. Encodes one pre-token at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/text/bpe_merge.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {

class BpeModel {
 public:
  // `config` is the "model" object of tokenizer.json. Other model types are an error.
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromJson(const nlohmann::json& config);

  // Appends the token ids of one pre-token. Thread-safe.
  void Tokenize(std::string_view word, std::vector<int32_t>* ids) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  // Token text per id (index = id); ids the vocabulary skips hold "" and are absent below.
  const std::vector<std::string>& id_to_token() const { return id_to_token_; }
  bool HasId(int32_t id) const;

 private:
  BpeModel() = default;
  // Splits `word` into initial symbols (characters, byte-fallback tokens, unk) and merges them.
  void MergeWord(std::string_view word, std::vector<int32_t>* ids) const;

  absl::flat_hash_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
  MergeMap merges_;
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::optional<int32_t> byte_ids_[256];  // <0xNN> tokens, for byte fallback

  // Words shorter than kMaxCachedWordBytes; stops growing at kCacheCapacity (as HuggingFace).
  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kCacheCapacity = 10000;
  mutable absl::Mutex cache_mutex_;
  mutable absl::flat_hash_map<std::string, std::vector<int32_t>> cache_
      ABSL_GUARDED_BY(cache_mutex_);
};

}  // namespace stride::engine::text
