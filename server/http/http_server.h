// The listening side of `stride serve`: an Asio io_context run by a few threads, an acceptor,
// and one Session per connection (each on its own strand). Listen, Start, then Stop (which
// drops every connection; sessions abort their engine requests as they go).
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "server/http/api_service.h"
#include "server/http/serve_context.h"

namespace stride::server::http {

class HttpServer {
 public:
  HttpServer(ServeContext* context, int num_threads);
  ~HttpServer();

  // Binds and listens; port 0 picks a free port (see port()).
  absl::Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  // Starts accepting on the io threads.
  void Start();
  // Stops the io_context, joins the threads and drops every connection.
  void Stop();
  boost::asio::io_context& io_context() { return io_context_; }

 private:
  void Accept();

  ServeContext* context_;
  ApiService service_;
  const int num_threads_;
  boost::asio::io_context io_context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace stride::server::http
