// Dense projections through cuBLASLt: y[m, n] = x[m, k] · w[n, k]^T, fp32 accumulation; bf16
// operands with bf16 or fp32 output (fp32 for logits), or fp32 operands and output (DType::kF32,
// the exact mode: full fp32 math, no TF32). w is in HF Linear layout
// ([out_features, in_features], row-major). A GemmContext owns the cuBLASLt handle, the
// workspace and, per shape, the descriptors and the chosen algorithm, so a shape pays for
// selection once and a launch needs no allocation (CUDA-graph capture safe).
//
// Selection: cuBLASLt's first heuristic answer, or (GemmTuning with several candidates, for shapes
// with at most `max_rows` rows) the fastest of its first candidates timed on the first call's own
// operands and stream, each run after L2 is overwritten (weights cold, as in a model step).
// Timing synchronizes that stream, so a first call must not happen inside stream capture (it
// falls back to the heuristic there and measures next time).
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "kernels/common/dtype.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

namespace stride::kernels {

enum class GemmOutput { kBF16, kF32 };

struct GemmTuning {
  int candidates = 1;  // heuristic answers timed per shape; 1: take the first, time nothing
  int max_rows = 0;    // only shapes with m <= max_rows are timed
};

// What measuring chose for one shape (the heuristic's first answer against the fastest).
struct GemmTuningRecord {
  int m = 0, n = 0, k = 0;
  int candidates = 0;  // timed
  int chosen = 0;      // index in the heuristic's order
  float heuristic_ms = 0, chosen_ms = 0;
};

struct GemmParams;

class GemmContext {
 public:
  // Creates the handle and a workspace of `workspace_bytes` on the current device.
  static cudaError_t Create(size_t workspace_bytes, std::unique_ptr<GemmContext>* out,
                            GemmTuning tuning = {});
  ~GemmContext();
  GemmContext(const GemmContext&) = delete;
  GemmContext& operator=(const GemmContext&) = delete;

  // The cuBLAS status of the last failed call (CUBLAS_STATUS_SUCCESS if none), for messages.
  cublasStatus_t last_cublas_status() const { return last_status_; }
  // Every measured selection so far, in the order the shapes were first seen.
  std::vector<GemmTuningRecord> tuning_records() const;
  // Shapes planned so far (each at its first call).
  size_t num_plans() const;

 private:
  friend cudaError_t LaunchGemm(const GemmParams& p, cudaStream_t stream);
  struct Plan;
  using Key = std::tuple<int, int, int, int, int>;  // m, n, k, output type, operand type

  GemmContext() = default;
  // The cached plan for p's shape (created on first use, measured on p's operands when tuning
  // applies); nullptr if cuBLASLt has none.
  const Plan* PlanFor(const GemmParams& p, cudaStream_t stream);
  // Times the heuristic's first candidates on p's operands (p.y is overwritten) and keeps the
  // fastest in `plan`; keeps the plan's algorithm when nothing can be timed. Holds mu_.
  void MeasureInto(Plan& plan, const GemmParams& p, cudaStream_t stream);
  // Allocates flush_ (twice the L2 size) on first use; false if it cannot.
  bool EnsureL2Flush();

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  void* flush_ = nullptr;  // overwritten before each timed run, evicting L2
  size_t flush_bytes_ = 0;
  GemmTuning tuning_;
  mutable std::mutex mu_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
  std::vector<GemmTuningRecord> records_;
  cublasStatus_t last_status_ = CUBLAS_STATUS_SUCCESS;
};

struct GemmParams {
  GemmContext* context = nullptr;
  const void* x = nullptr;  // [m, k], element type `dtype`
  const void* w = nullptr;  // [n, k], element type `dtype`
  void* y = nullptr;        // [m, n], __nv_bfloat16 or float per `output`
  GemmOutput output = GemmOutput::kBF16;
  DType dtype = DType::kBF16;  // operands; kF32 requires output kF32
  int m = 0;
  int n = 0;
  int k = 0;
};

// cudaErrorInvalidValue for fp32 operands with bf16 output; cudaErrorNotSupported when cuBLASLt
// offers no algorithm for the shape, cudaErrorUnknown when a
// cuBLASLt call fails (context->last_cublas_status() says which).
cudaError_t LaunchGemm(const GemmParams& p, cudaStream_t stream);

}  // namespace stride::kernels
