// A random paged KV cache for the attention benchmarks: shuffled block tables over a pool of
// num_seqs x ceil(context / block_size) blocks (plus the null block 0).
#pragma once

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {

struct PagedCache {
  std::unique_ptr<DeviceArray<__nv_bfloat16>> k, v;
  std::unique_ptr<DeviceArray<int32_t>> tables;
  int width = 0;
};

inline PagedCache MakeCache(int num_seqs, int context, int kv_heads, int head_dim, int block_size,
                     std::mt19937& rng) {
  PagedCache c;
  c.width = (context + block_size - 1) / block_size;
  const int num_blocks = 1 + num_seqs * c.width;
  const size_t elems = static_cast<size_t>(num_blocks) * block_size * kv_heads * head_dim;
  // Random bf16 bits of moderate magnitude, generated on the host once per cache.
  std::vector<__nv_bfloat16> values(elems);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < elems; i += 4099) {
    const __nv_bfloat16 v = __float2bfloat16(dist(rng));
    for (size_t j = i; j < std::min(elems, i + 4099); ++j) values[j] = v;
  }
  c.k = std::make_unique<DeviceArray<__nv_bfloat16>>(values);
  c.v = std::make_unique<DeviceArray<__nv_bfloat16>>(values);
  std::vector<int32_t> blocks(num_blocks - 1);
  std::iota(blocks.begin(), blocks.end(), 1);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  c.tables = std::make_unique<DeviceArray<int32_t>>(blocks);
  return c;
}

}  // namespace stride::testing::gpu
