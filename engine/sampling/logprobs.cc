#include "engine/sampling/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/check.h"
#include "engine/sampling/vector_math.h"

namespace stride::engine::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The value used for ranking: NaN counts as -inf so comparisons stay a strict weak order.
float RankValue(float x) { return std::isnan(x) ? kNegInf : x; }

}  // namespace

double LogSumExp(std::span<const float> logits) {
  const float max = MaxValue(logits);
  if (max == kNegInf) return -std::numeric_limits<double>::infinity();
  if (std::isinf(max)) return max;  // +inf dominates
  return static_cast<double>(max) + std::log(ExpSum(logits, 1.0f, max));
}

void LogSoftmax(std::span<const float> in, std::span<float> out) {
  STRIDE_CHECK_EQ(in.size(), out.size());
  const double lse = LogSumExp(in);
  for (size_t i = 0; i < in.size(); ++i) out[i] = static_cast<float>(in[i] - lse);
}

std::vector<std::pair<int32_t, float>> TopK(std::span<const float> values, int k) {
  const size_t n = values.size();
  const size_t count = static_cast<size_t>(std::clamp<int64_t>(k, 0, static_cast<int64_t>(n)));
  std::vector<std::pair<int32_t, float>> top;
  if (count == 0) return top;
  top.reserve(count);
  // `a` ranks before `b`: larger value, then lower index.
  auto better = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
    const float va = RankValue(a.second);
    const float vb = RankValue(b.second);
    return va > vb || (va == vb && a.first < b.first);
  };
  // A heap whose front is the worst of the best `count` seen so far. Indices only grow, so a
  // later element displaces the front only with a strictly larger value.
  size_t i = 0;
  for (; i < count; ++i) top.emplace_back(static_cast<int32_t>(i), values[i]);
  std::make_heap(top.begin(), top.end(), better);
  float worst = RankValue(top.front().second);
  for (i = FindFirstAbove(values, i, worst); i < n; i = FindFirstAbove(values, i + 1, worst)) {
    std::pop_heap(top.begin(), top.end(), better);
    top.back() = {static_cast<int32_t>(i), values[i]};
    std::push_heap(top.begin(), top.end(), better);
    worst = RankValue(top.front().second);
  }
  std::sort_heap(top.begin(), top.end(), better);
  return top;
}

scheduler::TokenLogprob RawTokenLogprob(std::span<const float> logits, int32_t token_id,
                                        int num_top) {
  return RawTokenLogprob(logits, token_id, num_top, LogSumExp(logits));
}

scheduler::TokenLogprob RawTokenLogprob(std::span<const float> logits, int32_t token_id,
                                        int num_top, double log_sum_exp) {
  STRIDE_CHECK(token_id >= 0 && static_cast<size_t>(token_id) < logits.size())
      << "token " << token_id << " outside a vocabulary of " << logits.size();
  const double lse = log_sum_exp;
  scheduler::TokenLogprob result;
  result.token_id = token_id;
  result.logprob = static_cast<float>(logits[token_id] - lse);
  if (num_top > 0) {
    result.top = TopK(logits, num_top);
    for (auto& [id, value] : result.top) value = static_cast<float>(value - lse);
  }
  return result;
}

}  // namespace stride::engine::sampling
