#include "scheduler/stop_check.h"

#include <algorithm>

namespace stride::scheduler {

namespace {

bool Contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

bool ReachesLengthLimit(const Request& request, int num_extra_tokens, int max_model_len) {
  return request.num_output_tokens() + num_extra_tokens >= request.sampling.max_tokens ||
         request.num_tokens() + num_extra_tokens >= max_model_len;
}

FinishReason CheckStop(const Request& request, int max_model_len) {
  if (ReachesLengthLimit(request, 0, max_model_len)) return FinishReason::kLength;
  const int num_output = request.num_output_tokens();
  if (num_output < request.sampling.min_tokens || num_output == 0) return FinishReason::kNone;
  const int32_t last = request.token_ids.back();
  if (!request.sampling.ignore_eos && Contains(request.eos_token_ids, last)) {
    return FinishReason::kStop;
  }
  if (Contains(request.sampling.stop_token_ids, last)) return FinishReason::kStop;
  return FinishReason::kNone;
}

}  // namespace stride::scheduler
