// The sampler's random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11), a counter-based generator. A sampled token depends only on the request's
// seed and on how many tokens it has generated so far, never on the batch, the thread or the
// backend, so a preempted request regenerates the same tokens and the CUDA sampler can draw the
// very same uniform as this CPU reference.
//
// The uniform for step `step` (= the request's num_output_tokens() before the token is sampled):
//   key     = {seed & 0xffffffff, seed >> 32}
//   counter = {0, 0, step & 0xffffffff, step >> 32}
//   x       = Philox4x32_10(counter, key)
//   u       = (((uint64_t)x[0] << 32 | x[1]) >> 11) * 2^-53          in [0, 1)
// The counter layout is cuRAND's: curand_init(seed, /*subsequence=*/step, /*offset=*/0, &state)
// followed by curand4(&state) yields the same x (checked on an H200 with CUDA 13.0 for 65,536
// (seed, step) pairs, steps above 2^32 included). Header-only and constexpr, so a CUDA kernel can
// also use this very code (nvcc --expt-relaxed-constexpr; checked bit for bit on the same GPU).
#pragma once

#include <array>
#include <cstdint>

namespace stride::engine::sampling {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

// One block of the Philox4x32 bijection with 10 rounds (the Random123 / cuRAND variant).
constexpr std::array<uint32_t, 4> Philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  constexpr uint32_t kMul0 = 0xD2511F53u;
  constexpr uint32_t kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
  constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    const uint64_t product0 = static_cast<uint64_t>(kMul0) * counter[0];
    const uint64_t product1 = static_cast<uint64_t>(kMul1) * counter[2];
    const uint32_t hi0 = static_cast<uint32_t>(product0 >> 32);
    const uint32_t lo0 = static_cast<uint32_t>(product0);
    const uint32_t hi1 = static_cast<uint32_t>(product1 >> 32);
    const uint32_t lo1 = static_cast<uint32_t>(product1);
    counter = {hi1 ^ counter[1] ^ key[0], lo1, hi0 ^ counter[3] ^ key[1], lo0};
  }
  return counter;
}

// The uniform in [0, 1), with 53 random bits, that decides the token sampled at `step`.
constexpr double SamplingUniform(uint64_t seed, uint64_t step) {
  const PhiloxKey key = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  const PhiloxCounter counter = {0, 0, static_cast<uint32_t>(step),
                                 static_cast<uint32_t>(step >> 32)};
  const std::array<uint32_t, 4> x = Philox4x32_10(counter, key);
  const uint64_t bits = (static_cast<uint64_t>(x[0]) << 32 | x[1]) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

}  // namespace stride::engine::sampling
