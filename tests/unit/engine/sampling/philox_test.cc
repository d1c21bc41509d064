// Tests engine/sampling/philox.h against the Random123 known-answer vectors.
#include "engine/sampling/philox.h"

#include <cstdint>
#include <set>

#include "gtest/gtest.h"

namespace stride::engine::sampling {
namespace {

// Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, expected output.
TEST(PhiloxTest, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(Philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(
      Philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      Philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(PhiloxTest, IsConstexpr) {
  static_assert(Philox4x32_10({0, 0, 0, 0}, {0, 0})[0] == 0x6627e8d5u);
  SUCCEED();
}

// Seed 0, step 0 is Philox of the all-zero counter and key: the top 53 bits of x0:x1.
TEST(PhiloxTest, SamplingUniformUsesTheDocumentedBits) {
  const uint64_t bits = (uint64_t{0x6627e8d5} << 32 | 0xe169c58d) >> 11;
  EXPECT_EQ(SamplingUniform(0, 0), static_cast<double>(bits) * 0x1.0p-53);
}

// The step goes in counter words 2 and 3, the seed in the key (cuRAND's layout).
TEST(PhiloxTest, SamplingUniformPlacesSeedAndStep) {
  const uint64_t seed = 0x299f31d0a4093822ull;
  const uint64_t step = 0x0370734413198a2eull;
  const auto x = Philox4x32_10({0, 0, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0});
  const uint64_t bits = (static_cast<uint64_t>(x[0]) << 32 | x[1]) >> 11;
  EXPECT_EQ(SamplingUniform(seed, step), static_cast<double>(bits) * 0x1.0p-53);
}

TEST(PhiloxTest, UniformsAreInRangeDistinctAndCentered) {
  std::set<double> seen;
  double sum = 0.0;
  constexpr int kSeeds = 100;
  constexpr int kSteps = 100;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    for (uint64_t step = 0; step < kSteps; ++step) {
      const double u = SamplingUniform(seed, step);
      ASSERT_GE(u, 0.0);
      ASSERT_LT(u, 1.0);
      seen.insert(u);
      sum += u;
    }
  }
  EXPECT_EQ(seen.size(), size_t{kSeeds * kSteps});
  // Mean of 10^4 uniforms: standard deviation 0.0029; 0.02 is 7 sigma.
  EXPECT_NEAR(sum / (kSeeds * kSteps), 0.5, 0.02);
}

}  // namespace
}  // namespace stride::engine::sampling
