// One Generate call: a gRPC callback reactor that submits the request to the engine and streams
// its outputs back, with text deltas and stop strings (engine/text/TextStream).
//
// Threads. The engine loop only signals (RequestStream notifier: a counter and, when the call is
// idle, a post to the DeliveryThread). All other work happens under a "pump token": whoever
// holds it (a DeliveryThread task, or gRPC's thread in OnWriteDone) drains the engine stream
// into one message, starts its write, and hands the token on to OnWriteDone. So at most one
// write is in flight, outputs that arrive meanwhile are coalesced into the next message, and
// only the token holder ever finishes the call, which keeps the reactor alive while it works.
//
// Back pressure. A client that reads too slowly lets outputs pile up in the engine stream; past
// `max_buffered_deltas` the engine request is aborted (its KV blocks are freed within a step)
// and the call ends with RESOURCE_EXHAUSTED once its pending write completes.
//
// Cancellation. OnCancel (client cancel, disconnect, deadline, server shutdown) aborts the
// engine request at once.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "engine/request_stream.h"
#include "engine/text/text_stream.h"
#include "engine/text/tokenizer.h"
#include "grpcpp/support/server_callback.h"
#include "server/grpc/delivery_thread.h"
#include "stride/v1/inference.pb.h"

namespace stride::server::grpc {

// What every call of one server shares; owned by GrpcServer.
struct CallEnvironment {
  engine::Engine* engine = nullptr;
  const engine::text::Tokenizer* tokenizer = nullptr;  // null: token ids only
  DeliveryThread* delivery = nullptr;
  int max_model_len = 0;
  int max_buffered_deltas = 0;
};

class GenerateCall final : public ::grpc::ServerWriteReactor<v1::GenerateResponse> {
 public:
  // Validates and submits. On bad input the call finishes at once with the error. The object
  // deletes itself in OnDone.
  GenerateCall(const CallEnvironment& env, const v1::GenerateRequest& request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Signal;
  struct SequenceState {
    std::unique_ptr<engine::text::TextStream> text;  // null without a tokenizer
    bool finished = false;
  };

  ~GenerateCall() override;
  // Any thread: makes sure someone pumps soon.
  void Wake();
  // Token holder only.
  void Pump();
  // Folds one engine output into next_. A non-OK result ends the call with that status.
  absl::Status Apply(engine::RequestOutput& output);
  absl::Status AbortedStatus() const;
  v1::SequenceDelta* DeltaFor(int index);
  void FinishSequence(int index, v1::FinishReason reason, v1::SequenceDelta* delta);
  void EndCall(const absl::Status& status);

  const CallEnvironment env_;
  std::shared_ptr<engine::RequestStream> stream_;  // null when the request was rejected
  std::shared_ptr<Signal> signal_;
  std::atomic<bool> cancelled_{false};

  // Token holder only.
  std::vector<SequenceState> sequences_;
  std::vector<int> delta_slot_;  // sequence index -> position in next_.deltas(), or -1
  int num_open_sequences_ = 0;
  int num_prompt_tokens_ = 0;
  int num_completion_tokens_ = 0;
  int num_cached_tokens_ = 0;
  bool write_failed_ = false;
  v1::GenerateResponse next_;       // being filled
  v1::GenerateResponse in_flight_;  // owned by gRPC until OnWriteDone
};

}  // namespace stride::server::grpc
