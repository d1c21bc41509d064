// A scripted OpenAI-style streaming server for the load generator's live tests: blocking
// Beast on loopback port 0, one thread per connection, keep-alive. A script picks each
// request's reply (by arrival order across connections): a stream of N token chunks, the first
// after `first_delay_ms` and then one every `interval_ms`, then a usage chunk and [DONE]; or a
// failure (HTTP 500, connection closed mid-stream, an error event, a stall).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/chunk_encode.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "nlohmann/json.hpp"

namespace stride::server::loadgen::testing {

struct FakeReply {
  enum class Kind { kStream, kHttpError, kCloseEarly, kErrorEvent, kStall };
  Kind kind = Kind::kStream;
  int first_delay_ms = 50;
  int interval_ms = 20;
  int num_chunks = 5;
  int usage_tokens = -1;  // completion_tokens reported; -1: num_chunks
  int stall_ms = 400;     // kStall: silence before the (too late) reply
};

class FakeOpenAiServer {
 public:
  explicit FakeOpenAiServer(std::function<FakeReply(int)> script)
      : script_(std::move(script)), acceptor_(io_) {
    using tcp = boost::asio::ip::tcp;
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeOpenAiServer() {
    stopping_ = true;
    {  // wake the blocking accept
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket poke(io);
      boost::system::error_code ignored;
      poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ignored);
    }
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }
  int max_concurrent() const { return max_concurrent_; }
  std::vector<nlohmann::json> bodies() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> paths() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return paths_;
  }

 private:
  void AcceptLoop() {
    while (true) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      ++connections_;
      std::lock_guard<std::mutex> lock(mutex_);
      threads_.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }

  void Serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    boost::beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      const int index = requests_++;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        bodies_.push_back(nlohmann::json::parse(request.body(), nullptr, false));
        paths_.push_back(std::string(request.target()));
      }
      const int now = ++active_;
      int seen = max_concurrent_.load();
      while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
      }
      const bool chat = request.target().find("/chat/") != boost::string_view::npos;
      const bool keep = Reply(socket, script_(index), chat, request.keep_alive());
      --active_;
      if (!keep) return;
    }
  }

  static void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

  // Returns whether the connection stays open for another request.
  bool Reply(boost::asio::ip::tcp::socket& socket, const FakeReply& reply, bool chat,
             bool keep_alive) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    if (reply.kind == FakeReply::Kind::kHttpError) {
      http::response<http::string_body> response(http::status::internal_server_error, 11);
      response.set(http::field::content_type, "application/json");
      response.body() = R"({"error":{"message":"scripted failure","type":"server_error"}})";
      response.keep_alive(keep_alive);
      response.prepare_payload();
      http::write(socket, response, ec);
      return keep_alive && !ec;
    }
    if (reply.kind == FakeReply::Kind::kStall) Sleep(reply.stall_ms);
    http::response<http::empty_body> head(http::status::ok, 11);
    head.set(http::field::content_type, "text/event-stream");
    head.chunked(true);
    head.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> serializer(head);
    http::write_header(socket, serializer, ec);
    if (ec) return false;
    const auto send = [&](const std::string& data) {
      const std::string event = absl::StrCat("data: ", data, "\n\n");
      boost::asio::write(socket, http::make_chunk(boost::asio::buffer(event)), ec);
    };
    if (chat) {  // the role preamble comes at once and is not a token
      send(
          R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})");
    }
    Sleep(reply.first_delay_ms);
    for (int i = 0; i < reply.num_chunks && !ec; ++i) {
      if (i > 0) Sleep(reply.interval_ms);
      send(
          chat
              ? R"({"choices":[{"index":0,"delta":{"content":"tok"},"finish_reason":null}],"usage":null})"
              : R"({"choices":[{"index":0,"text":"tok","finish_reason":null}],"usage":null})");
      if (reply.kind == FakeReply::Kind::kCloseEarly && i == 1) {
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        socket.close(ec);
        return false;
      }
      if (reply.kind == FakeReply::Kind::kErrorEvent && i == 0) {
        send(R"({"error":{"message":"scripted stream error","type":"server_error"}})");
        break;
      }
    }
    send(chat ? R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})"
              : R"({"choices":[{"index":0,"text":"","finish_reason":"length"}]})");
    const int usage = reply.usage_tokens >= 0 ? reply.usage_tokens : reply.num_chunks;
    send(absl::StrCat(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":)", usage,
                      R"(,"total_tokens":)", usage + 3, "}}"));
    send("[DONE]");
    boost::asio::write(socket, http::make_chunk_last(), ec);
    return keep_alive && !ec;
  }

  std::function<FakeReply(int)> script_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<nlohmann::json> bodies_;
  std::vector<std::string> paths_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> active_{0};
  std::atomic<int> max_concurrent_{0};
};

}  // namespace stride::server::loadgen::testing
