#include "engine/sampling/vector_math.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "base/check.h"

// An AVX2 build next to the baseline one, picked at load time. AVX2 without FMA keeps the
// arithmetic, and so the results, identical.
#if defined(__x86_64__) && defined(__linux__)
#define STRIDE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define STRIDE_VECTOR_CLONES
#endif

// Results must not depend on the build: no fused multiply-add, even where the target has it (GCC
// already keeps ISO C++ builds uncontracted).
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace stride::engine::sampling {
namespace {

constexpr size_t kLanes = 8;
using Floats = float __attribute__((vector_size(kLanes * sizeof(float))));
using Ints = int32_t __attribute__((vector_size(kLanes * sizeof(int32_t))));
using HalfDoubles = double __attribute__((vector_size(kLanes / 2 * sizeof(double))));

// Lane-wise double sums of 8 float lanes, kept as two halves: a 64-byte vector would not fit
// AVX2 registers and GCC would spill it on every iteration.
struct Doubles {
  HalfDoubles low = {};
  HalfDoubles high = {};

  [[gnu::always_inline]] void Add(const Floats& v) {
    low += __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), HalfDoubles);
    high += __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), HalfDoubles);
  }
};

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The helpers below return vectors through out-parameters: Clang rejects 32-byte vector
// arguments and return values in the baseline (non-AVX) build.

[[gnu::always_inline]] inline void Load(const float* p, Floats& v) {
  std::memcpy(&v, p, sizeof(v));
}

// Lanes [n, kLanes) get `fill`.
[[gnu::always_inline]] inline void LoadPartial(const float* p, size_t n, float fill, Floats& v) {
  v = Floats{} + fill;
  for (size_t i = 0; i < n; ++i) v[i] = p[i];
}

[[gnu::always_inline]] inline void Select(const Ints& mask, const Floats& if_true,
                                          const Floats& if_false, Floats& out) {
  out = reinterpret_cast<Floats>((mask & reinterpret_cast<Ints>(if_true)) |
                                 (~mask & reinterpret_cast<Ints>(if_false)));
}

[[gnu::always_inline]] inline double ReduceLanes(const Doubles& sums) {
  const HalfDoubles pairs = sums.low + sums.high;
  return (pairs[0] + pairs[1]) + (pairs[2] + pairs[3]);
}

// kDivide = false is for divisor 1, where x / 1 == x exactly: same results, no division.
template <bool kDivide>
[[gnu::always_inline]] inline void Exp(const Floats& in, float divisor, float shift, Floats& out) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi exact in 9 bits
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRoundToInt = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  constexpr float kLowest = -87.0f;

  const Floats x = (kDivide ? in / divisor : in) - shift;
  const Ints underflow = x < kLowest;
  Floats clamped;
  Select(underflow, Floats{} + kLowest, x, clamped);
  const Floats n = (clamped * kLog2e + kRoundToInt) - kRoundToInt;
  Floats r = clamped - n * kLn2Hi;
  r = r - n * kLn2Lo;
  // Taylor series of e^r to r^7 in Horner form; the r^8 term is below 6e-9 for |r| <= ln2/2.
  Floats p = Floats{} + 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const Ints exponent = (__builtin_convertvector(n, Ints) + 127) << 23;  // 2^n, n >= -126
  const Floats y = p * reinterpret_cast<Floats>(exponent);
  const Ints valid = (y >= 0.0f) & ~underflow;  // false for NaN
  Select(valid, y, Floats{}, out);
}

}  // namespace

STRIDE_VECTOR_CLONES float MaxValue(std::span<const float> values) {
  Floats max = Floats{} + kNegInf;
  const size_t n = values.size();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    Floats v;
    Load(values.data() + i, v);
    Select(v > max, v, max, max);  // NaN compares false
  }
  Floats tail;
  LoadPartial(values.data() + i, n - i, kNegInf, tail);
  Select(tail > max, tail, max, max);
  float result = kNegInf;
  for (size_t lane = 0; lane < kLanes; ++lane) result = max[lane] > result ? max[lane] : result;
  return result;
}

int32_t ArgMax(std::span<const float> values) {
  STRIDE_CHECK(!values.empty());
  const float max = MaxValue(values);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == max) return static_cast<int32_t>(i);
  }
  return 0;  // every value is NaN
}

STRIDE_VECTOR_CLONES size_t FindFirstAbove(std::span<const float> values, size_t begin,
                                           float threshold) {
  // Four vectors per test, reduced with vector ORs: a horizontal reduction per vector would cost
  // more than the comparisons.
  using Words = uint64_t __attribute__((vector_size(kLanes * sizeof(int32_t))));
  constexpr size_t kBlock = 4 * kLanes;
  const size_t n = values.size();
  size_t i = begin;
  for (; i + kBlock <= n; i += kBlock) {
    const float* p = values.data() + i;
    Floats v0, v1, v2, v3;
    Load(p, v0);
    Load(p + kLanes, v1);
    Load(p + 2 * kLanes, v2);
    Load(p + 3 * kLanes, v3);
    const Ints above = (v0 > threshold) | (v1 > threshold) | (v2 > threshold) | (v3 > threshold);
    const Words words = reinterpret_cast<Words>(above);
    if ((words[0] | words[1] | words[2] | words[3]) != 0) break;
  }
  for (; i < n; ++i) {
    if (values[i] > threshold) return i;
  }
  return n;
}

STRIDE_VECTOR_CLONES void ZeroBelow(float threshold, std::span<float> values) {
  const size_t n = values.size();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    Floats v;
    Load(values.data() + i, v);
    Select(v < threshold, Floats{}, v, v);
    std::memcpy(values.data() + i, &v, sizeof(v));
  }
  for (; i < n; ++i) values[i] = values[i] < threshold ? 0.0f : values[i];
}

STRIDE_VECTOR_CLONES double Sum(std::span<const float> values) {
  Doubles sums;
  const size_t n = values.size();
  size_t i = 0;
  Floats v;
  for (; i + kLanes <= n; i += kLanes) {
    Load(values.data() + i, v);
    sums.Add(v);
  }
  LoadPartial(values.data() + i, n - i, 0.0f, v);
  sums.Add(v);
  return ReduceLanes(sums);
}

namespace {

// ScaledExp and ExpSum share this loop so their sums agree bit for bit.
template <bool kWrite, bool kDivide>
[[gnu::always_inline]] inline double ExpLoop(std::span<const float> in, float divisor, float shift,
                                             float* out) {
  Doubles sums;
  const size_t n = in.size();
  size_t i = 0;
  Floats x;
  Floats y;
  for (; i + kLanes <= n; i += kLanes) {
    Load(in.data() + i, x);
    Exp<kDivide>(x, divisor, shift, y);
    if constexpr (kWrite) std::memcpy(out + i, &y, sizeof(y));
    sums.Add(y);
  }
  if (i < n) {
    // Padding lanes hold -inf, whose exp is 0, so they add nothing to the sum.
    LoadPartial(in.data() + i, n - i, kNegInf, x);
    Exp<kDivide>(x, divisor, shift, y);
    if constexpr (kWrite) {
      for (size_t lane = 0; lane < n - i; ++lane) out[i + lane] = y[lane];
    }
    sums.Add(y);
  }
  return ReduceLanes(sums);
}

}  // namespace

STRIDE_VECTOR_CLONES double ScaledExp(std::span<const float> in, float divisor, float shift,
                                      std::span<float> out) {
  STRIDE_CHECK_EQ(in.size(), out.size());
  return divisor == 1.0f ? ExpLoop<true, false>(in, divisor, shift, out.data())
                         : ExpLoop<true, true>(in, divisor, shift, out.data());
}

STRIDE_VECTOR_CLONES double ExpSum(std::span<const float> in, float divisor, float shift) {
  return divisor == 1.0f ? ExpLoop<false, false>(in, divisor, shift, nullptr)
                         : ExpLoop<false, true>(in, divisor, shift, nullptr);
}

float ScaledExp(float x, float divisor, float shift) {
  Floats y;
  Exp<true>(Floats{} + x, divisor, shift, y);
  return y[0];
}

}  // namespace stride::engine::sampling
