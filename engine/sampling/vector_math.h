// The sampler's whole-vocabulary loops: max, exp and sums over ~150k floats per sampled row.
// glibc's scalar expf (~4 ns a call here) and one-accumulator reductions (bound by add latency)
// made these most of the sampler's time, and -O2 does not vectorize them, so they are written
// with GCC/Clang vector extensions over 8 logical lanes (built for AVX2 and the x86-64 baseline;
// no FMA, so every build computes bit-identical results).
//
// exp: Cody-Waite reduction by ln 2 and the degree-7 Taylor polynomial on |r| <= ln2/2; max
// relative error ~1e-7 (about one float ulp) on [-87, 0]. Arguments are always x - max(x) <= 0,
// so results below e^-87 flush to 0.
#pragma once

#include <cstdint>
#include <span>

namespace stride::engine::sampling {

// The largest value, NaN ignored; -inf when there is none.
float MaxValue(std::span<const float> values);

// The first index of the largest value, NaN ignored; 0 when every value is NaN. values non-empty.
int32_t ArgMax(std::span<const float> values);

// The first index at or after `begin` whose value is > threshold (NaN never is), or
// values.size(). Lets heap-based selections skip the many values that cannot enter the heap.
size_t FindFirstAbove(std::span<const float> values, size_t begin, float threshold);

// values[i] = 0 where values[i] < threshold (NaN kept as is).
void ZeroBelow(float threshold, std::span<float> values);

// The sum in double: 8 lane-wise partial sums, then a fixed reduction order.
double Sum(std::span<const float> values);

// out[i] = exp(in[i] / divisor - shift) for arguments <= 0 (up to 88 works too); NaN results
// become 0 and arguments below -87 give 0. Returns Sum(out). `out` may alias `in`.
double ScaledExp(std::span<const float> in, float divisor, float shift, std::span<float> out);

// Sum of exp(in[i] / divisor - shift), equal bit for bit to ScaledExp's return value.
double ExpSum(std::span<const float> in, float divisor, float shift);

// The same exp for one argument (no sum).
float ScaledExp(float x, float divisor, float shift);

}  // namespace stride::engine::sampling
