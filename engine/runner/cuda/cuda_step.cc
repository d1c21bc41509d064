// The CUDA runner's step: Launch builds the batch metadata, copies it and queues the forward pass
// (a captured graph for decode-only batches); Finish waits for the oldest launched step and turns
// its sampled tokens and log-probs into a StepOutput.
#include "engine/runner/cuda/cuda_runner_impl.h"

namespace stride::engine::runner::cuda {

StepOutput CudaModelRunner::Execute(const SchedulerOutput& output) {
  Launch(output);
  return Finish();
}

std::pair<int32_t, int32_t> CudaModelRunner::InFlightInput(const scheduler::Request& request) {
  auto it = sample_row_of_.find(request.id);
  STRIDE_CHECK(it != sample_row_of_.end() && !launched_.empty())
      << "request " << request.id << ": its token in flight was not sampled by the last step";
  if (it->second >= 0) return {it->second, 0};
  // Sampled on the host: wait for that step and sample it now (Finish reuses the result). The
  // request's history is the one Finish would see: the step before it is updated already.
  Launched& last = launched_.back();
  const int r = -it->second - 1;  // its index in last.rows
  trace_.Note("Launch waits for a host-sampled input", num_launches_);
  STRIDE_CUDA_CHECK(cudaEventSynchronize(done_[last.parity]));
  const size_t vocab = config_.vocab_size;
  const size_t logit_row = last.use_graph ? last.rows[r].row : r;
  std::span<const float> row_logits(host_logits_[last.parity].get<float>() + logit_row * vocab,
                                    vocab);
  sampling::SamplerScratch scratch;
  scheduler::TokenLogprob token = sampling::SampleToken(row_logits, request, scratch);
  const int32_t id = token.token_id;
  last.host_sampled.emplace(r, std::move(token));
  return {-1, id};
}

std::vector<CudaModelRunner::LogitRow> CudaModelRunner::LogitRows(
    const SchedulerOutput& output) const {
  std::vector<LogitRow> rows;
  int offset = 0;
  for (int c = 0; c < static_cast<int>(output.chunks.size()); ++c) {
    const ScheduledChunk& chunk = output.chunks[c];
    const scheduler::Request& request = *chunk.request;
    if (request.sampling.prompt_logprobs >= 0) {
      const bool host = request.sampling.prompt_logprobs > kernels::kMaxGpuTopLogprobs;
      for (int i = 0; i < chunk.num_new_tokens; ++i) {
        const int position = chunk.num_computed_tokens + i;
        if (position + 1 < request.num_prompt_tokens) {
          rows.push_back({c, offset + i, position, false, host});
        }
      }
    }
    if (chunk.sample) {
      const int last = chunk.num_new_tokens - 1;
      rows.push_back({c, offset + last, chunk.num_computed_tokens + last, true,
                      !GpuCanSample(request)});
    }
    offset += chunk.num_new_tokens;
  }
  return rows;
}

void CudaModelRunner::FillMetadata(const SchedulerOutput& output, const std::vector<LogitRow>& rows,
                                   const std::vector<kernels::PrefillWorkItem>& work,
                                   const StepView& step, bool use_graph, char* host) {
  const StepLayout& l = step.layout;
  const int num_seqs = static_cast<int>(output.chunks.size());
  const int num_groups = l.num_groups;
  const int bs = kv_.block_size;
  auto* slots = reinterpret_cast<int64_t*>(host + l.slots);
  auto* token_ids = reinterpret_cast<int32_t*>(host + l.token_ids);
  auto* token_src = reinterpret_cast<int32_t*>(host + l.token_src);
  auto* positions = reinterpret_cast<int32_t*>(host + l.positions);
  auto* row_index = reinterpret_cast<int32_t*>(host + l.rows);
  auto* query_start = reinterpret_cast<int32_t*>(host + l.query_start);
  auto* context_lens = reinterpret_cast<int32_t*>(host + l.context_lens);
  auto* tables = reinterpret_cast<int32_t*>(host + l.block_tables);
  std::fill(tables, tables + static_cast<size_t>(num_groups) * l.num_seqs * l.width, 0);
  int t = 0;
  for (int c = 0; c < l.num_seqs; ++c) {
    query_start[c] = t;
    if (c >= num_seqs) {  // graph padding: a sequence with no keys and a skipped KV write
      context_lens[c] = 0;
      token_ids[t] = 0;
      token_src[t] = -1;
      positions[t] = 0;
      for (int g = 0; g < num_groups; ++g) slots[g * l.num_tokens + t] = -1;
      ++t;
      continue;
    }
    const ScheduledChunk& chunk = output.chunks[c];
    STRIDE_CHECK_EQ(static_cast<int>(chunk.block_tables.size()), num_groups);
    context_lens[c] = chunk.num_computed_tokens + chunk.num_new_tokens;
    for (int g = 0; g < num_groups; ++g) {
      const auto& table = chunk.block_tables[g];
      const int used = std::min<int>(table.size(), l.width);
      std::copy_n(table.data(), used, tables + (static_cast<size_t>(g) * l.num_seqs + c) * l.width);
    }
    for (int i = 0; i < chunk.num_new_tokens; ++i, ++t) {
      const int position = chunk.num_computed_tokens + i;
      if (position < chunk.request->num_tokens()) {
        token_ids[t] = chunk.request->token_ids[position];
        token_src[t] = -1;
      } else {  // asynchronous scheduling: the token the last step is sampling
        STRIDE_CHECK_EQ(position, chunk.request->num_tokens());
        std::tie(token_src[t], token_ids[t]) = InFlightInput(*chunk.request);
      }
      positions[t] = position;
      for (int g = 0; g < num_groups; ++g) {
        const auto& table = chunk.block_tables[g];
        STRIDE_CHECK_LT(position / bs, static_cast<int>(table.size()));
        const kvcache::BlockId block = table[position / bs];
        STRIDE_CHECK(block != kvcache::kNullBlock) << "writing KV into the null block";
        slots[g * l.num_tokens + t] = static_cast<int64_t>(block) * bs + position % bs;
      }
    }
  }
  query_start[l.num_seqs] = t;
  if (!use_graph) {
    for (size_t r = 0; r < rows.size(); ++r) row_index[r] = rows[r].row;
  }
  // Sampling knobs per logit row (graph mode: logit row = token row; padding rows are greedy).
  auto* sample_rows = reinterpret_cast<kernels::SampleRowParams*>(host + l.sample_rows);
  std::fill(sample_rows, sample_rows + l.num_rows, kernels::SampleRowParams{});
  for (size_t r = 0; r < rows.size(); ++r) {
    const LogitRow& row = rows[r];
    const scheduler::Request& request = *output.chunks[row.chunk].request;
    kernels::SampleRowParams& params = sample_rows[use_graph ? row.row : r];
    if (row.on_host) continue;
    // A sampling row's token is output number position + 1 - num_prompt_tokens.
    params = row.sample ? SampleRowFor(request, row.position + 1 - request.num_prompt_tokens)
                        : ScoreRowFor(request.token_ids[row.position + 1],
                                      request.sampling.prompt_logprobs);
  }
  std::copy(work.begin(), work.end(), reinterpret_cast<kernels::PrefillWorkItem*>(host + l.work));
}

void CudaModelRunner::Issue(const StepView& step, bool use_graph) {
  const StepLayout& l = step.layout;
  if (use_graph) {
    const std::pair<int, int> key{l.num_seqs, l.width};
    auto it = graphs_.find(key);
    if (it != graphs_.end()) {
      STRIDE_CUDA_CHECK(cudaGraphLaunch(it->second, stream_));
    } else {
      // First sight of this shape: run it eagerly (warming GEMM plans and kernel attributes),
      // then capture it for the next steps.
      Forward(step);
      trace_.Note("first sight of a graph shape run eagerly; capturing", num_launches_);
      cudaGraph_t graph;
      STRIDE_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      Forward(step);
      STRIDE_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
      cudaGraphExec_t exec;
      STRIDE_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
      trace_.Note("graph instantiated", num_launches_);
      STRIDE_CUDA_CHECK(cudaGraphDestroy(graph));
      graphs_.emplace(key, exec);
    }
  } else {
    Forward(step);
  }
}

void CudaModelRunner::QueueResults(const std::vector<LogitRow>& rows, bool use_graph,
                                   int num_tokens) {
  // The sampler's results to the host, and the logits of the rows the host samples; in graph
  // mode logit row r is token row r.
  const size_t vocab = config_.vocab_size;
  const int copy_rows = use_graph ? num_tokens : static_cast<int>(rows.size());
  if (copy_rows > 0) {
    STRIDE_CUDA_CHECK(cudaMemcpyAsync(host_sampled_[parity_].get(), sampled_.get(),
                                      sizeof(kernels::SampledToken) * copy_rows,
                                      cudaMemcpyDeviceToHost, stream_));
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].on_host) continue;
    const size_t logit_row = use_graph ? rows[r].row : r;
    STRIDE_CUDA_CHECK(cudaMemcpyAsync(host_logits_[parity_].get<float>() + logit_row * vocab,
                                      logits_.get<float>() + logit_row * vocab,
                                      sizeof(float) * vocab, cudaMemcpyDeviceToHost, stream_));
  }
  STRIDE_CUDA_CHECK(cudaEventRecord(done_[parity_], stream_));
  profile_.Mark(StepProfile::kIssued, stream_);
}

void CudaModelRunner::Launch(const SchedulerOutput& output) {
  // Two launches alternate the host buffers: a third would overwrite the first's results.
  STRIDE_CHECK_LT(launched_.size(), 2u) << "at most one step in flight before the next launch";
  ++num_launches_;
  trace_.Note("Launch starts", num_launches_);
  if (output.chunks.empty()) {
    sample_row_of_.clear();
    launched_.push_back(Launched{});
    return;
  }
  const int num_seqs = static_cast<int>(output.chunks.size());
  const int num_groups = static_cast<int>(kv_.groups.size());
  const int bs = kv_.block_size;

  int num_tokens = 0, num_decode = 0, max_context = 0, max_blocks = 1;
  bool leading = true;
  for (const ScheduledChunk& c : output.chunks) {
    num_tokens += c.num_new_tokens;
    leading = leading && c.num_new_tokens == 1;
    if (leading) ++num_decode;
    const int context = c.num_computed_tokens + c.num_new_tokens;
    max_context = std::max(max_context, context);
    max_blocks = std::max(max_blocks, (context + bs - 1) / bs);
  }
  const bool use_graph =
      options_.enable_cuda_graphs && num_decode == num_seqs && num_seqs <= options_.max_graph_batch;
  profile_.Begin(use_graph ? num_seqs : -num_seqs);

  std::vector<LogitRow> rows = LogitRows(output);

  StepView step;
  StepLayout& l = step.layout;
  l.num_tokens = use_graph ? GraphBucket(num_seqs) : num_tokens;
  l.num_seqs = use_graph ? l.num_tokens : num_seqs;
  l.num_groups = num_groups;
  l.width = RoundUpPow2(max_blocks, 16);
  l.num_rows = use_graph ? l.num_tokens : static_cast<int>(rows.size());
  step.gather_rows = !use_graph;
  step.num_decode = use_graph ? l.num_seqs : num_decode;
  std::vector<kernels::PrefillWorkItem> work;
  if (num_decode < num_seqs) {
    std::vector<int> query_lens(num_seqs, 0), context_lens(num_seqs, 0);
    for (int c = num_decode; c < num_seqs; ++c) {
      query_lens[c] = output.chunks[c].num_new_tokens;
      context_lens[c] = output.chunks[c].num_computed_tokens + output.chunks[c].num_new_tokens;
    }
    // Sliding-window groups only shorten the key range; plan for the widest (full) case.
    work = kernels::PlanPagedPrefill(query_lens, context_lens, config_.num_heads,
                                     config_.num_kv_heads, 0);
  }
  l.num_work = static_cast<int>(work.size());
  l.Compute();

  // Fill the staging copy of the metadata.
  EnsureActivations(l.num_tokens, std::max(1, l.num_rows));
  // Powers of two, so that a growing batch reallocates them rarely. Both staging copies grow with
  // the device buffer, after DropGraphs has drained the stream: freeing pinned memory waits for
  // the device, which at any other time is a step in flight.
  if (meta_.Reserve(std::max<size_t>(std::bit_ceil(l.total), 1 << 20))) DropGraphs();
  const bool grew_even = staging_[0].Reserve(meta_.bytes());
  const bool grew_odd = staging_[1].Reserve(meta_.bytes());
  if (grew_even || grew_odd) trace_.Note("pinned staging reallocated", num_launches_);
  char* host = staging_[parity_].get<char>();
  FillMetadata(output, rows, work, step, use_graph, host);

  if (step.num_decode > 0) {
    const int decode_context = use_graph ? l.width * bs : max_context;
    step.decode_splits = kernels::ChoosePagedDecodeSplits(step.num_decode, config_.num_kv_heads,
                                                          decode_context, num_sms_);
    if (EnsureDecodeBuffers(step.num_decode, step.decode_splits)) DropGraphs();
  }

  profile_.Mark(StepProfile::kMetaBuilt, stream_);
  STRIDE_CUDA_CHECK(cudaMemcpyAsync(meta_.get(), host, l.total, cudaMemcpyHostToDevice, stream_));
  trace_.Note("metadata queued", num_launches_);
  Issue(step, use_graph);

  QueueResults(rows, use_graph, num_tokens);

  // Where the next step finds each token sampled here: its sampler row, or (sampled on the
  // host) -1 - its index in `rows`.
  sample_row_of_.clear();
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].sample) continue;
    const int32_t where = rows[r].on_host ? -1 - static_cast<int32_t>(r)
                                          : static_cast<int32_t>(use_graph ? rows[r].row : r);
    sample_row_of_[output.chunks[rows[r].chunk].request->id] = where;
  }
  Launched launched;
  launched.output = &output;
  launched.rows = std::move(rows);
  launched.use_graph = use_graph;
  launched.parity = parity_;
  launched_.push_back(std::move(launched));
  parity_ ^= 1;
  trace_.Note("Launch returns", num_launches_);
}

StepOutput CudaModelRunner::Finish() {
  STRIDE_CHECK(!launched_.empty()) << "Finish() without a Launch()";
  Launched step = std::move(launched_.front());
  launched_.pop_front();
  StepOutput result;
  if (step.output == nullptr) return result;  // an empty step
  const SchedulerOutput& output = *step.output;
  const std::vector<LogitRow>& rows = step.rows;
  const bool use_graph = step.use_graph;
  const int num_seqs = static_cast<int>(output.chunks.size());
  const size_t vocab = config_.vocab_size;
  trace_.Note("Finish waits for the oldest step", num_launches_);
  STRIDE_CUDA_CHECK(cudaEventSynchronize(done_[step.parity]));
  trace_.Note("Finish has its results", num_launches_);
  profile_.Mark(StepProfile::kSynced, stream_);

  result.chunks.resize(num_seqs);
  for (int c = 0; c < num_seqs; ++c) result.chunks[c].request_id = output.chunks[c].request->id;
  sampling::SamplerScratch scratch;
  const float* logits = host_logits_[step.parity].get<float>();
  const auto* sampled = host_sampled_[step.parity].get<kernels::SampledToken>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const LogitRow& row = rows[r];
    const scheduler::Request& request = *output.chunks[row.chunk].request;
    scheduler::ChunkOutput& out = result.chunks[row.chunk];
    const size_t logit_row = use_graph ? row.row : r;
    std::span<const float> row_logits(logits + logit_row * vocab, vocab);
    if (!row.sample) {
      const int num_top = request.sampling.prompt_logprobs;
      out.prompt_logprobs.push_back(
          row.on_host
              ? sampling::RawTokenLogprob(row_logits, request.token_ids[row.position + 1], num_top)
              : ToTokenLogprob(sampled[logit_row], num_top));
    } else if (auto early = step.host_sampled.find(static_cast<int>(r));
               early != step.host_sampled.end()) {
      out.sampled = true;  // sampled when the next step needed it (InFlightInput)
      out.next_token = std::move(early->second);
    } else {
      out.sampled = true;
      out.next_token = row.on_host ? sampling::SampleToken(row_logits, request, scratch)
                                   : ToTokenLogprob(sampled[logit_row], request.sampling.logprobs);
    }
  }
  profile_.Mark(StepProfile::kDone, stream_);
  return result;
}

}  // namespace stride::engine::runner::cuda
