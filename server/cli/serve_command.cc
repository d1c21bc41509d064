// `stride serve`: the OpenAI-compatible HTTP server and the gRPC API (--grpc-port). Starts listening at once (/health answers
// 503 while the model loads), loads the engine, serves until SIGTERM/SIGINT, then drains:
// /health and new requests get 503 while in-flight requests finish (up to --shutdown-timeout
// seconds), and exits 0. The API key comes from --api-key or, if that is empty, STRIDE_API_KEY.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "boost/asio/signal_set.hpp"
#include "server/cli/commands.h"
#include "server/cli/common_flags.h"
#include "server/cli/engine_flags.h"
#include "server/grpc/grpc_server.h"
#include "server/http/chat_renderer.h"
#include "server/http/http_server.h"
#include "server/http/serve_context.h"

ABSL_FLAG(std::string, served_model_name, "", "model name in the API; default: --model");
ABSL_FLAG(std::string, host, "0.0.0.0", "address to listen on");
ABSL_FLAG(int, port, 8000, "port to listen on; 0 picks a free one (printed at start-up)");
ABSL_FLAG(std::string, api_key, "",
          "require `Authorization: Bearer KEY`; default: $STRIDE_API_KEY; empty: no key");
ABSL_FLAG(int, max_queue, 1000, "waiting requests at which new ones get 429; 0: no limit");
ABSL_FLAG(double, shutdown_timeout, 30, "seconds in-flight requests may take after SIGTERM");
ABSL_FLAG(int64_t, max_body_bytes, 8 << 20, "largest request body; larger ones get 413");
ABSL_FLAG(int, max_header_bytes, 16 << 10, "largest request header block; larger ones get 431");
ABSL_FLAG(int, grpc_port, 50051, "gRPC port; 0 picks a free one, -1 turns gRPC off");
ABSL_FLAG(int, http_threads, 2, "threads running the HTTP server");
ABSL_FLAG(int64_t, max_stream_buffer_bytes, 4 << 20,
          "unsent streamed bytes per request before a slow client is dropped");

namespace stride::server::cli {
namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "stride serve: %s\n", std::string(status.message()).c_str());
  return 1;
}

absl::StatusOr<std::unique_ptr<engine::text::Tokenizer>> LoadServeTokenizer(
    const std::string& model) {
  std::string dir = absl::GetFlag(FLAGS_tokenizer);
  if (dir.empty()) {
    if (!std::ifstream(model + "/tokenizer.json")) {
      return absl::InvalidArgumentError(
          "serve needs a tokenizer: --model has no tokenizer.json; pass --tokenizer DIR");
    }
    dir = model;
  }
  return engine::text::Tokenizer::FromDirectory(dir);
}

// The one place an environment variable is read.
std::string ApiKey() {
  std::string key = absl::GetFlag(FLAGS_api_key);
  if (key.empty()) {
    if (const char* env = std::getenv("STRIDE_API_KEY")) key = env;
  }
  return key;
}

absl::StatusOr<http::ServeOptions> ServeOptionsFromFlags(const std::string& model) {
  http::ServeOptions options;
  options.served_model_name = absl::GetFlag(FLAGS_served_model_name);
  if (options.served_model_name.empty()) options.served_model_name = model;
  options.api_key = ApiKey();
  options.max_queue = absl::GetFlag(FLAGS_max_queue);
  const int64_t body = absl::GetFlag(FLAGS_max_body_bytes);
  const int header = absl::GetFlag(FLAGS_max_header_bytes);
  const int64_t stream_buffer = absl::GetFlag(FLAGS_max_stream_buffer_bytes);
  if (body < 1 || header < 256 || stream_buffer < 1024 || options.max_queue < 0) {
    return absl::InvalidArgumentError(
        "--max-body-bytes >= 1, --max-header-bytes >= 256, --max-stream-buffer-bytes >= 1024 "
        "and --max-queue >= 0 are required");
  }
  options.max_body_bytes = static_cast<uint64_t>(body);
  options.max_header_bytes = static_cast<uint32_t>(header);
  options.max_stream_buffer_bytes = static_cast<size_t>(stream_buffer);
  return options;
}

}  // namespace

int RunServe(const std::vector<char*>& args) {
  if (args.size() > 1)
    return Fail(absl::InvalidArgumentError(std::string("unexpected argument ") + args[1]));
  absl::StatusOr<engine::EngineOptions> engine_options = EngineOptionsFromFlags();
  if (!engine_options.ok()) return Fail(engine_options.status());
  absl::StatusOr<http::ServeOptions> options = ServeOptionsFromFlags(engine_options->model);
  if (!options.ok()) return Fail(options.status());
  const double shutdown_timeout = absl::GetFlag(FLAGS_shutdown_timeout);
  if (!(shutdown_timeout >= 0)) return Fail(absl::InvalidArgumentError("--shutdown-timeout >= 0"));
  auto tokenizer = LoadServeTokenizer(engine_options->model);
  if (!tokenizer.ok()) return Fail(tokenizer.status());
  auto chat = http::ChatRenderer::Create(**tokenizer);
  if (!chat.ok()) return Fail(chat.status());

  http::ServeContext context(*options, std::move(*tokenizer), std::move(*chat));
  absl::StatusOr<engine::LoadedEngine> loaded;  // outlives the server (sessions abort into it)
  absl::Notification stop;
  {
    http::HttpServer server(&context, absl::GetFlag(FLAGS_http_threads));
    if (absl::Status s = server.Listen(absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_port));
        !s.ok()) {
      return Fail(s);
    }
    boost::asio::signal_set signals(server.io_context(), SIGTERM, SIGINT);
    signals.async_wait([&stop](const boost::system::error_code& ec, int) {
      if (!ec && !stop.HasBeenNotified()) stop.Notify();
    });
    server.Start();
    std::printf("stride serve: listening on http://%s:%d\n", absl::GetFlag(FLAGS_host).c_str(),
                server.port());
    std::fflush(stdout);

    loaded = engine::CreateEngine(*engine_options);
    if (!loaded.ok()) {
      server.Stop();
      return Fail(loaded.status());
    }
    context.SetEngine(loaded->engine.get());
    std::unique_ptr<grpc::GrpcServer> grpc_server;
    if (const int grpc_port = absl::GetFlag(FLAGS_grpc_port); grpc_port >= 0) {
      grpc::GrpcServerOptions grpc_options;
      grpc_options.host = absl::GetFlag(FLAGS_host);
      grpc_options.port = grpc_port;
      grpc_options.served_model_name = context.options().served_model_name;
      grpc_options.api_key = context.options().api_key;
      auto started =
          grpc::GrpcServer::Start(grpc_options, loaded->engine.get(), &context.tokenizer());
      if (!started.ok()) {
        server.Stop();
        return Fail(started.status());
      }
      grpc_server = std::move(*started);
      std::printf("stride serve: gRPC on %s:%d\n", grpc_options.host.c_str(),
                  grpc_server->port());
    }
    std::printf(
        "stride serve: ready (model %s, max_model_len %d, %s %s, KV cache %s, %s scheduling)\n",
        context.options().served_model_name.c_str(), loaded->engine->max_model_len(),
        loaded->device.c_str(), loaded->dtype.c_str(), loaded->kv_cache_dtype.c_str(),
        loaded->async_scheduling ? "asynchronous" : "synchronous");
    std::fflush(stdout);

    stop.WaitForNotification();
    context.StartDraining();
    std::printf("stride serve: draining %d request(s)\n", context.requests_in_flight());
    std::fflush(stdout);
    const absl::Time deadline = absl::Now() + absl::Seconds(shutdown_timeout);
    // HTTP requests keep running while gRPC drains.
    if (grpc_server) grpc_server->Shutdown(absl::Seconds(shutdown_timeout));
    while (context.requests_in_flight() > 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    server.Stop();
  }  // connections close here, aborting what is left
  std::printf("stride serve: stopped\n");
  return 0;
}

}  // namespace stride::server::cli
