#include "server/openai/api_error.h"

#include "gtest/gtest.h"

namespace stride::server::openai {
namespace {

TEST(ApiErrorTest, InvalidParamCarriesTheParam) {
  absl::Status s = InvalidParam("top_p", "top_p must be in (0, 1]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParamOf(s), "top_p");
  EXPECT_EQ(ParamOf(absl::InvalidArgumentError("x")), "");
}

TEST(ApiErrorTest, JsonShape) {
  nlohmann::json j = ErrorJson(ApiErrorFromStatus(InvalidParam("n", "n must be positive")));
  EXPECT_EQ(j, (nlohmann::json{{"error",
                                {{"message", "n must be positive"},
                                 {"type", "invalid_request_error"},
                                 {"param", "n"},
                                 {"code", nullptr}}}}));
}

TEST(ApiErrorTest, StatusCodesMapToHttp) {
  EXPECT_EQ(ApiErrorFromStatus(absl::InvalidArgumentError("")).http_status, 400);
  EXPECT_EQ(ApiErrorFromStatus(absl::NotFoundError("")).http_status, 404);
  EXPECT_EQ(ApiErrorFromStatus(absl::UnauthenticatedError("")).http_status, 401);
  EXPECT_EQ(ApiErrorFromStatus(absl::ResourceExhaustedError("")).http_status, 429);
  EXPECT_EQ(ApiErrorFromStatus(absl::UnavailableError("")).http_status, 503);
  EXPECT_EQ(ApiErrorFromStatus(absl::InternalError("")).http_status, 500);
  EXPECT_EQ(ApiErrorFromStatus(absl::NotFoundError("")).code, "model_not_found");
  EXPECT_EQ(ApiErrorFromStatus(absl::InternalError("")).type, "server_error");
}

}  // namespace
}  // namespace stride::server::openai
