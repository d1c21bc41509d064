// Drives a Scheduler step by step against the FakeRunner and records, per step, which request
// ran which chunk, so tests can assert the schedule iteration by iteration.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <ostream>
#include <vector>

#include "gtest/gtest.h"
#include "kvcache/kv_cache_manager.h"
#include "scheduler/scheduler.h"
#include "tests/unit/scheduler/fake_runner.h"

namespace stride::scheduler::testing {

struct ChunkRecord {
  RequestId id = 0;
  int num_computed_tokens = 0;
  int num_new_tokens = 0;
  bool sample = false;

  friend bool operator==(const ChunkRecord&, const ChunkRecord&) = default;
  friend std::ostream& operator<<(std::ostream& os, const ChunkRecord& c) {
    return os << "{id " << c.id << ", from " << c.num_computed_tokens << ", +" << c.num_new_tokens
              << (c.sample ? ", sample}" : "}");
  }
};

inline std::vector<int32_t> PromptTokens(RequestId id, int n) {
  std::vector<int32_t> tokens(n);
  std::iota(tokens.begin(), tokens.end(), static_cast<int32_t>(id * 10000));
  return tokens;
}

inline kvcache::KvCacheConfig KvConfig(int num_blocks, int block_size = 16) {
  kvcache::KvCacheConfig config;
  config.num_blocks = num_blocks;
  config.block_size = block_size;
  return config;
}

// One full-attention group, plus a sliding-window group (layer 1) when `window` > 0.
inline kvcache::KvCacheConfig FullAndWindowKvConfig(int num_blocks, int block_size, int window) {
  kvcache::KvCacheConfig c = KvConfig(num_blocks, block_size);
  c.groups.push_back({kvcache::AttentionKind::kFull, 0, {0}});
  if (window > 0) c.groups.push_back({kvcache::AttentionKind::kSlidingWindow, window, {1}});
  return c;
}

// The randomized tests' deterministic draws (a 64-bit LCG): Next(bound) is in [0, bound).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  int Next(int bound) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state_ >> 33) % bound);
  }

 private:
  uint64_t state_;
};

inline SchedulerConfig SchedConfig(int budget, int max_num_seqs = 8, int max_model_len = 4096) {
  SchedulerConfig config;
  config.max_num_batched_tokens = budget;
  config.max_num_seqs = max_num_seqs;
  config.max_model_len = max_model_len;
  return config;
}

// The stress tests' setting: six sequences of at most 64 tokens, a budget of 24 tokens when
// prefills are chunked (else 64), and `policy`.
inline SchedulerConfig StressConfig(SchedulerConfig::Policy policy, bool chunked) {
  SchedulerConfig config = SchedConfig(/*budget=*/chunked ? 24 : 64, /*max_num_seqs=*/6,
                                       /*max_model_len=*/64);
  config.policy = policy;
  config.enable_chunked_prefill = chunked;
  return config;
}

// Their pools of 4-token blocks, with a 6-token sliding-window group when `sliding`: tight
// enough to preempt (17 blocks, 26 with the window group), or roomy (400).
inline kvcache::KvCacheConfig StressPool(bool tight, bool sliding) {
  return FullAndWindowKvConfig(tight ? (sliding ? 26 : 17) : 400, 4, sliding ? 6 : 0);
}

class Harness {
 public:
  Harness(const SchedulerConfig& scheduler_config, const kvcache::KvCacheConfig& kv_config)
      : kv(kv_config), scheduler(scheduler_config, &kv), runner(&kv) {}

  // A request with prompt PromptTokens(id, prompt_len) unless `prompt` is given.
  std::unique_ptr<Request> MakeRequest(RequestId id, int prompt_len, int max_tokens,
                                       std::vector<int32_t> prompt = {}) {
    auto r = std::make_unique<Request>();
    r->id = id;
    r->token_ids = prompt.empty() ? PromptTokens(id, prompt_len) : std::move(prompt);
    r->num_prompt_tokens = r->num_tokens();
    r->sampling.max_tokens = max_tokens;
    return r;
  }

  void Add(RequestId id, int prompt_len, int max_tokens, int priority = 0) {
    auto r = MakeRequest(id, prompt_len, max_tokens);
    r->priority = priority;
    ASSERT_TRUE(scheduler.AddRequest(std::move(r)).ok());
  }

  // One engine iteration. Returns the chunks that ran.
  std::vector<ChunkRecord> Step() {
    last_output = scheduler.Schedule();
    std::vector<ChunkRecord> records = Records(last_output);
    StepOutput step = runner.Execute(last_output);
    Apply(scheduler.Update(last_output, step));
    ++num_steps;
    return records;
  }

  // Steps until nothing is left (or `max_steps`); returns the steps taken.
  int RunToCompletion(int max_steps = 10000) {
    int steps = 0;
    while (scheduler.HasUnfinished() && steps < max_steps) {
      Step();
      ++steps;
    }
    return steps;
  }

  // One iteration of an engine that schedules asynchronously: plan and run step N, then apply
  // step N-1's results. Returns the chunks of step N.
  std::vector<ChunkRecord> StepAsync() {
    SchedulerOutput& current = async_outputs_[num_steps % 2];
    scheduler.Schedule(&current);
    std::vector<ChunkRecord> records = Records(current);
    StepOutput result;
    if (!current.empty()) result = runner.Execute(current);
    if (step_in_flight_) Apply(scheduler.Update(async_outputs_[(num_steps + 1) % 2], in_flight_));
    step_in_flight_ = !current.empty();
    in_flight_ = std::move(result);
    ++num_steps;
    return records;
  }

  int RunToCompletionAsync(int max_steps = 10000) {
    int steps = 0;
    while ((scheduler.HasUnfinished() || step_in_flight_) && steps < max_steps) {
      StepAsync();
      ++steps;
    }
    return steps;
  }

  static std::vector<ChunkRecord> Records(const SchedulerOutput& output) {
    std::vector<ChunkRecord> records;
    for (const ScheduledChunk& c : output.chunks) {
      records.push_back({c.request->id, c.num_computed_tokens, c.num_new_tokens, c.sample});
    }
    return records;
  }

  void Apply(std::vector<RequestUpdate> updates) {
    last_updates = std::move(updates);
    for (const RequestUpdate& u : last_updates) {
      outputs[u.request_id].push_back(u.token_id);
      if (u.finished()) finish_reasons[u.request_id] = u.finish_reason;
    }
  }

  kvcache::KvCacheManager kv;
  Scheduler scheduler;
  FakeRunner runner;
  SchedulerOutput last_output;
  std::vector<RequestUpdate> last_updates;
  std::map<RequestId, std::vector<int32_t>> outputs;
  std::map<RequestId, FinishReason> finish_reasons;
  int num_steps = 0;

 private:
  SchedulerOutput async_outputs_[2];  // step N's and step N-1's (in flight)
  StepOutput in_flight_;
  bool step_in_flight_ = false;
};

}  // namespace stride::scheduler::testing
