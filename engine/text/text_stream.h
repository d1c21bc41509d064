// Text of one generated sequence, delta by delta, with stop strings applied: what the HTTP and
// gRPC front ends (and `stride generate`) stream. Text that could still grow into a stop string
// is held back, so a stop string never leaks into the output even when it spans tokens; the
// concatenated deltas equal the non-streamed text. One instance per sequence, not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/incremental_detokenizer.h"
#include "engine/text/tokenizer.h"

namespace stride::engine::text {

class TextStream {
 public:
  struct Delta {
    std::string text;          // safe to send now
    bool stopped = false;      // a stop string completed: stop generating
    std::string stop_string;   // which one (when stopped)
  };

  // `tokenizer` must outlive this. `prompt` gives the first tokens their context. Empty stop
  // strings are ignored (the validator rejects them earlier).
  TextStream(const Tokenizer& tokenizer, bool skip_special_tokens, std::span<const int32_t> prompt,
             std::vector<std::string> stop_strings, bool include_stop_string = false);

  // Adds a generated token. After a stop, further pushes return empty deltas.
  absl::StatusOr<Delta> Push(int32_t token_id);
  // Generation ended without a stop string: returns everything still held back.
  std::string Finish();

  bool stopped() const { return stopped_; }

 private:
  // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
  size_t HeldBackLength() const;

  IncrementalDetokenizer detokenizer_;
  std::vector<std::string> stop_strings_;
  bool include_stop_string_;
  std::string pending_;  // decoded but not yet emitted
  bool stopped_ = false;
};

}  // namespace stride::engine::text
