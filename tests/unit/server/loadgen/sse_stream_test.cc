#include "server/loadgen/sse_stream.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace stride::server::loadgen {
namespace {

TEST(SseParserTest, EventsSplitAnywhereAndAnyLineEnd) {
  const std::string stream =
      "data: {\"a\":1}\n\n: a comment\r\ndata:{\"b\":2}\r\n\r\nevent: x\rdata: one\rdata: two\r\r"
      "data: [DONE]\n\n";
  for (size_t split = 0; split <= stream.size(); ++split) {
    SseParser parser;
    std::vector<std::string> events;
    parser.Feed(std::string_view(stream).substr(0, split), &events);
    parser.Feed(std::string_view(stream).substr(split), &events);
    ASSERT_EQ(events, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "one\ntwo", "[DONE]"}))
        << "split at " << split;
  }
}

TEST(SseParserTest, IncompleteEventIsHeldBack) {
  SseParser parser;
  std::vector<std::string> events;
  parser.Feed("data: {\"a\":1}\n", &events);
  EXPECT_TRUE(events.empty());
  parser.Feed("\n", &events);
  EXPECT_EQ(events.size(), 1u);
}

TEST(ClassifyEventTest, Completions) {
  EXPECT_EQ(ClassifyEvent("[DONE]", ApiKind::kCompletions).kind, StreamEvent::Kind::kDone);
  EXPECT_EQ(
      ClassifyEvent(R"({"choices":[{"index":0,"text":"hi","finish_reason":null}],"usage":null})",
                    ApiKind::kCompletions)
          .kind,
      StreamEvent::Kind::kToken);
  // A held-back token (empty text, not finished) is timed; a bare finish chunk is not.
  EXPECT_EQ(
      ClassifyEvent(R"({"choices":[{"text":"","finish_reason":null}]})", ApiKind::kCompletions)
          .kind,
      StreamEvent::Kind::kToken);
  EXPECT_EQ(
      ClassifyEvent(R"({"choices":[{"text":"","finish_reason":"length"}]})", ApiKind::kCompletions)
          .kind,
      StreamEvent::Kind::kOther);
  EXPECT_EQ(ClassifyEvent(R"({"choices":[{"text":"end","finish_reason":"length"}]})",
                          ApiKind::kCompletions)
                .kind,
            StreamEvent::Kind::kToken);
  StreamEvent usage = ClassifyEvent(
      R"({"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":12,"total_tokens":19}})",
      ApiKind::kCompletions);
  EXPECT_EQ(usage.kind, StreamEvent::Kind::kOther);
  EXPECT_EQ(usage.completion_tokens, 12);
  EXPECT_EQ(usage.prompt_tokens, 7);
}

TEST(ClassifyEventTest, ChatSkipsRolePreambleAndFinishChunk) {
  EXPECT_EQ(ClassifyEvent(
                R"({"choices":[{"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
                ApiKind::kChat)
                .kind,
            StreamEvent::Kind::kOther);
  EXPECT_EQ(ClassifyEvent(R"({"choices":[{"delta":{"content":"x"},"finish_reason":null}]})",
                          ApiKind::kChat)
                .kind,
            StreamEvent::Kind::kToken);
  EXPECT_EQ(
      ClassifyEvent(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})", ApiKind::kChat).kind,
      StreamEvent::Kind::kOther);
  EXPECT_EQ(
      ClassifyEvent(R"({"choices":[{"delta":{"reasoning_content":"hm"}}]})", ApiKind::kChat).kind,
      StreamEvent::Kind::kToken);
  // A completions-shaped chunk is not a chat token.
  EXPECT_EQ(ClassifyEvent(R"({"choices":[{"text":"x"}]})", ApiKind::kChat).kind,
            StreamEvent::Kind::kOther);
}

TEST(ClassifyEventTest, ErrorsAndGarbage) {
  StreamEvent error =
      ClassifyEvent(R"({"error":{"message":"boom","type":"server_error"}})", ApiKind::kCompletions);
  EXPECT_EQ(error.kind, StreamEvent::Kind::kError);
  EXPECT_EQ(error.error, "boom");
  EXPECT_EQ(ClassifyEvent("{not json", ApiKind::kCompletions).kind, StreamEvent::Kind::kMalformed);
  EXPECT_EQ(ClassifyEvent("[1,2]", ApiKind::kCompletions).kind, StreamEvent::Kind::kMalformed);
}

}  // namespace
}  // namespace stride::server::loadgen
