// The KV-layout read probe (kv_layout_probe.cu): K + V bytes per second that a decode-shaped grid
// reads from a paged cache in the token-major layout the kernels use and in a head-major one.
#pragma once

#include <vector>

namespace stride::testing::gpu {

struct KvLayoutResult {
  bool head_major = false;        // [block][head][token][d] instead of [block][token][head][d]
  bool decode_occupancy = false;  // 3 CTAs per SM (the decode kernel's) instead of as many as fit
                                  // (bulk: 1 CTA per SM of 128 KB in flight)
  bool bulk = false;              // cp.async.bulk into a 4-stage ring per warp, not 16-byte loads
  bool heads_fastest = false;     // grid (head, sequence): a sequence's heads run together
  double bytes_per_s = 0;
  bool tensor = false;  // cp.async.bulk.tensor boxes (swizzled) in a ring per warp; with
                        // decode_occupancy 2 stages a warp (3 CTAs per SM), else 4 (1)
  int tensor_mode = 0;  // TensorProbeKernel's kMode
  bool l2_promotion = true;
};

// num_seqs sequences of `context` keys (a multiple of 16), num_heads KV heads of d128 bf16.
std::vector<KvLayoutResult> ProbeKvLayouts(int num_seqs, int context, int num_heads);

}  // namespace stride::testing::gpu
