#include "scheduler/scheduler_config.h"

#include "absl/strings/str_cat.h"

namespace stride::scheduler {

absl::Status SchedulerConfig::Validate() const {
  if (max_model_len < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler: max_model_len must be >= 1, got ", max_model_len));
  }
  if (max_num_seqs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler: max_num_seqs must be >= 1, got ", max_num_seqs));
  }
  // Every running request must be able to decode in every step: decodes are never stalled.
  if (max_num_batched_tokens < max_num_seqs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scheduler: max_num_batched_tokens (", max_num_batched_tokens,
        ") must be >= max_num_seqs (", max_num_seqs, ") so every running request can decode"));
  }
  // Without chunking, a prompt (or a recompute after preemption) must fit one step whole.
  if (!enable_chunked_prefill && max_num_batched_tokens < max_model_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler: with chunked prefill disabled, max_num_batched_tokens (",
                     max_num_batched_tokens, ") must be >= max_model_len (", max_model_len, ")"));
  }
  return absl::OkStatus();
}

}  // namespace stride::scheduler
