// A generation request as the scheduler and the runner see it: token ids, sampling knobs and
// progress. Text never reaches this level (see engine/text). The engine creates Requests from
// GenerateRequests; the scheduler owns them while they live.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace stride::scheduler {

using RequestId = uint64_t;

// vLLM's sampling knobs. Defaults mean "off". Validated by the front end (server/openai or
// the generate command) before a Request is built.
struct SamplingParams {
  float temperature = 1.0f;  // 0 means greedy
  float top_p = 1.0f;        // (0, 1]
  int top_k = 0;             // 0 or -1: off
  float min_p = 0.0f;        // [0, 1]
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::optional<uint64_t> seed;  // per-request RNG; independent of the batch
  int max_tokens = 16;
  int min_tokens = 0;
  bool ignore_eos = false;
  std::vector<int32_t> stop_token_ids;
  int logprobs = -1;         // -1: none; k >= 0: the sampled token's log-prob and top k
  int prompt_logprobs = -1;  // -1: none; k >= 0: each prompt token's log-prob and top k
  int n = 1;                 // the engine fans n > 1 out into n Requests sharing the prompt
};

enum class RequestStatus { kWaiting, kRunning, kPreempted, kFinished };

enum class FinishReason { kNone, kStop, kLength, kAbort, kError };

struct Request {
  RequestId id = 0;
  SamplingParams sampling;
  int priority = 0;           // lower value runs first (vLLM's convention)
  uint64_t arrival_index = 0; // FCFS order; set by the scheduler on admission
  std::vector<int32_t> token_ids;  // prompt tokens followed by generated tokens
  int num_prompt_tokens = 0;
  // Tokens whose KV is in the cache. The next step computes token_ids[num_computed_tokens...].
  int num_computed_tokens = 0;
  int num_cached_tokens = 0;  // prompt tokens found in the prefix cache at first schedule
  std::vector<int32_t> eos_token_ids;  // from the model's config; ignored with ignore_eos
  uint64_t seed = 0;          // resolved seed: sampling.seed or one drawn by the engine
  // Requests share prefix-cache blocks only with equal salts (0: none). Set it per LoRA
  // adapter or per tenant that must not probe others' cache (see kvcache/block_hash.h).
  uint64_t prefix_cache_salt = 0;
  RequestStatus status = RequestStatus::kWaiting;
  FinishReason finish_reason = FinishReason::kNone;
  int num_preemptions = 0;
  // Asynchronous scheduling (the next step is planned while the last one runs): tokens scheduled
  // in steps whose Update() has not run yet, and how many of those steps sample a token not yet
  // in token_ids. These and the two step counts below are 0 whenever Schedule() follows the
  // previous step's Update().
  int num_in_flight_tokens = 0;
  int num_pending_tokens = 0;
  int num_in_flight_steps = 0;  // steps with a chunk of this request, not yet updated
  // Steps in flight when it was preempted: their Updates skip its chunk, even if it runs again.
  int num_stale_steps = 0;

  int num_tokens() const { return static_cast<int>(token_ids.size()); }
  int num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
  // Positions scheduled so far (computed or in flight), and tokens known or being sampled.
  int num_scheduled_tokens() const { return num_computed_tokens + num_in_flight_tokens; }
  int num_expected_tokens() const { return num_tokens() + num_pending_tokens; }
};

}  // namespace stride::scheduler
