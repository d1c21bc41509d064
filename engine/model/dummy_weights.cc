// Counter-based dummy weights; see dummy_weights.h. Each element hashes (stream key, index) with
// the SplitMix64 finalizer and sums four 16-bit uniforms (Irwin-Hall), which is close enough to
// a normal distribution for activations to look like a trained model's and costs ~1 ns.
#include "engine/model/dummy_weights.h"

#include <cmath>
#include <string_view>

#include "base/thread_pool.h"
#include "engine/model/dtype_convert.h"
#include "engine/model/weight_layout.h"
#include "engine/model/weight_storage.h"

namespace stride::engine::model {
namespace {

uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// FNV-1a: a stable per-tensor stream id, independent of the order tensors are generated in.
uint64_t HashName(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

struct Scale {
  float mean;
  float stddev;
};

Scale ScaleFor(WeightRole role) {
  switch (role) {
    case WeightRole::kEmbedding:
    case WeightRole::kMatrix:
      return {0.0f, 0.02f};
    case WeightRole::kNorm:
      return {1.0f, 0.02f};
    case WeightRole::kBias:
      return {0.0f, 0.01f};
  }
  return {0.0f, 0.02f};
}

}  // namespace

float DummyNormal(uint64_t key, uint64_t index) {
  // SplitMix64: the index-th output of the stream that starts at `key`.
  const uint64_t bits = Mix(key + (index + 1) * 0x9e3779b97f4a7c15ull);
  const float sum = static_cast<float>((bits & 0xffff) + ((bits >> 16) & 0xffff) +
                                       ((bits >> 32) & 0xffff) + (bits >> 48));
  // Sum of four U(0,1): mean 2, variance 1/3.
  constexpr float kInvUnit = 1.0f / 65536.0f;
  constexpr float kSqrt3 = 1.7320508f;
  return (sum * kInvUnit + 4.0f * 0.5f * kInvUnit - 2.0f) * kSqrt3;
}

ModelWeights MakeDummyWeights(const ModelConfig& config, uint64_t seed, int num_threads) {
  ModelWeights weights;
  weights.storage = std::make_shared<WeightStorage>();
  base::ThreadPool pool(num_threads);
  const uint64_t seed_key = Mix(seed ^ 0x5354524944450000ull);  // "STRIDE"
  for (const WeightSlot& slot : ListWeightSlots(config, weights)) {
    TensorView& view = *slot.view;
    view.dtype = DType::kBF16;
    view.shape = slot.shape;
    const int64_t n = view.numel();
    auto* out = static_cast<uint16_t*>(weights.storage->AllocateBuffer(n * sizeof(uint16_t)));
    view.data = out;
    const uint64_t key = Mix(seed_key ^ HashName(slot.name));
    const Scale scale = ScaleFor(slot.role);
    pool.ParallelFor(n, int64_t{1} << 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        out[i] = FloatToBFloat16(scale.mean + scale.stddev * DummyNormal(key, i));
      }
    });
  }
  if (config.tie_word_embeddings) weights.lm_head = weights.embed_tokens;
  return weights;
}

}  // namespace stride::engine::model
