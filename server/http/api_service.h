// The HTTP API of `stride serve`, independent of the transport: maps one request (method,
// target, headers that matter, body) to either a complete reply or a GenerationJob for the
// session to drive. Routes: GET /health, /metrics, /version, /v1/models; POST /v1/completions,
// /v1/chat/completions, /tokenize, /detokenize. Thread-safe (state lives in ServeContext).
#pragma once

#include <memory>
#include <optional>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "server/http/generation_job.h"
#include "server/http/http_reply.h"
#include "server/http/serve_context.h"

namespace stride::server::http {

struct HttpRequestView {
  absl::string_view method;  // "GET", "POST", ...
  absl::string_view target;  // path, maybe with a query
  absl::string_view authorization;
  absl::string_view body;
};

// Exactly one of the two is set.
struct Routed {
  std::optional<HttpReply> reply;
  std::unique_ptr<GenerationJob> job;
};

class ApiService {
 public:
  explicit ApiService(ServeContext* context) : context_(context) {}

  Routed Handle(const HttpRequestView& request);

 private:
  HttpReply Health() const;
  HttpReply Metrics() const;
  HttpReply Models() const;
  HttpReply Tokenize(absl::string_view body) const;
  HttpReply Detokenize(absl::string_view body) const;
  absl::StatusOr<std::unique_ptr<GenerationJob>> Completion(absl::string_view body) const;
  absl::StatusOr<std::unique_ptr<GenerationJob>> Chat(absl::string_view body) const;
  absl::Status CheckQueue() const;

  ServeContext* context_;
};

// Prompt token ids of a chat conversation: the rendered template, tokenized without adding
// special tokens (the template already starts with BOS where the model wants one).
absl::StatusOr<std::vector<int32_t>> ChatPromptIds(const ServeContext& context,
                                                   const nlohmann::ordered_json& messages,
                                                   bool add_generation_prompt,
                                                   const nlohmann::ordered_json& kwargs,
                                                   const nlohmann::ordered_json& tools);

}  // namespace stride::server::http
