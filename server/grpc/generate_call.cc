#include "server/grpc/generate_call.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "server/grpc/request_conversion.h"

namespace stride::server::grpc {

// The part of a call the engine's notifier may touch, also after the call is gone: the pump
// token, the count of outputs not yet taken, and the overflow flag.
class GenerateCall::Signal {
 public:
  Signal(GenerateCall* call, engine::Engine* engine, uint64_t stream_id, int max_buffered)
      : engine_(engine), stream_id_(stream_id), max_buffered_(max_buffered), call_(call) {}

  // Engine thread, after each push: never blocks.
  void OnPush(DeliveryThread* delivery) {
    const int64_t waiting = undelivered_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (waiting > max_buffered_ && !overflowed_.exchange(true)) engine_->Abort(stream_id_);
    if (GenerateCall* call = Claim()) delivery->Post([call] { call->Pump(); });
  }

  // Non-null: the caller now holds the pump token for the returned (live) call.
  GenerateCall* Claim() {
    absl::MutexLock lock(&mutex_);
    if (call_ == nullptr) return nullptr;
    if (pumping_) {
      wake_pending_ = true;  // the holder looks again before letting go
      return nullptr;
    }
    pumping_ = true;
    return call_;
  }
  // Token holder, before looking at the stream.
  void BeginPass() {
    absl::MutexLock lock(&mutex_);
    wake_pending_ = false;
  }
  // Token holder with nothing to do. False: a wake came in since BeginPass, keep the token.
  bool Release() {
    absl::MutexLock lock(&mutex_);
    if (wake_pending_) return false;
    pumping_ = false;
    return true;
  }
  void Detach() {
    absl::MutexLock lock(&mutex_);
    call_ = nullptr;
  }
  void Taken(int count) { undelivered_.fetch_sub(count, std::memory_order_relaxed); }
  bool overflowed() const { return overflowed_.load(); }

 private:
  engine::Engine* const engine_;
  const uint64_t stream_id_;
  const int64_t max_buffered_;
  std::atomic<int64_t> undelivered_{0};
  std::atomic<bool> overflowed_{false};
  absl::Mutex mutex_;
  GenerateCall* call_ ABSL_GUARDED_BY(mutex_);
  bool pumping_ ABSL_GUARDED_BY(mutex_) = false;
  bool wake_pending_ ABSL_GUARDED_BY(mutex_) = false;
};

namespace {

v1::FinishReason ToProto(engine::FinishReason reason) {
  switch (reason) {
    case engine::FinishReason::kStop:
      return v1::FINISH_REASON_STOP;
    case engine::FinishReason::kLength:
      return v1::FINISH_REASON_LENGTH;
    default:
      return v1::FINISH_REASON_UNSPECIFIED;
  }
}

}  // namespace

GenerateCall::GenerateCall(const CallEnvironment& env, const v1::GenerateRequest& request)
    : env_(env) {
  const int vocab_size = env_.engine->model_config().vocab_size;
  absl::StatusOr<ParsedGenerateRequest> parsed =
      ParseGenerateRequest(request, env_.tokenizer, vocab_size, env_.max_model_len);
  if (!parsed.ok()) {
    Finish(ToGrpcStatus(parsed.status()));
    return;
  }
  const engine::GenerateRequest& engine_request = parsed->request;
  absl::StatusOr<std::shared_ptr<engine::RequestStream>> stream =
      env_.engine->Submit(engine_request);
  if (!stream.ok()) {
    Finish(ToGrpcStatus(stream.status()));
    return;
  }
  stream_ = *std::move(stream);
  const int n = engine_request.sampling.n;
  sequences_.resize(n);
  if (env_.tokenizer != nullptr) {
    for (SequenceState& sequence : sequences_) {
      sequence.text = std::make_unique<engine::text::TextStream>(
          *env_.tokenizer, parsed->skip_special_tokens, engine_request.prompt_token_ids,
          parsed->stop_strings);
    }
  }
  delta_slot_.assign(n, -1);
  num_open_sequences_ = n;
  num_prompt_tokens_ = static_cast<int>(engine_request.prompt_token_ids.size());
  signal_ = std::make_shared<Signal>(this, env_.engine, stream_->id(), env_.max_buffered_deltas);
  stream_->SetNotifier([signal = signal_, delivery = env_.delivery] { signal->OnPush(delivery); });
  Wake();  // outputs pushed before the notifier was set
}

GenerateCall::~GenerateCall() = default;

void GenerateCall::Wake() {
  if (signal_ == nullptr) return;
  if (GenerateCall* call = signal_->Claim()) env_.delivery->Post([call] { call->Pump(); });
}

void GenerateCall::OnWriteDone(bool ok) {
  // The token came back with the write.
  if (!ok) write_failed_ = true;
  Pump();
}

void GenerateCall::OnCancel() {
  cancelled_ = true;
  if (stream_ != nullptr) env_.engine->Abort(stream_->id());
  Wake();
}

void GenerateCall::OnDone() {
  if (signal_ != nullptr) signal_->Detach();
  if (stream_ != nullptr) stream_->SetNotifier(nullptr);
  delete this;
}

void GenerateCall::Pump() {
  while (true) {
    signal_->BeginPass();
    if (cancelled_ || write_failed_) {
      EndCall(absl::CancelledError("the call was cancelled"));
      return;
    }
    engine::RequestOutput output;
    int taken = 0;
    absl::Status status;
    while (status.ok() && num_open_sequences_ > 0 &&
           stream_->NextWithTimeout(&output, absl::ZeroDuration())) {
      ++taken;
      status = Apply(output);
    }
    signal_->Taken(taken);
    if (!status.ok()) {
      EndCall(status);
      return;
    }
    if (num_open_sequences_ == 0) {
      // Every sequence is done. Ones ended by a stop string may still run in the engine.
      if (!stream_->finished()) env_.engine->Abort(stream_->id());
      v1::Usage* usage = next_.mutable_usage();
      usage->set_prompt_tokens(num_prompt_tokens_);
      usage->set_completion_tokens(num_completion_tokens_);
      usage->set_cached_prompt_tokens(num_cached_tokens_);
      in_flight_ = std::move(next_);
      StartWriteAndFinish(&in_flight_, ::grpc::WriteOptions(), ::grpc::Status::OK);
      return;
    }
    if (next_.deltas_size() > 0 || next_.prompt_logprobs_size() > 0) {
      in_flight_ = std::move(next_);
      next_.Clear();
      delta_slot_.assign(delta_slot_.size(), -1);
      StartWrite(&in_flight_);
      return;  // OnWriteDone continues
    }
    if (signal_->Release()) return;
  }
}

void GenerateCall::EndCall(const absl::Status& status) {
  if (stream_ != nullptr && !stream_->finished()) env_.engine->Abort(stream_->id());
  Finish(ToGrpcStatus(status));
}

absl::Status GenerateCall::AbortedStatus() const {
  if (signal_->overflowed()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the client read too slowly: more than ", env_.max_buffered_deltas,
                     " outputs were waiting to be sent, so the request was aborted"));
  }
  if (cancelled_) return absl::CancelledError("the call was cancelled");
  return absl::UnavailableError("the request was aborted: the server is shutting down");
}

v1::SequenceDelta* GenerateCall::DeltaFor(int index) {
  int& slot = delta_slot_[index];
  if (slot < 0) {
    slot = next_.deltas_size();
    next_.add_deltas()->set_index(index);
  }
  return next_.mutable_deltas(slot);
}

void GenerateCall::FinishSequence(int index, v1::FinishReason reason, v1::SequenceDelta* delta) {
  sequences_[index].finished = true;
  --num_open_sequences_;
  delta->set_finish_reason(reason);
}

absl::Status GenerateCall::Apply(engine::RequestOutput& output) {
  STRIDE_CHECK(output.index >= 0 && output.index < static_cast<int>(sequences_.size()))
      << "output for sequence " << output.index;
  SequenceState& sequence = sequences_[output.index];
  if (sequence.finished) return absl::OkStatus();  // ended by a stop string earlier
  switch (output.finish_reason) {
    case engine::FinishReason::kError:
      return output.status.ok() ? absl::InternalError("the engine failed the request")
                                : output.status;
    case engine::FinishReason::kAbort:
      return AbortedStatus();
    default:
      break;
  }
  if (output.index == 0) {
    for (const engine::TokenLogprob& logprob : output.prompt_logprobs) {
      ToProto(logprob, next_.add_prompt_logprobs());
    }
  }
  if (output.token_ids.empty() && output.finish_reason == engine::FinishReason::kNone) {
    return absl::OkStatus();  // a prompt log-prob delta
  }
  v1::SequenceDelta* delta = DeltaFor(output.index);
  for (size_t i = 0; i < output.token_ids.size(); ++i) {
    const int32_t token = output.token_ids[i];
    delta->add_token_ids(token);
    if (i < output.logprobs.size()) ToProto(output.logprobs[i], delta->add_logprobs());
    ++num_completion_tokens_;
    if (sequence.text == nullptr) continue;
    absl::StatusOr<engine::text::TextStream::Delta> text = sequence.text->Push(token);
    if (!text.ok()) {
      return absl::InternalError(
          absl::StrCat("detokenizing token ", token, ": ", text.status().message()));
    }
    delta->mutable_text()->append(text->text);
    if (text->stopped) {
      delta->set_stop_string(text->stop_string);
      FinishSequence(output.index, v1::FINISH_REASON_STOP, delta);
      return absl::OkStatus();  // later tokens of this sequence are dropped
    }
  }
  if (output.finish_reason != engine::FinishReason::kNone) {
    if (sequence.text != nullptr) delta->mutable_text()->append(sequence.text->Finish());
    num_cached_tokens_ = std::max(num_cached_tokens_, output.num_cached_tokens);
    FinishSequence(output.index, ToProto(output.finish_reason), delta);
  }
  return absl::OkStatus();
}

}  // namespace stride::server::grpc
