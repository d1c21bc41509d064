#include "engine/text/pre_tokenizer.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/byte_level_alphabet.h"
#include "engine/text/json_fields.h"
#include "engine/text/regex.h"
#include "engine/text/split_behavior.h"

namespace stride::engine::text {
namespace {

using nlohmann::json;

// GPT-2's word pattern, used by ByteLevel when use_regex is true.
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr char kMetaspaceDefault[] = "\xE2\x96\x81";  // U+2581 '▁'

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void PreTokenize(std::vector<PreToken>* pieces) const override {
    for (const auto& step : steps_) step->PreTokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// Finds the delimiters with a regex or a literal string, then applies the split behaviour.
class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::string literal, std::unique_ptr<Regex> regex, SplitBehavior behavior,
                    bool invert)
      : literal_(std::move(literal)),
        regex_(std::move(regex)),
        behavior_(behavior),
        invert_(invert) {}

  void PreTokenize(std::vector<PreToken>* pieces) const override {
    std::vector<PreToken> out;
    out.reserve(pieces->size() * 4);
    std::vector<std::pair<size_t, size_t>> matches;
    for (PreToken& piece : *pieces) {
      matches.clear();
      if (regex_ != nullptr) {
        regex_->FindAll(piece.text, &matches);
      } else {
        FindLiteral(literal_, piece.text, &matches);
      }
      SplitByMatches(piece, matches, behavior_, invert_, &out);
    }
    *pieces = std::move(out);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;  // null: split on `literal_`
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}

  void PreTokenize(std::vector<PreToken>* pieces) const override {
    if (add_prefix_space_) {
      for (PreToken& piece : *pieces) {
        if (piece.text.empty() || piece.text[0] != ' ') {
          piece.text.insert(piece.text.begin(), ' ');
        }
      }
    }
    if (regex_ != nullptr) {
      std::vector<PreToken> out;
      std::vector<std::pair<size_t, size_t>> matches;
      for (PreToken& piece : *pieces) {
        matches.clear();
        regex_->FindAll(piece.text, &matches);
        SplitByMatches(piece, matches, SplitBehavior::kIsolated, false, &out);
      }
      *pieces = std::move(out);
    }
    const std::array<std::string, 256>& chars = ByteLevelChars();
    std::string mapped;
    for (PreToken& piece : *pieces) {
      mapped.clear();
      for (char c : piece.text) mapped += chars[static_cast<unsigned char>(c)];
      piece.text.swap(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;  // null when use_regex is false
};

enum class PrependScheme { kAlways, kFirst, kNever };

// SentencePiece-style: spaces become the replacement character, which may also be prepended,
// and (with split) each word starts at a replacement character.
class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}

  void PreTokenize(std::vector<PreToken>* pieces) const override {
    std::vector<PreToken> out;
    std::vector<std::pair<size_t, size_t>> matches;
    for (PreToken& piece : *pieces) {
      std::string text;
      for (char c : piece.text) {
        if (c == ' ') {
          text += replacement_;
        } else {
          text += c;
        }
      }
      const bool starts_with_replacement = text.compare(0, replacement_.size(), replacement_) == 0;
      const bool prepend =
          !starts_with_replacement && (scheme_ == PrependScheme::kAlways ||
                                       (scheme_ == PrependScheme::kFirst && piece.at_input_start));
      if (prepend) text.insert(0, replacement_);
      PreToken replaced{std::move(text), piece.at_input_start};
      if (!split_) {
        if (!replaced.text.empty()) out.push_back(std::move(replaced));
        continue;
      }
      matches.clear();
      FindLiteral(replacement_, replaced.text, &matches);
      SplitByMatches(replaced, matches, SplitBehavior::kMergedWithNext, false, &out);
    }
    *pieces = std::move(out);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

absl::StatusOr<std::unique_ptr<PreTokenizer>> ParseMetaspace(const json& config) {
  std::string replacement = kMetaspaceDefault;
  if (auto it = config.find("replacement"); it != config.end() && it->is_string()) {
    replacement = it->get<std::string>();
  }
  PrependScheme scheme = PrependScheme::kAlways;
  if (auto it = config.find("prepend_scheme"); it != config.end() && it->is_string()) {
    const std::string name = it->get<std::string>();
    if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else if (name != "always") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown Metaspace prepend_scheme '", name, "'"));
    }
  } else {
    // Older files: add_prefix_space instead of prepend_scheme.
    STRIDE_ASSIGN_OR_RETURN(bool add_prefix_space, GetBoolOr(config, "add_prefix_space", true));
    scheme = add_prefix_space ? PrependScheme::kAlways : PrependScheme::kNever;
  }
  STRIDE_ASSIGN_OR_RETURN(bool split, GetBoolOr(config, "split", true));
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const json& config) {
  if (config.is_null()) return nullptr;
  STRIDE_ASSIGN_OR_RETURN(std::string type, GetString(config, "type"));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    STRIDE_ASSIGN_OR_RETURN(const json* list, GetArray(config, "pretokenizers"));
    for (const json& item : *list) {
      STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<PreTokenizer> step, ParsePreTokenizer(item));
      if (step != nullptr) steps.push_back(std::move(step));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Split") {
    STRIDE_ASSIGN_OR_RETURN(Pattern pattern, GetPattern(config));
    STRIDE_ASSIGN_OR_RETURN(std::string behavior_name, GetString(config, "behavior"));
    STRIDE_ASSIGN_OR_RETURN(SplitBehavior behavior, ParseSplitBehavior(behavior_name));
    STRIDE_ASSIGN_OR_RETURN(bool invert, GetBoolOr(config, "invert", false));
    std::unique_ptr<Regex> regex;
    if (pattern.is_regex) {
      STRIDE_ASSIGN_OR_RETURN(regex, Regex::Compile(pattern.text));
    }
    return std::make_unique<SplitPreTokenizer>(std::move(pattern.text), std::move(regex), behavior,
                                               invert);
  }
  if (type == "ByteLevel") {
    STRIDE_ASSIGN_OR_RETURN(bool add_prefix_space, GetBoolOr(config, "add_prefix_space", true));
    STRIDE_ASSIGN_OR_RETURN(bool use_regex, GetBoolOr(config, "use_regex", true));
    std::unique_ptr<Regex> regex;
    if (use_regex) {
      STRIDE_ASSIGN_OR_RETURN(regex, Regex::Compile(kGpt2Pattern));
    }
    return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, std::move(regex));
  }
  if (type == "Metaspace") return ParseMetaspace(config);
  return absl::UnimplementedError(absl::StrCat("unsupported pre_tokenizer type '", type, "'"));
}

}  // namespace stride::engine::text
