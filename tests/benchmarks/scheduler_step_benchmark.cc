// One scheduling step — Schedule() plus Update() with a fake runner output — with 256 running
// sequences (all decoding) and 64 more waiting. The runner's work is not timed; the step must
// stay well under 100 µs so the scheduler never shows up next to a model step.
//
// Reported: wall time of the timed part (manual time) and `thread_cpu_us`, the CPU time this
// thread spent in it, which other processes on a busy machine do not inflate.
// Args: prefix_caching (hash newly full blocks), reuse_output (Schedule(SchedulerOutput*) into
// one long-lived output instead of a fresh one per step).
#include <time.h>

#include <chrono>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "kvcache/kv_cache_manager.h"
#include "scheduler/scheduler.h"

namespace stride::scheduler {
namespace {

constexpr int kNumRunning = 256;
constexpr int kNumWaiting = 64;
constexpr int kPromptLen = 256;
constexpr int kWaitingPromptLen = 512;
constexpr int kStepsPerSetup = 1024;  // then rebuild, so sequences stay a realistic length

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

StepOutput FakeRun(const SchedulerOutput& out) {
  StepOutput step;
  step.chunks.resize(out.chunks.size());
  for (size_t i = 0; i < out.chunks.size(); ++i) {
    const ScheduledChunk& c = out.chunks[i];
    step.chunks[i].request_id = c.request->id;
    step.chunks[i].sampled = c.sample;
    step.chunks[i].next_token.token_id =
        static_cast<int32_t>(3 + (c.request->num_tokens() % 30000));
  }
  return step;
}

struct Setup {
  std::unique_ptr<kvcache::KvCacheManager> kv;
  std::unique_ptr<Scheduler> scheduler;
};

std::unique_ptr<Request> MakeRequest(RequestId id, int prompt_len) {
  auto r = std::make_unique<Request>();
  r->id = id;
  r->token_ids.resize(prompt_len);
  for (int i = 0; i < prompt_len; ++i) r->token_ids[i] = static_cast<int32_t>(id * 7919 + i);
  r->num_prompt_tokens = prompt_len;
  r->sampling.max_tokens = 4000;
  r->eos_token_ids = {2};
  return r;
}

// 256 requests prefilled and decoding, 64 queued behind max_num_seqs.
Setup Build(bool prefix_caching) {
  kvcache::KvCacheConfig kv_config;
  kv_config.block_size = 16;
  kv_config.num_blocks = 32768;
  kv_config.enable_prefix_caching = prefix_caching;
  SchedulerConfig config;
  config.max_num_batched_tokens = 2048;
  config.max_num_seqs = kNumRunning;
  config.max_model_len = 8192;
  Setup s;
  s.kv = std::make_unique<kvcache::KvCacheManager>(kv_config);
  s.scheduler = std::make_unique<Scheduler>(config, s.kv.get());
  for (int i = 0; i < kNumRunning; ++i) {
    if (!s.scheduler->AddRequest(MakeRequest(i + 1, kPromptLen)).ok()) std::abort();
  }
  while (s.scheduler->num_running() < kNumRunning || s.scheduler->num_waiting() > 0) {
    SchedulerOutput out = s.scheduler->Schedule();
    s.scheduler->Update(out, FakeRun(out));
  }
  for (int i = 0; i < kNumWaiting; ++i) {
    if (!s.scheduler->AddRequest(MakeRequest(10000 + i, kWaitingPromptLen)).ok()) std::abort();
  }
  return s;
}

void BM_SchedulerStep(benchmark::State& state) {
  const bool prefix_caching = state.range(0) != 0;
  const bool reuse_output = state.range(1) != 0;
  Setup s = Build(prefix_caching);
  SchedulerOutput reused;
  int steps = 0;
  int64_t chunks = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    if (steps == kStepsPerSetup) {
      s = Setup{};
      s = Build(prefix_caching);
      steps = 0;
    }
    SchedulerOutput fresh;
    SchedulerOutput& out = reuse_output ? reused : fresh;
    const double c0 = ThreadCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    s.scheduler->Schedule(&out);
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = ThreadCpuSeconds();
    StepOutput step = FakeRun(out);  // the runner's part: not timed
    const double c2 = ThreadCpuSeconds();
    const auto t2 = std::chrono::steady_clock::now();
    std::vector<RequestUpdate> updates = s.scheduler->Update(out, step);
    const auto t3 = std::chrono::steady_clock::now();
    const double c3 = ThreadCpuSeconds();
    benchmark::DoNotOptimize(updates.data());
    state.SetIterationTime(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
    cpu_seconds += (c1 - c0) + (c3 - c2);
    chunks += static_cast<int64_t>(out.chunks.size());
    ++steps;
    if (s.scheduler->num_running() != kNumRunning || s.scheduler->num_waiting() != kNumWaiting) {
      state.SkipWithError("the population changed; the benchmark no longer measures its setup");
      break;
    }
  }
  state.counters["chunks_per_step"] =
      benchmark::Counter(static_cast<double>(chunks) / state.iterations());
  state.counters["thread_cpu_us"] = benchmark::Counter(1e6 * cpu_seconds / state.iterations());
}
BENCHMARK(BM_SchedulerStep)
    ->ArgNames({"prefix_caching", "reuse_output"})
    ->Args({1, 1})
    ->Args({1, 0})
    ->Args({0, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace stride::scheduler

BENCHMARK_MAIN();
