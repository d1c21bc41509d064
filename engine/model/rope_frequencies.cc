#include "engine/model/rope_frequencies.h"

#include <algorithm>
#include <cmath>

namespace stride::engine::model {
namespace {

constexpr double kPi = 3.14159265358979323846;

// base^(-2i/dim) for i in [0, dim/2).
std::vector<double> DefaultInvFreq(double base, int dim) {
  std::vector<double> inv(dim / 2);
  for (int i = 0; i < dim / 2; ++i) {
    // transformers computes the exponent in float32 before the power.
    float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    inv[i] = 1.0 / std::pow(base, static_cast<double>(exponent));
  }
  return inv;
}

void Llama3Adjust(const RopeScaling& s, std::vector<double>& inv) {
  double old_context = s.original_max_position_embeddings;
  double low_freq_wavelen = old_context / s.low_freq_factor;
  double high_freq_wavelen = old_context / s.high_freq_factor;
  for (double& f : inv) {
    double wavelen = 2.0 * kPi / f;
    if (wavelen > low_freq_wavelen) {
      f = f / s.factor;
    } else if (wavelen >= high_freq_wavelen) {  // medium frequencies: interpolate smoothly
      double smooth = (old_context / wavelen - s.low_freq_factor) /
                      (s.high_freq_factor - s.low_freq_factor);
      f = (1.0 - smooth) * f / s.factor + smooth * f;
    }
  }
}

double YarnMscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

// Returns the attention scaling.
double YarnAdjust(const RopeScaling& s, double base, int dim, int max_position_embeddings,
                  std::vector<double>& inv) {
  int original = s.original_max_position_embeddings > 0 ? s.original_max_position_embeddings
                                                        : max_position_embeddings;
  auto correction_dim = [&](double num_rotations) {
    return dim * std::log(original / (num_rotations * 2.0 * kPi)) / (2.0 * std::log(base));
  };
  double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int i = 0; i < dim / 2; ++i) {
    double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    double extrapolation_weight = 1.0 - ramp;
    double extrapolated = inv[i], interpolated = inv[i] / s.factor;
    inv[i] = interpolated * (1.0 - extrapolation_weight) + extrapolated * extrapolation_weight;
  }
  if (s.attention_factor) return *s.attention_factor;
  if (s.mscale && s.mscale_all_dim) {
    return YarnMscale(s.factor, *s.mscale) / YarnMscale(s.factor, *s.mscale_all_dim);
  }
  return YarnMscale(s.factor, 1.0);
}

}  // namespace

RopeFrequencies ComputeRopeFrequencies(const ModelConfig& config, int seq_len) {
  const RopeScaling& s = config.rope_scaling;
  const int dim = config.head_dim;
  double base = config.rope_theta;
  double attention_scaling = 1.0;
  if (s.type == RopeType::kDynamic) {
    int max_pos = s.original_max_position_embeddings > 0 ? s.original_max_position_embeddings
                                                         : config.max_position_embeddings;
    double len = std::max(seq_len, max_pos);
    base *= std::pow(s.factor * len / max_pos - (s.factor - 1.0),
                     static_cast<double>(dim) / (dim - 2));
  }
  std::vector<double> inv = DefaultInvFreq(base, dim);
  switch (s.type) {
    case RopeType::kDefault:
    case RopeType::kDynamic:
      break;
    case RopeType::kLinear:
      for (double& f : inv) f /= s.factor;
      break;
    case RopeType::kLlama3:
      Llama3Adjust(s, inv);
      break;
    case RopeType::kYarn:
      attention_scaling = YarnAdjust(s, base, dim, config.max_position_embeddings, inv);
      break;
  }
  RopeFrequencies out;
  out.inv_freq.assign(inv.begin(), inv.end());
  out.attention_scaling = static_cast<float>(attention_scaling);
  return out;
}

}  // namespace stride::engine::model
