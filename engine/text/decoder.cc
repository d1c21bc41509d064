#include "engine/text/decoder.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "engine/text/byte_level_alphabet.h"
#include "engine/text/json_fields.h"
#include "engine/text/utf8.h"

namespace stride::engine::text {
namespace {

using nlohmann::json;

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (const auto& step : steps_) step->DecodeChain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// Maps every character back to its byte (tokens with characters outside the alphabet, such as
// some added tokens, keep their own UTF-8 bytes) and reads the bytes as lossy UTF-8.
class ByteLevelDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string bytes;
    std::string token_bytes;
    for (const std::string& token : *tokens) {
      token_bytes.clear();
      bool mapped = true;
      size_t pos = 0;
      while (pos < token.size()) {
        const int b = ByteLevelByte(DecodeUtf8(token, &pos));
        if (b < 0) {
          mapped = false;
          break;
        }
        token_bytes.push_back(static_cast<char>(b));
      }
      bytes += mapped ? token_bytes : token;
    }
    tokens->assign(1, Utf8Lossy(bytes));
  }
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::string pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    if (pattern_.empty()) return;
    for (std::string& token : *tokens) {
      if (token.find(pattern_) != std::string::npos) {
        token = absl::StrReplaceAll(token, {{pattern_, content_}});
      }
    }
  }

 private:
  std::string pattern_;
  std::string content_;
};

// Runs of <0xNN> tokens become the text they spell; a run that is not valid UTF-8 becomes one
// U+FFFD per byte.
class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens->size());
    std::string pending;
    const auto flush = [&] {
      if (pending.empty()) return;
      if (IsValidUtf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.push_back(kReplacementChar);
      }
      pending.clear();
    };
    for (std::string& token : *tokens) {
      int byte = -1;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
        byte = HexByte(token[3], token[4]);
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    *tokens = std::move(out);
  }

 private:
  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static int HexByte(char hi, char lo) {
    const int h = HexDigit(hi), l = HexDigit(lo);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
  }
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string joined;
    for (const std::string& token : *tokens) joined += token;
    tokens->assign(1, std::move(joined));
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character from each token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    const size_t n = content_.size();
    for (std::string& token : *tokens) {
      size_t begin = 0;
      for (size_t i = 0; i < start_ && token.compare(begin, n, content_) == 0; ++i) begin += n;
      size_t end = token.size();
      for (size_t i = 0; i < stop_ && end >= begin + n && token.compare(end - n, n, content_) == 0;
           ++i) {
        end -= n;
      }
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_;
  size_t stop_;
};

// Replacement characters become spaces; in the first token they are dropped unless the
// pre-tokenizer never prepends one.
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool drop_in_first)
      : replacement_(std::move(replacement)), drop_in_first_(drop_in_first) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      (*tokens)[i] =
          absl::StrReplaceAll((*tokens)[i], {{replacement_, i == 0 && drop_in_first_ ? "" : " "}});
    }
  }

 private:
  std::string replacement_;
  bool drop_in_first_;
};

absl::StatusOr<std::unique_ptr<Decoder>> ParseStrip(const json& config) {
  STRIDE_ASSIGN_OR_RETURN(std::string content, GetString(config, "content"));
  STRIDE_ASSIGN_OR_RETURN(int64_t start, GetInt(config, "start"));
  STRIDE_ASSIGN_OR_RETURN(int64_t stop, GetInt(config, "stop"));
  if (content.empty() || Utf8CharLength(content, 0) != content.size() || start < 0 || stop < 0) {
    return absl::InvalidArgumentError("Strip decoder needs one content character and counts >= 0");
  }
  return std::make_unique<StripDecoder>(std::move(content), start, stop);
}

absl::StatusOr<std::unique_ptr<Decoder>> ParseMetaspace(const json& config) {
  std::string replacement = "\xE2\x96\x81";
  if (auto it = config.find("replacement"); it != config.end() && it->is_string()) {
    replacement = it->get<std::string>();
  }
  bool drop_in_first = true;
  if (auto it = config.find("prepend_scheme"); it != config.end() && it->is_string()) {
    drop_in_first = it->get<std::string>() != "never";
  } else {
    STRIDE_ASSIGN_OR_RETURN(drop_in_first, GetBoolOr(config, "add_prefix_space", true));
  }
  return std::make_unique<MetaspaceDecoder>(std::move(replacement), drop_in_first);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Decoder>> ParseDecoder(const json& config) {
  if (config.is_null()) return nullptr;
  STRIDE_ASSIGN_OR_RETURN(std::string type, GetString(config, "type"));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> steps;
    STRIDE_ASSIGN_OR_RETURN(const json* list, GetArray(config, "decoders"));
    for (const json& item : *list) {
      STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> step, ParseDecoder(item));
      if (step != nullptr) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") {
    STRIDE_ASSIGN_OR_RETURN(Pattern pattern, GetPattern(config));
    if (pattern.is_regex) {
      return absl::UnimplementedError("unsupported decoder: Replace with a Regex pattern");
    }
    STRIDE_ASSIGN_OR_RETURN(std::string content, GetString(config, "content"));
    return std::make_unique<ReplaceDecoder>(std::move(pattern.text), std::move(content));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") return ParseStrip(config);
  if (type == "Metaspace") return ParseMetaspace(config);
  return absl::UnimplementedError(absl::StrCat("unsupported decoder type '", type, "'"));
}

}  // namespace stride::engine::text
