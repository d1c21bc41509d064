// Scalar conversions between float32 and the 16-bit float formats stored in checkpoints.
// ToFloat32 (weights.h) uses them for whole tensors; the dummy-weight generator and backends that
// keep bf16 copies use FloatToBFloat16.
#pragma once

#include <cstdint>
#include <cstring>

namespace stride::engine::model {

inline float BFloat16ToFloat(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

// Round to nearest, ties to even; NaN stays a (quiet) NaN.
inline uint16_t FloatToBFloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

// IEEE binary16 to binary32, exact for every input (subnormals, infinities and NaN included).
float HalfToFloat(uint16_t bits);

}  // namespace stride::engine::model
