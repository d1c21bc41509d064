#include "engine/text/utf8.h"

#include "gtest/gtest.h"

namespace stride::engine::text {
namespace {

const std::string kFffd = kReplacementChar;

TEST(Utf8Test, ValidatesWellFormedSequencesOnly) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
}

// The expected strings are what Rust's String::from_utf8_lossy returns.
TEST(Utf8Test, LossyReplacesMaximalSubparts) {
  EXPECT_EQ(Utf8Lossy("abc"), "abc");
  EXPECT_EQ(Utf8Lossy("\xF0\x9F\x98"), kFffd);  // one truncated char
  EXPECT_EQ(Utf8Lossy("a\xC3(b"), "a" + kFffd + "(b");
  EXPECT_EQ(Utf8Lossy("\xE0\x80\x80"), kFffd + kFffd + kFffd);  // E0 80 is not a valid prefix
  EXPECT_EQ(Utf8Lossy("\xF0\x9F\x98\x80\x80"), "\xF0\x9F\x98\x80" + kFffd);
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(Utf8Lossy("\xFF\xE4\xB8"), kFffd + kFffd);
}

TEST(Utf8Test, DecodesAndEncodesCodePoints) {
  const std::string s = "\x41\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  size_t pos = 0;
  std::string round_trip;
  std::vector<char32_t> cps;
  while (pos < s.size()) {
    cps.push_back(DecodeUtf8(s, &pos));
    AppendUtf8(cps.back(), &round_trip);
  }
  EXPECT_EQ(cps, (std::vector<char32_t>{0x41, 0xE9, 0x4E2D, 0x1F600}));
  EXPECT_EQ(round_trip, s);
  EXPECT_TRUE(EndsWithReplacementChar("x" + kFffd));
  EXPECT_FALSE(EndsWithReplacementChar("x"));
}

}  // namespace
}  // namespace stride::engine::text
