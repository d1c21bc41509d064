// The CPU reference backend: runs a Llama-family decoder step in fp32 over a paged KV cache in
// host memory, reading the same block tables the CUDA backend reads. What CI runs, and what the
// CUDA backend is checked against.
#pragma once

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/thread_pool.h"
#include "engine/model/model_config.h"
#include "engine/model/rope_frequencies.h"
#include "engine/model/weights.h"
#include "engine/runner/cpu/cpu_weights.h"
#include "engine/runner/model_runner.h"
#include "kvcache/block.h"

namespace stride::engine::runner::cpu {

class CpuModelRunner : public ModelRunner {
 public:
  // num_threads <= 0: one per hardware thread. Allocates the KV pool (kv.num_blocks blocks for
  // every layer) up front.
  CpuModelRunner(const model::ModelConfig& config, const model::ModelWeights& weights,
                 const kvcache::KvCacheConfig& kv, int num_threads);

  scheduler::StepOutput Execute(const scheduler::SchedulerOutput& output) override;
  // It computes each step inside Launch, so the token a step in flight samples is known when
  // the next step is launched.
  bool SupportsAsyncScheduling() const override { return true; }

  // Bytes of KV cache per block across all layers (for sizing the pool).
  static int64_t KvBytesPerBlock(const model::ModelConfig& config, int block_size);

 private:
  struct Batch;  // the flattened step: tokens, positions, slots, chunk offsets

  Batch Flatten(const scheduler::SchedulerOutput& output) const;
  // Runs every layer; returns the final-normed hidden states [num_tokens, hidden].
  std::vector<float> Forward(const scheduler::SchedulerOutput& output, const Batch& batch);
  void Attention(int layer, const scheduler::SchedulerOutput& output, const Batch& batch,
                 std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                 std::vector<float>& out);
  const model::RopeFrequencies& FrequenciesFor(int seq_len);
  // Token `position` of the chunk's request: known, or (asynchronous scheduling) the one the
  // previous step sampled for it.
  int32_t TokenAt(const scheduler::ScheduledChunk& chunk, int position) const;

  model::ModelConfig config_;
  kvcache::KvCacheConfig kv_;
  CpuWeights weights_;
  std::vector<int> layer_group_;  // layer -> KV-cache group
  model::RopeFrequencies rope_;
  model::RopeFrequencies dynamic_rope_;  // `dynamic` scaling for the current sequence length
  int dynamic_rope_len_ = -1;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer
  base::ThreadPool pool_;
  absl::flat_hash_map<scheduler::RequestId, int32_t> sampled_last_step_;
};

}  // namespace stride::engine::runner::cpu
