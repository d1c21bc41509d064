#include "server/http/session.h"

#include <sys/socket.h>

#include <chrono>
#include <utility>

#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"

namespace stride::server::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr size_t kMaxDrainBytes = 64 << 20;

openai::ApiError TransportError(int status, std::string message) {
  openai::ApiError error;
  error.http_status = status;
  error.message = std::move(message);
  return error;
}

}  // namespace

Session::Session(tcp::socket socket, ApiService* service, ServeContext* context)
    : stream_(std::move(socket)), service_(service), context_(context) {}

Session::~Session() {
  job_.reset();  // aborts the engine request if it still runs
  if (in_request_) context_->RequestFinished();
}

void Session::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
}

void Session::ReadRequest() {
  if (closed_) return;
  parser_.emplace();
  parser_->header_limit(context_->options().max_header_bytes);
  parser_->body_limit(context_->options().max_body_bytes);
  stream_.expires_after(std::chrono::seconds(context_->options().idle_timeout_seconds));
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Session::OnRead(beast::error_code ec) {
  if (closed_) return;
  if (ec == bhttp::error::body_limit) {
    return WriteReply(ErrorReply(TransportError(
                          413, "the request body is over the limit of " +
                                   std::to_string(context_->options().max_body_bytes) + " bytes")),
                      true);
  }
  if (ec == bhttp::error::header_limit) {
    return WriteReply(ErrorReply(TransportError(431, "the request headers are over the limit")),
                      true);
  }
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::operation_aborted) {
    return Close();
  }
  if (ec) {
    // Malformed HTTP gets a 400; a broken connection just ends.
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return WriteReply(ErrorReply(TransportError(400, "malformed HTTP request: " + ec.message())),
                        true);
    }
    return Close();
  }
  stream_.expires_never();
  const auto& request = parser_->get();
  keep_alive_ = request.keep_alive();
  version_ = request.version();
  HttpRequestView view;
  auto view_of = [](beast::string_view s) { return absl::string_view(s.data(), s.size()); };
  view.method = view_of(request.method_string());
  view.target = view_of(request.target());
  if (auto it = request.find(bhttp::field::authorization); it != request.end()) {
    view.authorization = view_of(it->value());
  }
  view.body = request.body();
  Routed routed = service_->Handle(view);
  if (routed.reply) return WriteReply(std::move(*routed.reply), false);
  StartJob(std::move(routed.job));
}

void Session::WriteReply(HttpReply reply, bool close_after) {
  context_->metrics().RecordHttpStatus(reply.status);
  auto response = std::make_shared<bhttp::response<bhttp::string_body>>();
  response->version(version_);
  response->result(static_cast<unsigned>(reply.status));
  response->set(bhttp::field::server, "stride");
  response->set(bhttp::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) response->set(name, value);
  const bool close =
      close_after || !keep_alive_ || context_->state() == ServeContext::State::kDraining;
  response->keep_alive(!close);
  response->body() = std::move(reply.body);
  response->prepare_payload();
  stream_.expires_after(kWriteTimeout);
  bhttp::async_write(stream_, *response,
                     [self = shared_from_this(), response, close](beast::error_code ec, size_t) {
                       self->OnReplyWritten(ec, close);
                     });
}

void Session::OnReplyWritten(beast::error_code ec, bool close) {
  EndRequest();
  if (ec) return Close();
  if (close) return DrainThenClose();
  ReadRequest();
}

void Session::StartJob(std::unique_ptr<GenerationJob> job) {
  in_request_ = true;
  context_->RequestStarted();
  job_ = std::move(job);
  std::weak_ptr<Session> weak = weak_from_this();
  absl::Status started = job_->Start([weak] {
    if (auto self = weak.lock()) self->NotifyFromEngine();
  });
  if (!started.ok()) {
    job_.reset();
    context_->metrics().RecordOutcome(metrics::Outcome::kRejected);
    return WriteReply(ErrorReply(started), false);
  }
  WatchForDisconnect();
  OnJobProgress();  // output may have arrived before the notifier was set
}

void Session::NotifyFromEngine() {
  if (poll_posted_.exchange(true)) return;
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->poll_posted_.store(false);
    self->OnJobProgress();
  });
}

void Session::OnJobProgress() {
  if (closed_ || !job_) return;
  std::string sse = job_->Poll();
  if (!job_->streaming()) {
    if (!job_->done()) return;
    HttpReply reply = job_->reply();
    ++watch_;  // the watch's completion (cancelled below) is stale from now on
    job_.reset();
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
    return WriteReply(std::move(reply), false);
  }
  pending_ += sse;
  if (pending_.size() > context_->options().max_stream_buffer_bytes) {
    // The client reads slower than we generate: drop it rather than buffer without bound.
    return ClientGone();
  }
  FlushStream();
}

void Session::FlushStream() {
  if (closed_ || write_in_flight_ || !job_) return;
  stream_.expires_after(kWriteTimeout);
  if (!head_written_) {
    stream_head_.emplace(bhttp::status::ok, version_);
    stream_head_->set(bhttp::field::server, "stride");
    stream_head_->set(bhttp::field::content_type, "text/event-stream");
    stream_head_->set(bhttp::field::cache_control, "no-cache");
    stream_head_->keep_alive(keep_alive_);
    stream_head_->chunked(true);
    stream_serializer_.emplace(*stream_head_);
    write_in_flight_ = true;
    context_->metrics().RecordHttpStatus(200);
    bhttp::async_write_header(stream_, *stream_serializer_,
                              [self = shared_from_this()](beast::error_code ec, size_t) {
                                self->head_written_ = true;
                                self->OnStreamWritten(ec);
                              });
    return;
  }
  if (!pending_.empty()) {
    writing_.swap(pending_);
    pending_.clear();
    write_in_flight_ = true;
    net::async_write(
        stream_, bhttp::make_chunk(net::buffer(writing_)),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnStreamWritten(ec); });
    return;
  }
  if (job_->done() && !last_chunk_written_) {
    last_chunk_written_ = true;
    write_in_flight_ = true;
    net::async_write(
        stream_, bhttp::make_chunk_last(),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnStreamWritten(ec); });
    return;
  }
  stream_.expires_never();
}

void Session::OnStreamWritten(beast::error_code ec) {
  write_in_flight_ = false;
  if (closed_) return;
  if (ec) return ClientGone();
  if (!last_chunk_written_) return FlushStream();
  // The whole stream is out.
  ++watch_;
  job_.reset();
  beast::error_code ignored;
  stream_.socket().cancel(ignored);
  stream_head_.reset();
  stream_serializer_.reset();
  head_written_ = false;
  last_chunk_written_ = false;
  writing_.clear();
  EndRequest();
  if (!keep_alive_ || context_->state() == ServeContext::State::kDraining) return Close();
  ReadRequest();
}

void Session::EndRequest() {
  if (!in_request_) return;
  in_request_ = false;
  context_->RequestFinished();
}

void Session::ClientGone() {
  if (job_) job_->Abort();
  job_.reset();
  EndRequest();
  Close();
}

void Session::WatchForDisconnect() {
  const uint64_t watch = ++watch_;
  stream_.socket().async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this(), watch](beast::error_code ec) { self->OnWatch(ec, watch); });
}

void Session::OnWatch(beast::error_code ec, uint64_t watch) {
  if (closed_ || watch != watch_ || !job_ || ec == net::error::operation_aborted) return;
  if (!ec) {
    char byte = 0;
    const ssize_t n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return;  // a pipelined request: read it after this response
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return WatchForDisconnect();
    }
  }
  ClientGone();  // EOF or a socket error
}

void Session::DrainThenClose() {
  // Half-close, then read what the client still sends, so it sees our reply instead of a reset.
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kDrainTimeout);
  Drain();
}

void Session::Drain() {
  stream_.async_read_some(net::buffer(drain_buffer_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > kMaxDrainBytes) return self->Close();
                            self->Drain();
                          });
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  ++watch_;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace stride::server::http
