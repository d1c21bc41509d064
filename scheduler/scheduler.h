// The Sarathi-Serve (stall-free, chunked-prefill) scheduler. The engine loop calls
// Schedule() → runner → Update() once per step; front ends reach it only through the engine's
// inbox (AddRequest, Abort between steps). Not thread-safe: the engine loop thread owns it.
//
// Each step spends a token budget (max_num_batched_tokens) in this order:
//   1. running requests that decode (num_computed_tokens == num_tokens - 1), one token each;
//   2. running requests in the middle of a prefill, a chunk each (what is left of the budget);
//   3. waiting requests, FCFS or by (priority, arrival), the last one chunked to fit; with
//      chunked prefill disabled a prompt is admitted only whole. No admission in a step that
//      had to preempt.
// Decodes are therefore never stalled by prefills. When the KV pool cannot give a running
// request its slots, the lowest-ranked running request (highest priority value, then latest
// arrival) is preempted by recompute: blocks freed, num_computed_tokens reset, back to the
// front of the waiting queue with its generated tokens, which are recomputed as prompt. Under
// kPriority a waiting request may also preempt strictly lower-ranked running requests to get
// in. A request that fits the whole pool (checked by AddRequest) therefore always runs
// eventually.
//
// Asynchronous scheduling: Schedule() may plan step N+1 before Update() of step N (which the
// runner is still computing); Updates must then come in the order of their Schedules. A request
// with a step in flight counts its tokens there as scheduled (Request::num_in_flight_tokens) and
// the token that step samples as expected (num_pending_tokens); a decode chunk may therefore
// start at a token the runner takes from the step before (ScheduledChunk). A request whose
// token in flight ends it by length is not scheduled again; one stopped by a stop token in
// Update(N) loses the row step N+1 computed for it. Preempting a request with a step in flight
// drops that step's token (recomputation samples it again).
//
// Ownership: the scheduler owns every Request. Pointers in a SchedulerOutput stay valid until
// Update() for that step returns. Finished or aborted requests are kept until the next
// Schedule() (the one after that while a step is in flight) so that TakeFinished() can hand
// their final state to the engine.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvcache/kv_cache_manager.h"
#include "scheduler/request.h"
#include "scheduler/request_update.h"
#include "scheduler/scheduler_config.h"
#include "scheduler/scheduler_output.h"
#include "scheduler/step_output.h"

namespace stride::scheduler {

class Scheduler {
 public:
  // `config` must be valid (checked); `kv_cache` must outlive the scheduler.
  Scheduler(const SchedulerConfig& config, kvcache::KvCacheManager* kv_cache);
  // Same, with a bad config reported as a status.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Create(const SchedulerConfig& config,
                                                           kvcache::KvCacheManager* kv_cache);

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request (token_ids = its prompt, num_prompt_tokens set). InvalidArgument when it
  // is malformed or prompt + max_tokens exceeds max_model_len; ResourceExhausted when it could
  // not fit the whole KV pool even alone; AlreadyExists for a duplicate id.
  absl::Status AddRequest(std::unique_ptr<Request> request);

  // Finishes a request (kAbort) in any state and frees its blocks at once; false if unknown.
  // Safe between Schedule() and Update(): Update then ignores its chunk.
  bool Abort(RequestId id);

  SchedulerOutput Schedule();
  // Same, writing into `out` and reusing its buffers (chunk and block-table vectors keep their
  // capacity), so an engine that keeps one SchedulerOutput allocates nothing in steady state.
  void Schedule(SchedulerOutput* out);

  // Applies the runner's results for `output` (the oldest Schedule() not yet updated): advances
  // progress, appends sampled tokens, caches newly full blocks, finishes and frees stopped
  // requests.
  std::vector<RequestUpdate> Update(const SchedulerOutput& output, const StepOutput& step);

  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  int num_running() const { return static_cast<int>(running_.size()); }
  int64_t num_preemptions_total() const { return num_preemptions_total_; }
  bool HasUnfinished() const { return !waiting_.empty() || !running_.empty(); }

  // A live request, or one finished since the last Schedule(); nullptr otherwise.
  const Request* FindRequest(RequestId id) const;
  // Hands over a request finished (or aborted) since the last Schedule(); nullptr otherwise.
  std::unique_ptr<Request> TakeFinished(RequestId id);

  const SchedulerConfig& config() const { return config_; }

 private:
  struct Planned {
    Request* request;
    int num_new_tokens;
  };

  // Per step scratch of Schedule(); a member so its buffers are reused.
  struct StepPlan {
    std::vector<Planned> planned;
    std::vector<RequestId>* preempted = nullptr;  // the output's list
    int budget = 0;
  };

  // True when `a` runs before `b` (and is preempted after it).
  bool RanksBefore(const Request& a, const Request& b) const;
  void ScheduleRunning(Request* request, int num_new_tokens, StepPlan* plan);
  bool TryAdmit(Request* request, StepPlan* plan);
  Request* LowestRankedRunning() const;
  void Preempt(Request* victim, StepPlan* plan);
  void EnqueueWaiting(Request* request, bool front);
  void Retire(Request* request, FinishReason reason);

  SchedulerConfig config_;
  kvcache::KvCacheManager* kv_cache_;
  absl::flat_hash_map<RequestId, std::unique_ptr<Request>> live_;
  // Finished or aborted since the last Schedule(), and (only while a step is in flight at
  // Schedule(): asynchronous scheduling) those of the Schedule() before it.
  absl::flat_hash_map<RequestId, std::unique_ptr<Request>> retired_;
  absl::flat_hash_map<RequestId, std::unique_ptr<Request>> retired_previous_;
  int steps_in_flight_ = 0;  // Schedule()s with chunks whose Update() has not run
  std::deque<Request*> waiting_;   // in admission order
  std::vector<Request*> running_;  // hold KV; in admission order
  std::vector<RequestId> finished_since_last_step_;
  StepPlan plan_;
  std::vector<Request*> running_snapshot_;
  uint64_t next_arrival_index_ = 0;
  int64_t num_preemptions_total_ = 0;
};

}  // namespace stride::scheduler
