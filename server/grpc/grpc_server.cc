#include "server/grpc/grpc_server.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "server/grpc/delivery_thread.h"
#include "server/grpc/inference_service.h"

namespace stride::server::grpc {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, engine::Engine* engine,
    const engine::text::Tokenizer* tokenizer) {
  if (engine == nullptr) return absl::InvalidArgumentError("GrpcServer needs an engine");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--grpc-port ", options.port, " is not a port number"));
  }
  if (options.max_buffered_deltas < 1) {
    return absl::InvalidArgumentError("max_buffered_deltas must be at least 1");
  }
  std::unique_ptr<GrpcServer> server(new GrpcServer());
  server->delivery_ = std::make_unique<DeliveryThread>();

  CallEnvironment env;
  env.engine = engine;
  env.tokenizer = tokenizer;
  env.delivery = server->delivery_.get();
  env.max_model_len = options.max_model_len > 0
                          ? std::min(options.max_model_len, engine->max_model_len())
                          : engine->max_model_len();
  env.max_buffered_deltas = options.max_buffered_deltas;
  server->service_ = std::make_unique<InferenceService>(options, env);

  // Both are process-wide switches read by every ServerBuilder built afterwards.
  ::grpc::EnableDefaultHealthCheckService(true);
  ::grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ::grpc::ServerBuilder builder;
  const std::string host =
      absl::StrContains(options.host, ':') && !absl::StartsWith(options.host, "[")
          ? absl::StrCat("[", options.host, "]")
          : options.host;
  const std::string address = absl::StrCat(host, ":", options.port);
  builder.AddListeningPort(address, ::grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->service_.get());
  // gRPC sets SO_REUSEPORT by default, which would let a second server share the port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("gRPC cannot listen on ", address));
  }
  ::grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(v1::Inference::service_full_name(), true);
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mutex_);
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + std::max(grace, absl::ZeroDuration())));
  server_->Wait();
}

}  // namespace stride::server::grpc
