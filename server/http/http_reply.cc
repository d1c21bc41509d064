#include "server/http/http_reply.h"

#include "server/openai/sse.h"

namespace stride::server::http {

HttpReply JsonReply(int status, const nlohmann::json& body) {
  HttpReply reply;
  reply.status = status;
  reply.body = openai::JsonText(body);
  return reply;
}

HttpReply TextReply(int status, std::string body, std::string content_type) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = std::move(content_type);
  reply.body = std::move(body);
  return reply;
}

HttpReply ErrorReply(const openai::ApiError& error) {
  HttpReply reply = JsonReply(error.http_status, openai::ErrorJson(error));
  if (error.http_status == 429) reply.headers.emplace_back("Retry-After", "1");
  if (error.http_status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

HttpReply ErrorReply(const absl::Status& status) {
  return ErrorReply(openai::ApiErrorFromStatus(status));
}

}  // namespace stride::server::http
