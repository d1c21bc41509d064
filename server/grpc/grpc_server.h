// The gRPC front end of `stride serve`: the stride.v1.Inference service (proto/stride/v1/
// inference.proto), grpc.health.v1.Health (SERVING while up, NOT_SERVING from Shutdown on) and
// server reflection, on gRPC's callback API (no thread per call). Started by the serve command
// next to the HTTP server, on the same engine.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "engine/text/tokenizer.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace stride::server::grpc {

class DeliveryThread;
class InferenceService;

struct GrpcServerOptions {
  std::string host = "0.0.0.0";
  int port = 50051;  // 0: the OS picks one (see GrpcServer::port)
  // The name clients see in ListModels; requests naming another model get NOT_FOUND. Empty:
  // any name is accepted.
  std::string served_model_name;
  // Empty: no authentication. Otherwise Inference calls need `authorization: Bearer KEY`.
  std::string api_key;
  // Bound on prompt + max_tokens; 0 or more than the engine's: the engine's.
  int max_model_len = 0;
  // Outputs (one per token of one sequence) a call may leave unsent before its engine request is
  // aborted with RESOURCE_EXHAUSTED: how far a slow client may fall behind.
  int max_buffered_deltas = 4096;
};

class GrpcServer {
 public:
  // `engine` and `tokenizer` must outlive the server. `tokenizer` may be null (token ids only).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, engine::Engine* engine,
      const engine::text::Tokenizer* tokenizer);
  ~GrpcServer();  // Shutdown(absl::ZeroDuration()) unless already shut down
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const { return port_; }

  // Reports NOT_SERVING, stops accepting calls, lets running calls finish for up to `grace`,
  // then cancels the rest (their engine requests are aborted). Returns when every call is done.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServer() = default;

  // Destroyed in reverse: the server first, then what its calls use.
  std::unique_ptr<DeliveryThread> delivery_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<::grpc::Server> server_;
  int port_ = 0;
  absl::Mutex shutdown_mutex_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mutex_) = false;
};

}  // namespace stride::server::grpc
