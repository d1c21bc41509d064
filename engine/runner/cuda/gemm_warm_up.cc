// Warming the runner's GEMM shapes when it starts. The first call of a cuBLASLt shape queries its
// heuristic and loads the kernel it picks, and that first call waits for the device to finish
// what is queued before it: under asynchronous scheduling a new shape in step N+1's Launch holds
// the host until step N is done, and the first token of a fresh server comes one step late
// (kernels/NOTES.md round 12). Row counts are bucketed (GemmRowBucket), so the shapes a step can
// use are known from the scheduler's limits; each is run once here, on the first layer's weights
// and whatever the activation buffers hold, before any step. Not covered: steps with more logit
// rows than max_num_seqs (prompt log-probs), which grow the logits buffer and drain anyway.
#include "engine/runner/cuda/cuda_runner_impl.h"

namespace stride::engine::runner::cuda {

void CudaModelRunner::WarmUpGemms(int max_tokens, int max_rows) {
  const int hidden = config_.hidden_size, ffn = config_.intermediate_size;
  const int q_width = config_.num_heads * config_.head_dim;
  const CudaLayerWeights& w = weights_.layers[0];
  for (int m : GemmRowBuckets(std::min(max_tokens, token_capacity_))) {
    Gemm(hidden_.get(), w.qkv_proj, qkv_.get(), m, qkv_width_, hidden);
    Gemm(attn_.get(), w.o_proj, sublayer_out_.get(), m, hidden, q_width);
    GateUpSilu(0, m);
    Gemm(act_.get(), w.down_proj, sublayer_out_.get(), m, hidden, ffn);
  }
  for (int m : GemmRowBuckets(std::min(max_rows, row_capacity_))) {
    Gemm(hidden_.get(), weights_.lm_head, logits_.get(), m, config_.vocab_size, hidden,
         kernels::GemmOutput::kF32);
  }
  STRIDE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  gemm_plans_at_start_ = static_cast<int>(gemm_->num_plans());
  trace_.Note("GEMM shapes warmed", num_launches_);
}

}  // namespace stride::engine::runner::cuda
