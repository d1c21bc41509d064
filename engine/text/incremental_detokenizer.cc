#include "engine/text/incremental_detokenizer.h"

#include <algorithm>

#include "base/check.h"
#include "engine/text/utf8.h"

namespace stride::engine::text {
namespace {

// Length of the common prefix of a and b, cut back to a character boundary of b.
size_t CommonPrefixLength(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  while (n > 0 && n < b.size() && (static_cast<unsigned char>(b[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens,
                                               std::span<const int32_t> context)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {
  const size_t keep = std::min(context.size(), kContextTokens);
  window_.assign(context.end() - keep, context.end());
  // Context ids outside the vocabulary are dropped: they only ever shape spacing.
  window_.erase(std::remove_if(window_.begin(), window_.end(),
                               [&](int32_t id) { return id < 0 || id >= tokenizer.vocab_size(); }),
                window_.end());
  read_ = window_.size();
  auto text = tokenizer_.Decode(window_, skip_special_tokens_);
  if (text.ok()) {
    prefix_text_ = *std::move(text);
  } else {
    window_.clear();
    read_ = 0;
  }
}

absl::StatusOr<std::string> IncrementalDetokenizer::Push(int32_t id) {
  window_.push_back(id);
  absl::StatusOr<std::string> full = tokenizer_.Decode(window_, skip_special_tokens_);
  if (!full.ok()) {
    window_.pop_back();
    return full.status();
  }
  // Hold back while the text may still change: a trailing U+FFFD can be an incomplete
  // character, and text that does not extend the emitted head is not final yet.
  if (full->size() <= prefix_text_.size() || EndsWithReplacementChar(*full) ||
      full->compare(0, prefix_text_.size(), prefix_text_) != 0) {
    return std::string();
  }
  std::string delta = full->substr(prefix_text_.size());
  // The new head is what was just emitted; decode it on its own, as the next window will.
  window_.erase(window_.begin(), window_.begin() + read_);
  read_ = window_.size();
  auto head = tokenizer_.Decode(window_, skip_special_tokens_);
  STRIDE_CHECK(head.ok()) << "ids were decoded a moment ago";
  prefix_text_ = *std::move(head);
  return delta;
}

std::string IncrementalDetokenizer::Flush() {
  absl::StatusOr<std::string> full = tokenizer_.Decode(window_, skip_special_tokens_);
  STRIDE_CHECK(full.ok()) << "every id in the window was validated by Push";
  std::string delta = full->substr(CommonPrefixLength(prefix_text_, *full));
  window_.clear();
  read_ = 0;
  prefix_text_.clear();
  return delta;
}

}  // namespace stride::engine::text
