#include <climits>
#include <cmath>
#include <cstdint>

#include "kernels/common/pdl.cuh"
#include "kernels/sampling/sampling.h"

namespace stride::kernels {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr int kUnit = 128;          // the draw's first level: sums of 128 consecutive weights
constexpr int kMaxUnits = 4096;     // vocabularies up to 524,288
constexpr int kBins = 4096;         // radix select: 12 bits, then 10, then 10 (as on the CPU)
constexpr int kTieCap = 1024;       // top log-probs: ties at the k-th value gathered at once
constexpr float kNegInf = -__builtin_huge_valf();
constexpr unsigned kFull = 0xffffffffu;

__device__ __forceinline__ int LevelShift(int level) { return level == 0 ? 20 : level == 1 ? 10 : 0; }
__device__ __forceinline__ int LevelBits(int level) { return level == 0 ? 12 : 10; }

// engine/sampling/vector_math.cc's exp, operation by operation with round-to-nearest intrinsics
// (no FMA contraction), so the weights equal the CPU sampler's bit for bit.
template <bool kDivide>
__device__ __forceinline__ float CpuExp(float in, float divisor, float shift) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRoundToInt = 12582912.0f;
  const float x = __fsub_rn(kDivide ? __fdiv_rn(in, divisor) : in, shift);
  const bool underflow = x < -87.0f;
  const float c = underflow ? -87.0f : x;
  const float n = __fsub_rn(__fadd_rn(__fmul_rn(c, kLog2e), kRoundToInt), kRoundToInt);
  float r = __fsub_rn(c, __fmul_rn(n, kLn2Hi));
  r = __fsub_rn(r, __fmul_rn(n, kLn2Lo));
  float p = 1.0f / 5040.0f;
  p = __fadd_rn(__fmul_rn(p, r), 1.0f / 720.0f);
  p = __fadd_rn(__fmul_rn(p, r), 1.0f / 120.0f);
  p = __fadd_rn(__fmul_rn(p, r), 1.0f / 24.0f);
  p = __fadd_rn(__fmul_rn(p, r), 1.0f / 6.0f);
  p = __fadd_rn(__fmul_rn(p, r), 0.5f);
  p = __fadd_rn(__fmul_rn(p, r), 1.0f);
  p = __fadd_rn(__fmul_rn(p, r), 1.0f);
  const int exponent = (static_cast<int>(n) + 127) << 23;
  const float y = __fmul_rn(p, __int_as_float(exponent));
  return (y >= 0.0f && !underflow) ? y : 0.0f;
}

// Raw logits in descending order as unsigned keys; NaN ranks as -inf and -0 as +0.
__device__ __forceinline__ uint32_t OrderKey(float x) {
  if (x != x) x = kNegInf;
  const uint32_t b = __float_as_uint(__fadd_rn(x, 0.0f));
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

struct Shared {
  union {
    double hist[kBins];
    double units[kMaxUnits];
  };
  double warp_d[kWarps];
  float warp_f[kWarps];
  int warp_i[kWarps];
  int sel_bin, lightest, unit, last_positive, greater_count, tie_count;
  double sel_above, unit_before;
  int greater_ids[kMaxGpuTopLogprobs];
  int tie_ids[kTieCap];
};

// f(index, value) for every logit of the row, 16-byte loads when the row allows.
template <typename F>
__device__ __forceinline__ void ForEach(const float* row, int n, bool vec, F f) {
  if (vec) {
    const float4* row4 = reinterpret_cast<const float4*>(row);
    const int n4 = n / 4;
#pragma unroll 4
    for (int i = threadIdx.x; i < n4; i += kThreads) {
      const float4 v = __ldg(row4 + i);
      f(4 * i, v.x);
      f(4 * i + 1, v.y);
      f(4 * i + 2, v.z);
      f(4 * i + 3, v.w);
    }
  } else {
    for (int i = threadIdx.x; i < n; i += kThreads) f(i, __ldg(row + i));
  }
}

// Sum over the block in double; every thread gets the same value (fixed order over warps).
__device__ __forceinline__ double BlockSum(double x, Shared& s) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(kFull, x, o);
  __syncthreads();
  if (threadIdx.x % 32 == 0) s.warp_d[threadIdx.x / 32] = x;
  __syncthreads();
  double total = 0.0;
  for (int w = 0; w < kWarps; ++w) total += s.warp_d[w];
  return total;
}

__device__ __forceinline__ bool Better(float a, int ia, float b, int ib) {
  return a > b || (a == b && ia < ib);
}

// Largest value (NaN ignored) and its lowest index; (-inf, INT_MAX) when every value is NaN.
__device__ void BlockArgMax(float& value, int& index, Shared& s) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float v = __shfl_xor_sync(kFull, value, o);
    const int i = __shfl_xor_sync(kFull, index, o);
    if (Better(v, i, value, index)) value = v, index = i;
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) {
    s.warp_f[threadIdx.x / 32] = value;
    s.warp_i[threadIdx.x / 32] = index;
  }
  __syncthreads();
  value = kNegInf;
  index = INT_MAX;
  for (int w = 0; w < kWarps; ++w) {
    if (Better(s.warp_f[w], s.warp_i[w], value, index)) value = s.warp_f[w], index = s.warp_i[w];
  }
}

// Sum over threads with a higher index (exclusive suffix) and the block total.
__device__ __forceinline__ double ExclusiveSuffix(double own, double* total, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  double x = own;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const double v = __shfl_down_sync(kFull, x, o);
    if (lane + o < 32) x += v;
  }
  __syncthreads();
  if (lane == 0) s.warp_d[warp] = x;
  __syncthreads();
  double above = 0.0, all = 0.0;
  for (int w = kWarps - 1; w >= 0; --w) {
    if (w > warp) above += s.warp_d[w];
    all += s.warp_d[w];
  }
  *total = all;
  return above + (x - own);
}

// Sum over threads with a lower index (exclusive prefix) and the block total.
__device__ __forceinline__ double ExclusivePrefix(double own, double* total, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  double x = own;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const double v = __shfl_up_sync(kFull, x, o);
    if (lane >= o) x += v;
  }
  __syncthreads();
  if (lane == 31) s.warp_d[warp] = x;
  __syncthreads();
  double below = 0.0, all = 0.0;
  for (int w = 0; w < kWarps; ++w) {
    if (w < warp) below += s.warp_d[w];
    all += s.warp_d[w];
  }
  *total = all;
  return below + (x - own);
}

// Radix select over 32-bit keys, 12/10/10 bits: the key T such that the keys >= T are exactly
// those whose strictly larger keys measure less than `target` (count or mass, from key_of:
// returns the measure, 0 for an element that does not take part). When rounding keeps the total
// short of the target, the smallest key present. Returns false when no element takes part.
template <typename KeyOf>
__device__ bool RadixSelect(const float* row, int n, bool vec, KeyOf key_of, double target,
                            Shared& s, uint32_t* threshold) {
  uint32_t prefix = 0;
  double carried = 0.0;
  for (int level = 0; level < 3; ++level) {
    const int shift = LevelShift(level);
    const int bins = 1 << LevelBits(level);
    const uint32_t mask = bins - 1;
    const int parent_shift = level == 0 ? 32 : LevelShift(level - 1);
    for (int b = threadIdx.x; b < bins; b += kThreads) s.hist[b] = 0.0;
    if (threadIdx.x == 0) {
      s.sel_bin = -1;
      s.lightest = INT_MAX;
    }
    __syncthreads();
    ForEach(row, n, vec, [&](int, float x) {
      uint32_t key;
      const double m = key_of(x, &key);
      if (m > 0.0 && (level == 0 || (key >> parent_shift) == prefix)) {
        atomicAdd(&s.hist[(key >> shift) & mask], m);
      }
    });
    __syncthreads();
    // Each thread owns `per` consecutive bins; walk down from the heaviest.
    const int per = bins / kThreads;
    const int first = threadIdx.x * per;
    double own = 0.0;
    for (int j = 0; j < per; ++j) own += s.hist[first + j];
    double total;
    const double above_thread = ExclusiveSuffix(own, &total, s);
    double above = carried + above_thread;
    for (int j = per - 1; j >= 0; --j) {
      const double h = s.hist[first + j];
      if (h > 0.0) {
        if (above < target && above + h >= target) {
          s.sel_bin = first + j;
          s.sel_above = above;
        }
        atomicMin(&s.lightest, first + j);
      }
      above += h;
    }
    __syncthreads();
    int bin = s.sel_bin;
    if (bin < 0) {
      bin = s.lightest;
      if (bin == INT_MAX) return false;
      // Rounding left the total short of the target: the lightest bin, with all else above.
      double h = s.hist[bin];
      if (threadIdx.x == 0) s.sel_above = carried + total - h;
      __syncthreads();
    }
    carried = s.sel_above;
    prefix = level == 0 ? static_cast<uint32_t>(bin) : (prefix << LevelBits(level)) | bin;
    __syncthreads();  // hist and sel_* are rewritten by the next level
  }
  *threshold = prefix;
  return true;
}

// The draw: the first id whose inclusive running sum of weights exceeds u * total (token-id
// order), or the last positive weight when rounding keeps the running sum short. -1 when no
// weight is positive. weight(x) must be deterministic.
template <typename WeightOf>
__device__ int Draw(const float* row, int n, bool vec, WeightOf weight, double u, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int num_units = (n + kUnit - 1) / kUnit;
  if (threadIdx.x == 0) {
    s.last_positive = -1;
    s.unit = INT_MAX;
  }
  __syncthreads();
  int last_positive = -1;
  for (int unit = warp; unit < num_units; unit += kWarps) {
    const int base = unit * kUnit + 4 * lane;
    float v[4];
    if (vec && base + 3 < n) {
      const float4 x = __ldg(reinterpret_cast<const float4*>(row + base));
      v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w;
    } else {
      for (int j = 0; j < 4; ++j) v[j] = base + j < n ? __ldg(row + base + j) : kNegInf;
    }
    double sum = 0.0;
    for (int j = 0; j < 4; ++j) {
      const float w = base + j < n ? weight(v[j]) : 0.0f;
      if (w > 0.0f) {
        sum += w;
        last_positive = base + j;
      }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFull, sum, o);
    if (lane == 0) s.units[unit] = sum;
  }
  if (last_positive >= 0) atomicMax(&s.last_positive, last_positive);
  __syncthreads();
  // Thread t owns units [t * per, (t + 1) * per).
  const int per = (num_units + kThreads - 1) / kThreads;
  const int first = threadIdx.x * per;
  double own = 0.0;
  for (int j = 0; j < per && first + j < num_units; ++j) own += s.units[first + j];
  double total;
  double running = ExclusivePrefix(own, &total, s);
  if (!(total > 0.0)) return -1;
  const double target = u * total;
  for (int j = 0; j < per && first + j < num_units; ++j) {
    const double h = s.units[first + j];
    if (running + h > target && running <= target) {
      s.unit = first + j;
      s.unit_before = running;
    }
    running += h;
  }
  __syncthreads();
  const int unit = s.unit;
  if (unit == INT_MAX) return s.last_positive;
  // One warp scans the unit: lane sums, a warp prefix, then the crossing lane walks its four.
  __shared__ int found;
  if (warp == 0) {
    const int base = unit * kUnit + 4 * lane;
    float w[4];
    double lane_sum = 0.0;
    for (int j = 0; j < 4; ++j) {
      w[j] = base + j < n ? weight(__ldg(row + base + j)) : 0.0f;
      if (w[j] > 0.0f) lane_sum += w[j];
    }
    double x = lane_sum;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const double v = __shfl_up_sync(kFull, x, o);
      if (lane >= o) x += v;
    }
    double run = s.unit_before + (x - lane_sum);
    int hit = -1, last = -1;
    for (int j = 0; j < 4; ++j) {
      if (!(w[j] > 0.0f)) continue;
      last = base + j;
      run += w[j];
      if (hit < 0 && run > target) hit = base + j;
    }
    const unsigned hits = __ballot_sync(kFull, hit >= 0);
    int result;
    if (hits != 0) {
      result = __shfl_sync(kFull, hit, __ffs(hits) - 1);
    } else {  // rounding: the crossing sits at the unit's end
      const unsigned lasts = __ballot_sync(kFull, last >= 0);
      result = __shfl_sync(kFull, last, 31 - __clz(lasts));
    }
    if (lane == 0) found = result;
  }
  __syncthreads();
  return found;
}

__global__ void __launch_bounds__(kThreads) SampleKernel(SampleParams p) {
  __shared__ Shared s;
  WaitForPrecedingGrid();
  AllowDependentLaunch();
  const int r = blockIdx.x;
  const int n = p.vocab;
  const float* row = p.logits + static_cast<int64_t>(r) * n;
  const bool vec = (n % 4 == 0) && (reinterpret_cast<uintptr_t>(p.logits) % 16 == 0);
  const SampleRowParams q = p.rows_params[r];

  // 1. Raw max and argmax.
  float row_max = kNegInf;
  int argmax = INT_MAX;
  ForEach(row, n, vec, [&](int i, float x) {
    if (Better(x, i, row_max, argmax)) row_max = x, argmax = i;  // NaN never is
  });
  BlockArgMax(row_max, argmax, s);
  if (argmax == INT_MAX) argmax = 0;

  // 2. Raw log-sum-exp.
  double lse;
  if (isinf(row_max)) {  // -inf: nothing finite; +inf dominates
    lse = row_max;
  } else {
    double sum = 0.0;
    ForEach(row, n, vec, [&](int, float x) { sum += CpuExp<false>(x, 1.0f, row_max); });
    lse = static_cast<double>(row_max) + log(BlockSum(sum, s));
  }

  // 3. The token.
  int token = argmax;
  if (q.mode == kSampleScore) {
    token = min(max(q.token, 0), n - 1);
  } else if (q.mode == kSampleRandom && isfinite(row_max)) {
    const float temperature = q.temperature;
    const float scaled_max = __fdiv_rn(row_max, temperature);
    float lo = q.min_p > 0.0f ? q.min_p : 0.0f;
    auto base = [&](float x) { return CpuExp<true>(x, temperature, scaled_max); };
    if (q.top_k > 0 && q.top_k < n) {
      const float cut = lo;
      uint32_t t;
      if (RadixSelect(
              row, n, vec,
              [&](float x, uint32_t* key) {
                const float w = base(x);
                *key = __float_as_uint(w);
                return (w > 0.0f && !(w < cut)) ? 1.0 : 0.0;
              },
              static_cast<double>(q.top_k), s, &t)) {
        lo = fmaxf(lo, __uint_as_float(t));
      }
    }
    if (q.top_p < 1.0f) {
      const float cut = lo;
      double mass = 0.0;
      ForEach(row, n, vec, [&](int, float x) {
        const float w = base(x);
        if (!(w < cut)) mass += w;
      });
      const double target = static_cast<double>(q.top_p) * BlockSum(mass, s);
      uint32_t t;
      if (RadixSelect(
              row, n, vec,
              [&](float x, uint32_t* key) {
                const float w = base(x);
                *key = __float_as_uint(w);
                return (w > 0.0f && !(w < cut)) ? static_cast<double>(w) : 0.0;
              },
              target, s, &t)) {
        lo = fmaxf(lo, __uint_as_float(t));
      }
    }
    const float cut = lo;
    const int drawn = Draw(
        row, n, vec,
        [&](float x) {
          const float w = base(x);
          return w < cut ? 0.0f : w;
        },
        q.uniform, s);
    if (drawn >= 0) token = drawn;
  }

  // 4. The best raw log-probs.
  const int k = min(min(q.num_top, kMaxGpuTopLogprobs), n);
  int top_count = 0;
  if (k > 0) {
    uint32_t t = 0;
    RadixSelect(
        row, n, vec,
        [&](float x, uint32_t* key) {
          *key = OrderKey(x);
          return 1.0;
        },
        static_cast<double>(k), s, &t);
    if (threadIdx.x == 0) s.greater_count = s.tie_count = 0;
    __syncthreads();
    ForEach(row, n, vec, [&](int i, float x) {
      const uint32_t key = OrderKey(x);
      if (key > t) {
        const int slot = atomicAdd(&s.greater_count, 1);
        if (slot < kMaxGpuTopLogprobs) s.greater_ids[slot] = i;
      } else if (key == t) {
        const int slot = atomicAdd(&s.tie_count, 1);
        if (slot < kTieCap) s.tie_ids[slot] = i;
      }
    });
    __syncthreads();
    const int greater = min(s.greater_count, k);
    const int need = k - greater;
    if (s.tie_count > kTieCap && threadIdx.x < 32) {
      // More ties than fit: gather the lowest ids in order, one warp, 32 logits at a time.
      int got = 0;
      for (int base = 0; base < n && got < need; base += 32) {
        const int i = base + threadIdx.x;
        const bool eq = i < n && OrderKey(__ldg(row + i)) == t;
        const unsigned m = __ballot_sync(kFull, eq);
        const int rank = __popc(m & ((1u << threadIdx.x) - 1));
        if (eq && got + rank < need) s.tie_ids[got + rank] = i;
        got += __popc(m);
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int* ids = s.greater_ids;
      // Insertion sort of the strictly larger ones: value descending, id ascending.
      for (int a = 1; a < greater; ++a) {
        const int id = ids[a];
        const uint32_t key = OrderKey(row[id]);
        int b = a - 1;
        while (b >= 0) {
          const uint32_t kb = OrderKey(row[ids[b]]);
          if (kb > key || (kb == key && ids[b] < id)) break;
          ids[b + 1] = ids[b];
          --b;
        }
        ids[b + 1] = id;
      }
      SampledToken& out = p.out[r];
      for (int a = 0; a < greater; ++a) {
        out.top_ids[a] = ids[a];
        out.top_logprobs[a] = static_cast<float>(static_cast<double>(row[ids[a]]) - lse);
      }
      // The `need` lowest tie ids, ascending (a selection: need <= 20).
      const int ties = min(s.tie_count, kTieCap);
      int previous = -1;
      for (int a = 0; a < need; ++a) {
        int best = INT_MAX;
        for (int j = 0; j < ties; ++j) {
          const int id = s.tie_ids[j];
          if (id > previous && id < best) best = id;
        }
        if (best == INT_MAX) break;
        previous = best;
        out.top_ids[greater + a] = best;
        out.top_logprobs[greater + a] = static_cast<float>(static_cast<double>(row[best]) - lse);
        top_count = greater + a + 1;
      }
      if (need == 0) top_count = greater;
    }
  }
  if (threadIdx.x == 0) {
    SampledToken& out = p.out[r];
    out.token = token;
    out.logprob = static_cast<float>(static_cast<double>(row[token]) - lse);
    for (int a = top_count; a < kMaxGpuTopLogprobs; ++a) {
      out.top_ids[a] = -1;
      out.top_logprobs[a] = kNegInf;
    }
  }
}

}  // namespace

cudaError_t LaunchSample(const SampleParams& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  if (p.vocab <= 0 || p.vocab > kMaxUnits * kUnit) return cudaErrorInvalidValue;
  return LaunchPdl(SampleKernel, p.rows, kThreads, 0, stream, p);
}

}  // namespace stride::kernels
