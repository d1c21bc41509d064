// One HTTP/1.1 connection of `stride serve` (Boost.Beast): reads requests with header and body
// limits (431 / 413), hands them to ApiService, writes replies, and drives generation jobs:
// engine notifications are posted to this connection's strand, streamed output goes out as SSE
// in chunked transfer encoding with a bounded buffer (a client too slow to take it is aborted),
// and a client that disconnects mid-request gets its engine request aborted.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "server/http/api_service.h"
#include "server/http/generation_job.h"
#include "server/http/serve_context.h"

namespace stride::server::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `socket`'s executor should be a strand: every handler of this session runs on it.
  Session(boost::asio::ip::tcp::socket socket, ApiService* service, ServeContext* context);
  ~Session();

  void Start();

 private:
  void ReadRequest();
  void OnRead(boost::beast::error_code ec);
  void WriteReply(HttpReply reply, bool close_after);
  void OnReplyWritten(boost::beast::error_code ec, bool close);

  void StartJob(std::unique_ptr<GenerationJob> job);
  void NotifyFromEngine();  // engine thread: post a poll
  void OnJobProgress();
  void FlushStream();
  void OnStreamWritten(boost::beast::error_code ec);
  void EndRequest();  // the job's response is complete (or abandoned)
  void ClientGone();

  void WatchForDisconnect();
  void OnWatch(boost::beast::error_code ec, uint64_t watch);

  void DrainThenClose();
  void Drain();
  void Close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  ApiService* service_;
  ServeContext* context_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool closed_ = false;
  bool in_request_ = false;  // counted in ServeContext::requests_in_flight

  std::unique_ptr<GenerationJob> job_;
  std::atomic<bool> poll_posted_{false};
  uint64_t watch_ = 0;  // id of the current disconnect watch

  // Streaming state.
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> stream_head_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>>
      stream_serializer_;
  bool head_written_ = false;
  bool write_in_flight_ = false;
  bool last_chunk_written_ = false;
  std::string pending_;  // SSE bytes waiting to be written
  std::string writing_;  // the chunk being written

  std::array<char, 16384> drain_buffer_;
  size_t drained_ = 0;
};

}  // namespace stride::server::http
