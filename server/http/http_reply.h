// A complete (non-streamed) HTTP response as the request handlers produce it; the session turns
// it into a Beast response. Errors use OpenAI's JSON error shape.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/openai/api_error.h"

namespace stride::server::http {

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (e.g. Retry-After)
};

HttpReply JsonReply(int status, const nlohmann::json& body);
HttpReply TextReply(int status, std::string body, std::string content_type = "text/plain");
// 429 replies carry Retry-After; 401 replies carry WWW-Authenticate.
HttpReply ErrorReply(const openai::ApiError& error);
HttpReply ErrorReply(const absl::Status& status);

}  // namespace stride::server::http
