// Helpers for the engine tests: the tiny HuggingFace fixture on the CPU backend, requests,
// draining streams.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/engine_factory.h"
#include "gtest/gtest.h"

namespace stride::engine {

inline LoadedEngine MakeEngine(int num_kv_blocks = 0, bool async_scheduling = false) {
  EngineOptions options;
  options.model = std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/llama-gqa-llama3rope";
  options.max_num_seqs = 8;
  options.max_num_batched_tokens = 64;
  options.max_model_len = 512;
  options.num_kv_blocks = num_kv_blocks;
  options.async_scheduling = async_scheduling;
  auto loaded = CreateEngine(options);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return std::move(*loaded);
}

// A greedy request of `prompt_len` fixed tokens that generates exactly `max_tokens`.
inline GenerateRequest Request(int prompt_len, int max_tokens) {
  GenerateRequest r;
  for (int i = 0; i < prompt_len; ++i) r.prompt_token_ids.push_back(3 + (i * 37) % 500);
  r.sampling.temperature = 0;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

inline EngineStats WaitIdle(Engine& engine) {
  for (int i = 0; i < 400; ++i) {
    EngineStats s = engine.stats();
    if (s.num_running == 0 && s.num_waiting == 0) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return engine.stats();
}

// Drains a stream; returns the outputs of each sequence index, deltas concatenated.
inline std::vector<RequestOutput> Drain(RequestStream& stream, int n) {
  std::vector<RequestOutput> out(n);
  RequestOutput delta;
  while (stream.Next(&delta)) {
    RequestOutput& o = out[delta.index];
    o.token_ids.insert(o.token_ids.end(), delta.token_ids.begin(), delta.token_ids.end());
    o.logprobs.insert(o.logprobs.end(), delta.logprobs.begin(), delta.logprobs.end());
    o.prompt_logprobs.insert(o.prompt_logprobs.end(), delta.prompt_logprobs.begin(),
                             delta.prompt_logprobs.end());
    if (delta.finish_reason != FinishReason::kNone) {
      o.finish_reason = delta.finish_reason;
      o.status = delta.status;
    }
  }
  return out;
}

}  // namespace stride::engine
