// How one CUDA runner step's batch metadata is laid out for its single host-to-device copy, and
// the row counts that steps are padded to (GEMM shapes, CUDA-graph batch sizes). Used by the
// runner's launch path (cuda_step.cc) and its buffer sizing (cuda_model_runner.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stride::engine::runner::cuda {

// The smallest power of two times `floor` that is at least x.
int RoundUpPow2(int x, int floor);

// GEMM row counts: multiples of 16 up to 256, of 128 up to 1024, then of 512. Never above the
// power-of-two capacity (at least 64 rows) the activation and logit buffers are allocated with.
int GemmRowBucket(int m);
// Every GemmRowBucket of 1..max_rows, ascending.
std::vector<int> GemmRowBuckets(int max_rows);

// Decode batch sizes that get their own CUDA graph.
int GraphBucket(int n);

// One step's batch metadata, packed densely so one copy moves it to the device. Offsets depend
// only on the counts, so a graph captured for (batch, width) finds its data at the same place.
struct StepLayout {
  int num_tokens = 0, num_seqs = 0, num_groups = 0, width = 0, num_rows = 0, num_work = 0;
  size_t slots = 0, token_ids = 0, token_src = 0, positions = 0, rows = 0, query_start = 0,
         context_lens = 0, work = 0, sample_rows = 0, block_tables = 0, total = 0;

  // Fills the offsets and `total` from the counts.
  void Compute();
};

}  // namespace stride::engine::runner::cuda
