// The engine: one loop thread that owns the scheduler and the KV-cache manager and drives the
// model runner step by step (Schedule -> Execute -> Update). Front ends call Submit and Abort
// from any thread; results come back on per-request RequestStreams. See ARCHITECTURE.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/model/model_config.h"
#include "engine/request.h"
#include "engine/request_stream.h"
#include "engine/runner/model_runner.h"
#include "kvcache/block.h"
#include "kvcache/kv_cache_manager.h"
#include "scheduler/scheduler.h"

namespace stride::engine {

struct EngineConfig {
  scheduler::SchedulerConfig scheduler;
  kvcache::KvCacheConfig kv_cache;
  // Plan and launch step N+1 before taking step N's results, so the runner's device never waits
  // for the engine loop (scheduler/scheduler.h; docs/design-async-scheduling.md). The runner
  // must support it (ModelRunner::SupportsAsyncScheduling).
  bool async_scheduling = false;
};

// Counters for /metrics and tests; a consistent snapshot taken between steps.
struct EngineStats {
  int num_waiting = 0;
  int num_running = 0;
  int64_t num_steps = 0;
  int64_t num_preemptions = 0;
  int64_t num_prompt_tokens = 0;           // of admitted requests (once per request, like vLLM)
  int64_t num_prompt_tokens_computed = 0;  // prompt positions run (prefix-cache hits excluded)
  int64_t num_generated_tokens = 0;
  int64_t prefix_cache_query_tokens = 0;
  int64_t prefix_cache_hit_tokens = 0;
  int num_free_kv_blocks = 0;
  int num_total_kv_blocks = 0;
  double kv_usage = 0.0;
};

class Engine {
 public:
  // Starts the loop thread. `config.kv_cache` must be the layout the runner was built with.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineConfig& config,
                                                        const model::ModelConfig& model,
                                                        std::unique_ptr<runner::ModelRunner> runner);
  ~Engine();  // aborts what is left and joins the loop
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Malformed input (empty prompt, ids outside the vocabulary, bad knobs) is
  // rejected here; a request the scheduler refuses (too long, can never fit the KV pool) gets a
  // kError output with that status on its stream.
  absl::StatusOr<std::shared_ptr<RequestStream>> Submit(GenerateRequest request);
  // Aborts every sequence of the stream's request (or only sequence `index` of its n), in
  // whatever state; their blocks are free after the current step. Unknown ids are ignored.
  void Abort(uint64_t stream_id, int index = -1);

  EngineStats stats() const;
  const model::ModelConfig& model_config() const { return model_; }
  int max_model_len() const { return config_.scheduler.max_model_len; }

 private:
  struct Pending {
    GenerateRequest request;
    std::shared_ptr<RequestStream> stream;
  };
  // Per scheduler request (one per sequence): where its outputs go.
  struct Sequence {
    std::shared_ptr<RequestStream> stream;
    int index = 0;
    int num_prompt_logprobs_sent = 0;  // positions 1..sent delivered
  };

  Engine(const EngineConfig& config, const model::ModelConfig& model,
         std::unique_ptr<runner::ModelRunner> runner);
  void Loop();
  // Moves the inbox into the scheduler; returns false when stopping.
  bool DrainInbox(bool block);
  void Admit(Pending pending);
  void Step();
  // Applies a finished step's results: scheduler update, prompt log-probs, tokens to streams.
  void ApplyStep(const scheduler::SchedulerOutput& output, scheduler::StepOutput step);
  bool HasWork() const { return scheduler_.HasUnfinished() || step_in_flight_; }
  void FinishSequence(scheduler::RequestId id, FinishReason reason, absl::Status status);
  void PublishStats();

  const EngineConfig config_;
  const model::ModelConfig model_;
  std::unique_ptr<runner::ModelRunner> runner_;
  kvcache::KvCacheManager kv_cache_;
  scheduler::Scheduler scheduler_;

  // Loop-thread state.
  absl::flat_hash_map<scheduler::RequestId, Sequence> sequences_;
  absl::flat_hash_map<uint64_t, std::vector<scheduler::RequestId>> sequences_of_stream_;
  scheduler::RequestId next_request_id_ = 1;
  // The step being planned and (asynchronous scheduling) the one in flight; buffers reused.
  scheduler::SchedulerOutput outputs_[2];
  int next_output_ = 0;          // which of outputs_ the next Schedule() fills
  bool step_in_flight_ = false;  // asynchronous scheduling: outputs_[next_output_ ^ 1] runs
  EngineStats loop_stats_;

  // Shared with front ends.
  mutable absl::Mutex mutex_;
  std::deque<Pending> inbox_ ABSL_GUARDED_BY(mutex_);
  struct AbortOrder {
    uint64_t stream_id;
    int index;  // -1: every sequence
  };
  std::vector<AbortOrder> aborts_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  EngineStats published_stats_ ABSL_GUARDED_BY(mutex_);
  std::atomic<uint64_t> next_stream_id_{1};

  std::thread loop_;
};

}  // namespace stride::engine
