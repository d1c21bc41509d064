// Builds a ready Engine from user-facing options: reads the model config, loads (or synthesizes)
// the weights, sizes the KV pool, picks the backend. `stride generate` and `stride serve` share it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"

namespace stride::engine {

struct EngineOptions {
  std::string model;  // a checkpoint directory, or a config.json path with kDummy
  model::LoadFormat load_format = model::LoadFormat::kAuto;
  uint64_t dummy_seed = 0;
  int max_model_len = 0;  // 0: the model's max_position_embeddings
  int max_num_batched_tokens = 2048;
  int max_num_seqs = 256;
  bool enable_chunked_prefill = true;
  bool priority_scheduling = false;
  int block_size = 16;
  int num_kv_blocks = 0;  // 0: as many as kv_cache_memory_bytes holds (capped by need)
  int64_t kv_cache_memory_bytes = 256LL << 20;
  bool enable_prefix_caching = true;
  int num_threads = 0;  // CPU backend threads; 0: one per core
  // "auto": CUDA when this build has it and a GPU is present, else CPU; "cpu"; "cuda".
  std::string device = "auto";
  double gpu_memory_utilization = 0.9;  // CUDA: share of device memory stride may use
  // "auto" (CUDA: bfloat16), "bfloat16" (CUDA only) or "float32": the element type of weights,
  // activations and KV cache. The CPU backend always computes in float32; CUDA float32 is the
  // exact mode for reference runs.
  std::string dtype = "auto";
  // "auto" (the same as dtype) or "fp8" / "fp8_e4m3" (CUDA, bfloat16 only): the KV cache's
  // element type. fp8 halves the KV bytes (twice the cached tokens, about half the decode
  // attention traffic) at a per-tensor scale of 1.
  std::string kv_cache_dtype = "auto";
  // Plan step N+1 while step N runs (EngineConfig::async_scheduling). Unset: on for the CUDA
  // backend (its Launch only queues work, so the host's planning hides behind the GPU's step), off
  // for the CPU backend (its Launch computes the whole step, so each token would only come a step
  // later).
  std::optional<bool> async_scheduling;
  bool enable_cuda_graphs = true;
  int cuda_gemm_candidates = 1;  // cuBLASLt algorithms timed per decode GEMM shape (1: heuristic)
  int cuda_gemm_tuned_max_rows = 512;  // ... for shapes of at most this many rows
};

struct LoadedEngine {
  model::ModelConfig model;
  std::string device;  // the backend chosen: "cpu" or "cuda"
  std::string dtype;   // what it computes in: "bfloat16" or "float32"
  std::string kv_cache_dtype;  // what its KV cache holds: dtype or "fp8_e4m3"
  bool async_scheduling = false;  // whether its loop plans step N+1 while step N runs
  std::unique_ptr<Engine> engine;
};

absl::StatusOr<LoadedEngine> CreateEngine(const EngineOptions& options);

}  // namespace stride::engine
