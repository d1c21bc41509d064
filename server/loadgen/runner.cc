#include "server/loadgen/runner.h"

#include <deque>
#include <memory>

#include "absl/strings/str_cat.h"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "nlohmann/json.hpp"
#include "server/loadgen/arrivals.h"
#include "server/loadgen/streaming_call.h"

namespace stride::server::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

absl::StatusOr<tcp::resolver::results_type> Resolve(asio::io_context& io,
                                                    const HttpTarget& target) {
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(target.host, target.port, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", target.host, ":", target.port, ": ", ec.message()));
  }
  return endpoints;
}

// The state of one run, on the io_context's single thread.
class Run {
 public:
  Run(const RunOptions& options, const std::vector<BenchRequest>& requests,
      std::vector<double> offsets, asio::io_context& io, tcp::resolver::results_type endpoints)
      : options_(options),
        requests_(requests),
        offsets_(std::move(offsets)),
        pool_(io, std::move(endpoints)),
        timer_(io) {
    settings_.api = options.api;
    settings_.host_header = absl::StrCat(options.target.host, ":", options.target.port);
    settings_.path = ApiPath(options.target, options.api);
    settings_.api_key = options.api_key;
    settings_.timeout_s = options.request_timeout_s;
    outcomes_.resize(requests.size());
    progress_.total = static_cast<int>(requests.size());
  }

  void Start() {
    settings_.origin = Clock::now();
    ScheduleArrivals();
  }

  double duration_s() const { return duration_s_; }
  int connections_opened() const { return pool_.connections_opened(); }
  std::vector<RequestOutcome> TakeOutcomes() { return std::move(outcomes_); }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(Clock::now() - settings_.origin).count();
  }

  // Queues every request whose arrival time has come, then sleeps until the next one.
  void ScheduleArrivals() {
    const double now = Elapsed();
    while (next_arrival_ < offsets_.size() && offsets_[next_arrival_] <= now) {
      waiting_.push_back(next_arrival_++);
    }
    LaunchWaiting();
    if (next_arrival_ < offsets_.size()) {
      timer_.expires_at(settings_.origin +
                        std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(offsets_[next_arrival_])));
      timer_.async_wait([this](beast::error_code ec) {
        if (!ec) ScheduleArrivals();
      });
    }
  }

  void LaunchWaiting() {
    while (!waiting_.empty() &&
           (options_.max_concurrency <= 0 || in_flight_ < options_.max_concurrency)) {
      const size_t index = waiting_.front();
      waiting_.pop_front();
      ++in_flight_;
      ++progress_.sent;
      const BenchRequest& request = requests_[index];
      auto call = std::make_shared<StreamingCall>(
          &pool_, &settings_, RequestBody(request, options_.api, options_.model), request.input_len,
          [this, index](RequestOutcome outcome) { OnDone(index, std::move(outcome)); });
      call->Start();
      progress_.elapsed_s = Elapsed();
      if (options_.on_progress) options_.on_progress(progress_);
    }
  }

  void OnDone(size_t index, RequestOutcome outcome) {
    --in_flight_;
    ++progress_.finished;
    progress_.failed += !outcome.success;
    outcomes_[index] = std::move(outcome);
    progress_.elapsed_s = Elapsed();
    if (options_.on_progress) options_.on_progress(progress_);
    if (progress_.finished == progress_.total) {
      duration_s_ = progress_.elapsed_s;
      pool_.CloseIdle();
      return;
    }
    LaunchWaiting();
  }

  const RunOptions& options_;
  const std::vector<BenchRequest>& requests_;
  std::vector<double> offsets_;
  CallSettings settings_;
  ConnectionPool pool_;
  asio::steady_timer timer_;
  size_t next_arrival_ = 0;
  std::deque<size_t> waiting_;
  int in_flight_ = 0;
  RunProgress progress_;
  std::vector<RequestOutcome> outcomes_;
  double duration_s_ = 0;
};

}  // namespace

absl::StatusOr<RunResult> RunBenchmark(const RunOptions& options,
                                       const std::vector<BenchRequest>& requests) {
  if (options.max_concurrency < 0) {
    return absl::InvalidArgumentError("--max-concurrency must be >= 0");
  }
  if (!(options.request_timeout_s > 0)) {
    return absl::InvalidArgumentError("--request-timeout must be > 0");
  }
  absl::StatusOr<std::vector<double>> offsets = ArrivalOffsets(
      static_cast<int>(requests.size()), options.request_rate, options.burstiness, options.seed);
  if (!offsets.ok()) return offsets.status();
  asio::io_context io(1);
  absl::StatusOr<tcp::resolver::results_type> endpoints = Resolve(io, options.target);
  if (!endpoints.ok()) return endpoints.status();
  RunResult result;
  if (requests.empty()) return result;
  Run run(options, requests, *std::move(offsets), io, *std::move(endpoints));
  run.Start();
  io.run();
  result.outcomes = run.TakeOutcomes();
  result.duration_s = run.duration_s();
  result.connections_opened = run.connections_opened();
  return result;
}

absl::StatusOr<std::string> FetchFirstModel(const HttpTarget& target, const std::string& api_key,
                                            double timeout_s) {
  asio::io_context io(1);
  absl::StatusOr<tcp::resolver::results_type> endpoints = Resolve(io, target);
  if (!endpoints.ok()) return endpoints.status();
  beast::tcp_stream stream(io);
  stream.expires_after(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s)));
  beast::error_code ec;
  std::string path = ApiPath(target, ApiKind::kCompletions);
  path.resize(path.size() - std::string("/completions").size());
  path += "/models";
  http::request<http::empty_body> request(http::verb::get, path, 11);
  request.set(http::field::host, absl::StrCat(target.host, ":", target.port));
  if (!api_key.empty()) request.set(http::field::authorization, absl::StrCat("Bearer ", api_key));
  http::response<http::string_body> response;
  beast::flat_buffer buffer;
  // Asynchronous operations run to completion on this thread (tcp_stream's timeout needs them).
  stream.async_connect(*endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    if ((ec = e)) return;
    http::async_write(stream, request, [&](beast::error_code e, size_t) {
      if ((ec = e)) return;
      http::async_read(stream, buffer, response, [&](beast::error_code e, size_t) { ec = e; });
    });
  });
  io.run();
  if (ec) return absl::UnavailableError(absl::StrCat("GET ", path, ": ", ec.message()));
  if (response.result_int() != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET ", path, ": HTTP ", response.result_int(), " ", response.body()));
  }
  nlohmann::json models = nlohmann::json::parse(response.body(), nullptr, false);
  if (models.is_object() && models.contains("data") && models["data"].is_array() &&
      !models["data"].empty() && models["data"][0].is_object() &&
      models["data"][0].contains("id") && models["data"][0]["id"].is_string()) {
    return models["data"][0]["id"].get<std::string>();
  }
  return absl::UnavailableError(absl::StrCat("GET ", path, ": no model listed"));
}

}  // namespace stride::server::loadgen
