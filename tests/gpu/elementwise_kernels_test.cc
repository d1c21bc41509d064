// Embedding, fused add + RMSNorm and SiLU-and-mul against the CPU backend's ops, in bf16 (inputs
// rounded to bf16, outputs rounded to bf16) and in fp32 (full-precision inputs; nothing is rounded
// to bf16, so only summation order and the fast exp in SiLU separate the GPU from the CPU).
#include <algorithm>
#include <random>
#include <tuple>

#include "engine/runner/cpu/ops.h"
#include "gtest/gtest.h"
#include "kernels/activation/silu_and_mul.h"
#include "kernels/embedding/embedding.h"
#include "kernels/norm/rms_norm.h"
#include "tests/gpu/device_tensor.h"
#include "tests/gpu/gpu_test_util.h"

namespace stride::testing::gpu {
namespace {

namespace cpu = engine::runner::cpu;
using kernels::DType;

// fp32 outputs that are computed, not copied: the GPU's float sums of squares (the CPU sums in
// double), rsqrtf and SiLU's __expf (2 + 1.2 |x| ulp) each cost a few ulp: ~1e-6 at most.
constexpr double kF32Tolerance = 1e-5;

class EmbeddingKernel : public ::testing::TestWithParam<DType> {};

TEST_P(EmbeddingKernel, MatchesCpuLookup) {
  const DType dtype = GetParam();
  for (auto [vocab, hidden, tokens] : {std::tuple{1000, 4096, 37}, {512, 64, 5}}) {
    std::mt19937 rng(FreshSeed());
    std::vector<float> table =
        RandomValuesFor(dtype, static_cast<size_t>(vocab) * hidden, 1.0f, rng);
    std::vector<int32_t> ids(tokens);
    for (int32_t& id : ids) id = std::uniform_int_distribution<int>(0, vocab - 1)(rng);
    std::vector<float> ref(static_cast<size_t>(tokens) * hidden);
    cpu::Embedding(table.data(), hidden, ids, ref.data());

    DeviceTensor d_table(table, dtype);
    DeviceArray<int32_t> d_ids(ids);
    DeviceArray<float> d_out(ref.size());
    d_out.Poison();
    kernels::EmbeddingParams p{d_table.get(), d_ids.get(), d_out.get(), tokens, hidden, dtype};
    GPU_CHECK(kernels::LaunchEmbedding(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    if (dtype == DType::kF32) {
      EXPECT_EQ(d_out.Download(), ref) << vocab << "x" << hidden;  // a copy: exact
    } else {
      EXPECT_LT(RelativeError(d_out.Download(), ref), 1e-6) << vocab << "x" << hidden;
    }

    // Every third token's id comes from a strided source (the previous step's sampler rows):
    // ids[] holds a wrong id there, so a kernel that ignored src_rows would fail.
    constexpr int kStride = 3;
    std::vector<int32_t> src_rows(tokens, -1), src(static_cast<size_t>(tokens) * kStride, -7);
    std::vector<int32_t> shown = ids;
    for (int t = 0; t < tokens; t += 3) {
      src_rows[t] = tokens - 1 - t;
      src[static_cast<size_t>(src_rows[t]) * kStride] = ids[t];
      shown[t] = (ids[t] + 1) % vocab;
    }
    DeviceArray<int32_t> d_shown(shown), d_src_rows(src_rows), d_src(src);
    d_out.Poison();
    p.ids = d_shown.get();
    p.src_rows = d_src_rows.get();
    p.src_tokens = d_src.get();
    p.src_stride = kStride;
    GPU_CHECK(kernels::LaunchEmbedding(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    EXPECT_LT(RelativeError(d_out.Download(), ref), dtype == DType::kF32 ? 1e-7 : 1e-6)
        << vocab << "x" << hidden << " with source rows";
  }
}

class FusedAddRmsNormKernel : public ::testing::TestWithParam<DType> {};

TEST_P(FusedAddRmsNormKernel, MatchesCpuAddThenNorm) {
  const DType dtype = GetParam();
  for (auto [rows, dim, with_add, with_bias, gather] : {std::tuple{7, 4096, true, false, false},
                                                        {33, 64, false, false, false},
                                                        {5, 5120, true, true, false},
                                                        {9, 4096, true, false, true},
                                                        {3, 4098, true, true, false},
                                                        {2, 40000, true, false, false}}) {
    std::mt19937 rng(FreshSeed());
    std::vector<float> residual =
        RandomValuesFor(dtype, static_cast<size_t>(rows) * dim, 2.0f, rng);
    std::vector<float> add = RandomValuesFor(dtype, residual.size(), 1.0f, rng);
    std::vector<float> bias = RandomValuesFor(dtype, dim, 0.5f, rng);
    std::vector<float> weight = RandomValuesFor(dtype, dim, 1.5f, rng);
    std::vector<int32_t> index;  // output row -> residual row
    for (int r = rows - 1; r >= 0; r -= 2) index.push_back(r);
    const int out_rows = gather ? static_cast<int>(index.size()) : rows;

    std::vector<float> summed = residual;
    if (with_add) {
      for (size_t i = 0; i < summed.size(); ++i) {
        summed[i] += add[i] + (with_bias ? bias[i % dim] : 0.0f);
      }
    }
    std::vector<float> normed(summed.size());
    cpu::RmsNorm(summed.data(), weight.data(), rows, dim, 1e-5, normed.data());
    std::vector<float> ref;
    for (int r = 0; r < out_rows; ++r) {
      const int src = gather ? index[r] : r;
      ref.insert(ref.end(), normed.begin() + src * dim, normed.begin() + (src + 1) * dim);
    }

    DeviceArray<float> d_residual(residual);
    DeviceTensor d_add(add, dtype), d_bias(bias, dtype), d_weight(weight, dtype);
    DeviceArray<int32_t> d_index(index);
    DeviceTensor d_out(static_cast<size_t>(out_rows) * dim, dtype);
    kernels::FusedAddRmsNormParams p;
    p.residual = d_residual.get();
    p.add = with_add ? d_add.get() : nullptr;
    p.add_bias = with_bias ? d_bias.get() : nullptr;
    p.weight = d_weight.get();
    p.row_index = gather ? d_index.get() : nullptr;
    p.out = d_out.get();
    p.rows = out_rows;
    p.dim = dim;
    p.eps = 1e-5f;
    p.dtype = dtype;
    GPU_CHECK(kernels::LaunchFusedAddRmsNorm(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    const double tolerance = dtype == DType::kF32 ? kF32Tolerance : 1e-2;
    EXPECT_LT(RelativeError(d_out.Download(), ref), tolerance) << rows << "x" << dim;
    // The residual is fp32 either way; (x + add) + bias against x + (add + bias): an ulp apart.
    if (!gather) {
      EXPECT_LT(RelativeError(d_residual.Download(), summed), 1e-6);
    }
  }
}

class SiluAndMulKernel : public ::testing::TestWithParam<DType> {};

TEST_P(SiluAndMulKernel, MatchesCpuSwiGlu) {
  const DType dtype = GetParam();
  for (auto [rows, width, with_bias] :
       {std::tuple{3, 14336, false}, {17, 160, false}, {4, 100, false}, {6, 160, true}}) {
    std::mt19937 rng(FreshSeed());
    std::vector<float> gate_up =
        RandomValuesFor(dtype, static_cast<size_t>(rows) * 2 * width, 4.0f, rng);
    std::vector<float> bias = RandomValuesFor(dtype, 2 * width, 1.0f, rng);
    std::vector<float> gate, up;
    for (int r = 0; r < rows; ++r) {
      for (int i = 0; i < width; ++i) {
        gate.push_back(gate_up[r * 2 * width + i] + (with_bias ? bias[i] : 0.0f));
        up.push_back(gate_up[r * 2 * width + width + i] + (with_bias ? bias[width + i] : 0.0f));
      }
    }
    std::vector<float> ref(gate.size());
    cpu::SiluAndMul(gate.data(), up.data(), static_cast<int64_t>(ref.size()), ref.data());

    DeviceTensor d_in(gate_up, dtype), d_bias(bias, dtype), d_out(ref.size(), dtype);
    kernels::SiluAndMulParams p{
        d_in.get(), with_bias ? d_bias.get() : nullptr, d_out.get(), rows, width, dtype};
    GPU_CHECK(kernels::LaunchSiluAndMul(p, nullptr));
    GPU_CHECK(cudaDeviceSynchronize());
    const double tolerance = dtype == DType::kF32 ? kF32Tolerance : 1e-2;
    EXPECT_LT(RelativeError(d_out.Download(), ref), tolerance) << rows << "x" << width;
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, EmbeddingKernel, ::testing::Values(DType::kBF16, DType::kF32),
                         DTypeName);
INSTANTIATE_TEST_SUITE_P(DTypes, FusedAddRmsNormKernel,
                         ::testing::Values(DType::kBF16, DType::kF32), DTypeName);
INSTANTIATE_TEST_SUITE_P(DTypes, SiluAndMulKernel, ::testing::Values(DType::kBF16, DType::kF32),
                         DTypeName);

}  // namespace
}  // namespace stride::testing::gpu
