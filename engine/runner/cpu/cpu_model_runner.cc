#include "engine/runner/cpu/cpu_model_runner.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "engine/runner/cpu/ops.h"
#include "engine/runner/kv_cache_spec.h"
#include "engine/sampling/logprobs.h"
#include "engine/sampling/sampler.h"

namespace stride::engine::runner::cpu {

using scheduler::ScheduledChunk;
using scheduler::SchedulerOutput;
using scheduler::StepOutput;

struct CpuModelRunner::Batch {
  std::vector<int32_t> token_ids;                // [num_tokens]
  std::vector<int32_t> positions;                // [num_tokens]
  std::vector<std::vector<int64_t>> slots;       // per KV group, [num_tokens]
  std::vector<int> chunk_offset;                 // first row of each chunk
  int num_tokens() const { return static_cast<int>(token_ids.size()); }
};

CpuModelRunner::CpuModelRunner(const model::ModelConfig& config,
                               const model::ModelWeights& weights,
                               const kvcache::KvCacheConfig& kv, int num_threads)
    : config_(config),
      kv_(kv),
      weights_(ConvertWeights(weights)),
      rope_(model::ComputeRopeFrequencies(config)),
      pool_(num_threads) {
  const int64_t per_layer = static_cast<int64_t>(kv.num_blocks) * kv.block_size *
                            config.num_kv_heads * config.head_dim;
  for (int layer = 0; layer < config.num_layers; ++layer) {
    layer_group_.push_back(GroupOfLayer(kv, layer));
    k_cache_.emplace_back(per_layer, 0.0f);
    v_cache_.emplace_back(per_layer, 0.0f);
  }
}

int64_t CpuModelRunner::KvBytesPerBlock(const model::ModelConfig& config, int block_size) {
  return 2LL * config.num_layers * block_size * config.num_kv_heads * config.head_dim *
         static_cast<int64_t>(sizeof(float));
}

CpuModelRunner::Batch CpuModelRunner::Flatten(const SchedulerOutput& output) const {
  Batch batch;
  batch.slots.resize(kv_.groups.size());
  for (const ScheduledChunk& chunk : output.chunks) {
    batch.chunk_offset.push_back(batch.num_tokens());
    STRIDE_CHECK_EQ(chunk.block_tables.size(), kv_.groups.size());
    for (int i = 0; i < chunk.num_new_tokens; ++i) {
      int position = chunk.num_computed_tokens + i;
      batch.token_ids.push_back(TokenAt(chunk, position));
      batch.positions.push_back(position);
      for (size_t g = 0; g < kv_.groups.size(); ++g) {
        const auto& table = chunk.block_tables[g];
        STRIDE_CHECK_LT(position / kv_.block_size, static_cast<int>(table.size()));
        kvcache::BlockId block = table[position / kv_.block_size];
        STRIDE_CHECK(block != kvcache::kNullBlock) << "writing KV into the null block";
        batch.slots[g].push_back(static_cast<int64_t>(block) * kv_.block_size +
                                 position % kv_.block_size);
      }
    }
  }
  return batch;
}

int32_t CpuModelRunner::TokenAt(const ScheduledChunk& chunk, int position) const {
  const scheduler::Request& r = *chunk.request;
  if (position < r.num_tokens()) return r.token_ids[position];
  STRIDE_CHECK_EQ(position, r.num_tokens()) << "request " << r.id << ": one token in flight at most";
  auto it = sampled_last_step_.find(r.id);
  STRIDE_CHECK(it != sampled_last_step_.end())
      << "request " << r.id << ": its token in flight was not sampled by the previous step";
  return it->second;
}

const model::RopeFrequencies& CpuModelRunner::FrequenciesFor(int seq_len) {
  if (config_.rope_scaling.type != model::RopeType::kDynamic) return rope_;
  if (seq_len != dynamic_rope_len_) {
    dynamic_rope_ = model::ComputeRopeFrequencies(config_, seq_len);
    dynamic_rope_len_ = seq_len;
  }
  return dynamic_rope_;
}

void CpuModelRunner::Attention(int layer, const SchedulerOutput& output, const Batch& batch,
                               std::vector<float>& q, const std::vector<float>& k,
                               const std::vector<float>& v, std::vector<float>& out) {
  const int group = layer_group_[layer];
  const int q_width = config_.num_heads * config_.head_dim;
  WriteKvCache(k.data(), v.data(), batch.num_tokens(), batch.slots[group].data(),
               config_.num_kv_heads, config_.head_dim, k_cache_[layer].data(),
               v_cache_[layer].data());
  for (size_t c = 0; c < output.chunks.size(); ++c) {
    const ScheduledChunk& chunk = output.chunks[c];
    PagedAttentionParams p;
    p.q = q.data() + static_cast<int64_t>(batch.chunk_offset[c]) * q_width;
    p.out = out.data() + static_cast<int64_t>(batch.chunk_offset[c]) * q_width;
    p.k_cache = k_cache_[layer].data();
    p.v_cache = v_cache_[layer].data();
    p.block_table = chunk.block_tables[group].data();
    p.block_size = kv_.block_size;
    p.num_tokens = chunk.num_new_tokens;
    p.first_position = chunk.num_computed_tokens;
    p.num_heads = config_.num_heads;
    p.num_kv_heads = config_.num_kv_heads;
    p.head_dim = config_.head_dim;
    p.sliding_window = kv_.groups[group].sliding_window;
    p.scale = 1.0f / std::sqrt(static_cast<float>(config_.head_dim));
    PagedAttention(p, pool_);
  }
}

std::vector<float> CpuModelRunner::Forward(const SchedulerOutput& output, const Batch& batch) {
  const int n = batch.num_tokens();
  const int hidden = config_.hidden_size, head_dim = config_.head_dim;
  const int q_width = config_.num_heads * head_dim, kv_width = config_.num_kv_heads * head_dim;
  const int ffn = config_.intermediate_size;
  const float* no_bias = nullptr;
  auto bias = [&](const std::vector<float>& b) { return b.empty() ? no_bias : b.data(); };

  std::vector<float> x(static_cast<int64_t>(n) * hidden), h(x.size());
  std::vector<float> q(static_cast<int64_t>(n) * q_width), attn(q.size());
  std::vector<float> k(static_cast<int64_t>(n) * kv_width), v(k.size());
  std::vector<float> gate(static_cast<int64_t>(n) * ffn), up(gate.size());
  Embedding(weights_.embed_tokens.data(), hidden, batch.token_ids, x.data());

  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const CpuLayerWeights& w = weights_.layers[layer];
    RmsNorm(x.data(), w.input_layernorm.data(), n, hidden, config_.rms_norm_eps, h.data());
    Linear(h.data(), n, hidden, w.q_proj.data(), bias(w.q_bias), q_width, q.data(), pool_);
    Linear(h.data(), n, hidden, w.k_proj.data(), bias(w.k_bias), kv_width, k.data(), pool_);
    Linear(h.data(), n, hidden, w.v_proj.data(), bias(w.v_bias), kv_width, v.data(), pool_);
    if (!w.q_norm.empty()) {  // Qwen3: RMSNorm over each head before RoPE
      RmsNorm(q.data(), w.q_norm.data(), n * config_.num_heads, head_dim, config_.rms_norm_eps,
              q.data());
      RmsNorm(k.data(), w.k_norm.data(), n * config_.num_kv_heads, head_dim,
              config_.rms_norm_eps, k.data());
    }
    for (size_t c = 0; c < output.chunks.size(); ++c) {
      const ScheduledChunk& chunk = output.chunks[c];
      const int offset = batch.chunk_offset[c];
      const auto& freqs = FrequenciesFor(chunk.num_computed_tokens + chunk.num_new_tokens);
      ApplyRope(q.data() + static_cast<int64_t>(offset) * q_width, chunk.num_new_tokens,
                config_.num_heads, head_dim, batch.positions.data() + offset, freqs);
      ApplyRope(k.data() + static_cast<int64_t>(offset) * kv_width, chunk.num_new_tokens,
                config_.num_kv_heads, head_dim, batch.positions.data() + offset, freqs);
    }
    Attention(layer, output, batch, q, k, v, attn);
    Linear(attn.data(), n, q_width, w.o_proj.data(), bias(w.o_bias), hidden, h.data(), pool_);
    for (size_t i = 0; i < x.size(); ++i) x[i] += h[i];

    RmsNorm(x.data(), w.post_attention_layernorm.data(), n, hidden, config_.rms_norm_eps,
            h.data());
    Linear(h.data(), n, hidden, w.gate_proj.data(), bias(w.gate_bias), ffn, gate.data(), pool_);
    Linear(h.data(), n, hidden, w.up_proj.data(), bias(w.up_bias), ffn, up.data(), pool_);
    SiluAndMul(gate.data(), up.data(), static_cast<int64_t>(n) * ffn, gate.data());
    Linear(gate.data(), n, ffn, w.down_proj.data(), bias(w.down_bias), hidden, h.data(), pool_);
    for (size_t i = 0; i < x.size(); ++i) x[i] += h[i];
  }
  RmsNorm(x.data(), weights_.norm.data(), n, hidden, config_.rms_norm_eps, x.data());
  return x;
}

StepOutput CpuModelRunner::Execute(const SchedulerOutput& output) {
  StepOutput result;
  if (output.chunks.empty()) return result;
  Batch batch = Flatten(output);
  std::vector<float> hidden_states = Forward(output, batch);

  // Logits only for rows that need them: the last row of sampling chunks, and prompt rows when
  // prompt log-probs were asked for.
  struct LogitRow {
    int chunk;
    int row;
  };
  std::vector<LogitRow> rows;
  for (size_t c = 0; c < output.chunks.size(); ++c) {
    const ScheduledChunk& chunk = output.chunks[c];
    const scheduler::Request& request = *chunk.request;
    if (request.sampling.prompt_logprobs >= 0) {
      for (int i = 0; i < chunk.num_new_tokens; ++i) {
        if (chunk.num_computed_tokens + i + 1 < request.num_prompt_tokens) {
          rows.push_back({static_cast<int>(c), batch.chunk_offset[c] + i});
        }
      }
    }
    if (chunk.sample) {
      rows.push_back({static_cast<int>(c), batch.chunk_offset[c] + chunk.num_new_tokens - 1});
    }
  }
  const int hidden = config_.hidden_size, vocab = config_.vocab_size;
  std::vector<float> selected(rows.size() * static_cast<size_t>(hidden));
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy_n(hidden_states.data() + static_cast<int64_t>(rows[r].row) * hidden, hidden,
                selected.data() + r * hidden);
  }
  std::vector<float> logits(rows.size() * static_cast<size_t>(vocab));
  if (!rows.empty()) {
    Linear(selected.data(), static_cast<int>(rows.size()), hidden, weights_.lm_head.data(),
           nullptr, vocab, logits.data(), pool_);
  }

  result.chunks.resize(output.chunks.size());
  for (size_t c = 0; c < output.chunks.size(); ++c) {
    result.chunks[c].request_id = output.chunks[c].request->id;
  }
  sampling::SamplerScratch scratch;
  for (size_t r = 0; r < rows.size(); ++r) {
    const ScheduledChunk& chunk = output.chunks[rows[r].chunk];
    const scheduler::Request& request = *chunk.request;
    scheduler::ChunkOutput& out = result.chunks[rows[r].chunk];
    std::span<const float> row_logits(logits.data() + r * vocab, vocab);
    const int position = batch.positions[rows[r].row];
    const bool is_sample_row = chunk.sample && rows[r].row == batch.chunk_offset[rows[r].chunk] +
                                                                  chunk.num_new_tokens - 1;
    if (request.sampling.prompt_logprobs >= 0 && position + 1 < request.num_prompt_tokens) {
      out.prompt_logprobs.push_back(sampling::RawTokenLogprob(
          row_logits, request.token_ids[position + 1], request.sampling.prompt_logprobs));
    }
    if (is_sample_row) {
      out.sampled = true;
      const int end = chunk.num_computed_tokens + chunk.num_new_tokens;
      if (end <= request.num_tokens()) {
        out.next_token = sampling::SampleToken(row_logits, request, scratch);
      } else {  // its input token is in flight: sample as if it were appended (penalties, seed)
        scheduler::Request with_input = request;
        with_input.token_ids.push_back(TokenAt(chunk, end - 1));
        out.next_token = sampling::SampleToken(row_logits, with_input, scratch);
      }
    }
  }
  absl::flat_hash_map<scheduler::RequestId, int32_t> sampled;
  for (const scheduler::ChunkOutput& out : result.chunks) {
    if (out.sampled) sampled[out.request_id] = out.next_token.token_id;
  }
  sampled_last_step_ = std::move(sampled);
  return result;
}

}  // namespace stride::engine::runner::cpu
