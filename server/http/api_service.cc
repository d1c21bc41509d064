#include "server/http/api_service.h"

#include <random>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "server/http/auth.h"
#include "server/openai/chat_request.h"
#include "server/openai/completion_request.h"
#include "server/openai/tokenize_request.h"

namespace stride::server::http {
namespace {

using nlohmann::json;

constexpr char kVersion[] = "0.1.0";

std::string RandomId(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%s%016x%016x", prefix, rng(), rng());
}

openai::ResponseMeta Meta(const ServeContext& context, const char* prefix) {
  return openai::ResponseMeta{RandomId(prefix), absl::ToUnixSeconds(absl::Now()),
                              context.options().served_model_name};
}

absl::string_view PathOf(absl::string_view target) { return target.substr(0, target.find('?')); }

HttpReply NotFoundPath(absl::string_view path) {
  openai::ApiError error;
  error.http_status = 404;
  error.message = absl::StrFormat("no route for %s", path);
  return ErrorReply(error);
}

HttpReply MethodNotAllowed(absl::string_view method, absl::string_view path) {
  openai::ApiError error;
  error.http_status = 405;
  error.message = absl::StrFormat("%s is not allowed on %s", method, path);
  HttpReply reply = ErrorReply(error);
  return reply;
}

}  // namespace

Routed ApiService::Handle(const HttpRequestView& request) {
  const absl::string_view path = PathOf(request.target);
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  auto reply = [](HttpReply r) { return Routed{std::move(r), nullptr}; };
  auto not_allowed = [&] { return reply(MethodNotAllowed(request.method, path)); };

  if (path == "/health") return get ? reply(Health()) : not_allowed();
  if (path == "/metrics") return get ? reply(Metrics()) : not_allowed();
  const bool generation = path == "/v1/completions" || path == "/v1/chat/completions";
  const bool known = generation || path == "/version" || path == "/v1/models" ||
                     path == "/tokenize" || path == "/detokenize";
  if (!known) return reply(NotFoundPath(path));
  if (!AuthorizationMatches(request.authorization, context_->options().api_key)) {
    return reply(ErrorReply(absl::UnauthenticatedError("missing or invalid API key")));
  }
  if (path == "/version")
    return get ? reply(JsonReply(200, {{"version", kVersion}})) : not_allowed();
  const bool wants_post = generation || path == "/tokenize" || path == "/detokenize";
  if (wants_post ? !post : !get) return not_allowed();
  switch (context_->state()) {
    case ServeContext::State::kLoading:
      return reply(ErrorReply(absl::UnavailableError("the model is still loading")));
    case ServeContext::State::kDraining:
      return reply(ErrorReply(absl::UnavailableError("the server is shutting down")));
    case ServeContext::State::kReady:
      break;
  }
  if (path == "/v1/models") return reply(Models());
  if (path == "/tokenize") return reply(Tokenize(request.body));
  if (path == "/detokenize") return reply(Detokenize(request.body));
  absl::StatusOr<std::unique_ptr<GenerationJob>> job =
      path == "/v1/completions" ? Completion(request.body) : Chat(request.body);
  if (!job.ok()) {
    context_->metrics().RecordOutcome(metrics::Outcome::kRejected);
    return reply(ErrorReply(job.status()));
  }
  return Routed{std::nullopt, std::move(*job)};
}

HttpReply ApiService::Health() const {
  switch (context_->state()) {
    case ServeContext::State::kReady:
      return TextReply(200, "");
    case ServeContext::State::kLoading:
      return TextReply(503, "loading\n");
    case ServeContext::State::kDraining:
      return TextReply(503, "draining\n");
  }
  return TextReply(503, "");
}

HttpReply ApiService::Metrics() const {
  const engine::Engine* engine = context_->engine();
  engine::EngineStats stats;
  if (engine != nullptr) stats = engine->stats();
  return TextReply(200, context_->metrics().Render(engine != nullptr ? &stats : nullptr),
                   "text/plain; version=0.0.4; charset=utf-8");
}

HttpReply ApiService::Models() const {
  const std::string& name = context_->options().served_model_name;
  json model = {{"id", name},
                {"object", "model"},
                {"created", absl::ToUnixSeconds(absl::Now())},
                {"owned_by", "stride"},
                {"root", name},
                {"parent", nullptr},
                {"max_model_len", context_->max_model_len()}};
  return JsonReply(200, {{"object", "list"}, {"data", json::array({model})}});
}

absl::StatusOr<std::vector<int32_t>> ChatPromptIds(const ServeContext& context,
                                                   const nlohmann::ordered_json& messages,
                                                   bool add_generation_prompt,
                                                   const nlohmann::ordered_json& kwargs,
                                                   const nlohmann::ordered_json& tools) {
  STRIDE_ASSIGN_OR_RETURN(std::string rendered,
                          context.chat().Render(messages, add_generation_prompt, kwargs, tools));
  return context.tokenizer().Encode(rendered, /*add_special_tokens=*/false);
}

HttpReply ApiService::Tokenize(absl::string_view body) const {
  absl::StatusOr<openai::TokenizeRequest> r =
      openai::ParseTokenizeBody(body, context_->request_context());
  if (!r.ok()) return ErrorReply(r.status());
  absl::StatusOr<std::vector<int32_t>> ids =
      r->is_chat ? ChatPromptIds(*context_, r->messages, r->add_generation_prompt,
                                 r->chat_template_kwargs, r->tools)
                 : context_->tokenizer().Encode(r->prompt, r->add_special_tokens);
  if (!ids.ok()) return ErrorReply(ids.status());
  return JsonReply(
      200,
      {{"count", ids->size()}, {"max_model_len", context_->max_model_len()}, {"tokens", *ids}});
}

HttpReply ApiService::Detokenize(absl::string_view body) const {
  // Detokenizing needs only the tokenizer, whose vocabulary may be larger than the model's.
  openai::RequestContext request_context = context_->request_context();
  request_context.vocab_size = context_->tokenizer().vocab_size();
  absl::StatusOr<openai::DetokenizeRequest> r = openai::ParseDetokenizeBody(body, request_context);
  if (!r.ok()) return ErrorReply(r.status());
  absl::StatusOr<std::string> text =
      context_->tokenizer().Decode(r->tokens, /*skip_special_tokens=*/false);
  if (!text.ok()) return ErrorReply(text.status());
  return JsonReply(200, {{"prompt", *text}});
}

absl::Status ApiService::CheckQueue() const {
  const int max_queue = context_->options().max_queue;
  if (max_queue > 0 && context_->engine()->stats().num_waiting >= max_queue) {
    return absl::ResourceExhaustedError("the server's queue is full; retry later");
  }
  return absl::OkStatus();
}

namespace {

// The fields both endpoints copy from the common request into the job.
JobSpec SpecFrom(const openai::CommonRequest& common) {
  JobSpec spec;
  spec.sampling = common.sampling;
  spec.priority = common.priority;
  spec.stop = common.stop;
  spec.include_stop_str_in_output = common.include_stop_str_in_output;
  spec.skip_special_tokens = common.skip_special_tokens;
  spec.stream = common.stream;
  spec.include_usage = common.include_usage;
  spec.with_prompt_logprobs = common.sampling.prompt_logprobs >= 0;
  spec.arrival = absl::Now();
  return spec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GenerationJob>> ApiService::Completion(
    absl::string_view body) const {
  const absl::Time arrival = absl::Now();
  STRIDE_ASSIGN_OR_RETURN(openai::CompletionRequest r,
                          openai::ParseCompletionBody(body, context_->request_context()));
  JobSpec spec = SpecFrom(r.common);
  spec.arrival = arrival;
  spec.echo = r.echo;
  spec.with_logprobs = r.logprobs >= 0;
  spec.meta = Meta(*context_, "cmpl-");
  const engine::text::Tokenizer& tokenizer = context_->tokenizer();
  for (openai::Prompt& prompt : r.prompts) {
    PreparedPrompt& prepared = spec.prompts.emplace_back();
    if (prompt.is_text) {
      STRIDE_ASSIGN_OR_RETURN(prepared.token_ids, tokenizer.Encode(prompt.text, true));
      prepared.text = std::move(prompt.text);
    } else {
      prepared.token_ids = std::move(prompt.token_ids);
      if (r.echo) {
        STRIDE_ASSIGN_OR_RETURN(prepared.text, tokenizer.Decode(prepared.token_ids, false));
      }
    }
    if (prepared.token_ids.empty()) return openai::InvalidParam("prompt", "the prompt is empty");
    STRIDE_ASSIGN_OR_RETURN(
        prepared.max_tokens,
        openai::ResolveMaxTokens(static_cast<int>(prepared.token_ids.size()), r.common.max_tokens,
                                 16, context_->max_model_len()));
  }
  STRIDE_RETURN_IF_ERROR(CheckQueue());
  return std::make_unique<GenerationJob>(std::move(spec), context_);
}

absl::StatusOr<std::unique_ptr<GenerationJob>> ApiService::Chat(absl::string_view body) const {
  const absl::Time arrival = absl::Now();
  STRIDE_ASSIGN_OR_RETURN(openai::ChatRequest r,
                          openai::ParseChatBody(body, context_->request_context()));
  JobSpec spec = SpecFrom(r.common);
  spec.arrival = arrival;
  spec.chat = true;
  spec.with_logprobs = r.logprobs;
  spec.meta = Meta(*context_, "chatcmpl-");
  PreparedPrompt& prepared = spec.prompts.emplace_back();
  STRIDE_ASSIGN_OR_RETURN(prepared.token_ids,
                          ChatPromptIds(*context_, r.messages, r.add_generation_prompt,
                                        r.chat_template_kwargs, r.tools));
  if (prepared.token_ids.empty()) {
    return openai::InvalidParam("messages", "the rendered conversation is empty");
  }
  STRIDE_ASSIGN_OR_RETURN(
      prepared.max_tokens,
      openai::ResolveMaxTokens(static_cast<int>(prepared.token_ids.size()), r.common.max_tokens, 0,
                               context_->max_model_len()));
  STRIDE_RETURN_IF_ERROR(CheckQueue());
  return std::make_unique<GenerationJob>(std::move(spec), context_);
}

}  // namespace stride::server::http
