// Tests the scalar conversions in engine/model/dtype_convert.h and DTypeName/DTypeSize.
#include "engine/model/dtype_convert.h"

#include <cmath>
#include <limits>

#include "engine/model/weights.h"
#include "gtest/gtest.h"

namespace stride::engine::model {
namespace {

TEST(DTypeTest, NamesAndSizes) {
  EXPECT_STREQ(DTypeName(DType::kF32), "F32");
  EXPECT_STREQ(DTypeName(DType::kF16), "F16");
  EXPECT_STREQ(DTypeName(DType::kBF16), "BF16");
  EXPECT_EQ(DTypeSize(DType::kF32), 4);
  EXPECT_EQ(DTypeSize(DType::kF16), 2);
  EXPECT_EQ(DTypeSize(DType::kBF16), 2);
}

TEST(DTypeTest, HalfToFloatSpecialValues) {
  EXPECT_EQ(HalfToFloat(0x0000), 0.0f);
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xbc00), -1.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0400), std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(HalfToFloat(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(HalfToFloat(0x8001), -std::ldexp(1.0f, -24));    // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(HalfToFloat(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7e00)));
}

TEST(DTypeTest, HalfToFloatMatchesTheFormulaForEveryFiniteValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const uint32_t exponent = (bits >> 10) & 0x1f;
    if (exponent == 0x1f) continue;
    const uint32_t mantissa = bits & 0x3ff;
    const float magnitude =
        exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                      : std::ldexp(1.0f + mantissa / 1024.0f, static_cast<int>(exponent) - 15);
    const float expected = (bits & 0x8000) ? -magnitude : magnitude;
    ASSERT_EQ(HalfToFloat(static_cast<uint16_t>(bits)), expected) << std::hex << bits;
  }
}

TEST(DTypeTest, BFloat16RoundTripAndRounding) {
  EXPECT_EQ(BFloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBFloat16(-2.5f), 0xc020);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6 (even): rounds up.
  EXPECT_EQ(FloatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3f81);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::nanf("")))));
  EXPECT_EQ(FloatToBFloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const float value = BFloat16ToFloat(static_cast<uint16_t>(bits));
    if (std::isnan(value)) continue;
    ASSERT_EQ(FloatToBFloat16(value), bits);
  }
}

TEST(DTypeTest, ToFloat32ConvertsEachDtype) {
  const uint16_t half[] = {0x3c00, 0xc400};  // 1, -4
  const uint16_t bf16[] = {0x4040, 0xbf00};  // 3, -0.5
  const float f32[] = {0.25f, 8.0f};
  float out[2];
  ToFloat32(TensorView{DType::kF16, {2}, half}, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -4.0f);
  ToFloat32(TensorView{DType::kBF16, {1, 2}, bf16}, out);
  EXPECT_EQ(out[0], 3.0f);
  EXPECT_EQ(out[1], -0.5f);
  ToFloat32(TensorView{DType::kF32, {2}, f32}, out);
  EXPECT_EQ(out[0], 0.25f);
  EXPECT_EQ(out[1], 8.0f);
  EXPECT_EQ((TensorView{DType::kF32, {3, 4, 5}, f32}).numel(), 60);
}

}  // namespace
}  // namespace stride::engine::model
