// libFuzzer target for the OpenAI request validators (server/openai): a raw request body goes
// through the /v1/completions, /v1/chat/completions, /tokenize and /detokenize parsers. Every
// input must end in a value or a Status (never a crash, an exception or unbounded recursion),
// every error must render as OpenAI's error JSON, and an accepted request must keep the
// validators' promises, which the target checks itself: token ids inside the vocabulary, no
// empty stop string, messages with a known role and string content, and sampling knobs the
// engine's own ValidateSamplingParams accepts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/sampling_validation.h"
#include "server/openai/api_error.h"
#include "server/openai/chat_request.h"
#include "server/openai/completion_request.h"
#include "server/openai/sse.h"
#include "server/openai/tokenize_request.h"

namespace {

using namespace stride::server::openai;

constexpr int kVocab = 1000;

void Require(bool condition) {
  if (!condition) std::abort();
}

const RequestContext& Context() {
  static const RequestContext* context = [] {
    auto* c = new RequestContext;
    c->served_model_name = "tiny";
    c->vocab_size = kVocab;
    return c;
  }();
  return *context;
}

void CheckError(const absl::Status& status) {
  Require(!status.ok());
  const ApiError error = ApiErrorFromStatus(status);
  Require(error.http_status == 400 || error.http_status == 404);  // never 5xx for bad input
  Require(!JsonText(ErrorJson(error)).empty());
}

void CheckCommon(const CommonRequest& common) {
  for (const std::string& stop : common.stop) Require(!stop.empty());
  Require(common.stop.size() <= static_cast<size_t>(Context().limits.max_stop_strings));
  stride::scheduler::SamplingParams sampling = common.sampling;
  sampling.max_tokens =
      static_cast<int>(std::max<int64_t>({1, sampling.min_tokens, common.max_tokens.value_or(1)}));
  Require(stride::engine::ValidateSamplingParams(sampling, kVocab).ok());
}

void CheckTokenIds(const std::vector<int32_t>& ids) {
  for (int32_t id : ids) Require(id >= 0 && id < kVocab);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<CompletionRequest> completion = ParseCompletionBody(body, Context());
  if (completion.ok()) {
    Require(!completion->prompts.empty());
    for (const Prompt& prompt : completion->prompts) {
      Require(prompt.is_text ? !prompt.text.empty() : !prompt.token_ids.empty());
      CheckTokenIds(prompt.token_ids);
    }
    CheckCommon(completion->common);
    Require(completion->logprobs >= -1 && completion->logprobs <= 20);
  } else {
    CheckError(completion.status());
  }

  absl::StatusOr<ChatRequest> chat = ParseChatBody(body, Context());
  if (chat.ok()) {
    Require(chat->messages.is_array() && !chat->messages.empty());
    for (const Json& message : chat->messages) {
      Require(message.at("role").is_string());
      Require(message.at("content").is_string());
    }
    CheckCommon(chat->common);
    Require(chat->common.sampling.logprobs == (chat->logprobs ? chat->top_logprobs : -1));
    Require(JsonText(nlohmann::json::parse(chat->messages.dump())).size() > 0);
  } else {
    CheckError(chat.status());
  }

  absl::StatusOr<TokenizeRequest> tokenize = ParseTokenizeBody(body, Context());
  if (!tokenize.ok()) CheckError(tokenize.status());
  absl::StatusOr<DetokenizeRequest> detokenize = ParseDetokenizeBody(body, Context());
  if (detokenize.ok()) {
    CheckTokenIds(detokenize->tokens);
  } else {
    CheckError(detokenize.status());
  }
  return 0;
}
