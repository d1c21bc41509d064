#include "engine/sampling/distribution.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>

#include "base/check.h"
#include "engine/sampling/vector_math.h"

namespace stride::engine::sampling {
namespace {

// Non-negative floats order like their bit patterns, so thresholds can be found digit by digit:
// 12 bits, then 10, then 10.
constexpr int kLevelBits[3] = {12, 10, 10};
constexpr int kLevelShift[3] = {20, 10, 0};

uint32_t Bits(float w) { return std::bit_cast<uint32_t>(w); }

enum class Measure { kCount, kMass };

double MeasureOf(Measure measure, uint32_t key) {
  return measure == Measure::kCount ? 1.0 : static_cast<double>(std::bit_cast<float>(key));
}

// Walks the histogram from the heaviest bin down and returns the first bin at which the
// accumulated measure (starting from *above) reaches `target`; *above becomes the measure of the
// bins before it. When rounding keeps the sum short of the target, returns the lightest
// non-empty bin. Returns -1 for an empty histogram.
int WalkDown(std::span<const double> histogram, double target, double* above) {
  int lightest = -1;
  for (int bin = static_cast<int>(histogram.size()) - 1; bin >= 0; --bin) {
    if (histogram[bin] <= 0.0) continue;
    if (*above + histogram[bin] >= target) return bin;
    *above += histogram[bin];
    lightest = bin;
  }
  return lightest;
}

// The weight bit pattern T such that the positive weights with bits >= T are exactly the tokens
// whose strictly heavier tokens measure less than `target` (count or mass; see the header).
uint32_t SelectThreshold(std::span<const float> weights, Measure measure, double target,
                         TruncationScratch& scratch) {
  std::vector<double>& histogram = scratch.histogram;
  std::vector<uint32_t>& candidates = scratch.candidates;

  // Level 0 reads the whole row; later levels read only the keys of the chosen bin.
  histogram.assign(size_t{1} << kLevelBits[0], 0.0);
  for (float w : weights) {
    if (!(w > 0.0f)) continue;
    const uint32_t key = Bits(w);
    histogram[key >> kLevelShift[0]] += measure == Measure::kCount ? 1.0 : w;
  }
  double above = 0.0;
  int bin = WalkDown(histogram, target, &above);
  if (bin < 0) return 1;  // nothing positive: any threshold keeps nothing
  uint32_t prefix = static_cast<uint32_t>(bin);

  candidates.clear();
  for (float w : weights) {
    if (!(w > 0.0f)) continue;
    const uint32_t key = Bits(w);
    if ((key >> kLevelShift[0]) == prefix) candidates.push_back(key);
  }
  for (int level = 1; level < 3; ++level) {
    const uint32_t mask = (uint32_t{1} << kLevelBits[level]) - 1;
    const int parent_shift = kLevelShift[level - 1];
    histogram.assign(size_t{1} << kLevelBits[level], 0.0);
    for (uint32_t key : candidates) {
      if ((key >> parent_shift) != prefix) continue;
      histogram[(key >> kLevelShift[level]) & mask] += MeasureOf(measure, key);
    }
    bin = WalkDown(histogram, target, &above);
    STRIDE_CHECK_GE(bin, 0) << "radix select lost its candidates";
    prefix = (prefix << kLevelBits[level]) | static_cast<uint32_t>(bin);
  }
  return prefix;
}

// The k largest weights (0 < k <= size) into `buffer`, the k-th largest at buffer[k - 1].
// Candidates above the running k-th largest are appended and the buffer is cut back to k with
// nth_element when it doubles: most weights fail the first (vectorized) comparison, so this is one
// cheap pass for small k.
void LargestWeights(std::span<const float> weights, size_t k, std::vector<float>& buffer) {
  buffer.assign(weights.begin(), weights.begin() + k);
  auto cut = [&] {
    std::nth_element(buffer.begin(), buffer.begin() + (k - 1), buffer.end(), std::greater<float>());
    buffer.resize(k);
  };
  cut();
  const size_t n = weights.size();
  for (size_t i = FindFirstAbove(weights, k, buffer[k - 1]); i < n;
       i = FindFirstAbove(weights, i + 1, buffer[k - 1])) {
    buffer.push_back(weights[i]);
    if (buffer.size() == 2 * k) cut();
  }
  cut();
}

// top_p's threshold when the nucleus lies within the `count` heaviest weights: sorts just those
// and finds the smallest value whose strictly heavier weights hold < target. nullopt when every
// one of them still qualifies (the threshold may be lower: the caller falls back to the radix
// select). Weights equal to a candidate but left out of `largest` do not matter: only strictly
// heavier weights count, and those are all in.
std::optional<float> TopPThresholdAmongLargest(std::span<const float> weights, size_t count,
                                               double target, std::vector<float>& largest) {
  LargestWeights(weights, count, largest);
  std::sort(largest.begin(), largest.end(), std::greater<float>());
  double heavier = 0.0;  // mass of the weights before largest[i]'s group of equal values
  for (size_t i = 0; i < largest.size();) {
    if (i > 0 && heavier >= target) return largest[i - 1];  // this group is out, the last is in
    const float value = largest[i];
    for (; i < largest.size() && largest[i] == value; ++i) heavier += value;
  }
  return std::nullopt;
}

}  // namespace

double ComputeWeights(std::span<const float> logits, float temperature, std::span<float> weights) {
  STRIDE_CHECK_EQ(logits.size(), weights.size());
  STRIDE_CHECK(temperature > 0.0f) << "temperature " << temperature;
  const float max = MaxValue(logits);
  if (!std::isfinite(max)) {
    // No finite logit (all masked), or +inf: leave +inf to the caller's argmax fallback.
    std::fill(weights.begin(), weights.end(), 0.0f);
    return max;
  }
  // Division, not multiplication by 1/T, as vLLM does; x/T is monotone so max/T is the max.
  const float scaled_max = max / temperature;
  const double sum = ScaledExp(logits, temperature, scaled_max, weights);
  return static_cast<double>(scaled_max) + std::log(sum);
}

void ApplyTopKTopPMinP(const Truncation& truncation, std::span<float> weights,
                       TruncationScratch& scratch) {
  // Positive floats order like their bit patterns, so a threshold pattern is a threshold value.
  constexpr size_t kHeapLimit = 1024;
  if (truncation.min_p > 0.0f) ZeroBelow(truncation.min_p, weights);
  const size_t top_k = truncation.top_k > 0 ? static_cast<size_t>(truncation.top_k) : 0;
  if (top_k > 0 && top_k < weights.size()) {
    float kth;
    if (top_k <= kHeapLimit) {
      LargestWeights(weights, top_k, scratch.largest);
      kth = scratch.largest[top_k - 1];
    } else {
      kth = std::bit_cast<float>(SelectThreshold(weights, Measure::kCount, top_k, scratch));
    }
    ZeroBelow(kth, weights);
  }
  if (truncation.top_p < 1.0f) {
    const double target = static_cast<double>(truncation.top_p) * Sum(weights);
    // Real nuclei are usually small: try the heaviest 256 weights before the O(vocab) select.
    constexpr size_t kNucleusGuess = 256;
    std::optional<float> threshold;
    if (weights.size() > kNucleusGuess) {
      threshold = TopPThresholdAmongLargest(weights, kNucleusGuess, target, scratch.largest);
    }
    if (!threshold) {
      threshold = std::bit_cast<float>(SelectThreshold(weights, Measure::kMass, target, scratch));
    }
    ZeroBelow(*threshold, weights);
  }
}

std::optional<int32_t> SampleFromWeights(std::span<const float> weights, double u) {
  const double total = Sum(weights);
  if (!(total > 0.0)) return std::nullopt;
  const double target = u * total;
  // Skip whole blocks by their (vectorized) sums, then scan the block where the CDF crosses.
  constexpr size_t kBlock = 512;
  double running = 0.0;
  for (size_t begin = 0; begin < weights.size(); begin += kBlock) {
    const std::span<const float> block =
        weights.subspan(begin, std::min(kBlock, weights.size() - begin));
    const double block_sum = Sum(block);
    if (running + block_sum <= target) {
      running += block_sum;
      continue;
    }
    for (size_t i = 0; i < block.size(); ++i) {
      if (block[i] <= 0.0f) continue;
      running += block[i];
      if (running > target) return static_cast<int32_t>(begin + i);
    }
  }
  // Rounding left the running sum at or below u * total: the last token that has weight.
  for (size_t i = weights.size(); i-- > 0;) {
    if (weights[i] > 0.0f) return static_cast<int32_t>(i);
  }
  return std::nullopt;
}

}  // namespace stride::engine::sampling
