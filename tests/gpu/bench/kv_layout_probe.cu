// A read-only probe of paged KV-cache access patterns (`stride_gpu_bench --kv-layout`): how fast
// can a grid shaped like the decode kernel (a CTA per (sequence, KV head), 4 warps walking
// interleaved 16-token blocks through a block table) read K and V, with no math, in
//  * the cache layout the kernels use today, token-major within a block: [block][token][head][d]
//    (a head's slice of a token is 256 bytes, 2 KB apart from the next token's at 8 KV heads);
//  * a head-major layout, [block][head][token][d] (a head's 16 tokens are one 4 KB run),
// at the decode kernel's occupancy (3 CTAs per SM, held by unused shared memory) and at full
// occupancy. If the head-major rows read clearly faster at 3 CTAs per SM, DRAM locality is what
// holds decode attention at ~80 % of the copy ceiling and a layout change is worth building;
// if both read alike, it is not.
#include <cuda_runtime.h>

#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/kv_layout_probe.h"

namespace stride::testing::gpu {
namespace {

constexpr int kWarps = 4;
constexpr int kBlockTokens = 16;
constexpr int kSliceChunks = 16;  // 16-byte chunks in one token's head slice (d128, bf16)
constexpr int kLoadsPerLane = kBlockTokens * kSliceChunks / 32;  // 8 per K (or V) block slice

// Chunk index (in uint4) of chunk c of token t's slice of `head` in block `block`.
template <bool kHeadMajor>
__device__ __forceinline__ int64_t ChunkIndex(int64_t block, int t, int head, int c,
                                              int num_heads) {
  return kHeadMajor ? ((block * num_heads + head) * kBlockTokens + t) * kSliceChunks + c
                    : ((block * kBlockTokens + t) * num_heads + head) * kSliceChunks + c;
}

// Each warp reads whole blocks of its (sequence, head): K then V, 8 chunks a lane each, all 16
// loads issued before any is used. The xor of everything goes to `sink` only if it is a value no
// input produces, so the loads cannot be dropped.
template <bool kHeadMajor>
__global__ void __launch_bounds__(kWarps * 32)
    ProbeKernel(const uint4* k, const uint4* v, const int32_t* tables, int width,
                int blocks_per_seq, int num_heads, uint32_t* sink) {
  extern __shared__ uint4 occupancy_limiter[];  // unused: only limits CTAs per SM
  const int seq = blockIdx.x, head = blockIdx.y;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int32_t* table = tables + static_cast<int64_t>(seq) * width;
  uint32_t acc = 0;
  for (int b = warp; b < blocks_per_seq; b += kWarps) {
    const int64_t block = table[b];
    uint4 kx[kLoadsPerLane], vx[kLoadsPerLane];
#pragma unroll
    for (int j = 0; j < kLoadsPerLane; ++j) {
      const int e = lane + 32 * j;
      const int64_t at =
          ChunkIndex<kHeadMajor>(block, e / kSliceChunks, head, e % kSliceChunks, num_heads);
      kx[j] = __ldg(k + at);
      vx[j] = __ldg(v + at);
    }
#pragma unroll
    for (int j = 0; j < kLoadsPerLane; ++j) {
      acc ^= kx[j].x ^ kx[j].y ^ kx[j].z ^ kx[j].w ^ vx[j].x ^ vx[j].y ^ vx[j].z ^ vx[j].w;
    }
  }
  if (acc == 0x9e3779b9u) sink[0] = acc + occupancy_limiter[0].x;
}

}  // namespace

std::vector<KvLayoutResult> ProbeKvLayouts(int num_seqs, int context, int num_heads) {
  const int blocks_per_seq = context / kBlockTokens;
  const int64_t num_blocks = static_cast<int64_t>(num_seqs) * blocks_per_seq;
  const int64_t chunks = num_blocks * kBlockTokens * num_heads * kSliceChunks;
  DeviceArray<uint4> k(chunks), v(chunks);
  GPU_CHECK(cudaMemset(k.get(), 0x5a, chunks * sizeof(uint4)));
  GPU_CHECK(cudaMemset(v.get(), 0x3c, chunks * sizeof(uint4)));
  // Each sequence owns a random set of blocks, as a paged cache after some churn.
  std::vector<int32_t> order(num_blocks);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(12345));
  DeviceArray<int32_t> tables(order);
  DeviceArray<uint32_t> sink(1);

  // The decode kernel's shared memory at d128 (74,496 B: 3 CTAs per SM), or none.
  constexpr int kDecodeShared = 74496;
  std::vector<KvLayoutResult> results;
  for (bool head_major : {false, true}) {
    const auto kernel = head_major ? ProbeKernel<true> : ProbeKernel<false>;
    GPU_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kDecodeShared));
    GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                   cudaSharedmemCarveoutMaxShared));
    for (int shared : {kDecodeShared, 0}) {
      const dim3 grid(num_seqs, num_heads);
      const double ms = MedianMs([&] {
        kernel<<<grid, kWarps * 32, shared>>>(k.get(), v.get(), tables.get(), blocks_per_seq,
                                              blocks_per_seq, num_heads, sink.get());
      });
      results.push_back({head_major, shared > 0, 2.0 * chunks * sizeof(uint4) / (ms * 1e-3)});
    }
  }
  return results;
}

}  // namespace stride::testing::gpu
