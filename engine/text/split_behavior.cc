#include "engine/text/split_behavior.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stride::engine::text {

absl::StatusOr<SplitBehavior> ParseSplitBehavior(std::string_view name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown split behavior '", std::string(name), "'"));
}

void FindLiteral(std::string_view needle, std::string_view text,
                 std::vector<std::pair<size_t, size_t>>* matches) {
  if (needle.empty()) return;
  size_t pos = text.find(needle);
  while (pos != std::string_view::npos) {
    matches->emplace_back(pos, pos + needle.size());
    pos = text.find(needle, pos + needle.size());
  }
}

namespace {

struct Span {
  size_t begin;
  size_t end;
  bool is_match;
};

}  // namespace

void SplitByMatches(const PreToken& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                    SplitBehavior behavior, bool invert, std::vector<PreToken>* out) {
  const std::string& text = piece.text;
  // The whole text as alternating gaps and matches.
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > prev) spans.push_back({prev, begin, invert});
    spans.push_back({begin, end, !invert});
    prev = end;
  }
  if (prev < text.size() || spans.empty()) spans.push_back({prev, text.size(), invert});

  std::vector<std::pair<size_t, size_t>> pieces;
  pieces.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Span& s : spans) {
        if (!s.is_match) pieces.emplace_back(s.begin, s.end);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) pieces.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !pieces.empty()) {
          pieces.back().second = s.end;
        } else {
          pieces.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      // Walk backwards: a match is glued to the piece that follows it.
      bool next_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !next_match && !pieces.empty()) {
          pieces.back().first = it->begin;
        } else {
          pieces.emplace_back(it->begin, it->end);
        }
        next_match = it->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const Span& s : spans) {
        if (s.is_match == previous_match && !pieces.empty()) {
          pieces.back().second = s.end;
        } else {
          pieces.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    }
  }
  for (const auto& [begin, end] : pieces) {
    if (end > begin) {
      out->push_back({text.substr(begin, end - begin), piece.at_input_start && begin == 0});
    }
  }
}

}  // namespace stride::engine::text
