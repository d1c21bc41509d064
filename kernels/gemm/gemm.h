// Dense projections through cuBLASLt: y[m, n] = x[m, k] · w[n, k]^T, bf16 operands, fp32
// accumulation, bf16 or fp32 output (fp32 for logits). w is in HF Linear layout
// ([out_features, in_features], row-major). A GemmContext owns the cuBLASLt handle, the
// workspace and, per shape, the descriptors and the algorithm the heuristic picked, so a shape
// pays for selection once and a launch needs no allocation (CUDA-graph capture safe).
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace stride::kernels {

enum class GemmOutput { kBF16, kF32 };

struct GemmParams;

class GemmContext {
 public:
  // Creates the handle and a workspace of `workspace_bytes` on the current device.
  static cudaError_t Create(size_t workspace_bytes, std::unique_ptr<GemmContext>* out);
  ~GemmContext();
  GemmContext(const GemmContext&) = delete;
  GemmContext& operator=(const GemmContext&) = delete;

  // The cuBLAS status of the last failed call (CUBLAS_STATUS_SUCCESS if none), for messages.
  cublasStatus_t last_cublas_status() const { return last_status_; }

 private:
  friend cudaError_t LaunchGemm(const GemmParams& p, cudaStream_t stream);
  struct Plan;
  using Key = std::tuple<int, int, int, int>;  // m, n, k, output type

  GemmContext() = default;
  // The cached plan for a shape (created on first use); nullptr if cuBLASLt has none.
  const Plan* PlanFor(int m, int n, int k, GemmOutput output);

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::mutex mu_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
  cublasStatus_t last_status_ = CUBLAS_STATUS_SUCCESS;
};

struct GemmParams {
  GemmContext* context = nullptr;
  const __nv_bfloat16* x = nullptr;  // [m, k]
  const __nv_bfloat16* w = nullptr;  // [n, k]
  void* y = nullptr;                 // [m, n], __nv_bfloat16 or float per `output`
  GemmOutput output = GemmOutput::kBF16;
  int m = 0;
  int n = 0;
  int k = 0;
};

// cudaErrorNotSupported when cuBLASLt offers no algorithm for the shape, cudaErrorUnknown when a
// cuBLASLt call fails (context->last_cublas_status() says which).
cudaError_t LaunchGemm(const GemmParams& p, cudaStream_t stream);

}  // namespace stride::kernels
