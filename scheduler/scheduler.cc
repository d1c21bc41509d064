#include "scheduler/scheduler.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "scheduler/stop_check.h"

namespace stride::scheduler {

namespace {

const SchedulerConfig& CheckedConfig(const SchedulerConfig& config) {
  absl::Status status = config.Validate();
  STRIDE_CHECK(status.ok()) << status.message();
  return config;
}

}  // namespace

Scheduler::Scheduler(const SchedulerConfig& config, kvcache::KvCacheManager* kv_cache)
    : config_(CheckedConfig(config)), kv_cache_(kv_cache) {
  STRIDE_CHECK(kv_cache_ != nullptr);
}

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(const SchedulerConfig& config,
                                                             kvcache::KvCacheManager* kv_cache) {
  absl::Status status = config.Validate();
  if (!status.ok()) return status;
  return std::make_unique<Scheduler>(config, kv_cache);
}

absl::Status Scheduler::AddRequest(std::unique_ptr<Request> request) {
  if (request == nullptr) return absl::InvalidArgumentError("scheduler: null request");
  Request& r = *request;
  if (live_.contains(r.id)) {
    return absl::AlreadyExistsError(absl::StrCat("request ", r.id, " is already scheduled"));
  }
  if (r.num_prompt_tokens < 1 || r.num_prompt_tokens > r.num_tokens()) {
    return absl::InvalidArgumentError(absl::StrCat("request ", r.id, ": the prompt has ",
                                                   r.num_prompt_tokens, " tokens of ",
                                                   r.num_tokens(), "; it needs at least one"));
  }
  if (r.sampling.max_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("request ", r.id, ": max_tokens must be >= 1, got ", r.sampling.max_tokens));
  }
  const int64_t max_total = static_cast<int64_t>(r.num_prompt_tokens) + r.sampling.max_tokens;
  if (max_total > config_.max_model_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("request ", r.id, ": prompt (", r.num_prompt_tokens, " tokens) + max_tokens (",
                     r.sampling.max_tokens, ") = ", max_total,
                     " exceeds the model's maximum length (", config_.max_model_len, ")"));
  }
  // The last sampled token never enters the cache.
  const int max_cached_tokens = static_cast<int>(max_total) - 1;
  const int max_step = config_.enable_chunked_prefill ? config_.max_num_batched_tokens : INT_MAX;
  const int blocks_needed = kv_cache_->BlocksNeeded(max_cached_tokens, max_step);
  if (blocks_needed > kv_cache_->num_total_blocks()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("request ", r.id, ": ", max_total, " tokens need up to ", blocks_needed,
                     " KV-cache blocks but the whole cache has ", kv_cache_->num_total_blocks(),
                     "; lower max_tokens or shorten the prompt"));
  }
  r.arrival_index = next_arrival_index_++;
  r.num_computed_tokens = 0;
  r.num_cached_tokens = 0;
  r.status = RequestStatus::kWaiting;
  r.finish_reason = FinishReason::kNone;
  r.num_preemptions = 0;
  EnqueueWaiting(&r, /*front=*/false);
  live_.emplace(r.id, std::move(request));
  return absl::OkStatus();
}

bool Scheduler::RanksBefore(const Request& a, const Request& b) const {
  if (config_.policy == SchedulerConfig::Policy::kPriority && a.priority != b.priority) {
    return a.priority < b.priority;
  }
  return a.arrival_index < b.arrival_index;
}

void Scheduler::EnqueueWaiting(Request* request, bool front) {
  if (config_.policy == SchedulerConfig::Policy::kPriority) {
    auto it = std::upper_bound(
        waiting_.begin(), waiting_.end(), request,
        [this](const Request* a, const Request* b) { return RanksBefore(*a, *b); });
    waiting_.insert(it, request);
  } else if (front) {
    waiting_.push_front(request);
  } else {
    waiting_.push_back(request);
  }
}

Request* Scheduler::LowestRankedRunning() const {
  Request* lowest = nullptr;
  for (Request* r : running_) {
    if (lowest == nullptr || RanksBefore(*lowest, *r)) lowest = r;
  }
  return lowest;
}

void Scheduler::Preempt(Request* victim, StepPlan* plan) {
  for (auto it = plan->planned.begin(); it != plan->planned.end(); ++it) {
    if (it->request == victim) {
      plan->budget += it->num_new_tokens;
      plan->planned.erase(it);
      break;
    }
  }
  kv_cache_->Free(victim->id);
  // A token still being sampled for it is dropped: recomputing its context samples it again
  // (the same token: sampling is seeded by position).
  victim->num_computed_tokens = 0;
  victim->num_in_flight_tokens = 0;
  victim->num_pending_tokens = 0;
  victim->num_stale_steps += victim->num_in_flight_steps;
  victim->num_in_flight_steps = 0;
  victim->status = RequestStatus::kPreempted;
  ++victim->num_preemptions;
  ++num_preemptions_total_;
  plan->preempted->push_back(victim->id);
  std::erase(running_, victim);
  EnqueueWaiting(victim, /*front=*/true);
}

void Scheduler::ScheduleRunning(Request* request, int num_new_tokens, StepPlan* plan) {
  while (!kv_cache_->AllocateSlots(request->id, request->token_ids, request->num_scheduled_tokens(),
                                   num_new_tokens, request->num_pending_tokens)) {
    Request* victim = LowestRankedRunning();
    Preempt(victim, plan);
    if (victim == request) return;
  }
  plan->planned.push_back(Planned{request, num_new_tokens});
  plan->budget -= num_new_tokens;
}

bool Scheduler::TryAdmit(Request* request, StepPlan* plan) {
  // Prompt log-probs need every prompt position computed, so such a request skips the prefix
  // cache on its first admission (as vLLM does); after a preemption they were already sent.
  const bool needs_every_position =
      request->sampling.prompt_logprobs >= 0 && request->num_preemptions == 0;
  const int num_cached = needs_every_position
                             ? 0
                             : kv_cache_->GetComputedBlocks(request->id, request->token_ids,
                                                            request->prefix_cache_salt);
  const int remaining = request->num_tokens() - num_cached;
  const int num_new_tokens = std::min(remaining, plan->budget);
  if (!config_.enable_chunked_prefill && num_new_tokens < remaining) {
    kv_cache_->Free(request->id);  // drop the prefix-cache hits it attached
    return false;
  }
  while (!kv_cache_->AllocateSlots(request->id, request->token_ids, num_cached, num_new_tokens)) {
    // Only priority scheduling lets a newcomer push out strictly lower-ranked requests.
    Request* victim =
        config_.policy == SchedulerConfig::Policy::kPriority ? LowestRankedRunning() : nullptr;
    if (victim == nullptr || !RanksBefore(*request, *victim)) {
      kv_cache_->Free(request->id);
      return false;
    }
    Preempt(victim, plan);
  }
  STRIDE_CHECK(waiting_.front() == request);
  waiting_.pop_front();
  if (request->status == RequestStatus::kWaiting) request->num_cached_tokens = num_cached;
  request->num_computed_tokens = num_cached;
  request->status = RequestStatus::kRunning;
  running_.push_back(request);
  plan->planned.push_back(Planned{request, num_new_tokens});
  plan->budget -= num_new_tokens;
  return true;
}

SchedulerOutput Scheduler::Schedule() {
  SchedulerOutput out;
  Schedule(&out);
  return out;
}

void Scheduler::Schedule(SchedulerOutput* out) {
  // Nobody holds pointers to requests retired before the last Schedule(): a step planned then
  // has had its Update(). Those retired since may sit in a step still in flight.
  retired_previous_.clear();
  if (steps_in_flight_ == 0) {
    retired_.clear();
  } else {
    std::swap(retired_, retired_previous_);
  }
  out->num_batched_tokens = 0;
  out->preempted.clear();
  out->finished.clear();
  out->finished.swap(finished_since_last_step_);

  StepPlan& plan = plan_;
  plan.planned.clear();
  plan.preempted = &out->preempted;
  plan.budget = config_.max_num_batched_tokens;
  // Preemption edits running_; walk a copy and skip whoever left it.
  running_snapshot_.assign(running_.begin(), running_.end());
  for (bool decode_pass : {true, false}) {
    for (Request* r : running_snapshot_) {
      if (plan.budget == 0) break;
      if (r->status != RequestStatus::kRunning) continue;
      // Its token in flight will end it by length: nothing more to compute.
      if (ReachesLengthLimit(*r, r->num_pending_tokens, config_.max_model_len)) continue;
      const int remaining = r->num_expected_tokens() - r->num_scheduled_tokens();
      if ((remaining == 1) != decode_pass) continue;
      ScheduleRunning(r, std::min(remaining, plan.budget), &plan);
    }
  }
  if (out->preempted.empty()) {
    while (!waiting_.empty() && plan.budget > 0 &&
           static_cast<int>(running_.size()) < config_.max_num_seqs) {
      if (!TryAdmit(waiting_.front(), &plan)) break;
    }
  }

  // resize() keeps the surviving chunks, and copy-assigning their tables reuses capacity.
  out->chunks.resize(plan.planned.size());
  for (size_t i = 0; i < plan.planned.size(); ++i) {
    const Planned& p = plan.planned[i];
    const Request& r = *p.request;
    ScheduledChunk& chunk = out->chunks[i];
    chunk.request = &r;
    chunk.num_computed_tokens = r.num_scheduled_tokens();
    chunk.num_new_tokens = p.num_new_tokens;
    chunk.sample = r.num_scheduled_tokens() + p.num_new_tokens == r.num_expected_tokens();
    chunk.block_tables = kv_cache_->BlockTables(r.id);
    out->num_batched_tokens += p.num_new_tokens;
    p.request->num_in_flight_tokens += p.num_new_tokens;
    ++p.request->num_in_flight_steps;
    if (chunk.sample) ++p.request->num_pending_tokens;
  }
  if (!out->chunks.empty()) ++steps_in_flight_;
  plan.preempted = nullptr;
}

void Scheduler::Retire(Request* request, FinishReason reason) {
  request->status = RequestStatus::kFinished;
  request->finish_reason = reason;
  kv_cache_->Free(request->id);
  finished_since_last_step_.push_back(request->id);
  auto it = live_.find(request->id);
  STRIDE_CHECK(it != live_.end());
  retired_.insert_or_assign(request->id, std::move(it->second));
  live_.erase(it);
}

std::vector<RequestUpdate> Scheduler::Update(const SchedulerOutput& output,
                                             const StepOutput& step) {
  STRIDE_CHECK_EQ(output.chunks.size(), step.chunks.size()) << "one ChunkOutput per chunk";
  if (!output.chunks.empty()) {
    STRIDE_CHECK_GE(steps_in_flight_, 1) << "Update() without a Schedule() for it";
    --steps_in_flight_;
  }
  std::vector<RequestUpdate> updates;
  bool any_finished = false;
  for (size_t i = 0; i < output.chunks.size(); ++i) {
    const ScheduledChunk& chunk = output.chunks[i];
    const ChunkOutput& result = step.chunks[i];
    // The scheduler owns the request; the output only lends it to the runner as const.
    Request* r = const_cast<Request*>(chunk.request);
    // Preempted while this step was in flight (it may be running again since, from scratch):
    // nothing of this chunk counts. Updates come in order, so its stale chunks come first.
    if (r->num_stale_steps > 0) {
      --r->num_stale_steps;
      continue;
    }
    // Aborted or finished (by the step before, while this one was in flight) after Schedule():
    // nothing of this chunk counts.
    if (r->status != RequestStatus::kRunning) continue;
    --r->num_in_flight_steps;
    STRIDE_CHECK_EQ(result.request_id, r->id);
    STRIDE_CHECK_EQ(r->num_computed_tokens, chunk.num_computed_tokens)
        << "steps must be updated in the order they were scheduled";
    STRIDE_CHECK_EQ(result.sampled, chunk.sample);
    r->num_computed_tokens += chunk.num_new_tokens;
    r->num_in_flight_tokens -= chunk.num_new_tokens;
    if (result.sampled) {
      --r->num_pending_tokens;
      r->token_ids.push_back(result.next_token.token_id);
    }
    kv_cache_->CacheFullBlocks(r->id, r->token_ids, r->num_computed_tokens);
    if (!result.sampled) continue;
    RequestUpdate& update = updates.emplace_back();
    update.request_id = r->id;
    update.chunk_index = static_cast<int>(i);
    update.token_id = result.next_token.token_id;
    update.finish_reason = CheckStop(*r, config_.max_model_len);
    if (update.finished()) {
      Retire(r, update.finish_reason);
      any_finished = true;
    }
  }
  if (any_finished) {
    std::erase_if(running_, [](const Request* r) { return r->status != RequestStatus::kRunning; });
  }
  return updates;
}

bool Scheduler::Abort(RequestId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return false;
  Request* r = it->second.get();
  if (r->status == RequestStatus::kRunning) {
    std::erase(running_, r);
  } else {
    std::erase(waiting_, r);
  }
  Retire(r, FinishReason::kAbort);
  return true;
}

const Request* Scheduler::FindRequest(RequestId id) const {
  if (auto it = live_.find(id); it != live_.end()) return it->second.get();
  for (const auto* retired : {&retired_, &retired_previous_}) {
    if (auto it = retired->find(id); it != retired->end()) return it->second.get();
  }
  return nullptr;
}

std::unique_ptr<Request> Scheduler::TakeFinished(RequestId id) {
  for (auto* retired : {&retired_, &retired_previous_}) {
    auto it = retired->find(id);
    if (it == retired->end()) continue;
    std::unique_ptr<Request> request = std::move(it->second);
    retired->erase(it);
    return request;
  }
  return nullptr;
}

}  // namespace stride::scheduler
