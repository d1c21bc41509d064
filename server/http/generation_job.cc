#include "server/http/generation_job.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/openai/api_error.h"
#include "server/openai/sse.h"

namespace stride::server::http {
namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// Engine validation messages start with the field name ("temperature must be ...").
absl::Status WithParam(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument || !openai::ParamOf(status).empty()) {
    return status;
  }
  const absl::string_view message = status.message();
  return openai::InvalidParam(message.substr(0, message.find(' ')), message);
}

// A request the scheduler refuses (e.g. one that can never fit the KV pool) is the client's
// problem, not a rate limit: a 400, not a 429.
absl::Status EngineError(const absl::Status& status) {
  if (status.ok()) return absl::InternalError("the engine failed the request");
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    return absl::InvalidArgumentError(status.message());
  }
  return status;
}

}  // namespace

GenerationJob::GenerationJob(JobSpec spec, ServeContext* context)
    : spec_(std::move(spec)),
      context_(context),
      tokenizer_(context->tokenizer()),
      engine_(context->engine()) {
  if (spec_.chat) {
    chat_format_.emplace(spec_.meta, spec_.with_logprobs);
  } else {
    completion_format_.emplace(spec_.meta, spec_.with_logprobs);
  }
}

GenerationJob::~GenerationJob() {
  if (!started_) return;
  for (size_t p = 0; p < submitted_.size(); ++p) AbortEngine(p);
}

absl::Status GenerationJob::Start(std::function<void()> notify) {
  const int n = spec_.sampling.n;
  for (size_t p = 0; p < spec_.prompts.size(); ++p) {
    engine::GenerateRequest request;
    request.prompt_token_ids = spec_.prompts[p].token_ids;
    request.sampling = spec_.sampling;
    request.sampling.max_tokens = spec_.prompts[p].max_tokens;
    request.priority = spec_.priority;
    absl::StatusOr<std::shared_ptr<engine::RequestStream>> stream = engine_->Submit(request);
    if (!stream.ok()) {
      for (const Submitted& s : submitted_) engine_->Abort(s.stream->id());
      submitted_.clear();
      return WithParam(stream.status());
    }
    submitted_.push_back(Submitted{*stream, {}, std::vector<int>(n, 0)});
  }
  started_ = true;
  for (size_t p = 0; p < spec_.prompts.size(); ++p) {
    for (int i = 0; i < n; ++i) {
      Choice& choice = choices_.emplace_back();
      choice.index = static_cast<int>(p) * n + i;
      choice.prompt = p;
      choice.total.index = choice.index;
      choice.text = std::make_unique<engine::text::TextStream>(
          tokenizer_, spec_.skip_special_tokens, spec_.prompts[p].token_ids, spec_.stop,
          spec_.include_stop_str_in_output);
    }
  }
  for (const Submitted& s : submitted_) s.stream->SetNotifier(notify);
  return absl::OkStatus();
}

std::string GenerationJob::Poll() {
  std::string sse;
  if (done_) return sse;
  if (spec_.chat && spec_.stream) {
    for (Choice& choice : choices_) {
      if (choice.started) continue;
      choice.started = true;
      sse += openai::SseEvent(chat_format_->RoleChunk(choice.index, spec_.include_usage));
    }
  }
  engine::RequestOutput delta;
  for (size_t p = 0; p < submitted_.size() && !done_; ++p) {
    while (!done_ && submitted_[p].stream->NextWithTimeout(&delta, absl::ZeroDuration())) {
      Handle(p, delta, &sse);
    }
  }
  if (!done_) {
    bool all = true;
    for (const Choice& c : choices_) all = all && c.finished;
    if (all) Finish(&sse);
  }
  return sse;
}

void GenerationJob::Handle(size_t prompt, engine::RequestOutput& delta, std::string* sse) {
  const absl::Time now = absl::Now();
  metrics::ServerMetrics& metrics = context_->metrics();
  if (!first_output_seen_) {
    first_output_seen_ = true;
    metrics.ObserveQueueTime(Seconds(now - spec_.arrival));
  }
  Submitted& submitted = submitted_[prompt];
  if (delta.index < 0 || delta.index >= spec_.sampling.n) return;
  int& seen = submitted.prompt_logprobs_seen[delta.index];
  for (const scheduler::TokenLogprob& logprob : delta.prompt_logprobs) {
    if (++seen > static_cast<int>(submitted.prompt_logprobs.size())) {
      submitted.prompt_logprobs.push_back(LogprobText(logprob));
    }
  }
  Choice& choice = choices_[prompt * spec_.sampling.n + delta.index];
  if (choice.finished) return;
  openai::ChoiceDelta out;
  out.index = choice.index;
  bool stopped_by_string = false;
  for (size_t i = 0; i < delta.token_ids.size(); ++i) {
    if (!first_token_seen_) {
      first_token_seen_ = true;
      metrics.ObserveTimeToFirstToken(Seconds(now - spec_.arrival));
    }
    if (choice.num_tokens > 0) metrics.ObserveInterTokenLatency(Seconds(now - choice.last_token));
    ++choice.num_tokens;
    choice.last_token = now;
    absl::StatusOr<engine::text::TextStream::Delta> text = choice.text->Push(delta.token_ids[i]);
    if (!text.ok()) return Fail(text.status(), sse);
    out.text += text->text;
    if (spec_.with_logprobs && i < delta.logprobs.size()) {
      out.logprobs.push_back(LogprobText(delta.logprobs[i]));
    }
    if (text->stopped) {
      choice.finished = true;
      stopped_by_string = true;
      out.finish_reason = "stop";
      out.stop_reason = text->stop_string;
      break;
    }
  }
  if (!choice.finished && delta.finish_reason != engine::FinishReason::kNone) {
    switch (delta.finish_reason) {
      case engine::FinishReason::kStop:
      case engine::FinishReason::kLength:
        out.text += choice.text->Finish();
        out.finish_reason = engine::FinishReasonName(delta.finish_reason);
        choice.finished = true;
        break;
      case engine::FinishReason::kError:
        return Fail(EngineError(delta.status), sse);
      default:
        return Fail(absl::UnavailableError("the request was aborted: the server is stopping"), sse);
    }
  }
  if (!out.text.empty() || !out.logprobs.empty() || choice.finished || !choice.started) {
    Emit(choice, std::move(out), sse);
  }
  if (stopped_by_string) {
    // Free this sequence's blocks now; its siblings of an n > 1 request go on.
    if (AllFinished(prompt)) {
      AbortEngine(prompt);
    } else {
      engine_->Abort(submitted.stream->id(), delta.index);
    }
  }
}

void GenerationJob::Emit(Choice& choice, openai::ChoiceDelta delta, std::string* sse) {
  if (!choice.started) {
    choice.started = true;
    if (spec_.echo) {
      openai::ChoiceDelta echo = EchoDelta(choice);
      delta.text = echo.text + delta.text;
      echo.logprobs.insert(echo.logprobs.end(), std::make_move_iterator(delta.logprobs.begin()),
                           std::make_move_iterator(delta.logprobs.end()));
      delta.logprobs = std::move(echo.logprobs);
    }
  }
  openai::ChoiceDelta& total = choice.total;
  if (spec_.stream) {
    total.finish_reason = delta.finish_reason;
    *sse += openai::SseEvent(spec_.chat ? chat_format_->Chunk(delta, spec_.include_usage)
                                        : completion_format_->Chunk(delta, spec_.include_usage));
    return;
  }
  total.text += delta.text;
  total.logprobs.insert(total.logprobs.end(), std::make_move_iterator(delta.logprobs.begin()),
                        std::make_move_iterator(delta.logprobs.end()));
  total.finish_reason = delta.finish_reason;
  total.stop_reason = delta.stop_reason;
}

openai::ChoiceDelta GenerationJob::EchoDelta(const Choice& choice) const {
  openai::ChoiceDelta echo;
  const PreparedPrompt& prompt = spec_.prompts[choice.prompt];
  echo.text = prompt.text;
  if (!spec_.with_logprobs || prompt.token_ids.empty()) return echo;
  openai::TokenLogprobText first;
  first.token_id = prompt.token_ids[0];
  first.token = TokenText(first.token_id);
  echo.logprobs.push_back(std::move(first));
  const auto& rest = submitted_[choice.prompt].prompt_logprobs;
  echo.logprobs.insert(echo.logprobs.end(), rest.begin(), rest.end());
  return echo;
}

void GenerationJob::Fail(const absl::Status& status, std::string* sse) {
  if (done_) return;
  done_ = true;
  error_ = status;
  for (size_t p = 0; p < submitted_.size(); ++p) AbortEngine(p);
  context_->metrics().RecordOutcome(metrics::Outcome::kError);
  if (spec_.stream) {
    *sse += openai::SseEvent(openai::ErrorJson(openai::ApiErrorFromStatus(status)));
    *sse += openai::kSseDone;
  } else {
    reply_ = ErrorReply(status);
  }
}

void GenerationJob::Finish(std::string* sse) {
  done_ = true;
  openai::Usage usage;
  for (const PreparedPrompt& p : spec_.prompts) usage.prompt_tokens += p.token_ids.size();
  bool any_length = false;
  for (const Choice& c : choices_) {
    usage.completion_tokens += c.num_tokens;
    any_length = any_length || c.total.finish_reason == "length";
  }
  metrics::ServerMetrics& metrics = context_->metrics();
  metrics.ObserveEndToEndLatency(Seconds(absl::Now() - spec_.arrival));
  metrics.RecordOutcome(any_length ? metrics::Outcome::kLength : metrics::Outcome::kStop);
  if (spec_.stream) {
    if (spec_.include_usage) {
      *sse += openai::SseEvent(spec_.chat ? chat_format_->UsageChunk(usage)
                                          : completion_format_->UsageChunk(usage));
    }
    *sse += openai::kSseDone;
    return;
  }
  std::vector<openai::ChoiceDelta> totals;
  for (const Choice& c : choices_) totals.push_back(c.total);
  if (spec_.chat) {
    reply_ = JsonReply(200, chat_format_->Response(totals, usage));
    return;
  }
  std::vector<nlohmann::json> prompt_logprobs;
  if (spec_.with_prompt_logprobs) {
    for (const Choice& c : choices_) {
      std::vector<openai::TokenLogprobText> tokens(1);  // position 0 has none
      const auto& rest = submitted_[c.prompt].prompt_logprobs;
      tokens.insert(tokens.end(), rest.begin(), rest.end());
      prompt_logprobs.push_back(openai::PromptLogprobsJson(tokens));
    }
  }
  reply_ = JsonReply(200, completion_format_->Response(totals, usage, prompt_logprobs));
}

void GenerationJob::Abort() {
  client_gone_ = true;
  if (done_) return;
  done_ = true;
  context_->metrics().RecordOutcome(metrics::Outcome::kAborted);
  for (size_t p = 0; p < submitted_.size(); ++p) AbortEngine(p);
}

bool GenerationJob::AllFinished(size_t prompt) const {
  for (const Choice& c : choices_) {
    if (c.prompt == prompt && !c.finished) return false;
  }
  return true;
}

void GenerationJob::AbortEngine(size_t prompt) {
  Submitted& s = submitted_[prompt];
  if (s.stream && !s.stream->finished()) engine_->Abort(s.stream->id());
}

std::string GenerationJob::TokenText(int32_t id) const {
  const int32_t ids[1] = {id};
  absl::StatusOr<std::string> text = tokenizer_.Decode(ids, /*skip_special_tokens=*/false);
  return text.ok() ? *text : std::string();
}

openai::TokenLogprobText GenerationJob::LogprobText(const scheduler::TokenLogprob& logprob) const {
  openai::TokenLogprobText out;
  out.token_id = logprob.token_id;
  out.token = TokenText(logprob.token_id);
  out.logprob = logprob.logprob;
  for (const auto& [id, value] : logprob.top) out.top.push_back({id, TokenText(id), value});
  return out;
}

}  // namespace stride::server::http
