// Paged decode attention: one query per sequence. A CTA per (sequence, KV head, split) packs the
// GQA group's query heads into the 16 rows of one mma tile; its warps (4 by default) walk
// interleaved key tiles (16 keys by default: 73 KB of shared memory, 3 CTAs per SM) of the split
// with private cp.async double buffers, the block ids of a warp's next tile fetched one tile
// ahead. The warps then merge their softmax states through their (now idle) K/V buffers: each
// writes its rescaled accumulator, and the CTA sums them in a fixed order (no atomics). With
// several splits each CTA writes an fp32 partial and its log-sum-exp to the workspace; with
// split counters the last CTA of a (sequence, KV head) to finish merges them in the same launch
// (and resets its counter), otherwise a second kernel does.
// The KV cache is bf16 or fp8 e4m3 (a template parameter). fp8 halves the bytes; so that as many
// bytes stay in flight, each warp keeps a 4-stage ring of fp8 tiles (3 tiles, 12 KB at d128, in
// flight while one is computed, against bf16's one 8 KB tile), from which each lane converts its
// own mma fragments in registers (paged_decode_common.cuh). The scales fold into the score scale
// (k) and the output (v). The fp8 CTA keeps q in registers only, so at d128 it fits the same 3
// CTAs per SM as bf16 (74,240 B of shared memory, 158 registers; bf16 165).
// The per-tile work is kept lean (the kernel is bound by instruction latency, not DRAM, at 3 CTAs
// per SM: kernels/NOTES.md round 9): block ids and slots by shift and mask (block sizes are powers
// of two), no softmax work for the padding rows 8..15 when the group is at most 8, and no
// accumulator rescale for a row whose maximum did not move.
// Launched with programmatic dependent launch: context_lens and the block table are constant for
// the step (copied before its first kernel, never written by a kernel), so a CTA reads them and
// computes its key range before WaitForPrecedingGrid(); q, K/V and the workspace only after.
#include <cmath>
#include <type_traits>

#include "kernels/attention/mma_tile.cuh"
#include "kernels/attention/paged_attention.h"
#include "kernels/attention/paged_decode_common.cuh"
#include "kernels/common/pdl.cuh"

namespace stride::kernels {
namespace {

using attention::CpAsync16;
using attention::CpAsyncCommit;
using attention::CpAsyncWait;
using attention::RowState;
using decode::DecodeCta;
using decode::kLog2e;
using decode::kRows;

// Shared-memory tiles of a KV cache type: the element, the stages of a warp's cp.async ring and
// the row stride in elements. bf16: double buffers, rows padded by 16 bytes (conflict-free
// ldmatrix); fp8: 4 stages of rows padded as Fp8RowBytes says.
template <int D, DType kCache>
struct KvTiles {
  static constexpr bool kFp8 = kCache == DType::kFP8E4M3;
  using Elem = std::conditional_t<kFp8, uint8_t, __nv_bfloat16>;
  static constexpr int kStages = kFp8 ? 4 : 2;
  static constexpr int kStride = kFp8 ? decode::Fp8RowBytes<D>() : D + 8;
  // One warp's K[kStages][kKeys] and V[kStages][kKeys], in bytes.
  template <int kKeys>
  static constexpr int WarpBytes() {
    return 2 * kStages * kKeys * kStride * static_cast<int>(sizeof(Elem));
  }
};

// kKeys keys per warp tile, kWarps warps per CTA (PagedDecodeParams::tile_keys / warps): q (bf16
// only), then each warp's K/V stages, then the warps' row maxima and sums. After the key loop a
// warp's K/V stages hold its [kRows][D + 8] fp32 accumulator.
template <int D, int kKeys, int kWarps, DType kCache>
constexpr int SharedBytes() {
  using Tiles = KvTiles<D, kCache>;
  const int q_bytes = Tiles::kFp8 ? 0 : kRows * (D + 8) * static_cast<int>(sizeof(__nv_bfloat16));
  return q_bytes + kWarps * Tiles::template WarpBytes<kKeys>() +
         2 * kWarps * kRows * static_cast<int>(sizeof(float));
}

__device__ __forceinline__ void PrefetchL2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

template <int D, int kKeys, int kWarps, DType kCache>
__global__ void __launch_bounds__(kWarps * 32) PagedDecodeKernel(PagedDecodeParams p) {
  using Tiles = KvTiles<D, kCache>;
  using Elem = typename Tiles::Elem;
  constexpr bool kFp8 = Tiles::kFp8;
  constexpr int kStages = Tiles::kStages;
  constexpr int kStride = Tiles::kStride;
  constexpr int kChunkElems = 16 / static_cast<int>(sizeof(Elem));
  constexpr int kChunks = D / kChunkElems;  // 16-byte chunks per key row
  constexpr int kKeyStep = 32 / kChunks;    // keys apart between one lane's chunks
  // fp8 d16 has 16 chunks a tile: lanes 16..31 copy nothing.
  constexpr bool kIdleLanes = kKeys * kChunks < 32;
  constexpr int kPerLane = kIdleLanes ? 1 : kKeys * kChunks / 32;
  static_assert(32 % kChunks == 0 && (kIdleLanes || kPerLane * 32 == kKeys * kChunks),
                "tile / lane mapping");
  static_assert(kRows * decode::kOutStride<D> * 4 <= Tiles::template WarpBytes<kKeys>(),
                "accumulator fits K/V buffers");
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(shared_raw);  // bf16 only
  Elem* kv_s =
      kFp8 ? reinterpret_cast<Elem*>(shared_raw) : reinterpret_cast<Elem*>(q_s + kRows * (D + 8));
  // [kWarps][kRows] each:
  float* warp_max = reinterpret_cast<float*>(kv_s + kWarps * 2 * kStages * kKeys * kStride);
  float* warp_sum = warp_max + kWarps * kRows;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = p.num_heads / p.num_kv_heads;
  AllowDependentLaunch();

  // Before the wait: only context_lens and the block table (constant for the step).
  const DecodeCta cta = decode::LocateDecodeCta<kKeys>(p);
  const int seq = cta.seq, kv_head = cta.kv_head, split = cta.split;
  const int key_begin = cta.key_begin, key_end = cta.key_end, num_tiles = cta.num_tiles;
  const int32_t* block_table = cta.block_table;
  const int block_shift = cta.block_shift, block_mask = cta.block_mask;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  const Elem* k_head = static_cast<const Elem*>(p.k_cache) + static_cast<int64_t>(kv_head) * D;
  const Elem* v_head = static_cast<const Elem*>(p.v_cache) + static_cast<int64_t>(kv_head) * D;

  Elem* k_w = kv_s + warp * 2 * kStages * kKeys * kStride;  // [kStages][kKeys][kStride]
  Elem* v_w = k_w + kStages * kKeys * kStride;
  // Lane l copies chunk l % kChunks of keys l / kChunks + j * kKeyStep of a tile; `blocks`
  // holds the block ids of those keys for the next tile to issue (fetched a tile ahead).
  // When every tile lies in one block (block_size a multiple of kKeys and the split's first key
  // tile-aligned, i.e. no sliding-window start inside a tile), a tile needs one block id and one
  // 64-bit row offset per lane, its keys then kKeyStep rows apart: blocks[0] serves them all.
  const bool tile_in_one_block = block_mask + 1 >= kKeys && (key_begin & (kKeys - 1)) == 0;
  const int lane_chunk = lane % kChunks, lane_key = lane / kChunks;
  const int64_t key_step = kKeyStep * token_stride;  // elements between a lane's keys in a block
  int32_t blocks[kPerLane];
  auto fetch_blocks = [&](int tile) {
    const int key0 = key_begin + tile * kKeys + lane_key;
    if (tile_in_one_block) {
      blocks[0] = block_table[(key_begin + tile * kKeys) >> block_shift];
      return;
    }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int key = key0 + j * kKeyStep;
      blocks[j] = key < key_end ? block_table[key >> block_shift] : 0;
    }
  };
  // Element offset (from k_head / v_head) of this lane's chunk of key j of `tile`.
  auto key_offset = [&](int tile, int j) -> int64_t {
    const int key = key_begin + tile * kKeys + lane_key + j * kKeyStep;
    if (tile_in_one_block) {
      const int64_t row = (static_cast<int64_t>(blocks[0]) << block_shift) +
                          ((key_begin + tile * kKeys) & block_mask) + lane_key;
      return row * token_stride + lane_chunk * kChunkElems + j * key_step;
    }
    return ((static_cast<int64_t>(blocks[j]) << block_shift) + (key & block_mask)) * token_stride +
           lane_chunk * kChunkElems;
  };
  auto issue_tile = [&](int tile, int buffer) {
    if (kIdleLanes && lane_key >= kKeys) return;
    const int key0 = key_begin + tile * kKeys + lane_key;
    const int dst0 = (buffer * kKeys + lane_key) * kStride + lane_chunk * kChunkElems;
    if (tile_in_one_block) {  // one row offset, then key_step apart
      const int64_t offset = key_offset(tile, 0);
      const Elem* k_src = k_head + offset;
      const Elem* v_src = v_head + offset;
      // Keys past key_end are still rows of the tile's block: their addresses stay in the pool
      // (and nothing is read: a zero-size copy zero-fills).
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const bool valid = key0 + j * kKeyStep < key_end;
        const int dst = dst0 + j * kKeyStep * kStride;
        CpAsync16(k_w + dst, k_src + j * key_step, valid);
        CpAsync16(v_w + dst, v_src + j * key_step, valid);
      }
      return;
    }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      // A key past key_end has block id 0 (fetch_blocks): its address is a row of block 0, in
      // the pool, and nothing is read (a zero-size copy zero-fills).
      const bool valid = key0 + j * kKeyStep < key_end;
      const int64_t offset = key_offset(tile, j);
      const int dst = dst0 + j * kKeyStep * kStride;
      CpAsync16(k_w + dst, k_head + offset, valid);
      CpAsync16(v_w + dst, v_head + offset, valid);
    }
  };

  // Warp w takes tiles w, w + kWarps, ...
  if (warp < num_tiles) {
    fetch_blocks(warp);
    // Warm L2 with the first tile while the previous kernel finishes: a prefetch returns no
    // data to the SM, and L2 is where writes land, so a key the previous kernel is still
    // writing (the new token's) is read fresh by the copies after the wait.
    if (p.l2_prefetch) {
      const int key0 = key_begin + warp * kKeys + lane_key;
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        if (key0 + j * kKeyStep < key_end && lane_chunk % 2 == 0) {  // one per 32-byte sector
          const int64_t offset = key_offset(warp, j);
          PrefetchL2(k_head + offset);
          PrefetchL2(v_head + offset);
        }
      }
    }
  }
  WaitForPrecedingGrid();  // q, K/V and the workspace are written by earlier kernels
  if constexpr (!kFp8) decode::CopyGroupQueries<D, kStride>(p, seq, kv_head, group, q_s);
  // The first kStages - 1 tiles, one commit group each (empty past the warp's last tile).
#pragma unroll
  for (int t = 0; t < kStages - 1; ++t) {
    const int tile = warp + t * kWarps;
    if (tile < num_tiles) {
      issue_tile(tile, t);
      if (tile + kWarps < num_tiles) fetch_blocks(tile + kWarps);
    }
    CpAsyncCommit();
  }
  uint32_t q_frag[D / 16][4];
  if constexpr (kFp8) {
    // While the first tiles arrive.
    decode::LoadFp8QFragments<D>(
        p.q + (static_cast<int64_t>(seq) * p.num_heads + kv_head * group) * D, group, q_frag);
  } else {
    CpAsyncWait<1>();
    __syncthreads();  // q_s ready (the first K/V tile may still be in flight)
    attention::LoadQFragments<D, kStride>(q_s, q_frag);
  }
  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  RowState state;
  const int row_halves = group > kRows / 2 ? 2 : 1;  // rows 8..15 are padding up to group 8
  // fp8: a key element e means e * k_scale, and q carries 2^-8 (kFp8QScale).
  const float scale_log2 =
      kFp8 ? p.scale * kLog2e * (p.k_scale / decode::kFp8QScale) : p.scale * kLog2e;

  for (int tile = warp, i = 0; tile < num_tiles; tile += kWarps, ++i) {
    CpAsyncWait<kStages - 2>();  // this warp's tile i has landed
    __syncwarp();
    // Refill the stage computed in the previous iteration with the tile kStages - 1 ahead.
    if (tile + (kStages - 1) * kWarps < num_tiles) {
      issue_tile(tile + (kStages - 1) * kWarps, (i + kStages - 1) % kStages);
      if (tile + kStages * kWarps < num_tiles) fetch_blocks(tile + kStages * kWarps);
    }
    CpAsyncCommit();
    const int buffer = i % kStages;
    const Elem* k_tile = k_w + buffer * kKeys * kStride;
    const Elem* v_tile = v_w + buffer * kKeys * kStride;
    float s[kKeys / 8][4];
    if constexpr (kFp8) {
      decode::Fp8QkScores<D, kKeys>(q_frag, decode::Fp8PaddedTile<kStride>{k_tile}, s);
    } else {
      attention::QkScores<D, kKeys, kStride>(q_frag, k_tile, s);
    }
    decode::ScaleAndMaskScores<kKeys>(s, key_begin + tile * kKeys, key_end, lane, scale_log2);
    attention::OnlineSoftmax<D, kKeys>(s, o, state, row_halves);
    if constexpr (kFp8) {
      decode::Fp8AccumulatePv<D, kKeys>(s, decode::Fp8PaddedTile<kStride>{v_tile}, o);
    } else {
      attention::AccumulatePv<D, kKeys, kStride>(s, v_tile, o);
    }
    __syncwarp();
  }
  CpAsyncWait<0>();
  attention::FinishRowSums(state);

  // One warp's K/V stages, in floats: the warps' accumulators go there.
  constexpr int kWarpFloats = Tiles::template WarpBytes<kKeys>() / 4;
  decode::MergeWarpsAndStore<D, kWarps, kFp8>(p, seq, kv_head, split, state, o, warp_max, warp_sum,
                                              reinterpret_cast<float*>(kv_s), kWarpFloats);
}

template <int D, int kKeys, int kWarps, DType kCache>
cudaError_t LaunchVariant(PagedDecodeParams p, cudaStream_t stream) {
  constexpr int kShared = SharedBytes<D, kKeys, kWarps, kCache>();
  // The fused merge's scratch: the K/V stages.
  constexpr int kKvFloats = kWarps * KvTiles<D, kCache>::template WarpBytes<kKeys>() / 4;
  const bool fused =
      p.num_splits > 1 && p.split_counters != nullptr && kRows * (p.num_splits + 1) <= kKvFloats;
  if (!fused) p.split_counters = nullptr;
  constexpr auto kernel = PagedDecodeKernel<D, kKeys, kWarps, kCache>;
  static const cudaError_t attribute = decode::AllowSharedMemory(kernel, kShared);
  if (attribute != cudaSuccess) return attribute;
  cudaError_t e = LaunchPdl(kernel, decode::DecodeGrid(p), dim3(kWarps * 32), kShared, stream, p);
  if (e != cudaSuccess || p.num_splits == 1 || fused) return e;
  return decode::LaunchMergeSplits<D>(p, stream);
}

template <int D>
cudaError_t Launch(PagedDecodeParams p, cudaStream_t stream) {
  int keys = p.tile_keys > 0 ? p.tile_keys : kDefaultDecodeTileKeys;
  int warps = p.warps > 0 ? p.warps : kDefaultDecodeWarps;
  // A grid of at most one CTA per SM is latency-bound: 8 warps of one 16-key tile each
  // finish sooner than 4 warps of two (B1 x 1024 keys, 8 splits), and the L2 prefetch before
  // the wait shortens the first load. Bandwidth-bound grids skip the prefetch (no gain there).
  const bool latency_bound = decode::DecodeCtas(p) <= decode::MultiprocessorCount();
  if (p.tile_keys == 0 && p.warps == 0 && latency_bound) keys = 16, warps = 8;
  p.l2_prefetch = p.l2_prefetch && latency_bound;
  constexpr DType kBf16 = DType::kBF16, kFp8 = DType::kFP8E4M3;
  if (p.kv_dtype == kFp8) {  // the default tiling and the latency-bound grids' only
    if (keys == 16 && warps == 4) return LaunchVariant<D, 16, 4, kFp8>(p, stream);
    if (keys == 16 && warps == 8) return LaunchVariant<D, 16, 8, kFp8>(p, stream);
    return cudaErrorInvalidValue;
  }
  if (keys == 32 && warps == 4) return LaunchVariant<D, 32, 4, kBf16>(p, stream);
  if (keys == 16 && warps == 4) return LaunchVariant<D, 16, 4, kBf16>(p, stream);
  if (keys == 16 && warps == 8) return LaunchVariant<D, 16, 8, kBf16>(p, stream);
  if (keys == 32 && warps == 2) return LaunchVariant<D, 32, 2, kBf16>(p, stream);
  return cudaErrorInvalidValue;
}

}  // namespace

int decode::MultiprocessorCount() {
  static const int count = [] {
    int device = 0, n = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
      return 0;
    }
    return n;
  }();
  return count;
}

size_t PagedDecodeWorkspaceBytes(int num_seqs, int num_heads, int head_dim, int num_splits) {
  if (num_splits <= 1) return 0;
  return sizeof(float) * static_cast<size_t>(num_seqs) * num_heads * num_splits * (head_dim + 1);
}

bool PagedDecodeUsesTma(const PagedDecodeParams& p) { return decode::PagedDecodeTmaApplies(p); }

cudaError_t LaunchPagedDecode(const PagedDecodeParams& p, cudaStream_t stream) {
  if (p.num_seqs == 0) return cudaSuccess;
  if (p.kv_dtype != DType::kBF16 && p.kv_dtype != DType::kFP8E4M3) return cudaErrorInvalidValue;
  // Checked for bf16 too, where they are unused (as LaunchPagedPrefill does): a bad scale is a
  // caller bug either way.
  const auto valid_scale = [](float s) { return std::isfinite(s) && s > 0.0f; };
  if (!valid_scale(p.k_scale) || !valid_scale(p.v_scale)) return cudaErrorInvalidValue;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_heads / p.num_kv_heads > kRows || p.num_splits < 1 ||
      p.num_splits > decode::kMaxSplits || (p.num_splits > 1 && p.workspace == nullptr) ||
      p.block_size <= 0 || (p.block_size & (p.block_size - 1)) != 0 ||
      !PagedAttentionSupportsHeadDim(p.head_dim)) {
    return cudaErrorInvalidValue;
  }
  if (decode::PagedDecodeTmaApplies(p)) return decode::LaunchPagedDecodeTma(p, stream);
  switch (p.head_dim) {
    case 16:
      return Launch<16>(p, stream);
    case 32:
      return Launch<32>(p, stream);
    case 64:
      return Launch<64>(p, stream);
    case 128:
      return Launch<128>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace stride::kernels
