// The CUDA runner's forward pass: the decoder layers, attention over the paged cache, the
// projections (cuBLASLt or the skinny GEMM) and the sampler, queued on the runner's stream.
#include "engine/runner/cuda/cuda_runner_impl.h"

namespace stride::engine::runner::cuda {

bool CudaModelRunner::TryGemv(const kernels::GemvParams& g) {
  if (exact() || g.m > options_.max_gemv_rows || !kernels::GemvSupports(g)) return false;
  STRIDE_CUDA_CHECK(kernels::LaunchGemv(g, stream_));
  return true;
}

void CudaModelRunner::Gemm(const void* x, const void* w, void* y, int m, int n, int k,
                           kernels::GemmOutput out) {
  if (exact()) out = kernels::GemmOutput::kF32;
  kernels::GemvParams g;
  g.x = static_cast<const bf16*>(x);
  g.w = static_cast<const bf16*>(w);
  g.y = y;
  g.output = out;
  g.m = m;
  g.n = n;
  g.k = k;
  if (TryGemv(g)) return;
  // Token counts are padded to a few buckets: every new m costs a cuBLASLt heuristic query and
  // lazy kernel loads (~40 ms per shape on the host), and the extra rows (stale activations,
  // within the buffers' power-of-two capacity) are never read back.
  m = GemmRowBucket(m);
  kernels::GemmParams p;
  p.context = gemm_.get();
  p.x = x;
  p.w = w;
  p.y = y;
  p.output = out;
  p.dtype = options_.dtype;
  p.m = m;
  p.n = n;
  p.k = k;
  const cudaError_t e = kernels::LaunchGemm(p, stream_);
  STRIDE_CHECK(e == cudaSuccess) << "GEMM " << m << "x" << n << "x" << k << ": "
                                 << cudaGetErrorString(e) << " (cuBLAS status "
                                 << gemm_->last_cublas_status() << ")";
}

void CudaModelRunner::GateUpSilu(int layer, int m) {
  const CudaLayerWeights& w = weights_.layers[layer];
  const int hidden = config_.hidden_size, ffn = config_.intermediate_size;
  kernels::GemvParams g;
  g.x = hidden_.get<bf16>();
  g.w = static_cast<const bf16*>(w.gate_up_proj);
  g.bias = static_cast<const bf16*>(w.gate_up_bias);
  g.y = act_.get();
  g.swiglu = true;
  g.m = m;
  g.n = 2 * ffn;
  g.k = hidden;
  if (TryGemv(g)) return;
  Gemm(hidden_.get(), w.gate_up_proj, gate_up_.get(), m, 2 * ffn, hidden);
  kernels::SiluAndMulParams act;
  act.gate_up = gate_up_.get();
  act.bias = w.gate_up_bias;
  act.out = act_.get();
  act.dtype = options_.dtype;
  act.rows = m;
  act.width = ffn;
  STRIDE_CUDA_CHECK(kernels::LaunchSiluAndMul(act, stream_));
}

void CudaModelRunner::Attention(int layer, const StepView& step) {
  const StepLayout& l = step.layout;
  const int group = layer_group_[layer];
  void* k_cache = KvCache(layer, false);
  void* v_cache = KvCache(layer, true);
  const int32_t* tables =
      Meta<int32_t>(l.block_tables) + static_cast<size_t>(group) * l.num_seqs * l.width;
  const int window = kv_.groups[group].sliding_window;
  const float scale = 1.0f / std::sqrt(static_cast<float>(config_.head_dim));

  kernels::RopeKvCacheParams rope;
  rope.dtype = options_.dtype;
  rope.qkv = qkv_.get();
  rope.bias = weights_.layers[layer].qkv_bias;
  rope.q_norm = weights_.layers[layer].q_norm;
  rope.k_norm = weights_.layers[layer].k_norm;
  rope.norm_eps = static_cast<float>(config_.rms_norm_eps);
  rope.positions = Meta<int32_t>(l.positions);
  rope.inv_freq = inv_freq_.get<float>();
  rope.attention_scaling = attention_scaling_;
  rope.slot_mapping = Meta<int64_t>(l.slots) + static_cast<size_t>(group) * l.num_tokens;
  rope.q_out = q_.get();
  rope.k_cache = k_cache;
  rope.v_cache = v_cache;
  rope.kv_dtype = options_.kv_dtype;
  rope.num_tokens = l.num_tokens;
  rope.num_heads = config_.num_heads;
  rope.num_kv_heads = config_.num_kv_heads;
  rope.head_dim = config_.head_dim;
  STRIDE_CUDA_CHECK(kernels::LaunchRopeKvCache(rope, stream_));

  // What every attention kernel is told alike: the paging, the heads and the scale.
  auto paged = [&](auto& a) {
    a.block_tables = tables;
    a.max_blocks_per_seq = l.width;
    a.context_lens = Meta<int32_t>(l.context_lens);
    a.num_heads = config_.num_heads;
    a.num_kv_heads = config_.num_kv_heads;
    a.head_dim = config_.head_dim;
    a.block_size = kv_.block_size;
    a.sliding_window = window;
    a.scale = scale;
  };
  if (exact()) {  // one fp32 kernel for decode and prefill rows alike
    kernels::PagedAttentionF32Params a;
    paged(a);
    a.q = q_.get<float>();
    a.out = attn_.get<float>();
    a.k_cache = static_cast<const float*>(k_cache);
    a.v_cache = static_cast<const float*>(v_cache);
    a.query_start = Meta<int32_t>(l.query_start);
    a.num_seqs = l.num_seqs;
    STRIDE_CUDA_CHECK(kernels::LaunchPagedAttentionF32(a, stream_));
    return;
  }
  // ... and the bf16 kernels, their operands.
  auto paged_bf16 = [&](auto& a) {
    paged(a);
    a.q = q_.get<bf16>();
    a.out = attn_.get<bf16>();
    a.k_cache = k_cache;
    a.v_cache = v_cache;
    a.kv_dtype = options_.kv_dtype;
  };
  if (step.num_decode > 0) {
    kernels::PagedDecodeParams d;
    paged_bf16(d);
    d.num_seqs = step.num_decode;
    d.num_splits = step.decode_splits;
    d.workspace = decode_workspace_.get();
    d.split_counters = step.decode_splits > 1 ? split_counters_.get<int32_t>() : nullptr;
    d.num_cache_blocks = kv_.num_blocks;  // lets it read with TMA (paged_decode_tma.cu)
    d.use_tma = options_.decode_tma;
    d.heads_fastest = options_.decode_heads_fastest;
    d.fp8_tma = options_.decode_fp8_tma;
    STRIDE_CUDA_CHECK(kernels::LaunchPagedDecode(d, stream_));
  }
  if (l.num_work > 0) {
    kernels::PagedPrefillParams p;
    paged_bf16(p);
    p.query_start = Meta<int32_t>(l.query_start);
    p.work = Meta<kernels::PrefillWorkItem>(l.work);
    p.num_work = l.num_work;
    STRIDE_CUDA_CHECK(kernels::LaunchPagedPrefill(p, stream_));
  }
}

void CudaModelRunner::Forward(const StepView& step) {
  const StepLayout& l = step.layout;
  const int n = l.num_tokens, hidden = config_.hidden_size, ffn = config_.intermediate_size;
  const int q_width = config_.num_heads * config_.head_dim;
  const float eps = static_cast<float>(config_.rms_norm_eps);

  kernels::EmbeddingParams embed;
  embed.table = weights_.embed_tokens;
  embed.dtype = options_.dtype;
  embed.ids = Meta<int32_t>(l.token_ids);
  embed.src_rows = Meta<int32_t>(l.token_src);
  embed.src_tokens = &sampled_.get<kernels::SampledToken>()->token;
  embed.src_stride = sizeof(kernels::SampledToken) / sizeof(int32_t);
  embed.out = residual_.get<float>();
  embed.num_tokens = n;
  embed.hidden = hidden;
  STRIDE_CUDA_CHECK(kernels::LaunchEmbedding(embed, stream_));

  kernels::FusedAddRmsNormParams norm;
  norm.residual = residual_.get<float>();
  norm.out = hidden_.get();
  norm.dtype = options_.dtype;
  norm.rows = n;
  norm.dim = hidden;
  norm.eps = eps;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const CudaLayerWeights& w = weights_.layers[layer];
    // residual += previous MLP output; h = norm(residual)
    norm.add = layer == 0 ? nullptr : sublayer_out_.get();
    norm.add_bias = layer == 0 ? nullptr : weights_.layers[layer - 1].down_bias;
    norm.weight = w.input_layernorm;
    STRIDE_CUDA_CHECK(kernels::LaunchFusedAddRmsNorm(norm, stream_));
    Gemm(hidden_.get(), w.qkv_proj, qkv_.get(), n, qkv_width_, hidden);
    Attention(layer, step);
    Gemm(attn_.get(), w.o_proj, sublayer_out_.get(), n, hidden, q_width);
    norm.add = sublayer_out_.get();
    norm.add_bias = w.o_bias;
    norm.weight = w.post_attention_layernorm;
    STRIDE_CUDA_CHECK(kernels::LaunchFusedAddRmsNorm(norm, stream_));
    GateUpSilu(layer, n);
    Gemm(act_.get(), w.down_proj, sublayer_out_.get(), n, hidden, ffn);
  }
  trace_.Note("every layer queued", num_launches_);
  // Final residual add and norm, only for the rows that need logits.
  norm.add = sublayer_out_.get();
  norm.add_bias = weights_.layers.back().down_bias;
  norm.weight = weights_.norm;
  norm.row_index = step.gather_rows ? Meta<int32_t>(l.rows) : nullptr;
  norm.rows = l.num_rows;
  STRIDE_CUDA_CHECK(kernels::LaunchFusedAddRmsNorm(norm, stream_));
  Gemm(hidden_.get(), weights_.lm_head, logits_.get(), l.num_rows, config_.vocab_size, hidden,
       kernels::GemmOutput::kF32);
  kernels::SampleParams sample;
  sample.logits = logits_.get<float>();
  sample.rows_params = Meta<kernels::SampleRowParams>(l.sample_rows);
  sample.out = sampled_.get<kernels::SampledToken>();
  sample.rows = l.num_rows;
  sample.vocab = config_.vocab_size;
  STRIDE_CUDA_CHECK(kernels::LaunchSample(sample, stream_));
}

}  // namespace stride::engine::runner::cuda
