// A compiled PCRE2 pattern (UTF + UCP, JIT) with the matching rules of the Oniguruma engine that
// HuggingFace tokenizers use: `\s` means Oniguruma's whitespace set (it includes U+0085, which
// PCRE2's does not). Used by the Split and ByteLevel pre-tokenizers and the Replace normalizer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace stride::engine::text {

class Regex {
 public:
  // Compiles `pattern` (Oniguruma syntax as found in tokenizer.json files).
  static absl::StatusOr<std::unique_ptr<Regex>> Compile(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the [begin, end) byte offsets of every non-empty, non-overlapping match in `text`,
  // left to right. `text` must be valid UTF-8. Thread-safe.
  void FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>* matches) const;

 private:
  struct Impl;
  explicit Regex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Rewrites Oniguruma-only escapes into PCRE2 syntax (exposed for tests).
std::string TranslateOnigurumaPattern(std::string_view pattern);

}  // namespace stride::engine::text
