// The KV-layout read probe (kv_layout_probe.cu): K + V bytes per second that a decode-shaped grid
// reads from a paged cache in the token-major layout the kernels use and in a head-major one.
#pragma once

#include <vector>

namespace stride::testing::gpu {

struct KvLayoutResult {
  bool head_major = false;        // [block][head][token][d] instead of [block][token][head][d]
  bool decode_occupancy = false;  // 3 CTAs per SM (the decode kernel's) instead of as many as fit
  double bytes_per_s = 0;
};

// num_seqs sequences of `context` keys (a multiple of 16), num_heads KV heads of d128 bf16.
std::vector<KvLayoutResult> ProbeKvLayouts(int num_seqs, int context, int num_heads);

}  // namespace stride::testing::gpu
