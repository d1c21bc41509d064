// State shared by every connection of `stride serve`: options, the tokenizer and chat template,
// the engine (absent while loading), the lifecycle (loading -> ready -> draining) and metrics.
// Thread-safe; lives as long as the HTTP server.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "engine/text/tokenizer.h"
#include "server/http/chat_renderer.h"
#include "server/metrics/server_metrics.h"
#include "server/openai/common_request.h"

namespace stride::server::http {

struct ServeOptions {
  std::string served_model_name;
  std::string api_key;   // empty: no authentication
  int max_queue = 1000;  // waiting sequences at which new requests get 429
  uint64_t max_body_bytes = 8 << 20;
  uint32_t max_header_bytes = 16 << 10;
  // Unsent SSE bytes one stream may buffer for a slow client before it is aborted.
  size_t max_stream_buffer_bytes = 4 << 20;
  int idle_timeout_seconds = 60;  // keep-alive connections waiting for a request
  openai::RequestLimits limits;
};

class ServeContext {
 public:
  enum class State { kLoading, kReady, kDraining };

  ServeContext(ServeOptions options, std::unique_ptr<engine::text::Tokenizer> tokenizer,
               std::unique_ptr<ChatRenderer> chat);

  State state() const { return state_.load(std::memory_order_acquire); }
  // The engine is ready: requests start being served. `engine` must outlive the server.
  void SetEngine(engine::Engine* engine);
  // SIGTERM: /health and new requests answer 503 from now on.
  void StartDraining() { state_.store(State::kDraining, std::memory_order_release); }

  engine::Engine* engine() const { return engine_.load(std::memory_order_acquire); }
  const ServeOptions& options() const { return options_; }
  const engine::text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const ChatRenderer& chat() const { return *chat_; }
  metrics::ServerMetrics& metrics() { return metrics_; }
  // For request validation; needs the engine (its vocabulary).
  openai::RequestContext request_context() const;
  int max_model_len() const;

  // Generation requests between their arrival and the last byte of their response (SIGTERM
  // waits for these).
  void RequestStarted() { requests_in_flight_.fetch_add(1); }
  void RequestFinished() { requests_in_flight_.fetch_sub(1); }
  int requests_in_flight() const { return requests_in_flight_.load(); }

 private:
  const ServeOptions options_;
  const std::unique_ptr<engine::text::Tokenizer> tokenizer_;
  const std::unique_ptr<ChatRenderer> chat_;
  std::atomic<engine::Engine*> engine_{nullptr};
  std::atomic<State> state_{State::kLoading};
  std::atomic<int> requests_in_flight_{0};
  metrics::ServerMetrics metrics_;
};

}  // namespace stride::server::http
