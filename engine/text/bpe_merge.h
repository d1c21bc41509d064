// The BPE merge loop: given a word as a list of symbol ids, repeatedly merge the adjacent pair
// with the lowest rank (leftmost first among equal ranks) until no pair has a merge rule.
// O(n log n) in the word length (a heap of candidate pairs over a linked list), so a 20k-char
// word without spaces is no problem. Used by BpeModel.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace stride::engine::text {

struct MergeRule {
  int32_t rank;
  int32_t new_id;
};

// Pair (left id, right id) -> rule.
using MergeMap = absl::flat_hash_map<uint64_t, MergeRule>;

inline uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Merges `symbols` in place. Like HuggingFace's Word::merge_all, a queued candidate is applied
// when the pair now at its position still produces the same token.
void ApplyMerges(const MergeMap& merges, std::vector<int32_t>* symbols);

}  // namespace stride::engine::text
