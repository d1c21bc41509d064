// Helpers for the GPU tests and benchmarks: checked CUDA calls, typed device arrays, bf16
// conversion, random inputs, NaN poisoning and the relative-error metric
// ||out - ref|| / ||ref|| (NaN anywhere makes it NaN, which never passes a < check).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#define GPU_CHECK(expr)                                                                  \
  do {                                                                                   \
    const cudaError_t gpu_check_error_ = (expr);                                         \
    if (gpu_check_error_ != cudaSuccess) {                                               \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,                 \
                   cudaGetErrorString(gpu_check_error_));                                \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace stride::testing::gpu {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t n) : n_(n) { GPU_CHECK(cudaMalloc(&data_, std::max<size_t>(n, 1) * sizeof(T))); }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { Upload(host); }
  ~DeviceArray() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  void Upload(const std::vector<T>& host) {
    GPU_CHECK(cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> Download() const {
    std::vector<T> host(n_);
    GPU_CHECK(cudaMemcpy(host.data(), data_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  // All-ones bytes: NaN in bf16, fp16 and fp32.
  void Poison() { GPU_CHECK(cudaMemset(data_, 0xff, n_ * sizeof(T))); }
  T* get() const { return data_; }
  size_t size() const { return n_; }

 private:
  T* data_ = nullptr;
  size_t n_ = 0;
};

inline float ToFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
inline float ToFloat(float x) { return x; }
inline float ToFloat(__nv_fp8_e4m3 x) { return static_cast<float>(x); }

// fp8 e4m3 KV-cache elements for value / scale (round to nearest, saturated to +-448), and the
// values they stand for (e4m3 * scale), which is what a CPU reference must be fed.
inline std::vector<__nv_fp8_e4m3> ToFp8(const std::vector<float>& x, float scale) {
  std::vector<__nv_fp8_e4m3> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = __nv_fp8_e4m3(x[i] / scale);
  return out;
}
inline std::vector<float> Fp8Values(const std::vector<__nv_fp8_e4m3>& x, float scale) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i]) * scale;
  return out;
}

inline std::vector<__nv_bfloat16> ToBf16(const std::vector<float>& x) {
  std::vector<__nv_bfloat16> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = __float2bfloat16(x[i]);
  return out;
}

template <typename T>
std::vector<float> ToFloats(const std::vector<T>& x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = ToFloat(x[i]);
  return out;
}

// Uniform in [-scale, scale), rounded to bf16 so that GPU and CPU see the same inputs.
inline std::vector<float> RandomBf16Values(size_t n, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> out(n);
  for (float& v : out) v = __bfloat162float(__float2bfloat16(dist(rng)));
  return out;
}

// Uniform in [-scale, scale), full fp32 (for the exact fp32 mode's kernels).
inline std::vector<float> RandomValues(size_t n, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> out(n);
  for (float& v : out) v = dist(rng);
  return out;
}

template <typename T>
double RelativeError(const std::vector<T>& out, const std::vector<float>& ref) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double o = ToFloat(out[i]);
    diff += (o - ref[i]) * (o - ref[i]);
    norm += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

// Seeds from the clock: every run draws fresh inputs (printed for reproduction).
unsigned FreshSeed();

}  // namespace stride::testing::gpu
