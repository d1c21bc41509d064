#include "server/http/http_server.h"

#include "absl/strings/str_cat.h"
#include "base/logging.h"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "server/http/session.h"

namespace stride::server::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

HttpServer::HttpServer(ServeContext* context, int num_threads)
    : context_(context),
      service_(context),
      num_threads_(num_threads < 1 ? 1 : num_threads),
      io_context_(num_threads_),
      acceptor_(net::make_strand(io_context_)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Listen(const std::string& host, int port) {
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--host '", host, "' is not an address"));
  if (port < 0 || port > 65535) return absl::InvalidArgumentError("--port must be in [0, 65535]");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void HttpServer::Start() {
  Accept();
  for (int i = 0; i < num_threads_; ++i) {
    threads_.emplace_back([this] { io_context_.run(); });
  }
}

void HttpServer::Accept() {
  acceptor_.async_accept(
      net::make_strand(io_context_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
          // E.g. out of file descriptors: back off instead of spinning.
          auto timer = std::make_shared<net::steady_timer>(acceptor_.get_executor(),
                                                           std::chrono::milliseconds(50));
          timer->async_wait([this, timer](boost::system::error_code) {
            if (acceptor_.is_open()) Accept();
          });
          return;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), &service_, context_)->Start();
        Accept();
      });
}

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  io_context_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace stride::server::http
