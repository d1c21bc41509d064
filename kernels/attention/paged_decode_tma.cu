// Paged decode attention with the KV tiles fetched by the TMA engine (sm_90), for bf16 caches at
// head_dim 64 / 128 (and fp8 ones at 128), block sizes of at least 16, no sliding window and
// grids of at least one CTA per SM (all but small-batch short-context decode). Same grid,
// warps, tiles, online softmax and epilogue as paged_decode.cu; what differs is how a warp's
// 16-key K and V tiles reach shared memory.
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
// conflicts with no padding (fp8: a 3-D box of 128-byte rows, read through Fp8SwizzledTile).
// A warp keeps kStages tiles in flight on one mbarrier each.
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
// pairs (a tile is kKeys * D elements of the cache type), q [kRows][D + 8] (bf16 only: the fp8
// path keeps q in registers), then the warps' row maxima and sums.
template <int D, int kWarps, int kStages, DType kCache>
struct TmaLayout {
  static constexpr bool kFp8 = kCache == DType::kFP8E4M3;
  static constexpr int kTileBytes = kKeys * D * (kFp8 ? 1 : 2);
  static constexpr int kStageBytes = 2 * kTileBytes;
  static constexpr int kRingBytes = kWarps * kStages * kStageBytes;
  static constexpr int kQBytes = kFp8 ? 0 : kRows * (D + 8) * 2;
  static constexpr int kBytes = 1024 + kRingBytes + kQBytes + 2 * kWarps * kRows * 4;
};

template <int D, int kWarps, int kStages, DType kCache>
__global__ void __launch_bounds__(kWarps * 32)
    PagedDecodeTmaKernel(const PagedDecodeParams p, const __grid_constant__ CUtensorMap k_map,
                         const __grid_constant__ CUtensorMap v_map) {
#ifdef STRIDE_TMA
  using Layout = TmaLayout<D, kWarps, kStages, kCache>;
  constexpr bool kFp8 = Layout::kFp8;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __shared__ __align__(8) uint64_t full[kWarps][kStages];
  // Swizzled boxes need 1024-byte aligned destinations.
  unsigned char* ring = shared_raw + ((1024 - (tma::SharedAddress(shared_raw) & 1023)) & 1023);
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(ring + Layout::kRingBytes);
  float* warp_max = reinterpret_cast<float*>(ring + Layout::kRingBytes + Layout::kQBytes);
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
  unsigned char* ring_w = ring + warp * kStages * Layout::kStageBytes;
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
    unsigned char* k_dst = ring_w + stage * Layout::kStageBytes;
    tma::BarrierExpectBytes(bar, Layout::kStageBytes);
    if constexpr (kFp8) {  // 3-D map {128 bytes, head, token}
      tma::TensorLoad(k_dst, &k_map, 0, kv_head, token, bar);
      tma::TensorLoad(k_dst + Layout::kTileBytes, &v_map, 0, kv_head, token, bar);
    } else {  // 4-D map {64 dims, head, token, D/64 halves}
      tma::TensorLoad(k_dst, &k_map, 0, kv_head, token, 0, bar);
      tma::TensorLoad(k_dst + Layout::kTileBytes, &v_map, 0, kv_head, token, 0, bar);
    }
  };

  WaitForPrecedingGrid();  // q and the new token's K/V are written by earlier kernels
#pragma unroll
  for (int s = 0; s < kStages; ++s) {
    if (warp + s * kWarps < num_tiles) issue(warp + s * kWarps, s);
  }
  uint32_t q_frag[D / 16][4];
  if constexpr (kFp8) {  // while the first tiles arrive
    LoadFp8QFragments<D>(p.q + (static_cast<int64_t>(seq) * p.num_heads + kv_head * group) * D,
                         group, q_frag);
  } else {
    CopyGroupQueries<D, D + 8>(p, seq, kv_head, group, q_s);
    CpAsyncWait<0>();
    __syncthreads();
    attention::LoadQFragments<D, D + 8>(q_s, q_frag);
  }

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  RowState state;
  const int row_halves = group > kRows / 2 ? 2 : 1;  // rows 8..15 are padding up to group 8
  // fp8: a key element e means e * k_scale, and q carries 2^-8 (kFp8QScale).
  const float scale_log2 = kFp8 ? p.scale * kLog2e * (p.k_scale / kFp8QScale) : p.scale * kLog2e;

  for (int tile = warp, i = 0; tile < num_tiles; tile += kWarps, ++i) {
    const int stage = i % kStages;
    tma::BarrierWait(&full[warp][stage], (i / kStages) & 1);
    unsigned char* k_tile = ring_w + stage * Layout::kStageBytes;
    unsigned char* v_tile = k_tile + Layout::kTileBytes;
    const int key0 = key_begin + tile * kKeys;
    if (key0 + kKeys > key_end) {
      // The block's rows past the range were copied too: zero their V (masked keys get
      // probability 0, and 0 times a stale NaN would still be NaN). Whole 128-byte rows (bf16:
      // [half][kKeys][64], fp8: [kKeys][128]), so the swizzle does not matter. Only the range's
      // last tile, the last its stage holds.
      const int valid = key_end - key0;
      for (int j = lane; j < Layout::kTileBytes / 16; j += 32) {
        const int row = (j / 8) % kKeys;
        if (row >= valid) reinterpret_cast<uint4*>(v_tile)[j] = make_uint4(0, 0, 0, 0);
      }
      __syncwarp();
    }
    float s[kKeys / 8][4];
    if constexpr (kFp8) {
      Fp8QkScores<D, kKeys>(q_frag, Fp8SwizzledTile{k_tile}, s);
    } else {
      attention::QkScoresOf<D, kKeys>(
          q_frag, attention::SwizzledTile<kKeys>{reinterpret_cast<__nv_bfloat16*>(k_tile)}, s);
    }
    ScaleAndMaskScores<kKeys>(s, key0, key_end, lane, scale_log2);
    attention::OnlineSoftmax<D, kKeys>(s, o, state, row_halves);
    if constexpr (kFp8) {
      Fp8AccumulatePv<D, kKeys>(s, Fp8SwizzledTile{v_tile}, o);
    } else {
      attention::AccumulatePvOf<D, kKeys>(
          s, attention::SwizzledTile<kKeys>{reinterpret_cast<__nv_bfloat16*>(v_tile)}, o);
    }
    __syncwarp();  // every lane's reads of this stage are done before it is refilled
    if (tile + kStages * kWarps < num_tiles) issue(tile + kStages * kWarps, stage);
  }
  attention::FinishRowSums(state);
  MergeWarpsAndStore<D, kWarps, kFp8>(p, seq, kv_head, split, state, o, warp_max, warp_sum,
                                      reinterpret_cast<float*>(ring),
                                      kStages * Layout::kStageBytes / 4);
#endif
}

// The view of one cache ([blocks * block_size tokens][heads][D]) whose box is one head's 16
// token rows, 128-byte swizzled: bf16, 4-D {64 dims, head, token, D/64 halves} (strides: a head's
// D values, a token's heads, 128 bytes to the upper half), landing as [half][16][64]; fp8 (d128),
// 3-D {128 bytes, head, token}, landing as [16][128]. False if the driver refuses it.
bool EncodeCacheMap(CUtensorMap* map, const void* cache, int64_t tokens, int heads, int dim,
                    bool fp8) {
  const uint64_t row = static_cast<uint64_t>(dim) * (fp8 ? 1 : 2);
  const uint64_t token_dim = static_cast<uint64_t>(tokens), head_dim = heads;
  // No L2 promotion: with 256-byte promotion the same walk reads ~5 % slower (round 13).
  if (fp8) {
    const uint64_t dims[3] = {row, head_dim, token_dim};
    const uint64_t strides[2] = {row, row * heads};
    const uint32_t box[3] = {static_cast<uint32_t>(row), 1, kKeys};
    return EncodeTensorMap(map, CU_TENSOR_MAP_DATA_TYPE_UINT8, cache, 3, dims, strides, box,
                           CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_NONE);
  }
  const uint64_t dims[4] = {64, head_dim, token_dim, static_cast<uint64_t>(dim / 64)};
  const uint64_t strides[3] = {row, row * heads, 128};
  const uint32_t box[4] = {64, 1, kKeys, static_cast<uint32_t>(dim / 64)};
  return EncodeTensorMap(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, cache, 4, dims, strides, box,
                         CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_NONE);
}

// Encoded maps by (cache, tokens, heads, dim, type): a runner's caches are encoded on their first
// launch (outside graph capture's replays, which keep the map by value). A freed cache's entry
// stays valid for any cache later allocated at the same address with the same shape.
struct CachedMap {
  const void* cache;
  int64_t tokens;
  int heads, dim;
  bool fp8;
  CUtensorMap map;
};

bool CacheMap(const void* cache, int64_t tokens, int heads, int dim, bool fp8, CUtensorMap* out) {
  static std::mutex mutex;
  static std::vector<CachedMap>* maps = new std::vector<CachedMap>();
  std::lock_guard<std::mutex> lock(mutex);
  for (const CachedMap& m : *maps) {
    if (m.cache == cache && m.tokens == tokens && m.heads == heads && m.dim == dim &&
        m.fp8 == fp8) {
      *out = m.map;
      return true;
    }
  }
  if (maps->size() >= 4096) maps->clear();  // tests allocate many caches; runners a few dozen
  CachedMap entry{cache, tokens, heads, dim, fp8, {}};
  if (!EncodeCacheMap(&entry.map, cache, tokens, heads, dim, fp8)) return false;
  maps->push_back(entry);
  *out = entry.map;
  return true;
}

template <int D, int kWarps, int kStages, DType kCache>
cudaError_t LaunchVariant(const PagedDecodeParams& p, const CUtensorMap& k_map,
                          const CUtensorMap& v_map, cudaStream_t stream) {
  using Layout = TmaLayout<D, kWarps, kStages, kCache>;
  static_assert(kRows * kOutStride<D> * 4 <= kStages * Layout::kStageBytes,
                "accumulator fits a warp's ring");
  PagedDecodeParams params = p;
  const bool fused = p.num_splits > 1 && p.split_counters != nullptr &&
                     kRows * (p.num_splits + 1) * 4 <= Layout::kRingBytes;
  if (!fused) params.split_counters = nullptr;
  constexpr auto kernel = PagedDecodeTmaKernel<D, kWarps, kStages, kCache>;
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
  constexpr DType kBf16 = DType::kBF16, kFp8 = DType::kFP8E4M3;
  if (p.kv_dtype == kFp8) {
    if constexpr (D == 128) {
      // As the cp.async kernel's fp8 ring: 4 stages of half-size tiles, as many bytes in flight
      // as bf16's 2 (a 4 KB stage; 64 KB a CTA, 3 CTAs per SM).
      const int stages = p.tma_stages > 0 ? p.tma_stages : 4;
      if (warps == 4 && stages == 4) return LaunchVariant<D, 4, 4, kFp8>(p, k_map, v_map, stream);
      if (warps == 4 && stages == 3) return LaunchVariant<D, 4, 3, kFp8>(p, k_map, v_map, stream);
    }
    return cudaErrorInvalidValue;
  }
  const int stages = p.tma_stages > 0 ? p.tma_stages : 2;
  if (warps == 4 && stages == 2) return LaunchVariant<D, 4, 2, kBf16>(p, k_map, v_map, stream);
  if (warps == 8 && stages == 2) return LaunchVariant<D, 8, 2, kBf16>(p, k_map, v_map, stream);
  if (warps == 4 && stages == 3) return LaunchVariant<D, 4, 3, kBf16>(p, k_map, v_map, stream);
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
  // Only grids of at least one CTA per SM, where it was measured faster: 1-6 % from 256 to 384
  // CTAs (B1 x 32k, B2 x 8k, B4 x 4k, B8 x 4k, B16 x 2k; once B2 x 8k read 1 % less), 6-8 % from
  // full waves on (B64 x 4k to
  // B384 x 1.5k; kernels/NOTES.md rounds 13-14). In smaller grids the cp.async kernel's first
  // tile, prefetched into L2 before the PDL wait, wins (B1 x 1k, 64 CTAs, 32 layers: 0.212
  // against 0.253 ms).
  const int64_t min_ctas = p.tma_min_ctas > 0 ? p.tma_min_ctas : MultiprocessorCount();
  // bf16 at d64 / d128; fp8 at d128 (its 128-byte rows are what Fp8SwizzledTile reads) unless
  // turned off.
  const bool type_and_dim =
      (p.kv_dtype == DType::kBF16 && (p.head_dim == 64 || p.head_dim == 128)) ||
      (p.kv_dtype == DType::kFP8E4M3 && p.head_dim == 128 && p.fp8_tma);
  return hopper && p.use_tma && p.num_cache_blocks > 0 && type_and_dim && p.block_size >= kKeys &&
         p.sliding_window == 0 && (p.tile_keys == 0 || p.tile_keys == kKeys) &&
         DecodeCtas(p) >= min_ctas;
}

cudaError_t LaunchPagedDecodeTma(const PagedDecodeParams& p, cudaStream_t stream) {
  const int64_t tokens = p.num_cache_blocks * p.block_size;
  const bool fp8 = p.kv_dtype == DType::kFP8E4M3;
  CUtensorMap k, v;
  if (!CacheMap(p.k_cache, tokens, p.num_kv_heads, p.head_dim, fp8, &k) ||
      !CacheMap(p.v_cache, tokens, p.num_kv_heads, p.head_dim, fp8, &v)) {
    return cudaErrorNotSupported;
  }
  return p.head_dim == 128 ? Launch<128>(p, k, v, stream) : Launch<64>(p, k, v, stream);
}

}  // namespace stride::kernels::decode
