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

namespace {

// Time ~ waves x (fixed cost + keys per split), over split counts that keep pieces at least 128
// keys long; the fewest splits among equals. `cost_keys` is the fixed cost of a CTA in keys'
// worth of streaming, `slots` the CTAs resident at once.
int ChooseSplits(int num_seqs, int num_kv_heads, int max_context_len, int slots, double cost_keys) {
  const int ctas = std::max(1, num_seqs * num_kv_heads);
  slots = std::max(1, slots);
  const int max_splits = std::clamp(max_context_len / 128, 1, 32);
  int best = 1;
  double best_cost = 0.0;
  for (int s = 1; s <= max_splits; ++s) {
    const int waves = (ctas * s + slots - 1) / slots;
    const double cost = waves * (cost_keys + static_cast<double>(max_context_len) / s);
    if (s == 1 || cost < best_cost) best = s, best_cost = cost;
  }
  return best;
}

}  // namespace

int ChoosePagedDecodeSplits(int num_seqs, int num_kv_heads, int max_context_len,
                            int num_multiprocessors) {
  // The default decode tiling (16 keys x 4 warps: 73 KB of shared memory, 162 registers) keeps
  // three CTAs on an SM.
  constexpr int kCtasPerSm = 3;
  // A CTA's fixed cost (prologue, warp merge, partial write, split merge) in keys' worth of
  // streaming, fitted to round 5's B64 x 4k (splits 1-5) and B256 x 1k (splits 1-2).
  constexpr double kCtaCostKeys = 256.0;
  // B64 x 4k: 3 (1536 CTAs in 4 waves of 396), B256 x 1k: 1, B8 x 4k: 6 (one wave), B1: as many
  // as the length allows (one wave).
  return ChooseSplits(num_seqs, num_kv_heads, max_context_len, kCtasPerSm * num_multiprocessors,
                      kCtaCostKeys);
}

}  // namespace stride::kernels
