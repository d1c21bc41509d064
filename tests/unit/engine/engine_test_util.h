// Helpers for the engine tests (CPU, and the CUDA runner's in tests/gpu): the tiny HuggingFace
// fixture, requests, draining streams, comparing two engines' outputs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/engine_factory.h"
#include "gtest/gtest.h"

namespace stride::engine {

inline LoadedEngine MakeEngine(int num_kv_blocks = 0, bool async_scheduling = false,
                               const std::string& device = "cpu",
                               const std::string& dtype = "auto") {
  EngineOptions options;
  options.model = std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/models/llama-gqa-llama3rope";
  options.device = device;
  options.dtype = dtype;
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

// Runs `requests` (all submitted at once) and returns each one's outputs per sequence.
inline std::vector<std::vector<RequestOutput>> RunStreams(
    Engine& engine, const std::vector<GenerateRequest>& requests) {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const GenerateRequest& r : requests) {
    auto stream = engine.Submit(r);
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return {};
    streams.push_back(*stream);
  }
  std::vector<std::vector<RequestOutput>> out;
  for (size_t i = 0; i < streams.size(); ++i) {
    out.push_back(Drain(*streams[i], requests[i].sampling.n));
  }
  return out;
}

// Equal token ids; log-probs equal (tolerance 0) or within `tolerance`.
inline void ExpectSameLogprobs(const std::vector<scheduler::TokenLogprob>& a,
                               const std::vector<scheduler::TokenLogprob>& b, double tolerance,
                               const std::string& what) {
  auto expect_close = [&](float x, float y, const std::string& where) {
    if (tolerance == 0) {
      EXPECT_EQ(x, y) << where;
    } else {
      EXPECT_NEAR(x, y, tolerance) << where;
    }
  };
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string where = what + " " + std::to_string(i);
    EXPECT_EQ(a[i].token_id, b[i].token_id) << where;
    expect_close(a[i].logprob, b[i].logprob, where);
    ASSERT_EQ(a[i].top.size(), b[i].top.size()) << where;
    for (size_t k = 0; k < a[i].top.size(); ++k) {
      EXPECT_EQ(a[i].top[k].first, b[i].top[k].first) << where << " top " << k;
      expect_close(a[i].top[k].second, b[i].top[k].second, where + " top");
    }
  }
}

inline void ExpectSameOutputs(const std::vector<std::vector<RequestOutput>>& sync,
                              const std::vector<std::vector<RequestOutput>>& async,
                              double logprob_tolerance) {
  ASSERT_EQ(sync.size(), async.size());
  for (size_t r = 0; r < sync.size(); ++r) {
    ASSERT_EQ(sync[r].size(), async[r].size());
    for (size_t i = 0; i < sync[r].size(); ++i) {
      const std::string what = "request " + std::to_string(r) + " sequence " + std::to_string(i);
      EXPECT_EQ(sync[r][i].token_ids, async[r][i].token_ids) << what;
      EXPECT_EQ(sync[r][i].finish_reason, async[r][i].finish_reason) << what;
      ExpectSameLogprobs(sync[r][i].logprobs, async[r][i].logprobs, logprob_tolerance,
                         what + " logprobs");
      ExpectSameLogprobs(sync[r][i].prompt_logprobs, async[r][i].prompt_logprobs, logprob_tolerance,
                         what + " prompt logprobs");
    }
  }
}

// A stop token for MixedRequests: the sixth token its last request generates without one, on a
// synchronous engine of `device` and `dtype` (-1 if it generated fewer).
inline int32_t MixedStopToken(const std::string& device = "cpu",
                              const std::string& dtype = "auto") {
  LoadedEngine probe = MakeEngine(0, false, device, dtype);
  const std::vector<RequestOutput> free_run = RunStreams(*probe.engine, {Request(30, 40)})[0];
  EXPECT_EQ(free_run[0].token_ids.size(), 40u);
  return free_run[0].token_ids.size() > 5 ? free_run[0].token_ids[5] : -1;
}

// Eight seeded, sampled requests growing to 90 tokens (6 blocks of 16 each): on a pool of 24
// blocks they preempt one another by recompute.
inline std::vector<GenerateRequest> GrowingSampledRequests() {
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 8; ++i) {
    GenerateRequest r = Request(40 + i, 50 - i);
    r.sampling.temperature = 1.0f;
    r.sampling.seed = 100 + i;
    requests.push_back(r);
  }
  return requests;
}

// Greedy, seeded sampling with top-k / top-p and log-probs, n = 2 with penalties, logit bias and
// min_tokens (the sampler's token history must include the token in flight), prompt log-probs,
// and a stop token.
inline std::vector<GenerateRequest> MixedRequests(int32_t stop_token) {
  std::vector<GenerateRequest> requests;
  requests.push_back(Request(20, 12));
  GenerateRequest sampled = Request(45, 30);
  sampled.sampling.temperature = 0.8f;
  sampled.sampling.top_k = 20;
  sampled.sampling.top_p = 0.9f;
  sampled.sampling.seed = 11;
  sampled.sampling.logprobs = 3;
  requests.push_back(sampled);
  GenerateRequest penalized = Request(7, 25);
  penalized.sampling.temperature = 1.0f;
  penalized.sampling.n = 2;
  penalized.sampling.seed = 5;
  penalized.sampling.repetition_penalty = 1.3f;
  penalized.sampling.presence_penalty = 0.5f;
  penalized.sampling.frequency_penalty = 0.2f;
  penalized.sampling.logit_bias = {{10, 2.0f}};
  penalized.sampling.min_tokens = 5;
  requests.push_back(penalized);
  GenerateRequest scored = Request(70, 10);
  scored.sampling.prompt_logprobs = 2;
  requests.push_back(scored);
  GenerateRequest stopped = Request(30, 40);
  stopped.sampling.stop_token_ids = {stop_token};
  requests.push_back(stopped);
  return requests;
}

}  // namespace stride::engine
