// How a Split-style pre-tokenizer turns delimiter matches into pieces (HuggingFace's
// SplitDelimiterBehavior): drop them, isolate them, or glue them to a neighbour.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/pre_tokenizer.h"

namespace stride::engine::text {

enum class SplitBehavior {
  kRemoved,
  kIsolated,
  kMergedWithPrevious,
  kMergedWithNext,
  kContiguous,
};

absl::StatusOr<SplitBehavior> ParseSplitBehavior(std::string_view name);

// Appends the [begin, end) offsets of every non-overlapping occurrence of `needle` in `text`.
void FindLiteral(std::string_view needle, std::string_view text,
                 std::vector<std::pair<size_t, size_t>>* matches);

// Cuts `piece` at `matches` (sorted, non-overlapping) and appends the non-empty pieces to `out`.
// With `invert`, the matches are the content and the gaps the delimiters.
void SplitByMatches(const PreToken& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                    SplitBehavior behavior, bool invert, std::vector<PreToken>* out);

}  // namespace stride::engine::text
