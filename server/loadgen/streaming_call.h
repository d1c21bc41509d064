// One streamed HTTP/1.1 request of a benchmark, asynchronous on an Asio io_context (no thread
// per request), and the pool of keep-alive connections the calls share. A call takes an idle
// connection or opens one, POSTs the body, timestamps every body read as it arrives, splits it
// into SSE events, and records the token chunks' times in a RequestOutcome. A reused
// connection the server had already closed is retried once on a fresh one. Anything that goes
// wrong (connect, HTTP status != 200, error event, early close, timeout) ends the call as a
// failure with a message; nothing throws.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/buffer_body.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "server/loadgen/request_outcome.h"
#include "server/loadgen/sse_stream.h"

namespace stride::server::loadgen {

using Clock = std::chrono::steady_clock;

// Idle keep-alive connections to one server. Single-threaded: used only from the io_context's
// one thread.
class ConnectionPool {
 public:
  ConnectionPool(boost::asio::io_context& io,
                 boost::asio::ip::tcp::resolver::results_type endpoints);

  boost::asio::io_context& io() { return io_; }
  const boost::asio::ip::tcp::resolver::results_type& endpoints() const { return endpoints_; }
  // An idle connection, or nullptr.
  std::unique_ptr<boost::beast::tcp_stream> TakeIdle();
  void ReturnIdle(std::unique_ptr<boost::beast::tcp_stream> stream);
  std::unique_ptr<boost::beast::tcp_stream> NewStream();
  int connections_opened() const { return connections_opened_; }
  void CountOpened() { ++connections_opened_; }
  void CloseIdle();

 private:
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
  std::vector<std::unique_ptr<boost::beast::tcp_stream>> idle_;
  int connections_opened_ = 0;
};

// What every call of a run shares.
struct CallSettings {
  ApiKind api = ApiKind::kCompletions;
  std::string host_header;   // "host:port"
  std::string path;          // e.g. "/v1/completions"
  std::string api_key;       // sent as `Authorization: Bearer KEY` when not empty
  Clock::time_point origin;  // time 0 of the outcome's timestamps
  double timeout_s = 6 * 3600;
};

class StreamingCall : public std::enable_shared_from_this<StreamingCall> {
 public:
  using Done = std::function<void(RequestOutcome)>;

  // `input_len` is the data set's prompt length (replaced by usage.prompt_tokens when the
  // server reports it). `pool` and `settings` must outlive the call.
  StreamingCall(ConnectionPool* pool, const CallSettings* settings, std::string body,
                int64_t input_len, Done done);

  // Records the send time and starts; `done` runs on the io_context exactly once.
  void Start();

 private:
  void Connect();
  void Write();
  void ReadHeader();
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void HandleBodyBytes(std::string_view bytes, double now);
  // Retries once on a fresh connection when a reused one failed before any response byte.
  bool MaybeRetry();
  void Finish(std::string error);
  double Now() const;

  ConnectionPool* pool_;
  const CallSettings* settings_;
  Done done_;
  Clock::time_point deadline_;
  std::unique_ptr<boost::beast::tcp_stream> stream_;
  bool reused_ = false;
  bool retried_ = false;
  bool finished_ = false;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> request_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  unsigned status_ = 0;
  std::string error_body_;  // start of the body of a non-200 response
  SseParser sse_;
  std::vector<std::string> events_;
  std::string stream_error_;  // first error or malformed event
  RequestOutcome outcome_;
  char body_buffer_[16 * 1024];
};

}  // namespace stride::server::loadgen
