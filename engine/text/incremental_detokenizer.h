// Streams text for generated tokens one id at a time. Each Push returns only new, complete text:
// an incomplete UTF-8 character (byte-fallback pieces, the byte-level bytes of an emoji) is held
// back until it completes, and the SentencePiece leading-space rule is kept, so that the pushes
// plus Flush concatenate to Tokenizer::Decode of the whole sequence. Used by the front ends for
// streaming and by `stride generate`; one instance per request, not thread-safe.
//
// How: like vLLM and TGI, decode a short window of ids (from `prefix` on) and emit what the
// window's text adds to the text of its already-emitted head. Both decodes start at the same
// token, so decoder rules that look at the start of the text (Strip, Metaspace) cancel out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/tokenizer.h"

namespace stride::engine::text {

class IncrementalDetokenizer {
 public:
  // `tokenizer` must outlive this. `context` (usually the prompt ids) is never emitted; its last
  // few tokens only give the first generated tokens their place in the text (e.g. a leading
  // space that SentencePiece decoding would strip at the very start).
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens,
                         std::span<const int32_t> context = {});

  // Adds one token; returns the text that is now complete (often "", never half a character).
  // An id outside the vocabulary is an InvalidArgument error and changes nothing.
  absl::StatusOr<std::string> Push(int32_t id);

  // Returns the text still held back at the end of the sequence (e.g. a truncated character,
  // which Decode shows as U+FFFD) and forgets it. Call once when generation ends.
  std::string Flush();

 private:
  // Number of context tokens kept before the first generated token.
  static constexpr size_t kContextTokens = 5;

  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> window_;  // ids from the prefix on
  size_t read_ = 0;              // window_[0, read_) has been emitted (or is context)
  std::string prefix_text_;      // Decode(window_[0, read_)) on its own
};

}  // namespace stride::engine::text
