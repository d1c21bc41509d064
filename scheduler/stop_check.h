// When does a request stop? Checked by Scheduler::Update after each sampled token, with the
// token already appended to Request::token_ids. Same order as vLLM: length limits first, then
// (once min_tokens outputs exist) EOS unless ignore_eos, then stop_token_ids. The stop token
// stays in token_ids; whether its text is shown is the front end's business.
#pragma once

#include "scheduler/request.h"

namespace stride::scheduler {

// kLength, kStop, or kNone to continue.
FinishReason CheckStop(const Request& request, int max_model_len);

// True when max_tokens or max_model_len is reached once `num_extra_tokens` more tokens (being
// sampled, under asynchronous scheduling) are appended: CheckStop's length test.
bool ReachesLengthLimit(const Request& request, int num_extra_tokens, int max_model_len);

}  // namespace stride::scheduler
