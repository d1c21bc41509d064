// Model-tier figures on dummy Llama-3.1-8B (bf16, one GPU): 8k-token prefill TFLOP/s and decode
// ms/token at 1024 context (batch 1, against the 3.5 ms weight-read floor), plus decode steps at
// larger batches. Steps are driven straight through the CUDA runner with hand-built
// SchedulerOutputs (no scheduler), timed on the host around Execute (which ends synchronized).
#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "engine/model/model_config.h"
#include "engine/model/weights.h"
#include "engine/runner/cuda/cuda_model_runner.h"
#include "engine/runner/kv_cache_spec.h"
#include "kernels/common/pdl.h"
#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {
namespace {

using scheduler::Request;
using scheduler::ScheduledChunk;
using scheduler::SchedulerOutput;

constexpr int kBlockSize = 16;

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Hands out blocks 1, 2, ... and keeps each request's table long enough.
struct Sequences {
  std::vector<std::unique_ptr<Request>> requests;
  std::vector<std::vector<kvcache::BlockId>> tables;
  int next_block = 1;

  void Add(int prompt_len, int vocab, std::mt19937& rng) {
    auto r = std::make_unique<Request>();
    r->id = requests.size() + 1;
    r->sampling.temperature = 0;
    for (int i = 0; i < prompt_len; ++i) {
      r->token_ids.push_back(std::uniform_int_distribution<int>(0, vocab - 1)(rng));
    }
    r->num_prompt_tokens = prompt_len;
    requests.push_back(std::move(r));
    tables.emplace_back();
  }
  ScheduledChunk Chunk(int i, int computed, int new_tokens) {
    auto& table = tables[i];
    while (static_cast<int>(table.size()) * kBlockSize < computed + new_tokens) {
      table.push_back(next_block++);
    }
    ScheduledChunk c;
    c.request = requests[i].get();
    c.num_computed_tokens = computed;
    c.num_new_tokens = new_tokens;
    c.sample = computed + new_tokens == requests[i]->num_tokens();
    c.block_tables = {table};
    return c;
  }
};

// Prefills every sequence (chunks of up to 8192 tokens), then runs `steps` decode steps; returns
// the median decode step in ms.
double DecodeSteps(engine::runner::ModelRunner& runner, Sequences& seqs, int steps) {
  for (size_t i = 0; i < seqs.requests.size();) {
    SchedulerOutput out;
    int budget = 8192;
    while (i < seqs.requests.size() && budget >= seqs.requests[i]->num_prompt_tokens) {
      out.chunks.push_back(seqs.Chunk(i, 0, seqs.requests[i]->num_prompt_tokens));
      budget -= seqs.requests[i]->num_prompt_tokens;
      ++i;
    }
    auto result = runner.Execute(out);
    for (size_t c = 0; c < out.chunks.size(); ++c) {
      auto* r = const_cast<Request*>(out.chunks[c].request);
      r->token_ids.push_back(result.chunks[c].next_token.token_id);
    }
  }
  std::vector<double> times;
  for (int s = 0; s < steps; ++s) {
    SchedulerOutput out;
    for (size_t i = 0; i < seqs.requests.size(); ++i) {
      out.chunks.push_back(seqs.Chunk(i, seqs.requests[i]->num_tokens() - 1, 1));
    }
    const double start = NowMs();
    auto result = runner.Execute(out);
    times.push_back(NowMs() - start);
    for (size_t c = 0; c < out.chunks.size(); ++c) {
      seqs.requests[c]->token_ids.push_back(result.chunks[c].next_token.token_id);
    }
  }
  std::sort(times.begin() + 0, times.end());
  return times[times.size() / 2];
}

}  // namespace

void RunModelBenchmarks(bool quick) {
  auto config = engine::model::LoadModelConfig("configs/models/llama-3.1-8b.json");
  if (!config.ok()) {
    std::printf("model bench: %s\n", config.status().ToString().c_str());
    return;
  }
  double t0 = NowMs();
  auto weights = engine::model::LoadModelWeights(*config, "", engine::model::LoadFormat::kDummy);
  if (!weights.ok()) {
    std::printf("model bench: %s\n", weights.status().ToString().c_str());
    return;
  }
  std::printf("dummy weights synthesized in %.1f s\n", (NowMs() - t0) / 1e3);
  const int num_blocks = quick ? 4096 : 24000;
  kvcache::KvCacheConfig kv =
      engine::runner::BuildKvCacheConfig(*config, kBlockSize, num_blocks, false);
  t0 = NowMs();
  auto runner = engine::runner::cuda::CreateCudaModelRunner(*config, *weights, kv);
  if (!runner.ok()) {
    std::printf("model bench: %s\n", runner.status().ToString().c_str());
    return;
  }
  std::printf("runner ready (weights uploaded, %d KV blocks) in %.1f s\n", num_blocks,
              (NowMs() - t0) / 1e3);
  std::mt19937 rng(FreshSeed());

  // 8192-token prefill, one chunk.
  {
    Sequences seqs;
    seqs.Add(8192, config->vocab_size, rng);
    std::vector<double> times;
    for (int i = 0; i < 4; ++i) {
      SchedulerOutput out;
      out.chunks.push_back(seqs.Chunk(0, 0, 8192));
      const double start = NowMs();
      (*runner)->Execute(out);
      times.push_back(NowMs() - start);
    }
    std::sort(times.begin() + 1, times.end());  // the first run pays for GEMM plans
    const double ms = times[2];
    const double s = 8192;
    const double linear = 2.0 * s * 6.98e9;  // q, k, v, o, gate, up, down: 218 M params a layer
    const double attention = 4.0 * 32 * s * s / 2 * 128 * 32;
    Report("prefill_8k_tflops", "Llama-3.1-8B dummy, 1x8192", (linear + attention) / ms / 1e9,
           "TFLOP/s", 855, "anchor");
    Report("prefill_8k_ms", "Llama-3.1-8B dummy, 1x8192", ms, "ms", 170, "~floor");
  }
  // Decode at 1024 context.
  for (int batch : quick ? std::vector<int>{1} : std::vector<int>{1, 64, 256}) {
    Sequences seqs;
    for (int b = 0; b < batch; ++b) seqs.Add(1024, config->vocab_size, rng);
    const double ms = DecodeSteps(**runner, seqs, batch == 1 ? 128 : 32);
    const std::string shape = absl::StrCat("B", batch, " ctx~1024, graphs");
    if (batch == 1) {
      Report("decode_ms_per_token", shape, ms, "ms", 3.5, "floor");
    } else {
      const double floor_ms = (15.0e9 + batch * 1088.0 * 131072) / 4.28e12 * 1e3;
      Report("decode_step_ms", shape, ms, "ms", floor_ms, "floor");
      Report("decode_tok_per_s", shape, batch / ms * 1e3, "tok/s", batch / floor_ms * 1e3, "floor");
    }
  }
  // The same batch-1 decode with programmatic dependent launch off (every kernel waits for the
  // previous one to end before it starts), on a second runner over the same weights, for the
  // before/after in one session.
  runner->reset();
  kernels::SetPdlEnabled(false);
  auto plain_runner = engine::runner::cuda::CreateCudaModelRunner(*config, *weights, kv);
  if (plain_runner.ok()) {
    Sequences seqs;
    seqs.Add(1024, config->vocab_size, rng);
    const double ms = DecodeSteps(**plain_runner, seqs, 128);
    Report("decode_ms_per_token_no_pdl", "B1 ctx~1024, graphs, PDL off", ms, "ms", 3.5, "floor");
  }
  kernels::SetPdlEnabled(true);
}

}  // namespace stride::testing::gpu
