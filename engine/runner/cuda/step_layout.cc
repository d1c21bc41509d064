#include "engine/runner/cuda/step_layout.h"

#include "kernels/attention/paged_attention.h"
#include "kernels/sampling/sampling.h"

namespace stride::engine::runner::cuda {
namespace {

size_t AlignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

}  // namespace

int RoundUpPow2(int x, int floor) {
  int v = floor;
  while (v < x) v *= 2;
  return v;
}

int GemmRowBucket(int m) {
  const int step = m <= 256 ? 16 : m <= 1024 ? 128 : 512;
  return (m + step - 1) / step * step;
}

std::vector<int> GemmRowBuckets(int max_rows) {
  std::vector<int> buckets;
  for (int m = 1; m <= max_rows; m = GemmRowBucket(m) + 1) buckets.push_back(GemmRowBucket(m));
  return buckets;
}

int GraphBucket(int n) {
  // Past 256, multiples of 128 (GemmRowBucket's step there).
  static constexpr int kBuckets[] = {1,  2,   4,   8,   16,  24,  32,  48, 64,
                                     96, 128, 160, 192, 224, 256, 384, 512};
  for (int b : kBuckets) {
    if (b >= n) return b;
  }
  return RoundUpPow2(n, 256);
}

void StepLayout::Compute() {
  size_t o = 0;
  auto take = [&](size_t bytes) {
    const size_t at = o;
    o = AlignUp(o + bytes, 16);
    return at;
  };
  slots = take(sizeof(int64_t) * num_groups * num_tokens);
  token_ids = take(sizeof(int32_t) * num_tokens);
  token_src = take(sizeof(int32_t) * num_tokens);  // -1, or the previous step's sampler row
  positions = take(sizeof(int32_t) * num_tokens);
  rows = take(sizeof(int32_t) * num_rows);
  query_start = take(sizeof(int32_t) * (num_seqs + 1));
  context_lens = take(sizeof(int32_t) * num_seqs);
  work = take(sizeof(kernels::PrefillWorkItem) * num_work);
  sample_rows = take(sizeof(kernels::SampleRowParams) * num_rows);
  block_tables = take(sizeof(int32_t) * num_groups * num_seqs * static_cast<size_t>(width));
  total = o;
}

}  // namespace stride::engine::runner::cuda
