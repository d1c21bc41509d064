#include "server/openai/api_error.h"

#include "absl/strings/cord.h"

namespace stride::server::openai {
namespace {

constexpr char kParamPayload[] = "stride.openai/param";

}  // namespace

absl::Status InvalidParam(absl::string_view param, absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kParamPayload, absl::Cord(param));
  return status;
}

std::string ParamOf(const absl::Status& status) {
  auto param = status.GetPayload(kParamPayload);
  return param ? std::string(*param) : std::string();
}

ApiError ApiErrorFromStatus(const absl::Status& status) {
  ApiError error;
  error.message = std::string(status.message());
  error.param = ParamOf(status);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      error.http_status = 400;
      break;
    case absl::StatusCode::kNotFound:
      error.http_status = 404;
      error.code = "model_not_found";
      break;
    case absl::StatusCode::kUnauthenticated:
      error.http_status = 401;
      error.code = "invalid_api_key";
      break;
    case absl::StatusCode::kResourceExhausted:
      error.http_status = 429;
      error.type = "rate_limit_error";
      error.code = "rate_limit_exceeded";
      break;
    case absl::StatusCode::kUnavailable:
      error.http_status = 503;
      error.type = "service_unavailable_error";
      break;
    default:
      error.http_status = 500;
      error.type = "server_error";
      break;
  }
  return error;
}

nlohmann::json ErrorJson(const ApiError& error) {
  auto null_if_empty = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  return {{"error",
           {{"message", error.message},
            {"type", error.type},
            {"param", null_if_empty(error.param)},
            {"code", null_if_empty(error.code)}}}};
}

}  // namespace stride::server::openai
