#include "server/openai/json_body.h"

#include <string>

#include "gtest/gtest.h"
#include "server/openai/api_error.h"

namespace stride::server::openai {
namespace {

TEST(JsonNestingDepthTest, CountsBracketsOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth(R"({"a": [1, {"b": 2}]})", 100), 3);
  EXPECT_EQ(JsonNestingDepth(R"({"a": "[[[[{{{{"})", 100), 1);
  EXPECT_EQ(JsonNestingDepth(R"({"a": "\"[[["})", 100), 1);  // escaped quote stays in the string
  EXPECT_EQ(JsonNestingDepth("42", 100), 0);
}

TEST(JsonNestingDepthTest, StopsEarlyPastTheLimit) {
  const std::string deep(100000, '[');
  EXPECT_EQ(JsonNestingDepth(deep, 64), 65);
}

TEST(ParseJsonObjectTest, AcceptsAnObject) {
  absl::StatusOr<nlohmann::json> value = ParseJsonObject(R"({"prompt": "hi", "n": 2})");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ((*value)["n"], 2);
}

TEST(ParseJsonObjectTest, RejectsBadBodiesAsInvalidArgument) {
  for (const char* body : {"", "   \n", "{\"prompt\": \"hi\"", "[]", "42", "null", "\"text\"",
                           "{\"a\": NaN}", "{\"a\": 1,}", "{'a': 1}"}) {
    absl::StatusOr<nlohmann::json> value = ParseJsonObject(body);
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

TEST(ParseJsonObjectTest, RejectsDeepNestingWithoutRecursion) {
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  absl::StatusOr<nlohmann::json> value = ParseJsonObject(deep);
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(value.status().message().find("nested"), absl::string_view::npos);
}

TEST(ParseJsonObjectTest, DepthLimitIsInclusive) {
  // Depth 64 (the object plus 63 arrays) passes; 65 fails.
  const std::string ok = "{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(ParseJsonObject(ok).ok());
  const std::string too_deep = "{\"a\":" + std::string(64, '[') + std::string(64, ']') + "}";
  EXPECT_FALSE(ParseJsonObject(too_deep).ok());
}

TEST(ParseJsonObjectTest, RejectsInvalidUtf8AndLoneSurrogates) {
  EXPECT_FALSE(ParseJsonObject("{\"prompt\": \"\xff\xfe\"}").ok());
  EXPECT_FALSE(ParseJsonObject("{\"prompt\": \"\xc3\"}").ok());  // truncated sequence
  EXPECT_FALSE(ParseJsonObject(R"({"prompt": "\ud800"})").ok());
  EXPECT_FALSE(ParseJsonObject(R"({"prompt": "\udc00x"})").ok());
  // A proper pair is fine.
  absl::StatusOr<nlohmann::json> pair = ParseJsonObject(R"({"prompt": "\ud83d\ude00"})");
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ((*pair)["prompt"], "\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace stride::server::openai
