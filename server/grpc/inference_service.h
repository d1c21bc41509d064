// stride.v1.Inference on gRPC's callback API: checks the API key and the model name, then
// hands Generate to a GenerateCall reactor and answers Tokenize and ListModels inline.
#pragma once

#include <string>

#include "grpcpp/support/server_callback.h"
#include "server/grpc/generate_call.h"
#include "server/grpc/grpc_server.h"
#include "stride/v1/inference.grpc.pb.h"

namespace stride::server::grpc {

class InferenceService final : public v1::Inference::CallbackService {
 public:
  // `env.max_model_len` is the effective bound (already reconciled with the engine's).
  InferenceService(const GrpcServerOptions& options, const CallEnvironment& env);

  ::grpc::ServerWriteReactor<v1::GenerateResponse>* Generate(
      ::grpc::CallbackServerContext* context, const v1::GenerateRequest* request) override;
  ::grpc::ServerUnaryReactor* Tokenize(::grpc::CallbackServerContext* context,
                                       const v1::TokenizeRequest* request,
                                       v1::TokenizeResponse* response) override;
  ::grpc::ServerUnaryReactor* ListModels(::grpc::CallbackServerContext* context,
                                         const v1::ListModelsRequest* request,
                                         v1::ListModelsResponse* response) override;

 private:
  // API key, then the model name (when the request names one).
  absl::Status CheckCall(const ::grpc::CallbackServerContext& context,
                         const std::string& model) const;

  const std::string served_model_name_;
  const std::string api_key_;
  const CallEnvironment env_;
};

}  // namespace stride::server::grpc
