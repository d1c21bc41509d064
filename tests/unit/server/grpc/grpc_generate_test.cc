// Generate over a real gRPC connection to a real engine (the llama fixture, token-id prompts):
// greedy tokens equal the HuggingFace goldens, the stream's shape and usage, n > 1, request
// errors and their codes, and what a client's cancel, deadline or slowness does to the engine.
#include <cmath>

#include "nlohmann/json.hpp"
#include "tests/unit/server/grpc/grpc_test_util.h"

namespace stride::server::grpc::testing {
namespace {

struct GoldenPrompt {
  std::vector<int32_t> prompt;
  std::vector<int32_t> greedy;
  std::vector<double> greedy_logprobs;
  std::vector<double> top2_gaps;
};

std::vector<GoldenPrompt> LoadGoldens() {
  std::ifstream in(SourcePath(kLlamaFixture) + "/goldens.json");
  nlohmann::json json = nlohmann::json::parse(in);
  std::vector<GoldenPrompt> goldens;
  for (const auto& p : json["prompts"]) {
    GoldenPrompt& g = goldens.emplace_back();
    g.prompt = p["prompt_token_ids"].get<std::vector<int32_t>>();
    for (const auto& step : p["greedy"]) {
      g.greedy.push_back(step["token_id"].get<int32_t>());
      g.greedy_logprobs.push_back(step["logprob"].get<double>());
      g.top2_gaps.push_back(step["top2_gap"].get<double>());
    }
  }
  return goldens;
}

class GrpcGenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = LlamaEngine();
    ASSERT_NE(engine_, nullptr);
    ASSERT_TRUE(WaitForIdle(*engine_, absl::Seconds(5))) << "a previous test left work behind";
    server_ = StartServer(engine_, nullptr);
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Inference::NewStub(Connect(server_->port()));
  }

  engine::Engine* engine_ = nullptr;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Inference::Stub> stub_;
};

TEST_F(GrpcGenerateTest, GreedyTokensMatchTransformersGoldens) {
  const std::vector<GoldenPrompt> goldens = LoadGoldens();
  ASSERT_GE(goldens.size(), 8u);
  for (int g : {0, 2, 3, 5, 7}) {  // prompt lengths 1, 5, 16, 31, 100
    const GoldenPrompt& golden = goldens[g];
    v1::GenerateRequest request =
        TokenRequest(golden.prompt, static_cast<int>(golden.greedy.size()));
    request.mutable_sampling()->set_logprobs(2);
    StreamResult result = Generate(*stub_, request);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.sequences.size(), 1u);
    const SequenceResult& sequence = result.sequences[0];
    ASSERT_EQ(sequence.token_ids.size(), golden.greedy.size());
    ASSERT_EQ(sequence.logprobs.size(), golden.greedy.size());
    for (size_t s = 0; s < golden.greedy.size(); ++s) {
      EXPECT_EQ(sequence.token_ids[s], golden.greedy[s]) << "prompt " << g << " step " << s;
      EXPECT_EQ(sequence.logprobs[s].token_id(), sequence.token_ids[s]);
      EXPECT_NEAR(sequence.logprobs[s].logprob(), golden.greedy_logprobs[s], 1e-3);
      EXPECT_EQ(sequence.logprobs[s].top_size(), 2);
      if (golden.top2_gaps[s] < 1e-4) break;  // a tie: the continuations may part here
    }
    EXPECT_EQ(sequence.finish_reason, v1::FINISH_REASON_LENGTH);
    EXPECT_TRUE(sequence.text.empty()) << "no tokenizer, no text";
    ASSERT_TRUE(result.usage.has_value());
    EXPECT_EQ(result.usage->prompt_tokens(), static_cast<int>(golden.prompt.size()));
    EXPECT_EQ(result.usage->completion_tokens(), static_cast<int>(golden.greedy.size()));
    EXPECT_TRUE(result.prompt_logprobs.empty()) << "not requested";
  }
}

TEST_F(GrpcGenerateTest, PromptLogprobsComeFirstAndCoverThePrompt) {
  const GoldenPrompt golden = LoadGoldens()[3];
  v1::GenerateRequest request = TokenRequest(golden.prompt, 12);
  request.mutable_sampling()->set_prompt_logprobs(1);
  ::grpc::ClientContext context;
  auto reader = stub_->Generate(&context, request);
  StreamResult result = ReadStream(reader.get());
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.prompt_logprobs.size(), golden.prompt.size() - 1);
  for (size_t i = 1; i < golden.prompt.size(); ++i) {
    EXPECT_EQ(result.prompt_logprobs[i - 1].token_id(), golden.prompt[i]);
  }
  EXPECT_EQ(result.sequences[0].token_ids.size(), 12u);
  EXPECT_EQ(result.usage->completion_tokens(), 12);
}

TEST_F(GrpcGenerateTest, NSequencesAreSeededAndCountedInUsage) {
  v1::GenerateRequest request = TokenRequest({5, 6, 7, 8}, 10);
  request.mutable_sampling()->set_temperature(1.0f);
  request.mutable_sampling()->set_seed(1234);
  request.mutable_sampling()->set_n(3);
  StreamResult first = Generate(*stub_, request);
  StreamResult second = Generate(*stub_, request);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  ASSERT_EQ(first.sequences.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(first.sequences[i].token_ids.size(), 10u) << i;
    EXPECT_EQ(first.sequences[i].finish_reason, v1::FINISH_REASON_LENGTH) << i;
    EXPECT_EQ(first.sequences[i].token_ids, second.sequences[i].token_ids) << "same seed " << i;
  }
  EXPECT_NE(first.sequences[0].token_ids, first.sequences[1].token_ids);
  EXPECT_EQ(first.usage->prompt_tokens(), 4);
  EXPECT_EQ(first.usage->completion_tokens(), 30);
}

TEST_F(GrpcGenerateTest, StopTokenIdEndsTheSequence) {
  const GoldenPrompt golden = LoadGoldens()[2];
  v1::GenerateRequest request = TokenRequest(golden.prompt, 20);
  request.mutable_sampling()->add_stop_token_ids(golden.greedy[4]);
  StreamResult result = Generate(*stub_, request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const std::vector<int32_t>& tokens = result.sequences[0].token_ids;
  ASSERT_FALSE(tokens.empty());
  EXPECT_EQ(tokens.back(), golden.greedy[4]);
  EXPECT_LE(tokens.size(), 5u);
  EXPECT_EQ(result.sequences[0].finish_reason, v1::FINISH_REASON_STOP);
  EXPECT_EQ(result.usage->completion_tokens(), static_cast<int>(tokens.size()));
}

TEST_F(GrpcGenerateTest, BadRequestsGetClearStatusCodes) {
  struct Case {
    std::string what;
    v1::GenerateRequest request;
    ::grpc::StatusCode code;
    std::string message_part;
  };
  std::vector<Case> cases;
  auto add = [&](std::string what, v1::GenerateRequest r, ::grpc::StatusCode code,
                 std::string part) {
    cases.push_back({what, std::move(r), code, part});
  };
  v1::GenerateRequest r = TokenRequest({1, 2, 3}, 4);
  r.mutable_sampling()->set_temperature(-1);
  add("negative temperature", r, ::grpc::INVALID_ARGUMENT, "temperature");
  r = TokenRequest({1, 2, 3}, 4);
  r.mutable_sampling()->set_top_p(0);
  add("top_p 0", r, ::grpc::INVALID_ARGUMENT, "top_p");
  r = TokenRequest({1, 2, 3}, 4);
  r.mutable_sampling()->set_logprobs(21);
  add("too many logprobs", r, ::grpc::INVALID_ARGUMENT, "logprobs");
  r = TokenRequest({1, 2, 3}, 4);
  r.mutable_sampling()->set_n(0);
  add("n 0", r, ::grpc::INVALID_ARGUMENT, "n ");
  r = TokenRequest({1, 2, 3}, 0);
  add("max_tokens 0", r, ::grpc::INVALID_ARGUMENT, "max_tokens");
  add("no prompt", v1::GenerateRequest(), ::grpc::INVALID_ARGUMENT, "prompt is missing");
  add("empty ids", TokenRequest({}, 4), ::grpc::INVALID_ARGUMENT, "empty");
  add("id outside vocab", TokenRequest({1, 512}, 4), ::grpc::INVALID_ARGUMENT, "512");
  add("negative id", TokenRequest({-1}, 4), ::grpc::INVALID_ARGUMENT, "vocabulary");
  add("too long", TokenRequest(std::vector<int32_t>(1000, 3), 100), ::grpc::INVALID_ARGUMENT,
      "context of 1024");
  r = v1::GenerateRequest();
  r.set_text("hello");
  add("text without tokenizer", r, ::grpc::FAILED_PRECONDITION, "tokenizer");
  r = TokenRequest({1, 2, 3}, 4);
  r.mutable_sampling()->add_stop("x");
  add("stop string without tokenizer", r, ::grpc::FAILED_PRECONDITION, "stop");
  r = TokenRequest({1, 2, 3}, 4);
  r.set_model("gpt-4");
  add("unknown model", r, ::grpc::NOT_FOUND, "gpt-4");
  for (const Case& c : cases) {
    StreamResult result = Generate(*stub_, c.request);
    EXPECT_EQ(result.status.error_code(), c.code)
        << c.what << ": " << result.status.error_message();
    EXPECT_NE(result.status.error_message().find(c.message_part), std::string::npos)
        << c.what << ": " << result.status.error_message();
    EXPECT_EQ(result.num_messages, 0) << c.what;
  }
  // The served name is accepted.
  v1::GenerateRequest named = TokenRequest({1, 2, 3}, 2);
  named.set_model("tiny");
  EXPECT_TRUE(Generate(*stub_, named).status.ok());
}

TEST_F(GrpcGenerateTest, RequestThatCanNeverFitTheKvCacheIsResourceExhausted) {
  engine::EngineOptions options;
  options.model = SourcePath(kLlamaFixture);
  options.num_kv_blocks = 2;  // 32 tokens
  options.num_threads = 1;
  auto small = engine::CreateEngine(options);
  ASSERT_TRUE(small.ok()) << small.status();
  std::unique_ptr<GrpcServer> server = StartServer(small->engine.get(), nullptr);
  auto stub = v1::Inference::NewStub(Connect(server->port()));
  StreamResult result = Generate(*stub, TokenRequest(std::vector<int32_t>(30, 7), 40));
  EXPECT_EQ(result.status.error_code(), ::grpc::RESOURCE_EXHAUSTED)
      << result.status.error_message();
  EXPECT_TRUE(Generate(*stub, TokenRequest({1, 2}, 4)).status.ok()) << "a small one still fits";
  server->Shutdown(absl::ZeroDuration());
}

TEST_F(GrpcGenerateTest, CancellingMidStreamAbortsTheEngineRequest) {
  v1::GenerateRequest request = TokenRequest({3, 1, 4, 1, 5}, 1000);
  request.mutable_sampling()->set_n(4);
  ::grpc::ClientContext context;
  auto reader = stub_->Generate(&context, request);
  StreamResult partial = ReadStream(reader.get(), /*max_messages=*/3);
  ASSERT_EQ(partial.num_messages, 3);
  EXPECT_GT(engine_->stats().num_running, 0);
  context.TryCancel();
  v1::GenerateResponse ignored;
  while (reader->Read(&ignored)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), ::grpc::CANCELLED);
  absl::Duration freed_after;
  ASSERT_TRUE(WaitForIdle(*engine_, absl::Seconds(2), &freed_after))
      << "running " << engine_->stats().num_running << ", free blocks "
      << engine_->stats().num_free_kv_blocks << " of " << engine_->stats().num_total_kv_blocks;
  std::cout << "[ figures  ] KV blocks free " << absl::FormatDuration(freed_after)
            << " after the client's cancel\n";
}

TEST_F(GrpcGenerateTest, DeadlineCancelsTheCallAndTheEngineRequest) {
  // 8 sequences of 1000 tokens take far longer than the deadline on the CPU backend.
  v1::GenerateRequest request = TokenRequest({2, 7, 1, 8}, 1000);
  request.mutable_sampling()->set_n(8);
  ::grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  StreamResult result = Generate(*stub_, request, &context);
  EXPECT_EQ(result.status.error_code(), ::grpc::DEADLINE_EXCEEDED) << result.status.error_message();
  int received = 0;
  for (const auto& [index, sequence] : result.sequences) {
    received += static_cast<int>(sequence.token_ids.size());
  }
  EXPECT_LT(received, 8000);
  EXPECT_FALSE(result.usage.has_value());
  ASSERT_TRUE(WaitForIdle(*engine_, absl::Seconds(2)));
}

TEST_F(GrpcGenerateTest, ClientThatStopsReadingOverflowsItsBufferAndIsAborted) {
  GrpcServerOptions options;
  options.max_buffered_deltas = 1000;
  std::unique_ptr<GrpcServer> server = StartServer(engine_, nullptr, options);
  // A small, fixed receive window so the server's writes stall soon after the client stops.
  ::grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto stub = v1::Inference::NewStub(Connect(server->port(), args));
  v1::GenerateRequest request = TokenRequest({9, 9, 9}, 500);
  request.mutable_sampling()->set_n(8);
  request.mutable_sampling()->set_logprobs(20);  // ~250 bytes per token

  // A client that keeps reading gets all 4000 tokens: the bound is not hit by speed alone.
  StreamResult reading = Generate(*stub, request);
  ASSERT_TRUE(reading.status.ok()) << reading.status.error_message();
  EXPECT_EQ(reading.usage->completion_tokens(), 4000);

  ::grpc::ClientContext context;
  auto reader = stub->Generate(&context, request);
  v1::GenerateResponse first;
  ASSERT_TRUE(reader->Read(&first));
  // Stop reading: the engine request must be aborted while the client still holds the call.
  absl::Duration aborted_after;
  ASSERT_TRUE(WaitForIdle(*engine_, absl::Seconds(10), &aborted_after));
  std::cout << "[ figures  ] engine request of a stalled client aborted after "
            << absl::FormatDuration(aborted_after) << "\n";
  StreamResult rest = ReadStream(reader.get());
  EXPECT_EQ(rest.status.error_code(), ::grpc::RESOURCE_EXHAUSTED) << rest.status.error_message();
  EXPECT_NE(rest.status.error_message().find("too slowly"), std::string::npos);
  int received = 0;
  for (const v1::SequenceDelta& delta : first.deltas()) received += delta.token_ids_size();
  for (const auto& [index, sequence] : rest.sequences) {
    received += static_cast<int>(sequence.token_ids.size());
  }
  EXPECT_LT(received, 4000);
  server->Shutdown(absl::ZeroDuration());
}

TEST_F(GrpcGenerateTest, ShutdownCancelsRunningCallsAfterTheGrace) {
  v1::GenerateRequest request = TokenRequest({1, 1, 2, 3, 5}, 1000);
  request.mutable_sampling()->set_n(8);
  ::grpc::ClientContext context;
  auto reader = stub_->Generate(&context, request);
  v1::GenerateResponse first;
  ASSERT_TRUE(reader->Read(&first));
  std::thread reader_thread([&] {
    v1::GenerateResponse message;
    while (reader->Read(&message)) {
    }
  });
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Milliseconds(100));
  const absl::Duration took = absl::Now() - start;
  reader_thread.join();
  const ::grpc::Status status = reader->Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_LT(took, absl::Seconds(3));
  ASSERT_TRUE(WaitForIdle(*engine_, absl::Seconds(2)));
  // A call after shutdown cannot connect.
  ::grpc::ClientContext late;
  late.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  StreamResult after = Generate(*stub_, TokenRequest({1}, 1), &late);
  EXPECT_FALSE(after.status.ok());
}

}  // namespace
}  // namespace stride::server::grpc::testing
