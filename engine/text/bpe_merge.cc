#include "engine/text/bpe_merge.h"

#include <queue>

namespace stride::engine::text {
namespace {

struct Candidate {
  int32_t rank;
  int32_t pos;  // index of the left symbol
  int32_t new_id;
  // std::priority_queue pops the largest: invert so that the lowest rank, then the lowest
  // position, comes first.
  bool operator<(const Candidate& other) const {
    if (rank != other.rank) return rank > other.rank;
    return pos > other.pos;
  }
};

}  // namespace

void ApplyMerges(const MergeMap& merges, std::vector<int32_t>* symbols) {
  const int32_t n = static_cast<int32_t>(symbols->size());
  if (n < 2) return;
  std::vector<int32_t>& ids = *symbols;
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> removed(n, false);
  std::vector<Candidate> storage;
  storage.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
    if (i + 1 < n) {
      auto it = merges.find(PairKey(ids[i], ids[i + 1]));
      if (it != merges.end()) storage.push_back({it->second.rank, i, it->second.new_id});
    }
  }
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(storage));
  const auto push_if_rule = [&](int32_t left) {
    const int32_t right = next[left];
    auto it = merges.find(PairKey(ids[left], ids[right]));
    if (it != merges.end()) queue.push({it->second.rank, left, it->second.new_id});
  };
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    if (removed[top.pos] || next[top.pos] < 0) continue;
    const int32_t right = next[top.pos];
    auto it = merges.find(PairKey(ids[top.pos], ids[right]));
    if (it == merges.end() || it->second.new_id != top.new_id) continue;  // stale candidate
    ids[top.pos] = top.new_id;
    removed[right] = true;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    if (prev[top.pos] >= 0) push_if_rule(prev[top.pos]);
    if (next[top.pos] >= 0) push_if_rule(top.pos);
  }
  int32_t out = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (!removed[i]) ids[out++] = ids[i];
  }
  symbols->resize(out);
}

}  // namespace stride::engine::text
