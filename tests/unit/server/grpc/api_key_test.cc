// CheckApiKey: the `authorization: Bearer KEY` metadata, and the comparison it relies on.
#include "server/grpc/api_key.h"

#include "gtest/gtest.h"

namespace stride::server::grpc {
namespace {

using Metadata = std::multimap<::grpc::string_ref, ::grpc::string_ref>;

TEST(ApiKeyTest, NoKeyConfiguredAcceptsEverything) {
  EXPECT_TRUE(CheckApiKey(Metadata(), "").ok());
}

TEST(ApiKeyTest, AcceptsOnlyTheBearerKey) {
  auto check = [](const char* value) {
    Metadata metadata;
    metadata.emplace("authorization", value);
    return CheckApiKey(metadata, "k-123").code();
  };
  EXPECT_EQ(check("Bearer k-123"), absl::StatusCode::kOk);
  EXPECT_EQ(check("BEARER   k-123 "), absl::StatusCode::kOk);
  EXPECT_EQ(check("Bearer k-124"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(check("Bearer k-1234"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(check("Bearer "), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(check("k-123"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CheckApiKey(Metadata(), "k-123").code(), absl::StatusCode::kUnauthenticated);
}

TEST(ApiKeyTest, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("ab\0", 3), "ab"));
}

}  // namespace
}  // namespace stride::server::grpc
