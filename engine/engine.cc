#include "engine/engine.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "engine/sampling_validation.h"

namespace stride::engine {

using scheduler::Request;
using scheduler::RequestId;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    const EngineConfig& config, const model::ModelConfig& model,
    std::unique_ptr<runner::ModelRunner> runner) {
  if (absl::Status s = config.scheduler.Validate(); !s.ok()) return s;
  if (absl::Status s = kvcache::ValidateKvCacheConfig(config.kv_cache); !s.ok()) return s;
  if (config.async_scheduling && !runner->SupportsAsyncScheduling()) {
    return absl::UnimplementedError(
        "asynchronous scheduling needs a runner that supports it");
  }
  return std::unique_ptr<Engine>(new Engine(config, model, std::move(runner)));
}

Engine::Engine(const EngineConfig& config, const model::ModelConfig& model,
               std::unique_ptr<runner::ModelRunner> runner)
    : config_(config),
      model_(model),
      runner_(std::move(runner)),
      kv_cache_(config.kv_cache),
      scheduler_(config.scheduler, &kv_cache_) {
  PublishStats();
  loop_ = std::thread([this] { Loop(); });
}

Engine::~Engine() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  loop_.join();
}

absl::StatusOr<std::shared_ptr<RequestStream>> Engine::Submit(GenerateRequest request) {
  if (request.prompt_token_ids.empty()) return absl::InvalidArgumentError("the prompt is empty");
  for (int32_t id : request.prompt_token_ids) {
    if (id < 0 || id >= model_.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("prompt token id ", id,
                                                     " is outside the vocabulary [0, ",
                                                     model_.vocab_size, ")"));
    }
  }
  if (absl::Status s = ValidateSamplingParams(request.sampling, model_.vocab_size); !s.ok()) {
    return s;
  }
  auto stream = std::make_shared<RequestStream>(next_stream_id_++, request.sampling.n);
  absl::MutexLock lock(&mutex_);
  if (stopping_) return absl::UnavailableError("the engine is shutting down");
  inbox_.push_back(Pending{std::move(request), stream});
  return stream;
}

void Engine::Abort(uint64_t stream_id, int index) {
  absl::MutexLock lock(&mutex_);
  aborts_.push_back(AbortOrder{stream_id, index});
}

EngineStats Engine::stats() const {
  absl::MutexLock lock(&mutex_);
  return published_stats_;
}

void Engine::Loop() {
  while (DrainInbox(/*block=*/!HasWork())) {
    if (HasWork()) Step();
    PublishStats();
  }
  if (step_in_flight_) {  // its results go nowhere: everything left is aborted below
    runner_->Finish();
    step_in_flight_ = false;
  }
  // Shutting down: abort everything still in flight so no stream waits forever, including
  // requests submitted but not yet admitted.
  std::deque<Pending> never_admitted;
  {
    absl::MutexLock lock(&mutex_);
    never_admitted.swap(inbox_);
  }
  for (Pending& pending : never_admitted) {
    for (int i = 0; i < pending.request.sampling.n; ++i) {
      RequestOutput delta;
      delta.index = i;
      delta.finish_reason = FinishReason::kAbort;
      pending.stream->Push(std::move(delta));
    }
  }
  std::vector<RequestId> ids;
  for (const auto& [id, seq] : sequences_) ids.push_back(id);
  for (RequestId id : ids) {
    scheduler_.Abort(id);
    FinishSequence(id, FinishReason::kAbort, absl::OkStatus());
  }
}

bool Engine::DrainInbox(bool block) {
  std::deque<Pending> inbox;
  std::vector<AbortOrder> aborts;
  {
    absl::MutexLock lock(&mutex_);
    if (block) {
      mutex_.Await(absl::Condition(
          +[](Engine* e) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return e->stopping_ || !e->inbox_.empty() || !e->aborts_.empty();
          },
          this));
    }
    if (stopping_) return false;
    inbox.swap(inbox_);
    aborts.swap(aborts_);
  }
  for (Pending& pending : inbox) Admit(std::move(pending));
  for (const AbortOrder& order : aborts) {
    auto it = sequences_of_stream_.find(order.stream_id);
    if (it == sequences_of_stream_.end()) continue;
    for (RequestId id : std::vector<RequestId>(it->second)) {
      if (order.index >= 0 && sequences_[id].index != order.index) continue;
      if (scheduler_.Abort(id)) FinishSequence(id, FinishReason::kAbort, absl::OkStatus());
    }
  }
  return true;
}

void Engine::Admit(Pending pending) {
  const GenerateRequest& r = pending.request;
  static thread_local std::mt19937_64 seed_source{std::random_device{}()};
  const uint64_t base_seed = r.sampling.seed ? *r.sampling.seed : seed_source();
  loop_stats_.num_prompt_tokens += static_cast<int64_t>(r.prompt_token_ids.size());
  std::vector<RequestId>& ids = sequences_of_stream_[pending.stream->id()];
  for (int i = 0; i < r.sampling.n; ++i) {
    auto request = std::make_unique<Request>();
    request->id = next_request_id_++;
    request->sampling = r.sampling;
    request->priority = r.priority;
    request->token_ids = r.prompt_token_ids;
    request->num_prompt_tokens = static_cast<int>(r.prompt_token_ids.size());
    request->eos_token_ids = model_.eos_token_ids;
    request->seed = base_seed + static_cast<uint64_t>(i);  // n > 1: distinct, reproducible
    const RequestId id = request->id;
    sequences_[id] = Sequence{pending.stream, i, 0};
    ids.push_back(id);
    if (absl::Status s = scheduler_.AddRequest(std::move(request)); !s.ok()) {
      FinishSequence(id, FinishReason::kError, s);
    }
  }
}

void Engine::Step() {
  scheduler::SchedulerOutput& output = outputs_[next_output_];
  scheduler_.Schedule(&output);  // reuses the buffers of two steps ago
  if (!config_.async_scheduling) {
    if (!output.empty()) ApplyStep(output, runner_->Execute(output));
    return;
  }
  const bool launched = !output.empty();
  if (launched) runner_->Launch(output);
  if (step_in_flight_) ApplyStep(outputs_[next_output_ ^ 1], runner_->Finish());
  step_in_flight_ = launched;
  if (launched) next_output_ ^= 1;
}

void Engine::ApplyStep(const scheduler::SchedulerOutput& output, scheduler::StepOutput step) {
  STRIDE_CHECK_EQ(step.chunks.size(), output.chunks.size());

  // Prompt log-probs: positions recomputed after a preemption were already sent.
  for (size_t c = 0; c < output.chunks.size(); ++c) {
    const scheduler::ScheduledChunk& chunk = output.chunks[c];
    auto& prompt_logprobs = step.chunks[c].prompt_logprobs;
    loop_stats_.num_prompt_tokens_computed +=
        std::max(0, std::min(chunk.num_computed_tokens + chunk.num_new_tokens,
                             chunk.request->num_prompt_tokens) -
                        chunk.num_computed_tokens);
    if (prompt_logprobs.empty()) continue;
    auto it = sequences_.find(chunk.request->id);
    if (it == sequences_.end()) continue;
    RequestOutput delta;
    delta.index = it->second.index;
    for (size_t i = 0; i < prompt_logprobs.size(); ++i) {
      const int position = chunk.num_computed_tokens + static_cast<int>(i) + 1;
      if (position > it->second.num_prompt_logprobs_sent) {
        delta.prompt_logprobs.push_back(std::move(prompt_logprobs[i]));
        it->second.num_prompt_logprobs_sent = position;
      }
    }
    if (!delta.prompt_logprobs.empty()) it->second.stream->Push(std::move(delta));
  }

  std::vector<scheduler::RequestUpdate> updates = scheduler_.Update(output, step);
  for (const scheduler::RequestUpdate& update : updates) {
    auto it = sequences_.find(update.request_id);
    if (it == sequences_.end()) continue;
    ++loop_stats_.num_generated_tokens;
    const scheduler::Request& request = *output.chunks[update.chunk_index].request;
    RequestOutput delta;
    delta.index = it->second.index;
    delta.num_prompt_tokens = request.num_prompt_tokens;
    delta.token_ids.push_back(update.token_id);
    if (request.sampling.logprobs >= 0) {
      delta.logprobs.push_back(step.chunks[update.chunk_index].next_token);
    }
    if (update.finished()) {
      delta.finish_reason = update.finish_reason;
      delta.num_cached_tokens = request.num_cached_tokens;
      std::shared_ptr<RequestStream> stream = it->second.stream;
      sequences_.erase(it);
      auto& ids = sequences_of_stream_[stream->id()];
      std::erase(ids, update.request_id);
      if (ids.empty()) sequences_of_stream_.erase(stream->id());
      stream->Push(std::move(delta));
    } else {
      it->second.stream->Push(std::move(delta));
    }
  }
  ++loop_stats_.num_steps;
}

void Engine::FinishSequence(RequestId id, FinishReason reason, absl::Status status) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  std::shared_ptr<RequestStream> stream = it->second.stream;
  RequestOutput delta;
  delta.index = it->second.index;
  delta.finish_reason = reason;
  delta.status = std::move(status);
  sequences_.erase(it);
  auto ids = sequences_of_stream_.find(stream->id());
  if (ids != sequences_of_stream_.end()) {
    std::erase(ids->second, id);
    if (ids->second.empty()) sequences_of_stream_.erase(ids);
  }
  stream->Push(std::move(delta));
}

void Engine::PublishStats() {
  EngineStats s = loop_stats_;
  s.num_waiting = scheduler_.num_waiting();
  s.num_running = scheduler_.num_running();
  s.num_preemptions = scheduler_.num_preemptions_total();
  s.prefix_cache_query_tokens = kv_cache_.prefix_cache_stats().num_query_tokens;
  s.prefix_cache_hit_tokens = kv_cache_.prefix_cache_stats().num_hit_tokens;
  s.num_free_kv_blocks = kv_cache_.num_free_blocks();
  s.num_total_kv_blocks = kv_cache_.num_total_blocks();
  s.kv_usage = kv_cache_.usage();
  absl::MutexLock lock(&mutex_);
  published_stats_ = s;
}

}  // namespace stride::engine
