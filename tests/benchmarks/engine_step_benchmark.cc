// The engine loop's own cost per step, with a runner that takes no time: what a GPU waits for
// between two steps while the engine thread schedules, updates requests and hands tokens to
// their streams (the CUDA runner executes steps synchronously). Llama-3.1-8B's config (vocab
// 128,256), `kBatch` requests of 1000 prompt tokens decoding together as in the offline
// 1000/1000 benchmark, one consumer thread draining every stream.
//
// Reported: `us_per_step`, wall time per engine step from the first Submit's return to the last
// stream's end (prefill steps included), i.e. the GPU idle time each step would add. Wall time,
// so run it on a quiet machine: the engine thread and the consumer share the cores.
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/engine.h"
#include "engine/model/model_config.h"
#include "engine/runner/kv_cache_spec.h"
#include "engine/runner/model_runner.h"

namespace stride::engine {
namespace {

constexpr int kPromptLen = 1000;

// Samples a fixed token for every sampling chunk, instantly.
class InstantRunner : public runner::ModelRunner {
 public:
  scheduler::StepOutput Execute(const scheduler::SchedulerOutput& output) override {
    scheduler::StepOutput step;
    step.chunks.resize(output.chunks.size());
    for (size_t i = 0; i < output.chunks.size(); ++i) {
      const scheduler::ScheduledChunk& c = output.chunks[i];
      step.chunks[i].request_id = c.request->id;
      step.chunks[i].sampled = c.sample;
      step.chunks[i].next_token.token_id = static_cast<int32_t>(3 + c.request->num_tokens() % 9000);
      step.chunks[i].next_token.logprob = -1.0f;
    }
    return step;
  }
};

void BM_EngineDecodeStep(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const int output_len = static_cast<int>(state.range(1));
  auto model = model::LoadModelConfig(std::string(STRIDE_SOURCE_DIR) +
                                      "/configs/models/llama-3.1-8b.json");
  if (!model.ok()) {
    state.SkipWithError(model.status().ToString().c_str());
    return;
  }
  EngineConfig config;
  config.scheduler.max_num_seqs = batch;
  config.scheduler.max_num_batched_tokens = 8192;
  config.scheduler.max_model_len = kPromptLen + output_len + 16;
  const int blocks_per_seq = (kPromptLen + output_len + 15) / 16 + 1;
  config.kv_cache = runner::BuildKvCacheConfig(*model, 16, 1 + batch * blocks_per_seq, true);

  double step_seconds = 0;
  int64_t steps = 0;
  for (auto _ : state) {
    auto engine = Engine::Create(config, *model, std::make_unique<InstantRunner>());
    if (!engine.ok()) {
      state.SkipWithError(engine.status().ToString().c_str());
      return;
    }
    std::vector<std::shared_ptr<RequestStream>> streams;
    for (int r = 0; r < batch; ++r) {
      GenerateRequest request;
      for (int t = 0; t < kPromptLen; ++t) {
        request.prompt_token_ids.push_back(3 + (r * 7919 + t * 31) % 100000);
      }
      request.sampling.max_tokens = output_len;
      request.sampling.ignore_eos = true;
      request.sampling.temperature = 0;
      auto stream = (*engine)->Submit(std::move(request));
      if (!stream.ok()) {
        state.SkipWithError(stream.status().ToString().c_str());
        return;
      }
      streams.push_back(*std::move(stream));
    }
    const auto start = std::chrono::steady_clock::now();
    const int64_t steps_before = (*engine)->stats().num_steps;
    RequestOutput out;
    for (auto& stream : streams) {
      while (stream->Next(&out)) {
      }
    }
    step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    steps += (*engine)->stats().num_steps - steps_before;
  }
  state.counters["us_per_step"] = steps > 0 ? 1e6 * step_seconds / steps : 0;
  state.counters["steps"] = static_cast<double>(steps) / state.iterations();
}

// (batch, output tokens): the offline run's 384 (and 256) decoding requests.
BENCHMARK(BM_EngineDecodeStep)->Args({384, 256})->Args({256, 256})->Args({64, 256})->Iterations(2)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stride::engine

BENCHMARK_MAIN();
