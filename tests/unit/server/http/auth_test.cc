#include "server/http/auth.h"

#include "gtest/gtest.h"

namespace stride::server::http {
namespace {

TEST(ConstantTimeEqualsTest, EqualityOnly) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_FALSE(ConstantTimeEquals(absl::string_view("a\0b", 3), "a"));
}

TEST(AuthorizationMatchesTest, BearerKey) {
  EXPECT_TRUE(AuthorizationMatches("", ""));  // no key configured
  EXPECT_TRUE(AuthorizationMatches("anything", ""));
  EXPECT_TRUE(AuthorizationMatches("Bearer k1", "k1"));
  EXPECT_FALSE(AuthorizationMatches("Bearer k2", "k1"));
  EXPECT_FALSE(AuthorizationMatches("k1", "k1"));
  EXPECT_FALSE(AuthorizationMatches("", "k1"));
  EXPECT_FALSE(AuthorizationMatches("Bearer ", "k1"));
  EXPECT_FALSE(AuthorizationMatches("Basic k1", "k1"));
}

}  // namespace
}  // namespace stride::server::http
