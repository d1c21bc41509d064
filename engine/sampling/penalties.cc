#include "engine/sampling/penalties.h"

#include <limits>

namespace stride::engine::sampling {
namespace {

bool InVocab(int32_t id, std::span<float> logits) {
  return id >= 0 && static_cast<size_t>(id) < logits.size();
}

}  // namespace

void ApplyLogitBias(std::span<const std::pair<int32_t, float>> logit_bias,
                    std::span<float> logits) {
  for (const auto& [id, bias] : logit_bias) {
    if (InVocab(id, logits)) logits[id] += bias;
  }
}

void ApplyMinTokens(const scheduler::Request& request, std::span<float> logits) {
  if (request.num_output_tokens() >= request.sampling.min_tokens) return;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int32_t id : request.eos_token_ids) {
    if (InVocab(id, logits)) logits[id] = kNegInf;
  }
  for (int32_t id : request.sampling.stop_token_ids) {
    if (InVocab(id, logits)) logits[id] = kNegInf;
  }
}

std::vector<int32_t>& PenaltyScratch::Counts(size_t vocab_size) {
  if (counts_.size() < vocab_size) counts_.resize(vocab_size, 0);
  return counts_;
}

std::vector<uint8_t>& PenaltyScratch::Seen(size_t vocab_size) {
  if (seen_.size() < vocab_size) seen_.resize(vocab_size, 0);
  return seen_;
}

void ApplyPenalties(const Penalties& penalties, std::span<const int32_t> prompt_token_ids,
                    std::span<const int32_t> output_token_ids, std::span<float> logits,
                    PenaltyScratch& scratch) {
  std::vector<int32_t>& touched = scratch.Touched();
  if (penalties.repetition != 1.0f) {
    std::vector<uint8_t>& seen = scratch.Seen(logits.size());
    touched.clear();
    const float r = penalties.repetition;
    for (std::span<const int32_t> ids : {prompt_token_ids, output_token_ids}) {
      for (int32_t id : ids) {
        if (!InVocab(id, logits) || seen[id]) continue;
        seen[id] = 1;
        touched.push_back(id);
        logits[id] = logits[id] > 0.0f ? logits[id] / r : logits[id] * r;
      }
    }
    for (int32_t id : touched) seen[id] = 0;
  }
  if (penalties.frequency != 0.0f || penalties.presence != 0.0f) {
    std::vector<int32_t>& counts = scratch.Counts(logits.size());
    touched.clear();
    for (int32_t id : output_token_ids) {
      if (!InVocab(id, logits)) continue;
      if (counts[id]++ == 0) touched.push_back(id);
    }
    for (int32_t id : touched) {
      logits[id] -= penalties.frequency * static_cast<float>(counts[id]);
      logits[id] -= penalties.presence;
      counts[id] = 0;
    }
  }
}

}  // namespace stride::engine::sampling
