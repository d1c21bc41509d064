// Exact fp32 paged attention: one warp per (query row, head), its lanes splitting head_dim into
// float2 pairs, keys visited in order in steps of kKeysPerStep with an online softmax. A grid of
// one full wave strides over the (row, head) items, adjacent heads of a row in adjacent warps so
// that a GQA group reads the same K/V lines at about the same time.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/attention/paged_attention_f32.h"
#include "kernels/common/device_utils.cuh"

namespace stride::kernels {
namespace {

constexpr int kWarpsPerCta = 4;
constexpr int kThreads = 32 * kWarpsPerCta;
constexpr int kMaxHeadDim = 256;
// Keys whose K and V loads are issued together before any of them is used: enough loads in
// flight to hide part of the memory latency, few enough to keep the loop plain.
constexpr int kKeysPerStep = 4;

// The sequence that owns query row `row`: the s with query_start[s] <= row < query_start[s + 1].
// Sequences with no queries own no row, so the search never stops on one.
__device__ int SequenceOfRow(const int32_t* query_start, int num_seqs, int row) {
  int lo = 0, hi = num_seqs;  // invariant: query_start[lo] <= row < query_start[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (query_start[mid] <= row) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Lane l holds the float2 pairs l, l + 32, ... (kSlots of them, kSlots = ceil(head_dim / 64)) of
// the query, the running output and each K/V vector; slots past head_dim / 2 stay idle.
template <int kSlots>
__global__ void __launch_bounds__(kThreads) PagedAttentionF32Kernel(PagedAttentionF32Params p) {
  const int lane = threadIdx.x % 32;
  const int pairs = p.head_dim / 2;
  bool in_head[kSlots];
#pragma unroll
  for (int i = 0; i < kSlots; ++i) in_head[i] = lane + 32 * i < pairs;

  const int group = p.num_heads / p.num_kv_heads;
  const int64_t token_stride = static_cast<int64_t>(p.num_kv_heads) * p.head_dim;
  const int first_row = p.query_start[0];
  const int64_t num_items =
      static_cast<int64_t>(p.query_start[p.num_seqs] - first_row) * p.num_heads;
  const int64_t num_warps = static_cast<int64_t>(gridDim.x) * kWarpsPerCta;

  for (int64_t item = static_cast<int64_t>(blockIdx.x) * kWarpsPerCta + threadIdx.x / 32;
       item < num_items; item += num_warps) {
    const int row = first_row + static_cast<int>(item / p.num_heads);
    const int head = static_cast<int>(item % p.num_heads);
    const int kv_head = head / group;
    const int seq = SequenceOfRow(p.query_start, p.num_seqs, row);
    const int query_begin = p.query_start[seq];
    const int query_len = p.query_start[seq + 1] - query_begin;
    const int position = p.context_lens[seq] - query_len + (row - query_begin);
    const int first_key = p.sliding_window > 0 ? max(0, position - p.sliding_window + 1) : 0;
    const int32_t* block_table = p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq;
    // Offset (in floats) of this KV head's vector of key `key` in either cache.
    auto cache_offset = [&](int key) {
      const int64_t block = block_table[key / p.block_size];
      return (block * p.block_size + key % p.block_size) * token_stride +
             static_cast<int64_t>(kv_head) * p.head_dim;
    };

    const int64_t row_offset = (static_cast<int64_t>(row) * p.num_heads + head) * p.head_dim;
    const float2* q = reinterpret_cast<const float2*>(p.q + row_offset);
    float2 q_pairs[kSlots], acc[kSlots];
#pragma unroll
    for (int i = 0; i < kSlots; ++i) {
      q_pairs[i] = in_head[i] ? q[lane + 32 * i] : make_float2(0.0f, 0.0f);
      acc[i] = make_float2(0.0f, 0.0f);
    }
    // Softmax state: the largest score so far and the sum of exp(score - running_max); acc holds
    // the exp-weighted sum of values on the same scale. Every lane keeps identical copies.
    float running_max = -INFINITY;
    float denominator = 0.0f;

    for (int key0 = first_key; key0 <= position; key0 += kKeysPerStep) {
      // Keys past `position` and idle slots stay zero: they add nothing to dots and sums.
      float2 k[kKeysPerStep][kSlots], v[kKeysPerStep][kSlots];
#pragma unroll
      for (int j = 0; j < kKeysPerStep; ++j) {
#pragma unroll
        for (int i = 0; i < kSlots; ++i) k[j][i] = v[j][i] = make_float2(0.0f, 0.0f);
        if (key0 + j > position) continue;  // warp-uniform; the first key always exists
        const int64_t offset = cache_offset(key0 + j);
        const float2* k_vec = reinterpret_cast<const float2*>(p.k_cache + offset);
        const float2* v_vec = reinterpret_cast<const float2*>(p.v_cache + offset);
#pragma unroll
        for (int i = 0; i < kSlots; ++i) {
          if (!in_head[i]) continue;
          k[j][i] = k_vec[lane + 32 * i];
          v[j][i] = v_vec[lane + 32 * i];
        }
      }
      float score[kKeysPerStep];
      float step_max = -INFINITY;
#pragma unroll
      for (int j = 0; j < kKeysPerStep; ++j) {
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < kSlots; ++i) dot += q_pairs[i].x * k[j][i].x + q_pairs[i].y * k[j][i].y;
        // The xor butterfly adds the same operands in every lane: all lanes get the same sum.
        score[j] = key0 + j <= position ? WarpSum(dot) * p.scale : -INFINITY;
        step_max = fmaxf(step_max, score[j]);
      }
      const float new_max = fmaxf(running_max, step_max);    // finite: key0 is a real key
      const float correction = expf(running_max - new_max);  // 0 on the first step
      denominator *= correction;
#pragma unroll
      for (int i = 0; i < kSlots; ++i) {
        acc[i].x *= correction;
        acc[i].y *= correction;
      }
#pragma unroll
      for (int j = 0; j < kKeysPerStep; ++j) {
        if (key0 + j > position) continue;
        const float weight = expf(score[j] - new_max);
        denominator += weight;
#pragma unroll
        for (int i = 0; i < kSlots; ++i) {
          acc[i].x += weight * v[j][i].x;
          acc[i].y += weight * v[j][i].y;
        }
      }
      running_max = new_max;
    }

    // position < 0 (more queries than keys, e.g. a padding row of context 0): no keys, zeros.
    const bool has_keys = position >= 0;
    float2* out = reinterpret_cast<float2*>(p.out + row_offset);
#pragma unroll
    for (int i = 0; i < kSlots; ++i) {
      if (!in_head[i]) continue;
      out[lane + 32 * i] = has_keys ? make_float2(acc[i].x / denominator, acc[i].y / denominator)
                                    : make_float2(0.0f, 0.0f);
    }
  }
}

template <int kSlots>
cudaError_t Launch(const PagedAttentionF32Params& p, cudaStream_t stream) {
  int device = 0, multiprocessors = 0, ctas_per_multiprocessor = 0;
  cudaError_t error = cudaGetDevice(&device);
  if (error == cudaSuccess) {
    error = cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device);
  }
  if (error == cudaSuccess) {
    error = cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &ctas_per_multiprocessor, PagedAttentionF32Kernel<kSlots>, kThreads, 0);
  }
  if (error != cudaSuccess) return error;
  const int ctas = multiprocessors * std::max(ctas_per_multiprocessor, 1);
  PagedAttentionF32Kernel<kSlots><<<ctas, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

bool Aligned8(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 8 == 0; }

bool ValidParams(const PagedAttentionF32Params& p) {
  const bool pointers = p.q != nullptr && p.out != nullptr && p.k_cache != nullptr &&
                        p.v_cache != nullptr && p.block_tables != nullptr &&
                        p.query_start != nullptr && p.context_lens != nullptr;
  const bool aligned =
      Aligned8(p.q) && Aligned8(p.out) && Aligned8(p.k_cache) && Aligned8(p.v_cache);
  const bool heads = p.num_heads > 0 && p.num_kv_heads > 0 && p.num_heads % p.num_kv_heads == 0;
  const bool head_dim = p.head_dim > 0 && p.head_dim % 2 == 0 && p.head_dim <= kMaxHeadDim;
  const bool paging = p.block_size > 0 && p.max_blocks_per_seq > 0;
  const bool scale = p.scale > 0.0f && std::isfinite(p.scale);
  return pointers && aligned && heads && head_dim && paging && p.sliding_window >= 0 && scale;
}

}  // namespace

cudaError_t LaunchPagedAttentionF32(const PagedAttentionF32Params& p, cudaStream_t stream) {
  if (p.num_seqs < 0) return cudaErrorInvalidValue;
  if (p.num_seqs == 0) return cudaSuccess;
  if (!ValidParams(p)) return cudaErrorInvalidValue;
  switch ((p.head_dim + 63) / 64) {
    case 1:
      return Launch<1>(p, stream);
    case 2:
      return Launch<2>(p, stream);
    case 3:
      return Launch<3>(p, stream);
    default:
      return Launch<4>(p, stream);
  }
}

}  // namespace stride::kernels
