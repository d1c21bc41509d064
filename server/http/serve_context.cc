#include "server/http/serve_context.h"

#include <utility>

namespace stride::server::http {

ServeContext::ServeContext(ServeOptions options, std::unique_ptr<engine::text::Tokenizer> tokenizer,
                           std::unique_ptr<ChatRenderer> chat)
    : options_(std::move(options)),
      tokenizer_(std::move(tokenizer)),
      chat_(std::move(chat)),
      metrics_(options_.served_model_name) {}

void ServeContext::SetEngine(engine::Engine* engine) {
  engine_.store(engine, std::memory_order_release);
  State expected = State::kLoading;
  state_.compare_exchange_strong(expected, State::kReady);
}

openai::RequestContext ServeContext::request_context() const {
  openai::RequestContext context;
  context.served_model_name = options_.served_model_name;
  const engine::Engine* e = engine();
  context.vocab_size = e != nullptr ? e->model_config().vocab_size : tokenizer_->vocab_size();
  context.limits = options_.limits;
  return context;
}

int ServeContext::max_model_len() const {
  const engine::Engine* e = engine();
  return e != nullptr ? e->max_model_len() : 0;
}

}  // namespace stride::server::http
