// A device tensor whose element type is a run-time kernels::DType, for the tests of kernels that
// take `dtype` (embedding, norm, activation, RoPE): the same test body runs in bf16 and in fp32
// (and, for KV caches, fp8 e4m3).
// Host values are floats both ways; RandomValuesFor gives inputs both backends see exactly.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/common/dtype.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {

class DeviceTensor {
 public:
  // n elements of `dtype`, NaN-poisoned.
  DeviceTensor(size_t n, kernels::DType dtype)
      : dtype_(dtype), n_(n), bytes_(n * kernels::DTypeBytes(dtype)) {
    bytes_.Poison();
  }
  // `values` rounded to `dtype` (to nearest; fp8 e4m3 saturated, scale 1).
  DeviceTensor(const std::vector<float>& values, kernels::DType dtype)
      : DeviceTensor(values.size(), dtype) {
    std::vector<uint8_t> host(bytes_.size());
    if (dtype_ == kernels::DType::kF32) {
      std::memcpy(host.data(), values.data(), host.size());
    } else if (dtype_ == kernels::DType::kFP8E4M3) {
      std::memcpy(host.data(), ToFp8(values, 1.0f).data(), host.size());
    } else {
      std::memcpy(host.data(), ToBf16(values).data(), host.size());
    }
    bytes_.Upload(host);
  }

  void* get() const { return bytes_.get(); }
  // The address of element `index` (what `get() + index` would be on a typed pointer).
  void* PointerTo(size_t index) const { return bytes_.get() + index * kernels::DTypeBytes(dtype_); }

  std::vector<float> Download() const {
    const std::vector<uint8_t> host = bytes_.Download();
    if (dtype_ == kernels::DType::kF32) {
      std::vector<float> out(n_);
      std::memcpy(out.data(), host.data(), host.size());
      return out;
    }
    if (dtype_ == kernels::DType::kFP8E4M3) {  // the elements as stored (not times a scale)
      std::vector<__nv_fp8_e4m3> out(n_);
      std::memcpy(out.data(), host.data(), host.size());
      return Fp8Values(out, 1.0f);
    }
    std::vector<__nv_bfloat16> out(n_);
    std::memcpy(out.data(), host.data(), host.size());
    return ToFloats(out);
  }

 private:
  kernels::DType dtype_;
  size_t n_;
  DeviceArray<uint8_t> bytes_;
};

// Uniform in [-scale, scale): rounded to bf16 for a bf16 run (so that GPU and CPU see the same
// inputs), full fp32 for an fp32 run.
inline std::vector<float> RandomValuesFor(kernels::DType dtype, size_t n, float scale,
                                          std::mt19937& rng) {
  return dtype == kernels::DType::kF32 ? RandomValues(n, scale, rng)
                                       : RandomBf16Values(n, scale, rng);
}

// Test-name suffix for a DType parameter: "BF16", "F32" or "FP8E4M3".
inline std::string DTypeName(const ::testing::TestParamInfo<kernels::DType>& info) {
  return info.param == kernels::DType::kF32       ? "F32"
         : info.param == kernels::DType::kFP8E4M3 ? "FP8E4M3"
                                                  : "BF16";
}

}  // namespace stride::testing::gpu
