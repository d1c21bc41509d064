// A double-precision, sort-based model of the sampler's processed distribution, written from the
// vLLM definitions and independent of engine/sampling's code: the tests compare the sampler's
// thresholds and its sampled frequencies against it.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "scheduler/request.h"

namespace stride::engine::sampling::testing {

// Truncates unnormalized weights with min_p, top_k and top_p (in that order) and returns the
// normalized probabilities. Ties are decided on the weights' values: a tie with the k-th weight
// stays, and top_p keeps a token iff the weights strictly heavier than it hold < top_p of the mass.
inline std::vector<double> ReferenceTruncate(std::vector<double> w, int top_k, double top_p,
                                             double min_p) {
  const size_t n = w.size();
  if (min_p > 0) {
    const double max = *std::max_element(w.begin(), w.end());
    for (double& v : w) v = v < min_p * max ? 0.0 : v;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
  if (top_k > 0 && static_cast<size_t>(top_k) < n) {
    const double kth = w[order[top_k - 1]];
    for (double& v : w) v = v < kth ? 0.0 : v;
  }
  if (top_p < 1.0) {
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    double heavier = 0.0;  // mass of the groups of equal weights already passed
    for (size_t begin = 0; begin < n;) {
      size_t end = begin;
      double group = 0.0;
      while (end < n && w[order[end]] == w[order[begin]]) group += w[order[end++]];
      if (heavier >= top_p * total) {
        for (size_t i = begin; i < end; ++i) w[order[i]] = 0.0;
      }
      heavier += group;
      begin = end;
    }
  }
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& v : w) v /= total;
  return w;
}

// Probabilities after temperature, min_p, top_k and top_p, from logits that are already
// processed (bias, penalties). Temperature > 0.
inline std::vector<double> ReferenceTruncatedProbs(const std::vector<double>& logits,
                                                   double temperature, int top_k, double top_p,
                                                   double min_p) {
  double max = -std::numeric_limits<double>::infinity();
  for (double x : logits) max = std::max(max, x / temperature);
  std::vector<double> w(logits.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::exp(logits[i] / temperature - max);
  return ReferenceTruncate(std::move(w), top_k, top_p, min_p);
}

// The whole pipeline for a small vocabulary: bias, min_tokens, penalties, then the above.
inline std::vector<double> ReferenceDistribution(const std::vector<float>& raw,
                                                 const scheduler::Request& request) {
  const scheduler::SamplingParams& s = request.sampling;
  std::vector<double> x(raw.begin(), raw.end());
  for (const auto& [id, bias] : s.logit_bias) x[id] += bias;
  if (request.num_output_tokens() < s.min_tokens) {
    for (int32_t id : request.eos_token_ids) x[id] = -std::numeric_limits<double>::infinity();
    for (int32_t id : s.stop_token_ids) x[id] = -std::numeric_limits<double>::infinity();
  }
  const std::vector<int32_t> prompt(request.token_ids.begin(),
                                    request.token_ids.begin() + request.num_prompt_tokens);
  const std::vector<int32_t> output(request.token_ids.begin() + request.num_prompt_tokens,
                                    request.token_ids.end());
  std::set<int32_t> seen(prompt.begin(), prompt.end());
  seen.insert(output.begin(), output.end());
  for (int32_t id : seen) {
    x[id] = x[id] > 0 ? x[id] / s.repetition_penalty : x[id] * s.repetition_penalty;
  }
  std::map<int32_t, int> counts;
  for (int32_t id : output) ++counts[id];
  for (const auto& [id, count] : counts) {
    x[id] -= s.frequency_penalty * count + s.presence_penalty;
  }
  return ReferenceTruncatedProbs(x, s.temperature, s.top_k, s.top_p, s.min_p);
}

}  // namespace stride::engine::sampling::testing
