#include "engine/text/text_stream.h"

#include <algorithm>
#include <utility>

namespace stride::engine::text {

TextStream::TextStream(const Tokenizer& tokenizer, bool skip_special_tokens,
                       std::span<const int32_t> prompt, std::vector<std::string> stop_strings,
                       bool include_stop_string)
    : detokenizer_(tokenizer, skip_special_tokens, prompt),
      include_stop_string_(include_stop_string) {
  for (std::string& s : stop_strings) {
    if (!s.empty()) stop_strings_.push_back(std::move(s));
  }
}

size_t TextStream::HeldBackLength() const {
  size_t held = 0;
  for (const std::string& stop : stop_strings_) {
    const size_t longest = std::min(stop.size() - 1, pending_.size());
    for (size_t len = longest; len > held; --len) {
      if (pending_.compare(pending_.size() - len, len, stop, 0, len) == 0) {
        held = len;
        break;
      }
    }
  }
  return held;
}

absl::StatusOr<TextStream::Delta> TextStream::Push(int32_t token_id) {
  Delta delta;
  if (stopped_) return delta;
  absl::StatusOr<std::string> text = detokenizer_.Push(token_id);
  if (!text.ok()) return text.status();
  pending_ += *text;
  // The earliest complete stop string wins.
  size_t stop_at = std::string::npos;
  for (const std::string& stop : stop_strings_) {
    size_t at = pending_.find(stop);
    if (at != std::string::npos && (stop_at == std::string::npos || at < stop_at)) {
      stop_at = at;
      delta.stop_string = stop;
    }
  }
  if (stop_at != std::string::npos) {
    stopped_ = true;
    delta.stopped = true;
    const size_t end = include_stop_string_ ? stop_at + delta.stop_string.size() : stop_at;
    delta.text = pending_.substr(0, end);
    pending_.clear();
    return delta;
  }
  const size_t emit = pending_.size() - HeldBackLength();
  delta.text = pending_.substr(0, emit);
  pending_.erase(0, emit);
  return delta;
}

std::string TextStream::Finish() {
  if (stopped_) return "";
  std::string rest = std::move(pending_) + detokenizer_.Flush();
  pending_.clear();
  return rest;
}

}  // namespace stride::engine::text
