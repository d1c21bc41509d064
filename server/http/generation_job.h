// One /v1/completions or /v1/chat/completions request in flight: submits its prompts to the
// engine, turns engine deltas into text (TextStream per choice: stop strings held back and
// applied), log-probs and finish reasons, and produces either SSE chunks (stream) or the final
// JSON body. Driven by the connection's session on its executor: Poll after every engine
// notification. Not thread-safe; the destructor aborts whatever is still running.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/request_stream.h"
#include "engine/text/text_stream.h"
#include "nlohmann/json.hpp"
#include "server/http/http_reply.h"
#include "server/http/serve_context.h"
#include "server/openai/chat_response.h"
#include "server/openai/completion_response.h"
#include "server/openai/generation_types.h"

namespace stride::server::http {

struct PreparedPrompt {
  std::vector<int32_t> token_ids;
  std::string text;  // what echo prepends
  int max_tokens = 16;
};

struct JobSpec {
  bool chat = false;
  std::vector<PreparedPrompt> prompts;
  scheduler::SamplingParams sampling;  // max_tokens is per prompt
  int priority = 0;
  std::vector<std::string> stop;
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;
  bool stream = false;
  bool include_usage = false;
  bool echo = false;                  // completions only
  bool with_logprobs = false;         // completions: logprobs >= 0; chat: logprobs: true
  bool with_prompt_logprobs = false;  // vLLM's prompt_logprobs field
  openai::ResponseMeta meta;
  absl::Time arrival;
};

class GenerationJob {
 public:
  GenerationJob(JobSpec spec, ServeContext* context);
  ~GenerationJob();
  GenerationJob(const GenerationJob&) = delete;
  GenerationJob& operator=(const GenerationJob&) = delete;

  bool streaming() const { return spec_.stream; }
  // Submits every prompt. `notify` runs on the engine thread whenever output arrives (it must
  // only post work). An error means nothing was submitted: answer it as a plain HTTP error.
  absl::Status Start(std::function<void()> notify);
  // Takes every available engine delta. Streaming: returns the SSE text to send next (ending
  // with `data: [DONE]` once done). Otherwise returns "" and, once done, reply() is ready.
  std::string Poll();
  bool done() const { return done_; }
  // The non-streamed answer (200 with the response, or the error); valid once done().
  const HttpReply& reply() const { return reply_; }
  // The client went away: abort everything still running.
  void Abort();

 private:
  struct Choice {
    int index = 0;
    size_t prompt = 0;
    std::unique_ptr<engine::text::TextStream> text;
    openai::ChoiceDelta total;  // non-streamed: everything so far
    int64_t num_tokens = 0;
    bool started = false;  // first output (role chunk / echo) sent
    bool finished = false;
    absl::Time last_token;
  };
  struct Submitted {
    std::shared_ptr<engine::RequestStream> stream;
    std::vector<openai::TokenLogprobText> prompt_logprobs;  // positions 1..
    std::vector<int> prompt_logprobs_seen;                  // per sequence
  };

  void Handle(size_t prompt, engine::RequestOutput& delta, std::string* sse);
  void Fail(const absl::Status& status, std::string* sse);
  void Finish(std::string* sse);
  void Emit(Choice& choice, openai::ChoiceDelta delta, std::string* sse);
  // The echo text and prompt log-probs a choice starts with (completions with echo).
  openai::ChoiceDelta EchoDelta(const Choice& choice) const;
  openai::TokenLogprobText LogprobText(const scheduler::TokenLogprob& logprob) const;
  std::string TokenText(int32_t id) const;
  bool AllFinished(size_t prompt) const;
  void AbortEngine(size_t prompt);

  JobSpec spec_;
  ServeContext* context_;
  const engine::text::Tokenizer& tokenizer_;
  engine::Engine* engine_;
  std::vector<Submitted> submitted_;
  std::vector<Choice> choices_;
  std::optional<openai::CompletionFormatter> completion_format_;
  std::optional<openai::ChatFormatter> chat_format_;
  bool started_ = false;
  bool done_ = false;
  bool client_gone_ = false;
  bool first_output_seen_ = false;
  bool first_token_seen_ = false;
  absl::Status error_;
  HttpReply reply_;
};

}  // namespace stride::server::http
