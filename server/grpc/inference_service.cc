#include "server/grpc/inference_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/grpc/api_key.h"
#include "server/grpc/request_conversion.h"

namespace stride::server::grpc {
namespace {

// A Generate call refused before it starts (bad key, unknown model).
class RejectedWrite final : public ::grpc::ServerWriteReactor<v1::GenerateResponse> {
 public:
  explicit RejectedWrite(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

::grpc::ServerUnaryReactor* FinishUnary(::grpc::CallbackServerContext* context,
                                        const absl::Status& status) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

InferenceService::InferenceService(const GrpcServerOptions& options, const CallEnvironment& env)
    : served_model_name_(options.served_model_name), api_key_(options.api_key), env_(env) {}

absl::Status InferenceService::CheckCall(const ::grpc::CallbackServerContext& context,
                                         const std::string& model) const {
  if (absl::Status s = CheckApiKey(context.client_metadata(), api_key_); !s.ok()) return s;
  if (!model.empty() && !served_model_name_.empty() && model != served_model_name_) {
    return absl::NotFoundError(absl::StrCat(
        "model '", model, "' is not served here; this server serves '", served_model_name_, "'"));
  }
  return absl::OkStatus();
}

::grpc::ServerWriteReactor<v1::GenerateResponse>* InferenceService::Generate(
    ::grpc::CallbackServerContext* context, const v1::GenerateRequest* request) {
  if (absl::Status s = CheckCall(*context, request->model()); !s.ok()) {
    return new RejectedWrite(s);
  }
  return new GenerateCall(env_, *request);
}

::grpc::ServerUnaryReactor* InferenceService::Tokenize(::grpc::CallbackServerContext* context,
                                                       const v1::TokenizeRequest* request,
                                                       v1::TokenizeResponse* response) {
  if (absl::Status s = CheckCall(*context, request->model()); !s.ok()) {
    return FinishUnary(context, s);
  }
  if (env_.tokenizer == nullptr) {
    return FinishUnary(context, absl::FailedPreconditionError("this server has no tokenizer"));
  }
  const bool add_special = !request->has_add_special_tokens() || request->add_special_tokens();
  absl::StatusOr<std::vector<int32_t>> ids = env_.tokenizer->Encode(request->text(), add_special);
  if (!ids.ok()) return FinishUnary(context, ids.status());
  response->mutable_token_ids()->Assign(ids->begin(), ids->end());
  return FinishUnary(context, absl::OkStatus());
}

::grpc::ServerUnaryReactor* InferenceService::ListModels(::grpc::CallbackServerContext* context,
                                                         const v1::ListModelsRequest* request,
                                                         v1::ListModelsResponse* response) {
  if (absl::Status s = CheckCall(*context, ""); !s.ok()) return FinishUnary(context, s);
  v1::Model* model = response->add_models();
  model->set_id(served_model_name_);
  model->set_max_model_len(env_.max_model_len);
  model->set_vocab_size(env_.engine->model_config().vocab_size);
  model->set_has_tokenizer(env_.tokenizer != nullptr);
  return FinishUnary(context, absl::OkStatus());
}

}  // namespace stride::server::grpc
