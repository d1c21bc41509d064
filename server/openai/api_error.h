// Errors as OpenAI-compatible clients see them: {"error":{"message","type","param","code"}} with
// an HTTP status. Validation code returns absl::Status; InvalidParam attaches the offending
// request field so that the client learns which `param` was wrong.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace stride::server::openai {

struct ApiError {
  int http_status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;  // empty: null
  std::string code;   // empty: null
};

// An InvalidArgument status that names the request field at fault.
absl::Status InvalidParam(absl::string_view param, absl::string_view message);
// The field named by InvalidParam; "" when none.
std::string ParamOf(const absl::Status& status);

// Maps a status to the HTTP error: InvalidArgument/OutOfRange/FailedPrecondition -> 400,
// NotFound -> 404, Unauthenticated -> 401, ResourceExhausted -> 429, Unavailable -> 503,
// anything else -> 500.
ApiError ApiErrorFromStatus(const absl::Status& status);

nlohmann::json ErrorJson(const ApiError& error);

}  // namespace stride::server::openai
