// Element types of checkpoint tensors and their conversion to float32 (declared in weights.h and
// dtype_convert.h).
#include <cstring>

#include "base/check.h"
#include "engine/model/dtype_convert.h"
#include "engine/model/weights.h"

namespace stride::engine::model {

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
  }
  return "?";
}

int DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
  }
  return 0;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;
  return n;
}

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t out;
  if (exponent == 0x1f) {  // infinity or NaN
    out = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    out = sign;
  } else {  // subnormal: shift the leading one into the implicit bit
    uint32_t shifted_exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --shifted_exponent;
    }
    out = sign | (shifted_exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &out, sizeof(value));
  return value;
}

void ToFloat32(const TensorView& view, float* out) {
  STRIDE_CHECK(view.present()) << "ToFloat32 on an absent tensor";
  const int64_t n = view.numel();
  switch (view.dtype) {
    case DType::kF32:
      std::memcpy(out, view.data, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kBF16: {
      const auto* bytes = static_cast<const unsigned char*>(view.data);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, 2);  // mapped data need not be 2-byte aligned
        out[i] = BFloat16ToFloat(bits);
      }
      return;
    }
    case DType::kF16: {
      const auto* bytes = static_cast<const unsigned char*>(view.data);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, 2);
        out[i] = HalfToFloat(bits);
      }
      return;
    }
  }
}

}  // namespace stride::engine::model
