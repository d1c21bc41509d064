// Paged decode attention with the KV tiles fetched by the TMA engine (sm_90), for bf16 caches at
// head_dim 64 / 128, block sizes of at least 16 and no sliding window: the large-batch decode of
// the offline runs. Same grid, warps, tiles, online softmax and epilogue as paged_decode.cu; what
// differs is how a warp's 16-key K and V tiles reach shared memory.
//
// paged_decode.cu copies them with 16-byte cp.async per lane (8 per lane per tile for K and V,
// with their address arithmetic) and reads ~4.1 TB/s at B384 x 1.5k. A read probe of the same
// paged walk with no math (`stride_gpu_bench --kv-layout`, kernels/NOTES.md round 13) reads
// 4.02 TB/s that way at 3 CTAs per SM, and 4.40 TB/s with one tensor copy per tile of K (and of
// V) issued by one lane, *without* L2 promotion (with 256-byte promotion: 4.20).
//
// Each copy is a box of a 4-D view of the cache, {64 dims, 1 KV head, 16 tokens, D/64 halves}
// (strides: a head's D values, a token's heads, 128 bytes to the upper half), so one instruction
// moves a head's 16 token rows of a block (D * 32 bytes) into shared memory as [half][16][64],
// 128-byte swizzled: the ldmatrix reads through attention::SwizzledTile are free of bank
// conflicts with no padding. A warp keeps kStages tiles in flight on one mbarrier each.
// The tensor maps (one per cache base) are encoded on the host once and kept.
#include <cuda.h>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <vector>

#include "kernels/attention/mma_tile.cuh"
#include "kernels/attention/paged_attention.h"
#include "kernels/attention/paged_decode_common.cuh"
#include "kernels/common/pdl.cuh"
#include "kernels/common/tensor_map.h"
#include "kernels/common/tma.cuh"

namespace stride::kernels::decode {
namespace {

using attention::CpAsyncWait;
using attention::RowState;

constexpr int kKeys = 16;  // keys per tile: one box

// Shared memory of a CTA: 1 KB of alignment slack, the warps' rings of kStages (K tile, V tile)
// pairs (a tile is kKeys * D bf16), q [kRows][D + 8], then the warps' row maxima and sums.
template <int D, int kWarps, int kStages>
struct TmaLayout {
  static constexpr int kTileElems = kKeys * D;
  static constexpr int kStageBytes = 2 * kTileElems * 2;
  static constexpr int kRingBytes = kWarps * kStages * kStageBytes;
  static constexpr int kQBytes = kRows * (D + 8) * 2;
  static constexpr int kBytes = 1024 + kRingBytes + kQBytes + 2 * kWarps * kRows * 4;
};

template <int D, int kWarps, int kStages>
__global__ void __launch_bounds__(kWarps * 32)
    PagedDecodeTmaKernel(const PagedDecodeParams p, const __grid_constant__ CUtensorMap k_map,
                         const __grid_constant__ CUtensorMap v_map) {
#ifdef STRIDE_TMA
  using Layout = TmaLayout<D, kWarps, kStages>;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __shared__ __align__(8) uint64_t full[kWarps][kStages];
  // Swizzled boxes need 1024-byte aligned destinations.
  unsigned char* base = shared_raw + ((1024 - (tma::SharedAddress(shared_raw) & 1023)) & 1023);
  __nv_bfloat16* ring = reinterpret_cast<__nv_bfloat16*>(base);
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(base + Layout::kRingBytes);
  float* warp_max = reinterpret_cast<float*>(base + Layout::kRingBytes + Layout::kQBytes);
  float* warp_sum = warp_max + kWarps * kRows;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = p.num_heads / p.num_kv_heads;
  AllowDependentLaunch();

  // Before the wait: only context_lens and the block table (constant for the step). No sliding
  // window here (PagedDecodeTmaApplies), so every tile starts at a multiple of 16 keys and lies
  // in one block.
  const DecodeCta cta = LocateDecodeCta<kKeys>(p);
  const int seq = cta.seq, kv_head = cta.kv_head, split = cta.split;
  const int key_begin = cta.key_begin, key_end = cta.key_end, num_tiles = cta.num_tiles;
  const int32_t* block_table = cta.block_table;
  const int block_shift = cta.block_shift, block_mask = cta.block_mask;
  __nv_bfloat16* ring_w = ring + warp * kStages * 2 * Layout::kTileElems;
  if (lane == 0) {
    for (int s = 0; s < kStages; ++s) tma::BarrierInit(&full[warp][s]);
    tma::FenceBarrierInit();
  }
  __syncwarp();
  // Tile `tile` of the split into stage `stage`: both boxes by lane 0. A tile lies in one block
  // (block_size >= 16, key_begin a multiple of 16), whose first token row the table gives.
  auto issue = [&](int tile, int stage) {
    if (lane != 0) return;
    const int key0 = key_begin + tile * kKeys;
    const int token = (block_table[key0 >> block_shift] << block_shift) + (key0 & block_mask);
    uint64_t* bar = &full[warp][stage];
    __nv_bfloat16* k_dst = ring_w + stage * 2 * Layout::kTileElems;
    tma::BarrierExpectBytes(bar, Layout::kStageBytes);
    tma::TensorLoad(k_dst, &k_map, 0, kv_head, token, 0, bar);
    tma::TensorLoad(k_dst + Layout::kTileElems, &v_map, 0, kv_head, token, 0, bar);
  };

  WaitForPrecedingGrid();  // q and the new token's K/V are written by earlier kernels
#pragma unroll
  for (int s = 0; s < kStages; ++s) {
    if (warp + s * kWarps < num_tiles) issue(warp + s * kWarps, s);
  }
  CopyGroupQueries<D, D + 8>(p, seq, kv_head, group, q_s);
  CpAsyncWait<0>();
  __syncthreads();
  uint32_t q_frag[D / 16][4];
  attention::LoadQFragments<D, D + 8>(q_s, q_frag);

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  RowState state;
  const int row_halves = group > kRows / 2 ? 2 : 1;  // rows 8..15 are padding up to group 8
  const float scale_log2 = p.scale * kLog2e;

  for (int tile = warp, i = 0; tile < num_tiles; tile += kWarps, ++i) {
    const int stage = i % kStages;
    tma::BarrierWait(&full[warp][stage], (i / kStages) & 1);
    const __nv_bfloat16* k_tile = ring_w + stage * 2 * Layout::kTileElems;
    __nv_bfloat16* v_tile = ring_w + stage * 2 * Layout::kTileElems + Layout::kTileElems;
    const int key0 = key_begin + tile * kKeys;
    if (key0 + kKeys > key_end) {
      // The block's rows past the range were copied too: zero their V (masked keys get
      // probability 0, and 0 times a stale NaN would still be NaN). Whole rows, so the swizzle
      // does not matter. Only the range's last tile, the last its stage holds.
      const int valid = key_end - key0;
      for (int j = lane; j < (D / 64) * kKeys * 8; j += 32) {
        const int row = (j / 8) % kKeys;
        if (row >= valid) reinterpret_cast<uint4*>(v_tile)[j] = make_uint4(0, 0, 0, 0);
      }
      __syncwarp();
    }
    float s[kKeys / 8][4];
    attention::QkScoresOf<D, kKeys>(q_frag, attention::SwizzledTile<kKeys>{k_tile}, s);
    ScaleAndMaskScores<kKeys>(s, key0, key_end, lane, scale_log2);
    attention::OnlineSoftmax<D, kKeys>(s, o, state, row_halves);
    attention::AccumulatePvOf<D, kKeys>(s, attention::SwizzledTile<kKeys>{v_tile}, o);
    __syncwarp();  // every lane's reads of this stage are done before it is refilled
    if (tile + kStages * kWarps < num_tiles) issue(tile + kStages * kWarps, stage);
  }
  attention::FinishRowSums(state);
  MergeWarpsAndStore<D, kWarps, false>(p, seq, kv_head, split, state, o, warp_max, warp_sum,
                                       reinterpret_cast<float*>(ring),
                                       kStages * Layout::kStageBytes / 4);
#endif
}

// The 4-D view of one cache ([blocks * block_size tokens][heads][D] bf16) described above; false
// if the driver refuses it.
bool EncodeCacheMap(CUtensorMap* map, const void* cache, int64_t tokens, int heads, int dim) {
  const uint64_t dims[4] = {64, static_cast<uint64_t>(heads), static_cast<uint64_t>(tokens),
                            static_cast<uint64_t>(dim / 64)};
  const uint64_t row = static_cast<uint64_t>(dim) * 2;
  const uint64_t strides[3] = {row, row * heads, 128};
  const uint32_t box[4] = {64, 1, kKeys, static_cast<uint32_t>(dim / 64)};
  // No L2 promotion: with 256-byte promotion the same walk reads ~5 % slower (round 13).
  return EncodeBf16TensorMap(map, cache, 4, dims, strides, box, CU_TENSOR_MAP_SWIZZLE_128B,
                             CU_TENSOR_MAP_L2_PROMOTION_NONE);
}

// Encoded maps by (cache, tokens, heads, dim): a runner's caches are encoded on their first
// launch (outside graph capture's replays, which keep the map by value). A freed cache's entry
// stays valid for any cache later allocated at the same address with the same shape.
struct CachedMap {
  const void* cache;
  int64_t tokens;
  int heads, dim;
  CUtensorMap map;
};

bool CacheMap(const void* cache, int64_t tokens, int heads, int dim, CUtensorMap* out) {
  static std::mutex mutex;
  static std::vector<CachedMap>* maps = new std::vector<CachedMap>();
  std::lock_guard<std::mutex> lock(mutex);
  for (const CachedMap& m : *maps) {
    if (m.cache == cache && m.tokens == tokens && m.heads == heads && m.dim == dim) {
      *out = m.map;
      return true;
    }
  }
  if (maps->size() >= 4096) maps->clear();  // tests allocate many caches; runners a few dozen
  CachedMap entry{cache, tokens, heads, dim, {}};
  if (!EncodeCacheMap(&entry.map, cache, tokens, heads, dim)) return false;
  maps->push_back(entry);
  *out = entry.map;
  return true;
}

template <int D, int kWarps, int kStages>
cudaError_t LaunchVariant(const PagedDecodeParams& p, const CUtensorMap& k_map,
                          const CUtensorMap& v_map, cudaStream_t stream) {
  using Layout = TmaLayout<D, kWarps, kStages>;
  static_assert(kRows * kOutStride<D> * 4 <= kStages * Layout::kStageBytes,
                "accumulator fits a warp's ring");
  PagedDecodeParams params = p;
  const bool fused = p.num_splits > 1 && p.split_counters != nullptr &&
                     kRows * (p.num_splits + 1) * 4 <= Layout::kRingBytes;
  if (!fused) params.split_counters = nullptr;
  constexpr auto kernel = PagedDecodeTmaKernel<D, kWarps, kStages>;
  static const cudaError_t attribute = AllowSharedMemory(kernel, Layout::kBytes);
  if (attribute != cudaSuccess) return attribute;
  cudaError_t e = LaunchPdl(kernel, DecodeGrid(p), dim3(kWarps * 32), Layout::kBytes, stream,
                            params, k_map, v_map);
  if (e != cudaSuccess || p.num_splits == 1 || fused) return e;
  return LaunchMergeSplits<D>(params, stream);
}

template <int D>
cudaError_t Launch(const PagedDecodeParams& p, const CUtensorMap& k_map, const CUtensorMap& v_map,
                   cudaStream_t stream) {
  const int warps = p.warps > 0 ? p.warps : 4;
  const int stages = p.tma_stages > 0 ? p.tma_stages : 2;
  if (warps == 4 && stages == 2) return LaunchVariant<D, 4, 2>(p, k_map, v_map, stream);
  if (warps == 8 && stages == 2) return LaunchVariant<D, 8, 2>(p, k_map, v_map, stream);
  if (warps == 4 && stages == 3) return LaunchVariant<D, 4, 3>(p, k_map, v_map, stream);
  return cudaErrorInvalidValue;
}

}  // namespace

bool PagedDecodeTmaApplies(const PagedDecodeParams& p) {
  static const bool hopper = [] {
    int device = 0, major = 0;
    return cudaGetDevice(&device) == cudaSuccess &&
           cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) ==
               cudaSuccess &&
           major >= 9;
  }();
  // Only grids that fill a first wave (3 CTAs per SM), where it was measured faster (B64 x 4k
  // to B384 x 1.5k, round 13). In latency-bound grids (at most one CTA per SM) the cp.async
  // kernel's 8 warps with the first tile prefetched into L2 before the PDL wait are faster (B1 x
  // 1k, 32 layers: 0.212 against 0.228 ms); in between (B8 x 4k, B1 x 32k) it is not yet
  // measured.
  const int64_t ctas = static_cast<int64_t>(p.num_seqs) * p.num_kv_heads * p.num_splits;
  const int64_t min_ctas = p.tma_min_ctas > 0 ? p.tma_min_ctas : 3 * MultiprocessorCount();
  return hopper && p.use_tma && p.num_cache_blocks > 0 && p.kv_dtype == DType::kBF16 &&
         (p.head_dim == 64 || p.head_dim == 128) && p.block_size >= kKeys &&
         p.sliding_window == 0 && (p.tile_keys == 0 || p.tile_keys == kKeys) && ctas >= min_ctas;
}

cudaError_t LaunchPagedDecodeTma(const PagedDecodeParams& p, cudaStream_t stream) {
  const int64_t tokens = p.num_cache_blocks * p.block_size;
  CUtensorMap k, v;
  if (!CacheMap(p.k_cache, tokens, p.num_kv_heads, p.head_dim, &k) ||
      !CacheMap(p.v_cache, tokens, p.num_kv_heads, p.head_dim, &v)) {
    return cudaErrorNotSupported;
  }
  return p.head_dim == 128 ? Launch<128>(p, k, v, stream) : Launch<64>(p, k, v, stream);
}

}  // namespace stride::kernels::decode
