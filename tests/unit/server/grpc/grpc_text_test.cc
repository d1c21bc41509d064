// Text over gRPC: Tokenize, text prompts, text deltas that add up to the decoded tokens, and stop
// strings, on a tiny dummy model with the real Llama-3 tokenizer (from `make fixtures`).
#include "tests/unit/server/grpc/grpc_test_util.h"

namespace stride::server::grpc::testing {
namespace {

class GrpcTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = TinyTextModel();
    if (model_ == nullptr) GTEST_SKIP() << "no Llama-3 tokenizer fixture: run `make fixtures`";
    ASSERT_TRUE(WaitForIdle(*model_->loaded.engine, absl::Seconds(5)));
    server_ = StartServer(model_->loaded.engine.get(), model_->tokenizer.get());
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Inference::NewStub(Connect(server_->port()));
  }

  v1::GenerateRequest TextRequest(const std::string& text, int max_tokens) {
    v1::GenerateRequest request;
    request.set_text(text);
    request.mutable_sampling()->set_max_tokens(max_tokens);
    request.mutable_sampling()->set_temperature(0);
    request.mutable_sampling()->set_ignore_eos(true);
    return request;
  }

  TextModel* model_ = nullptr;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Inference::Stub> stub_;
};

TEST_F(GrpcTextTest, TokenizeUsesTheServedTokenizer) {
  ::grpc::ClientContext context;
  v1::TokenizeRequest request;
  request.set_text("Hello, world!");
  request.set_add_special_tokens(false);
  v1::TokenizeResponse response;
  ASSERT_TRUE(stub_->Tokenize(&context, request, &response).ok());
  // Llama-3's ids for "Hello" "," " world" "!".
  const std::vector<int32_t> expected = {9906, 11, 1917, 0};
  EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()),
            expected);

  // By default special tokens are added as the tokenizer's post-processor says.
  ::grpc::ClientContext default_context;
  request.clear_add_special_tokens();
  ASSERT_TRUE(stub_->Tokenize(&default_context, request, &response).ok());
  auto local = model_->tokenizer->Encode("Hello, world!", /*add_special_tokens=*/true);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()), *local);

  ::grpc::ClientContext wrong_model;
  request.set_model("other");
  EXPECT_EQ(stub_->Tokenize(&wrong_model, request, &response).error_code(), ::grpc::NOT_FOUND);
}

TEST_F(GrpcTextTest, TextDeltasAddUpToTheDecodedTokens) {
  StreamResult result = Generate(*stub_, TextRequest("The quick brown fox", 24));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const SequenceResult& sequence = result.sequences[0];
  ASSERT_EQ(sequence.token_ids.size(), 24u);
  auto decoded = model_->tokenizer->Decode(sequence.token_ids, /*skip_special_tokens=*/true);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(sequence.text, *decoded);
  EXPECT_FALSE(sequence.text.empty());
  auto prompt = model_->tokenizer->Encode("The quick brown fox", true);
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(result.usage->prompt_tokens(), static_cast<int>(prompt->size()));
  EXPECT_GE(prompt->size(), 4u);
}

TEST_F(GrpcTextTest, StopStringEndsTheSequenceAndIsNotReturned) {
  StreamResult full = Generate(*stub_, TextRequest("Once upon a time", 32));
  ASSERT_TRUE(full.status.ok()) << full.status.error_message();
  const std::string text = full.sequences[0].text;
  ASSERT_GE(text.size(), 12u) << "the dummy model's greedy text is too short: '" << text << "'";
  // A stop string from the middle of the greedy text: the same greedy run must stop there.
  const std::string stop = text.substr(text.size() / 2, 4);
  const std::string expected = text.substr(0, text.find(stop));

  v1::GenerateRequest request = TextRequest("Once upon a time", 32);
  request.mutable_sampling()->add_stop(stop);
  StreamResult stopped = Generate(*stub_, request);
  ASSERT_TRUE(stopped.status.ok()) << stopped.status.error_message();
  const SequenceResult& sequence = stopped.sequences[0];
  EXPECT_EQ(sequence.text, expected);
  EXPECT_EQ(sequence.finish_reason, v1::FINISH_REASON_STOP);
  EXPECT_EQ(sequence.stop_string, stop);
  EXPECT_LT(sequence.token_ids.size(), full.sequences[0].token_ids.size());
  // The tokens up to the one that completed the stop string, a prefix of the full run.
  const std::vector<int32_t> prefix(
      full.sequences[0].token_ids.begin(),
      full.sequences[0].token_ids.begin() + sequence.token_ids.size());
  EXPECT_EQ(sequence.token_ids, prefix);
  EXPECT_EQ(stopped.usage->completion_tokens(), static_cast<int>(sequence.token_ids.size()));
  ASSERT_TRUE(WaitForIdle(*model_->loaded.engine, absl::Seconds(2)))
      << "the engine request behind the stopped sequence was not aborted";
}

TEST_F(GrpcTextTest, TokenIdPromptsGetTextToo) {
  v1::GenerateRequest request;
  request.mutable_token_ids()->mutable_ids()->Add(128000);
  request.mutable_token_ids()->mutable_ids()->Add(9906);
  request.mutable_sampling()->set_max_tokens(8);
  request.mutable_sampling()->set_temperature(0);
  request.mutable_sampling()->set_ignore_eos(true);
  StreamResult result = Generate(*stub_, request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  auto decoded = model_->tokenizer->Decode(result.sequences[0].token_ids, true);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(result.sequences[0].text, *decoded);
}

TEST_F(GrpcTextTest, BadTextPromptsAreInvalidArguments) {
  StreamResult empty = Generate(*stub_, TextRequest("", 4));
  EXPECT_EQ(empty.status.error_code(), ::grpc::INVALID_ARGUMENT);
  v1::GenerateRequest empty_stop = TextRequest("hi", 4);
  empty_stop.mutable_sampling()->add_stop("");
  EXPECT_EQ(Generate(*stub_, empty_stop).status.error_code(), ::grpc::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace stride::server::grpc::testing
