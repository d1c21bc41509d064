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
#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/common/tensor_map.h"
#include "kernels/common/tma.cuh"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/kv_layout_probe.h"

namespace stride::testing::gpu {
namespace {

namespace tma = kernels::tma;

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
// The grid is (sequence, head), or (head, sequence) with heads_fastest: then the CTAs of one
// sequence's heads start together and read the same blocks' rows at about the same time.
__device__ __forceinline__ void SeqAndHead(bool heads_fastest, int* seq, int* head) {
  *seq = heads_fastest ? blockIdx.y : blockIdx.x;
  *head = heads_fastest ? blockIdx.x : blockIdx.y;
}

template <bool kHeadMajor>
__global__ void __launch_bounds__(kWarps * 32)
    ProbeKernel(const uint4* k, const uint4* v, const int32_t* tables, int width,
                int blocks_per_seq, int num_heads, bool heads_fastest, uint32_t* sink) {
  extern __shared__ uint4 occupancy_limiter[];  // unused: only limits CTAs per SM
  int seq, head;
  SeqAndHead(heads_fastest, &seq, &head);
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

constexpr int kBlockBytes = kBlockTokens * kSliceChunks * 16;  // one head's K (or V) of a block
constexpr int kBulkStages = 4;

#ifdef STRIDE_TMA
// A warp's walk over its blocks (warp, warp + kWarps, ...) through a kStages-deep ring of (K, V)
// stages of 2 * kBlockBytes, one mbarrier each: issue(b, stage, bar) has block b's K and V
// copied into the stage, the copies completing on bar (with 2 * kBlockBytes expected by lane 0).
// The warp waits for a stage, touches one word of each lane's 128 bytes of it, and refills it
// kStages blocks on. Returns the xor of the words touched.
template <int kStages, typename Issue>
__device__ uint32_t WalkRing(unsigned char* ring, uint64_t* full, int blocks_per_seq,
                             Issue issue) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    for (int s = 0; s < kStages; ++s) tma::BarrierInit(&full[s]);
    tma::FenceBarrierInit();
  }
  __syncwarp();
  auto start = [&](int b, int stage) {
    if (lane == 0) tma::BarrierExpectBytes(&full[stage], 2 * kBlockBytes);
    __syncwarp();
    issue(b, ring + stage * 2 * kBlockBytes, &full[stage]);
  };
  for (int s = 0; s < kStages; ++s) {
    if (warp + s * kWarps < blocks_per_seq) start(warp + s * kWarps, s);
  }
  uint32_t acc = 0;
  int stage = 0, parity = 0;
  for (int b = warp; b < blocks_per_seq; b += kWarps) {
    tma::BarrierWait(&full[stage], parity);
    acc ^= reinterpret_cast<const uint32_t*>(ring + stage * 2 * kBlockBytes)[lane * 32];
    __syncwarp();
    if (b + kStages * kWarps < blocks_per_seq) start(b + kStages * kWarps, stage);
    if (++stage == kStages) stage = 0, parity ^= 1;
  }
  return acc;
}
#endif

// The walk with bulk copies (the TMA engine, contiguous bytes) into a 4-stage ring per warp:
// token-major, lane t < 16 copies K row t and lane 16 + t V row t (256 bytes each); head-major,
// lanes 0 and 1 copy the K and the V run (4 KB each, unswizzled).
template <bool kHeadMajor>
__global__ void __launch_bounds__(kWarps * 32)
    BulkProbeKernel(const uint4* k, const uint4* v, const int32_t* tables, int width,
                    int blocks_per_seq, int num_heads, bool heads_fastest, uint32_t* sink) {
#ifdef STRIDE_TMA
  extern __shared__ __align__(128) unsigned char ring_raw[];  // [kWarps][kBulkStages][K, V]
  __shared__ __align__(8) uint64_t full[kWarps][kBulkStages];
  int seq, head;
  SeqAndHead(heads_fastest, &seq, &head);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int32_t* table = tables + static_cast<int64_t>(seq) * width;
  auto issue = [&](int b, unsigned char* dst, uint64_t* bar) {
    const int64_t block = table[b];
    if (kHeadMajor) {
      if (lane < 2) {
        tma::BulkLoad(dst + lane * kBlockBytes,
                      (lane == 0 ? k : v) + ChunkIndex<true>(block, 0, head, 0, num_heads),
                      kBlockBytes, bar);
      }
    } else {
      const int t = lane % kBlockTokens;
      tma::BulkLoad(dst + (lane / kBlockTokens) * kBlockBytes + t * kSliceChunks * 16,
                    (lane < kBlockTokens ? k : v) + ChunkIndex<false>(block, t, head, 0, num_heads),
                    kSliceChunks * 16, bar);
    }
  };
  const uint32_t acc = WalkRing<kBulkStages>(ring_raw + warp * kBulkStages * 2 * kBlockBytes,
                                             full[warp], blocks_per_seq, issue);
  if (acc == 0x9e3779b9u) sink[0] = acc;
#endif
}

// The walk with tensor copies (boxes of 16 rows x 64 dims, 128-byte swizzled as an mma kernel
// would read them) into a kStages-deep ring per warp, issued by lane 0. kMode 0: two boxes per K
// (or V), one per 64-dim half (head-major: a 2-D map [blocks x heads x 16 rows][128];
// token-major: 3-D [tokens][heads][128], a box one head's 16 token rows, 2 KB apart). kMode 1
// (head-major): one 4 KB box over the block viewed as [32][64] (128-byte rows, read in order).
// kMode 2: one box [2 halves][16 rows][64] (head-major: 3-D {64, rows, 2}; token-major: 4-D
// {64, head, tokens, 2}, the decode kernel's view), so each half's 16 rows lie together.
template <bool kHeadMajor, int kStages, int kMode = 0>
__global__ void __launch_bounds__(kWarps * 32)
    TensorProbeKernel(const __grid_constant__ CUtensorMap k_map,
                      const __grid_constant__ CUtensorMap v_map, const int32_t* tables, int width,
                      int blocks_per_seq, int num_heads, bool heads_fastest, uint32_t* sink) {
#ifdef STRIDE_TMA
  extern __shared__ __align__(1024) unsigned char tensor_ring[];  // [kWarps][kStages][K, V]
  __shared__ __align__(8) uint64_t full[kWarps][kStages];
  int seq, head;
  SeqAndHead(heads_fastest, &seq, &head);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // Swizzled boxes need 1024-byte aligned destinations (the launch adds 1 KB of slack).
  unsigned char* aligned =
      tensor_ring + ((1024 - (tma::SharedAddress(tensor_ring) & 1023)) & 1023);
  const int32_t* table = tables + static_cast<int64_t>(seq) * width;
  auto issue = [&](int b, unsigned char* dst, uint64_t* bar) {
    if (lane != 0) return;
    const int block = table[b];
    const int row0 = (block * num_heads + head) * kBlockTokens;  // head-major
    for (int i = 0; i < 2; ++i) {  // K, then V
      const CUtensorMap* map = i == 0 ? &k_map : &v_map;
      unsigned char* to = dst + i * kBlockBytes;
      if constexpr (kMode == 2 && !kHeadMajor) {
        tma::TensorLoad(to, map, 0, head, block * kBlockTokens, 0, bar);
      } else if constexpr (kMode == 2) {
        tma::TensorLoad(to, map, 0, row0, 0, bar);
      } else if constexpr (kMode == 1) {
        tma::TensorLoad(to, map, 0, 2 * row0, bar);
      } else {
        for (int half = 0; half < 2; ++half) {
          if (kHeadMajor) {
            tma::TensorLoad(to + half * kBlockBytes / 2, map, half * 64, row0, bar);
          } else {
            tma::TensorLoad(to + half * kBlockBytes / 2, map, half * 64, head,
                            block * kBlockTokens, bar);
          }
        }
      }
    }
  };
  const uint32_t acc = WalkRing<kStages>(aligned + warp * kStages * 2 * kBlockBytes, full[warp],
                                         blocks_per_seq, issue);
  if (acc == 0x9e3779b9u) sink[0] = acc;
#endif
}

// A map of a KV cache (bf16, d128) for TensorProbeKernel<head_major, *, mode>, with L2 promotion
// to 256-byte lines or none.
CUtensorMap KvMap(const void* base, int64_t tokens, int num_heads, bool head_major, int mode = 0,
                  bool promote = true) {
  const uint64_t rows = static_cast<uint64_t>(tokens) * num_heads, heads = num_heads;
  struct View {
    int rank;
    uint64_t dims[4], strides[3];
    uint32_t box[4];
  };
  View view;
  if (mode == 2 && !head_major) {
    view = {4, {64, heads, static_cast<uint64_t>(tokens), 2}, {256, heads * 256, 128},
            {64, 1, 16, 2}};
  } else if (mode == 2) {
    view = {3, {64, rows, 2}, {256, 128}, {64, 16, 2}};
  } else if (mode == 1) {
    view = {2, {64, 2 * rows}, {128}, {64, 32}};
  } else if (head_major) {
    view = {2, {128, rows}, {256}, {64, 16}};
  } else {
    view = {3, {128, heads, static_cast<uint64_t>(tokens)}, {256, heads * 256}, {64, 1, 16}};
  }
  CUtensorMap map;
  if (!kernels::EncodeTensorMap(
          &map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, base, view.rank, view.dims, view.strides,
          view.box, CU_TENSOR_MAP_SWIZZLE_128B,
          promote ? CU_TENSOR_MAP_L2_PROMOTION_L2_256B : CU_TENSOR_MAP_L2_PROMOTION_NONE)) {
    std::fprintf(stderr, "kv-layout probe: the driver refused tensor map mode %d\n", mode);
    std::abort();
  }
  return map;
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

  // The decode kernel's shared memory at d128 (74,496 B: 3 CTAs per SM), or none; the bulk
  // kernel's ring is 128 KB per CTA (1 per SM) or, with the decode kernel's 74 KB, 2.
  constexpr int kDecodeShared = 74496;
  constexpr int kBulkShared = kWarps * kBulkStages * 2 * kBlockBytes;
  std::vector<KvLayoutResult> results;
  const auto run = [&](auto kernel, bool head_major, bool bulk, int shared, bool decode_occupancy,
                       bool heads_fastest) {
    GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, shared));
    GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                   cudaSharedmemCarveoutMaxShared));
    const dim3 grid = heads_fastest ? dim3(num_heads, num_seqs) : dim3(num_seqs, num_heads);
    const double ms = MedianMs([&] {
      kernel<<<grid, kWarps * 32, shared>>>(k.get(), v.get(), tables.get(), blocks_per_seq,
                                            blocks_per_seq, num_heads, heads_fastest, sink.get());
    });
    results.push_back({head_major, decode_occupancy, bulk, heads_fastest,
                       2.0 * chunks * sizeof(uint4) / (ms * 1e-3)});
  };
  for (bool heads_fastest : {false, true}) {
    for (bool head_major : {false, true}) {
      const auto kernel = head_major ? ProbeKernel<true> : ProbeKernel<false>;
      run(kernel, head_major, false, kDecodeShared, true, heads_fastest);
      run(kernel, head_major, false, 0, false, heads_fastest);
      const auto bulk = head_major ? BulkProbeKernel<true> : BulkProbeKernel<false>;
      run(bulk, head_major, true, kBulkShared, true, heads_fastest);
      // Tensor copies: 4 stages a warp (1 CTA per SM) and 2 (64 KB: 3 CTAs per SM).
      const int64_t tokens = num_blocks * kBlockTokens;
      CUtensorMap k_map = KvMap(k.get(), tokens, num_heads, head_major);
      CUtensorMap v_map = KvMap(v.get(), tokens, num_heads, head_major);
      const auto tensor = [&](auto kernel, int stages, int mode = 0, bool promote = true) {
        k_map = KvMap(k.get(), tokens, num_heads, head_major, mode, promote);
        v_map = KvMap(v.get(), tokens, num_heads, head_major, mode, promote);
        const int shared = kWarps * stages * 2 * kBlockBytes + 1024;
        GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, shared));
        GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                       cudaSharedmemCarveoutMaxShared));
        const dim3 grid = heads_fastest ? dim3(num_heads, num_seqs) : dim3(num_seqs, num_heads);
        const double ms = MedianMs([&] {
          kernel<<<grid, kWarps * 32, shared>>>(k_map, v_map, tables.get(), blocks_per_seq,
                                                blocks_per_seq, num_heads, heads_fastest,
                                                sink.get());
        });
        results.push_back({head_major, stages == 2, false, heads_fastest,
                           2.0 * chunks * sizeof(uint4) / (ms * 1e-3), true, mode, promote});
      };
      if (head_major) {
        tensor(TensorProbeKernel<true, 4>, 4);
        tensor(TensorProbeKernel<true, 2>, 2);
        tensor(TensorProbeKernel<true, 2>, 2, 0, false);
        tensor(TensorProbeKernel<true, 2, 1>, 2, 1);
        tensor(TensorProbeKernel<true, 2, 1>, 2, 1, false);
        tensor(TensorProbeKernel<true, 2, 2>, 2, 2);
        tensor(TensorProbeKernel<true, 2, 2>, 2, 2, false);
      } else {
        tensor(TensorProbeKernel<false, 4>, 4);
        tensor(TensorProbeKernel<false, 2>, 2);
        tensor(TensorProbeKernel<false, 2>, 2, 0, false);
        tensor(TensorProbeKernel<false, 2, 2>, 2, 2);
        tensor(TensorProbeKernel<false, 2, 2>, 2, 2, false);
        tensor(TensorProbeKernel<false, 4, 2>, 4, 2, false);
      }
    }
  }
  return results;
}

}  // namespace stride::testing::gpu
