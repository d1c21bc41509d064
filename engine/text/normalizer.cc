#include "engine/text/normalizer.h"

#include <cstdlib>
#include <utility>
#include <vector>

#include <utf8proc.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "engine/text/json_fields.h"
#include "engine/text/regex.h"

namespace stride::engine::text {
namespace {

using nlohmann::json;

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void Normalize(std::string* text) const override {
    for (const auto& step : steps_) step->Normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// Unicode normalization forms through utf8proc; pure ASCII is already in every form.
class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(int options) : options_(options) {}
  void Normalize(std::string* text) const override {
    bool ascii = true;
    for (char c : *text) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (ascii) return;
    utf8proc_uint8_t* result = nullptr;
    const utf8proc_ssize_t len =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text->data()), text->size(), &result,
                     static_cast<utf8proc_option_t>(options_));
    if (len >= 0) text->assign(reinterpret_cast<const char*>(result), len);
    std::free(result);  // the input was validated as UTF-8, so len < 0 does not happen
  }

 private:
  int options_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void Normalize(std::string* text) const override {
    if (!text->empty()) text->insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::string pattern, std::unique_ptr<Regex> regex, std::string content)
      : pattern_(std::move(pattern)), regex_(std::move(regex)), content_(std::move(content)) {}
  void Normalize(std::string* text) const override {
    if (regex_ == nullptr) {
      if (!pattern_.empty()) *text = absl::StrReplaceAll(*text, {{pattern_, content_}});
      return;
    }
    std::vector<std::pair<size_t, size_t>> matches;
    regex_->FindAll(*text, &matches);
    if (matches.empty()) return;
    std::string out;
    size_t last = 0;
    for (const auto& [begin, end] : matches) {
      out.append(*text, last, begin - last);
      out += content_;
      last = end;
    }
    out.append(*text, last, std::string::npos);
    *text = std::move(out);
  }

 private:
  std::string pattern_;
  std::unique_ptr<Regex> regex_;  // null: `pattern_` is a literal string
  std::string content_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> ParseNormalizer(const json& config) {
  if (config.is_null()) return nullptr;
  STRIDE_ASSIGN_OR_RETURN(std::string type, GetString(config, "type"));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> steps;
    STRIDE_ASSIGN_OR_RETURN(const json* list, GetArray(config, "normalizers"));
    for (const json& item : *list) {
      STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<Normalizer> step, ParseNormalizer(item));
      if (step != nullptr) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (type == "NFD") {
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  }
  if (type == "NFKC") {
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                               UTF8PROC_COMPAT);
  }
  if (type == "NFKD") {
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                                               UTF8PROC_COMPAT);
  }
  if (type == "Prepend") {
    STRIDE_ASSIGN_OR_RETURN(std::string prefix, GetString(config, "prepend"));
    return std::make_unique<PrependNormalizer>(std::move(prefix));
  }
  if (type == "Replace") {
    STRIDE_ASSIGN_OR_RETURN(Pattern pattern, GetPattern(config));
    STRIDE_ASSIGN_OR_RETURN(std::string content, GetString(config, "content"));
    std::unique_ptr<Regex> regex;
    if (pattern.is_regex) {
      STRIDE_ASSIGN_OR_RETURN(regex, Regex::Compile(pattern.text));
    }
    return std::make_unique<ReplaceNormalizer>(std::move(pattern.text), std::move(regex),
                                               std::move(content));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported normalizer type '", type, "'"));
}

}  // namespace stride::engine::text
