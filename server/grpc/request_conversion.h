// Turns a stride.v1.GenerateRequest into what the engine and the text layer need, checking what
// only the front end can check (the prompt's form, the model's context, stop strings against the
// tokenizer). The engine's Submit still validates the sampling knobs. Also maps absl::Status to
// grpc::Status. Used by the Generate call; free of gRPC server state so it is easy to test.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/request.h"
#include "engine/text/tokenizer.h"
#include "grpcpp/support/status.h"
#include "stride/v1/inference.pb.h"

namespace stride::server::grpc {

struct ParsedGenerateRequest {
  engine::GenerateRequest request;
  std::vector<std::string> stop_strings;
  bool skip_special_tokens = true;
};

// `tokenizer` may be null (token-id prompts only). `max_model_len` bounds prompt + max_tokens.
absl::StatusOr<ParsedGenerateRequest> ParseGenerateRequest(const v1::GenerateRequest& request,
                                                           const engine::text::Tokenizer* tokenizer,
                                                           int vocab_size, int max_model_len);

// absl and gRPC share the canonical status codes.
::grpc::Status ToGrpcStatus(const absl::Status& status);

void ToProto(const engine::TokenLogprob& logprob, v1::TokenLogprob* out);

}  // namespace stride::server::grpc
