#include "server/openai/common_request.h"

#include "gtest/gtest.h"
#include "server/openai/api_error.h"

namespace stride::server::openai {
namespace {

TEST(ResolveMaxTokensTest, KeepsARequestThatFits) {
  absl::StatusOr<int> v = ResolveMaxTokens(10, int64_t{20}, 16, 100);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 20);
  EXPECT_EQ(*ResolveMaxTokens(10, int64_t{90}, 16, 100), 90);  // exactly the context
}

TEST(ResolveMaxTokensTest, RejectsARequestBeyondTheContext) {
  absl::StatusOr<int> v = ResolveMaxTokens(10, int64_t{91}, 16, 100);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParamOf(v.status()), "max_tokens");
}

TEST(ResolveMaxTokensTest, ClampsTheDefault) {
  EXPECT_EQ(*ResolveMaxTokens(10, std::nullopt, 16, 100), 16);
  EXPECT_EQ(*ResolveMaxTokens(95, std::nullopt, 16, 100), 5);
  EXPECT_EQ(*ResolveMaxTokens(30, std::nullopt, 0, 100), 70);  // chat: all that is left
}

TEST(ResolveMaxTokensTest, APromptFillingTheContextIsRejected) {
  for (std::optional<int64_t> requested : {std::optional<int64_t>(), std::optional<int64_t>(1)}) {
    absl::StatusOr<int> v = ResolveMaxTokens(100, requested, 16, 100);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ParamOf(v.status()), "prompt");
  }
  EXPECT_FALSE(ResolveMaxTokens(150, std::nullopt, 16, 100).ok());
}

}  // namespace
}  // namespace stride::server::openai
