#include "server/loadgen/streaming_call.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"

namespace stride::server::loadgen {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr size_t kMaxErrorBody = 512;

std::string ErrorText(const char* what, const beast::error_code& ec) {
  if (ec == beast::error::timeout) return absl::StrCat(what, ": timed out");
  return absl::StrCat(what, ": ", ec.message());
}

}  // namespace

ConnectionPool::ConnectionPool(boost::asio::io_context& io, tcp::resolver::results_type endpoints)
    : io_(io), endpoints_(std::move(endpoints)) {}

std::unique_ptr<beast::tcp_stream> ConnectionPool::TakeIdle() {
  if (idle_.empty()) return nullptr;
  std::unique_ptr<beast::tcp_stream> stream = std::move(idle_.back());
  idle_.pop_back();
  return stream;
}

void ConnectionPool::ReturnIdle(std::unique_ptr<beast::tcp_stream> stream) {
  stream->expires_never();
  idle_.push_back(std::move(stream));
}

std::unique_ptr<beast::tcp_stream> ConnectionPool::NewStream() {
  return std::make_unique<beast::tcp_stream>(io_);
}

void ConnectionPool::CloseIdle() {
  for (auto& stream : idle_) {
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
  }
  idle_.clear();
}

StreamingCall::StreamingCall(ConnectionPool* pool, const CallSettings* settings, std::string body,
                             int64_t input_len, Done done)
    : pool_(pool), settings_(settings), done_(std::move(done)) {
  request_.method(http::verb::post);
  request_.target(settings->path);
  request_.version(11);
  request_.set(http::field::host, settings->host_header);
  request_.set(http::field::user_agent, "stride-bench");
  request_.set(http::field::content_type, "application/json");
  request_.set(http::field::accept, "text/event-stream");
  if (!settings->api_key.empty()) {
    request_.set(http::field::authorization, absl::StrCat("Bearer ", settings->api_key));
  }
  request_.keep_alive(true);
  request_.body() = std::move(body);
  request_.prepare_payload();
  outcome_.input_len = input_len;
}

double StreamingCall::Now() const {
  return std::chrono::duration<double>(Clock::now() - settings_->origin).count();
}

void StreamingCall::Start() {
  outcome_.send_time = Now();
  deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(settings_->timeout_s));
  stream_ = pool_->TakeIdle();
  reused_ = stream_ != nullptr;
  if (reused_) return Write();
  Connect();
}

void StreamingCall::Connect() {
  stream_ = pool_->NewStream();
  pool_->CountOpened();
  stream_->expires_at(deadline_);
  stream_->async_connect(pool_->endpoints(),
                         [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                           if (ec) return self->Finish(ErrorText("connect", ec));
                           beast::error_code ignored;
                           self->stream_->socket().set_option(tcp::no_delay(true), ignored);
                           self->Write();
                         });
}

void StreamingCall::Write() {
  stream_->expires_at(deadline_);
  http::async_write(*stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) {
      if (self->MaybeRetry()) return;
      return self->Finish(ErrorText("send", ec));
    }
    self->ReadHeader();
  });
}

bool StreamingCall::MaybeRetry() {
  if (!reused_ || retried_) return false;
  retried_ = true;
  reused_ = false;
  beast::error_code ignored;
  stream_->socket().close(ignored);
  buffer_.clear();
  parser_.reset();
  Connect();
  return true;
}

void StreamingCall::ReadHeader() {
  parser_.emplace();
  // Not boost::none: Boost 1.74 compares a Content-Length against an empty limit as exceeded.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_->expires_at(deadline_);
  http::async_read_header(*stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) {
                              if (self->buffer_.size() == 0 && self->MaybeRetry()) return;
                              return self->Finish(ErrorText("response", ec));
                            }
                            self->status_ = self->parser_->get().result_int();
                            self->ReadBody();
                          });
}

void StreamingCall::ReadBody() {
  if (parser_->is_done()) return OnBody({});
  parser_->get().body().data = body_buffer_;
  parser_->get().body().size = sizeof(body_buffer_);
  stream_->expires_at(deadline_);
  http::async_read_some(
      *stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void StreamingCall::OnBody(beast::error_code ec) {
  if (ec == http::error::need_buffer) ec = {};
  const double now = Now();
  if (parser_->get().body().data != nullptr) {
    const size_t received = sizeof(body_buffer_) - parser_->get().body().size;
    parser_->get().body().data = nullptr;
    if (received > 0) HandleBodyBytes(std::string_view(body_buffer_, received), now);
  }
  if (ec) return Finish(ErrorText("stream", ec));
  if (!parser_->is_done()) return ReadBody();
  // The response is complete: keep the connection when both sides allow it.
  if (parser_->keep_alive()) {
    pool_->ReturnIdle(std::move(stream_));
  }
  if (status_ != 200) {
    return Finish(absl::StrCat("HTTP ", status_, ": ", error_body_));
  }
  if (!stream_error_.empty()) return Finish(stream_error_);
  if (outcome_.chunk_times.empty()) return Finish("the stream held no token chunk");
  outcome_.success = true;
  Finish("");
}

void StreamingCall::HandleBodyBytes(std::string_view bytes, double now) {
  if (status_ != 200) {
    error_body_.append(
        bytes.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, error_body_.size())));
    return;
  }
  events_.clear();
  sse_.Feed(bytes, &events_);
  for (const std::string& data : events_) {
    StreamEvent event = ClassifyEvent(data, settings_->api);
    if (event.completion_tokens >= 0) outcome_.usage_output_tokens = event.completion_tokens;
    if (event.prompt_tokens >= 0) outcome_.input_len = event.prompt_tokens;
    switch (event.kind) {
      case StreamEvent::Kind::kToken:
        outcome_.chunk_times.push_back(now);
        break;
      case StreamEvent::Kind::kError:
      case StreamEvent::Kind::kMalformed:
        if (stream_error_.empty()) stream_error_ = event.error;
        break;
      case StreamEvent::Kind::kDone:
      case StreamEvent::Kind::kOther:
        break;
    }
  }
}

void StreamingCall::Finish(std::string error) {
  if (finished_) return;
  finished_ = true;
  outcome_.end_time = Now();
  if (!error.empty()) {
    outcome_.success = false;
    outcome_.error = std::move(error);
  }
  if (stream_ != nullptr) {  // not returned to the pool: close it
    beast::error_code ignored;
    stream_->socket().close(ignored);
    stream_.reset();
  }
  Done done = std::move(done_);
  done(std::move(outcome_));
}

}  // namespace stride::server::loadgen
