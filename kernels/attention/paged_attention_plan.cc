// Host-side planning for the paged attention kernels (work lists, split counts).
#include <algorithm>

#include "kernels/attention/paged_attention.h"

namespace stride::kernels {

bool PagedAttentionSupportsHeadDim(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128;
}

int PagedPrefillTokensPerTile(int num_heads, int num_kv_heads) {
  return std::max(1, 128 / std::max(1, num_heads / std::max(1, num_kv_heads)));
}

std::vector<PrefillWorkItem> PlanPagedPrefill(const std::vector<int>& query_lens,
                                              const std::vector<int>& context_lens, int num_heads,
                                              int num_kv_heads, int sliding_window) {
  const int tokens_per_tile = PagedPrefillTokensPerTile(num_heads, num_kv_heads);
  struct Weighted {
    PrefillWorkItem item;
    int keys;
  };
  std::vector<Weighted> weighted;
  for (size_t s = 0; s < query_lens.size(); ++s) {
    const int first_position = context_lens[s] - query_lens[s];
    for (int t = 0; t < query_lens[s]; t += tokens_per_tile) {
      const int last = first_position + std::min(t + tokens_per_tile, query_lens[s]) - 1;
      const int lo = sliding_window > 0 ? std::max(0, first_position + t - sliding_window + 1) : 0;
      weighted.push_back({{static_cast<int32_t>(s), t}, last + 1 - lo});
    }
  }
  std::stable_sort(weighted.begin(), weighted.end(),
                   [](const Weighted& a, const Weighted& b) { return a.keys > b.keys; });
  std::vector<PrefillWorkItem> work;
  work.reserve(weighted.size());
  for (const Weighted& w : weighted) work.push_back(w.item);
  return work;
}

int ChoosePagedDecodeSplits(int num_seqs, int num_kv_heads, int max_context_len,
                            int num_multiprocessors) {
  // The default decode tiling (16 keys x 4 warps: 73 KB of shared memory, 165 registers) keeps
  // three CTAs on an SM.
  constexpr int kCtasPerSm = 3;
  const int ctas = std::max(1, num_seqs * num_kv_heads);
  const int slots = kCtasPerSm * std::max(1, num_multiprocessors);
  const int max_splits = std::clamp(max_context_len / 128, 1, 32);
  // Everything fits in one wave: split as finely as the length allows (latency-bound).
  if (ctas * max_splits <= slots) return max_splits;
  // Otherwise the fewest splits whose last wave is at least 80 % full (B64 x 4k: 512 CTAs are
  // 1.3 waves of 396, so 2 splits; B256 x 1k: 2048 CTAs fill 5.2 of 6 waves, so 1).
  int best = 1;
  double best_fill = 0.0;
  for (int s = 1; s <= max_splits; ++s) {
    const int total = ctas * s;
    const int waves = (total + slots - 1) / slots;
    const double fill = static_cast<double>(total) / (static_cast<double>(waves) * slots);
    if (fill >= 0.8) return s;
    if (fill > best_fill) best = s, best_fill = fill;
  }
  return best;
}

}  // namespace stride::kernels
