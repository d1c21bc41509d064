#include "engine/text/tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/utf8.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path.string()));
  return contents.str();
}

// generation_config.json's eos_token_id: an integer or a list of integers.
std::vector<int32_t> GenerationEosIds(const std::filesystem::path& path) {
  std::vector<int32_t> ids;
  auto text = ReadFile(path);
  if (!text.ok()) return ids;
  json config = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) return ids;
  const json& eos = config.contains("eos_token_id") ? config["eos_token_id"] : json();
  if (eos.is_number_integer()) ids.push_back(eos.get<int32_t>());
  if (eos.is_array()) {
    for (const json& id : eos) {
      if (id.is_number_integer()) ids.push_back(id.get<int32_t>());
    }
  }
  return ids;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromDirectory(const std::string& dir) {
  const std::filesystem::path root(dir);
  auto tokenizer_json = ReadFile(root / "tokenizer.json");
  if (!tokenizer_json.ok()) {
    return absl::NotFoundError(absl::StrCat("no tokenizer.json in '", dir, "'"));
  }
  std::string config_json;
  if (std::filesystem::exists(root / "tokenizer_config.json")) {
    STRIDE_ASSIGN_OR_RETURN(config_json, ReadFile(root / "tokenizer_config.json"));
  }
  auto tokenizer = FromJson(*tokenizer_json, config_json);
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        absl::StrCat(dir, ": ", tokenizer.status().message()));
  }
  Tokenizer& t = **tokenizer;
  if (t.config_.chat_template.empty() && std::filesystem::exists(root / "chat_template.jinja")) {
    STRIDE_ASSIGN_OR_RETURN(t.config_.chat_template, ReadFile(root / "chat_template.jinja"));
  }
  for (int32_t id : GenerationEosIds(root / "generation_config.json")) {
    if (id >= 0 && id < t.vocab_size_ &&
        std::find(t.eos_token_ids_.begin(), t.eos_token_ids_.end(), id) == t.eos_token_ids_.end()) {
      t.eos_token_ids_.push_back(id);
    }
  }
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view tokenizer_json,
                                                               std::string_view config_json) {
  json root = json::parse(tokenizer_json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError("tokenizer.json is not a JSON object");
  }
  const auto section = [&](const char* key) -> const json& {
    static const json kNull;
    auto it = root.find(key);
    return it == root.end() ? kNull : *it;
  };
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  STRIDE_ASSIGN_OR_RETURN(t->normalizer_, ParseNormalizer(section("normalizer")));
  STRIDE_ASSIGN_OR_RETURN(t->pre_tokenizer_, ParsePreTokenizer(section("pre_tokenizer")));
  if (section("model").is_null()) return absl::InvalidArgumentError("tokenizer.json has no model");
  STRIDE_ASSIGN_OR_RETURN(t->model_, BpeModel::FromJson(section("model")));
  STRIDE_ASSIGN_OR_RETURN(t->decoder_, ParseDecoder(section("decoder")));
  STRIDE_ASSIGN_OR_RETURN(t->wrap_, ParsePostProcessor(section("post_processor")));
  STRIDE_ASSIGN_OR_RETURN(t->added_,
                          AddedVocabulary::FromJson(section("added_tokens"), t->normalizer_.get()));
  if (!config_json.empty()) {
    STRIDE_ASSIGN_OR_RETURN(t->config_, ParseTokenizerConfig(config_json));
  }

  t->vocab_size_ = static_cast<int>(t->model_->id_to_token().size());
  for (const AddedToken& token : t->added_.tokens()) {
    t->vocab_size_ = std::max(t->vocab_size_, token.id + 1);
  }
  for (int32_t id : t->wrap_.prefix) {
    if (id >= t->vocab_size_) return absl::InvalidArgumentError("post_processor id out of range");
  }
  for (int32_t id : t->wrap_.suffix) {
    if (id >= t->vocab_size_) return absl::InvalidArgumentError("post_processor id out of range");
  }
  if (t->config_.bos_token) {
    t->bos_token_id_ = t->TokenToId(*t->config_.bos_token);
    if (!t->bos_token_id_) {
      return absl::InvalidArgumentError(
          absl::StrCat("bos_token '", *t->config_.bos_token, "' is not in the vocabulary"));
    }
  }
  if (t->config_.eos_token) {
    auto eos = t->TokenToId(*t->config_.eos_token);
    if (!eos) {
      return absl::InvalidArgumentError(
          absl::StrCat("eos_token '", *t->config_.eos_token, "' is not in the vocabulary"));
    }
    t->eos_token_ids_.push_back(*eos);
  }
  t->ResolveSpecialTokenWrap();
  return t;
}

void Tokenizer::ResolveSpecialTokenWrap() {
  const auto apply = [](std::optional<bool> wanted, std::optional<int32_t> id, bool at_front,
                        std::vector<int32_t>* ids) {
    if (!wanted || !id) return;
    const bool present = std::find(ids->begin(), ids->end(), *id) != ids->end();
    if (*wanted && !present) ids->insert(at_front ? ids->begin() : ids->end(), *id);
    if (!*wanted && present) ids->erase(std::remove(ids->begin(), ids->end(), *id), ids->end());
  };
  apply(config_.add_bos_token, bos_token_id_, /*at_front=*/true, &wrap_.prefix);
  const std::optional<int32_t> eos =
      eos_token_ids_.empty() ? std::nullopt : std::optional<int32_t>(eos_token_ids_[0]);
  apply(config_.add_eos_token, eos, /*at_front=*/false, &wrap_.suffix);
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (auto id = added_.FindByContent(token)) return id;
  return model_->TokenToId(token);
}

bool Tokenizer::IsSpecial(int32_t id) const {
  const AddedToken* token = added_.FindById(id);
  return token != nullptr && token->special;
}

absl::StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text,
                                                       bool add_special_tokens) const {
  if (!IsValidUtf8(text)) return absl::InvalidArgumentError("input text is not valid UTF-8");
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 8);
  if (add_special_tokens) ids = wrap_.prefix;
  for (const TextSegment& segment : added_.SplitRaw(text)) {
    if (segment.token_id) {
      ids.push_back(*segment.token_id);
    } else {
      EncodePlain(text.substr(segment.begin, segment.end - segment.begin), segment.begin == 0,
                  &ids);
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), wrap_.suffix.begin(), wrap_.suffix.end());
  return ids;
}

void Tokenizer::EncodePlain(std::string_view text, bool at_input_start,
                            std::vector<int32_t>* ids) const {
  std::string normalized(text);
  if (normalizer_ != nullptr) normalizer_->Normalize(&normalized);
  if (!added_.has_normalized_tokens()) {
    EncodeNormalized(std::move(normalized), at_input_start, ids);
    return;
  }
  for (const TextSegment& segment : added_.SplitNormalized(normalized)) {
    if (segment.token_id) {
      ids->push_back(*segment.token_id);
    } else {
      EncodeNormalized(normalized.substr(segment.begin, segment.end - segment.begin),
                       at_input_start && segment.begin == 0, ids);
    }
  }
}

void Tokenizer::EncodeNormalized(std::string text, bool at_input_start,
                                 std::vector<int32_t>* ids) const {
  if (text.empty()) return;
  if (pre_tokenizer_ == nullptr) {
    model_->Tokenize(text, ids);
    return;
  }
  std::vector<PreToken> pieces;
  pieces.push_back({std::move(text), at_input_start});
  pre_tokenizer_->PreTokenize(&pieces);
  for (const PreToken& piece : pieces) model_->Tokenize(piece.text, ids);
}

absl::StatusOr<std::string> Tokenizer::Decode(std::span<const int32_t> ids,
                                              bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const AddedToken* added = added_.FindById(id)) {
      if (!(skip_special_tokens && added->special)) tokens.push_back(added->content);
      continue;
    }
    if (!model_->HasId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " is not in the vocabulary (size ", vocab_size_, ")"));
    }
    tokens.push_back(model_->id_to_token()[id]);
  }
  std::string text;
  if (decoder_ == nullptr) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text += ' ';
      text += tokens[i];
    }
    return text;
  }
  decoder_->DecodeChain(&tokens);
  for (const std::string& token : tokens) text += token;
  // A vocabulary may hold invalid UTF-8 (without a ByteLevel decoder to catch it): never pass it
  // on.
  if (!IsValidUtf8(text)) text = Utf8Lossy(text);
  return text;
}

}  // namespace stride::engine::text
