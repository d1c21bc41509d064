// Offline throughput through the real Engine (CreateEngine, device "cuda", dummy Llama-3.1-8B):
// N random-token prompts of `input_len` tokens submitted at once, each generating exactly
// `output_len` tokens (ignore_eos, default sampling: temperature 1, seeded), as in the
// TensorRT-LLM grid (1000/1000). Reports output tokens per second over the whole run, from the
// first Submit to the last finished stream.
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine_factory.h"
#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {

void RunOfflineBenchmark(const OfflineOptions& offline) {
  const int num_prompts = offline.num_prompts, input_len = offline.input_len,
            output_len = offline.output_len;
  engine::EngineOptions options;
  options.model = "configs/models/llama-3.1-8b.json";
  options.load_format = engine::model::LoadFormat::kDummy;
  options.device = "cuda";
  options.max_model_len = input_len + output_len + 16;
  options.max_num_batched_tokens = offline.max_num_batched_tokens;
  options.max_num_seqs = offline.max_num_seqs;
  options.cuda_gemm_candidates = offline.gemm_candidates;
  options.cuda_gemm_tuned_max_rows = offline.gemm_tuned_max_rows;
  options.async_scheduling = offline.async_scheduling;
  options.kv_cache_dtype = offline.fp8_kv_cache ? "fp8" : "auto";
  options.gpu_memory_utilization = offline.gpu_memory_utilization;
  const auto t_load = std::chrono::steady_clock::now();
  auto loaded = engine::CreateEngine(options);
  if (!loaded.ok()) {
    std::printf("offline bench: %s\n", loaded.status().ToString().c_str());
    return;
  }
  std::printf("offline bench: engine ready in %.1f s (device %s)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count(),
              loaded->device.c_str());
  engine::Engine& engine = *loaded->engine;
  const int vocab = loaded->model.vocab_size;
  std::mt19937 rng(FreshSeed());

  // The requests are made before the clock starts (as a dataset is loaded before a run); the
  // clock covers their submission and everything after it.
  std::vector<engine::GenerateRequest> requests(num_prompts);
  for (engine::GenerateRequest& request : requests) {
    request.prompt_token_ids.resize(input_len);
    for (int32_t& token : request.prompt_token_ids) {
      token = std::uniform_int_distribution<int>(0, vocab - 1)(rng);
    }
    request.sampling.max_tokens = output_len;
    request.sampling.ignore_eos = true;
    request.sampling.seed = rng();
  }
  std::vector<std::shared_ptr<engine::RequestStream>> streams;
  const auto start = std::chrono::steady_clock::now();
  for (engine::GenerateRequest& request : requests) {
    auto stream = engine.Submit(std::move(request));
    if (!stream.ok()) {
      std::printf("offline bench: submit: %s\n", stream.status().ToString().c_str());
      return;
    }
    streams.push_back(*std::move(stream));
  }
  int64_t output_tokens = 0;
  int errors = 0;
  double first_token_s = 0;
  for (auto& stream : streams) {
    engine::RequestOutput out;
    while (stream->Next(&out)) {
      if (output_tokens == 0 && !out.token_ids.empty()) {
        first_token_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      output_tokens += out.token_ids.size();
      if (!out.status.ok()) ++errors;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto stats = engine.stats();
  std::printf(
      "offline bench: %d prompts x %d in / %d out: %lld output tokens in %.1f s "
      "(first token after %.2f s), %lld steps, %lld preemptions, %d errors\n",
      num_prompts, input_len, output_len, static_cast<long long>(output_tokens), seconds,
      first_token_s, static_cast<long long>(stats.num_steps),
      static_cast<long long>(stats.num_preemptions), errors);
  const std::string shape = absl::StrCat(
      num_prompts, "x", input_len, "/", output_len, " engine, seqs ", offline.max_num_seqs,
      offline.max_num_batched_tokens != OfflineOptions{}.max_num_batched_tokens
          ? absl::StrCat(", budget ", offline.max_num_batched_tokens)
          : "",
      offline.gemm_candidates != 1 ? absl::StrCat(", gemm candidates ", offline.gemm_candidates,
                                                  " to m", offline.gemm_tuned_max_rows)
                                   : "",
      offline.gpu_memory_utilization != OfflineOptions{}.gpu_memory_utilization
          ? absl::StrCat(", memory ", offline.gpu_memory_utilization)
          : "",
      offline.fp8_kv_cache ? ", fp8 KV" : "", offline.async_scheduling ? ", async" : ", sync");
  Report("offline_output_tok_per_s", shape, output_tokens / seconds, "tok/s", 10000, "target");
}

}  // namespace stride::testing::gpu
