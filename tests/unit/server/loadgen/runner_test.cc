// Live tests of the load generator against the scripted fake server (fake_openai_server.h).
// Timings are checked loosely: the server's sleeps make every gap at least its scripted length
// (lower bounds are tight, 1 ms below for clock granularity), while a loaded 2-core CI machine
// may delay a thread by tens of milliseconds, so upper bounds allow 60 ms of scheduling slack.
// The metric definitions themselves are tested exactly on recorded timestamps
// (metrics_test.cc); here identities between them (TPOT = mean ITL when each chunk is one
// token; E2E = TTFT + sum of ITLs) are checked exactly.
#include "server/loadgen/runner.h"

#include <limits>
#include <numeric>
#include <vector>

#include "fake_openai_server.h"
#include "gtest/gtest.h"
#include "server/loadgen/arrivals.h"
#include "server/loadgen/metrics.h"

namespace stride::server::loadgen {
namespace {

using testing::FakeOpenAiServer;
using testing::FakeReply;

constexpr double kSlackS = 0.060;
constexpr double kClockS = 0.001;

std::vector<BenchRequest> Requests(int n, int input_len = 4, int output_len = 5) {
  std::vector<BenchRequest> requests(n);
  for (int i = 0; i < n; ++i) {
    requests[i].prompt_ids.assign(input_len, 100 + i);
    requests[i].input_len = input_len;
    requests[i].output_len = output_len;
  }
  return requests;
}

RunOptions Options(const std::string& url) {
  RunOptions options;
  auto target = ParseHttpUrl(url);
  EXPECT_TRUE(target.ok());
  options.target = *target;
  options.model = "fake-model";
  options.api_key = "secret";
  return options;
}

TEST(RunnerLiveTest, TimingsMatchTheScriptedStream) {
  FakeOpenAiServer server([](int) { return FakeReply{}; });  // 50 ms, then 4 x 20 ms
  RunOptions options = Options(server.url());
  options.max_concurrency = 1;
  int progress_calls = 0;
  RunProgress last;
  options.on_progress = [&](const RunProgress& p) {
    ++progress_calls;
    EXPECT_EQ(p.total, 3);
    EXPECT_LE(p.sent - p.finished, 1);  // the concurrency cap
    last = p;
  };
  auto run = RunBenchmark(options, Requests(3));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(progress_calls, 6);  // each request sent, each finished
  EXPECT_EQ(last.finished, 3);
  EXPECT_EQ(last.failed, 0);
  ASSERT_EQ(run->outcomes.size(), 3u);
  for (const RequestOutcome& o : run->outcomes) {
    ASSERT_TRUE(o.success) << o.error;
    ASSERT_EQ(o.chunk_times.size(), 5u);
    EXPECT_EQ(o.usage_output_tokens, 5);
    EXPECT_EQ(o.input_len, 3);  // the server's usage.prompt_tokens replaces the data set's 4
    const RequestTimings t = DeriveTimings(o);
    // The first chunk is written >= 50 ms after the request arrived, the last >= 130 ms.
    EXPECT_GE(t.ttft, 0.050 - kClockS);
    EXPECT_LE(t.ttft, 0.050 + kSlackS);
    EXPECT_GE(t.latency, 0.130 - kClockS);
    EXPECT_LE(t.latency, 0.130 + kSlackS);
    // A late first read shortens the span of the ITLs, so they get both-sided slack: the mean
    // ITL is (E2E - TTFT) / 4, within 20 ms +- slack / 4.
    const double itl_sum = std::accumulate(t.itls.begin(), t.itls.end(), 0.0);
    EXPECT_NEAR(itl_sum / 4, 0.020, kSlackS / 4);
    EXPECT_NEAR(t.tpot, itl_sum / 4, 1e-9);
    EXPECT_NEAR(t.latency, t.ttft + itl_sum, 1e-9);
  }
  // One connection, kept alive across the three sequential requests.
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(run->connections_opened, 1);
  const BenchmarkMetrics m = ComputeMetrics(run->outcomes, run->duration_s, SloConfig{});
  EXPECT_EQ(m.completed, 3);
  EXPECT_EQ(m.total_output_tokens, 15);
  EXPECT_GE(run->duration_s, 3 * 0.130 - kClockS);
  // What was sent: token ids, forced length, streamed usage, the key.
  const std::vector<nlohmann::json> bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0]["prompt"], nlohmann::json({100, 100, 100, 100}));
  EXPECT_EQ(bodies[0]["max_tokens"], 5);
  EXPECT_EQ(bodies[0]["ignore_eos"], true);
  EXPECT_EQ(bodies[0]["stream_options"]["include_usage"], true);
  EXPECT_EQ(bodies[0]["model"], "fake-model");
  EXPECT_EQ(server.paths()[0], "/v1/completions");
}

TEST(RunnerLiveTest, GoodputAgainstSlo) {
  // Request 0 answers after 10 ms, request 1 after 150 ms: only the first meets TTFT <= 100 ms.
  FakeOpenAiServer server([](int i) {
    FakeReply r;
    r.first_delay_ms = i == 0 ? 10 : 150;
    r.interval_ms = 5;
    r.num_chunks = 2;
    return r;
  });
  RunOptions options = Options(server.url());
  options.max_concurrency = 1;
  auto run = RunBenchmark(options, Requests(2));
  ASSERT_TRUE(run.ok());
  SloConfig slo;
  slo.ttft_ms = 100;
  const BenchmarkMetrics m = ComputeMetrics(run->outcomes, run->duration_s, slo);
  EXPECT_EQ(m.completed, 2);
  EXPECT_EQ(m.good_requests, 1);
  EXPECT_EQ(m.meets_slo, (std::vector<bool>{true, false}));
  EXPECT_NEAR(m.request_goodput, 1 / run->duration_s, 1e-12);
  EXPECT_DOUBLE_EQ(m.slo_attainment, 0.5);
}

TEST(RunnerLiveTest, FailuresAreCountedNotFatal) {
  FakeOpenAiServer server([](int i) {
    FakeReply r;
    r.first_delay_ms = 2;
    r.interval_ms = 2;
    r.num_chunks = 3;
    if (i == 1) r.kind = FakeReply::Kind::kHttpError;
    if (i == 2) r.kind = FakeReply::Kind::kCloseEarly;
    if (i == 3) r.kind = FakeReply::Kind::kErrorEvent;
    return r;
  });
  RunOptions options = Options(server.url());
  options.max_concurrency = 1;  // requests reach the server in data-set order
  auto run = RunBenchmark(options, Requests(5));
  ASSERT_TRUE(run.ok()) << run.status();
  const std::vector<RequestOutcome>& o = run->outcomes;
  EXPECT_TRUE(o[0].success) << o[0].error;
  EXPECT_FALSE(o[1].success);
  EXPECT_NE(o[1].error.find("HTTP 500"), std::string::npos) << o[1].error;
  EXPECT_NE(o[1].error.find("scripted failure"), std::string::npos) << o[1].error;
  EXPECT_FALSE(o[2].success);
  EXPECT_NE(o[2].error.find("stream"), std::string::npos) << o[2].error;
  EXPECT_FALSE(o[3].success);
  EXPECT_EQ(o[3].error, "scripted stream error");
  EXPECT_TRUE(o[4].success) << o[4].error;
  const BenchmarkMetrics m = ComputeMetrics(o, run->duration_s, SloConfig{});
  EXPECT_EQ(m.completed, 2);
  EXPECT_EQ(m.failed, 3);
  // The 500 kept the connection; the early close cost one.
  EXPECT_EQ(server.connections(), 2);
}

TEST(RunnerLiveTest, TimeoutAndRefusedConnection) {
  {
    FakeOpenAiServer server([](int) {
      FakeReply r;
      r.kind = FakeReply::Kind::kStall;
      r.stall_ms = 300;
      return r;
    });
    RunOptions options = Options(server.url());
    options.request_timeout_s = 0.1;
    auto run = RunBenchmark(options, Requests(1));
    ASSERT_TRUE(run.ok());
    EXPECT_FALSE(run->outcomes[0].success);
    EXPECT_NE(run->outcomes[0].error.find("timed out"), std::string::npos)
        << run->outcomes[0].error;
    EXPECT_LT(run->duration_s, 0.25);
  }
  std::string url;
  {  // a port nobody listens on any more
    FakeOpenAiServer closed([](int) { return FakeReply{}; });
    url = closed.url();
  }
  auto run = RunBenchmark(Options(url), Requests(3));
  ASSERT_TRUE(run.ok());
  for (const RequestOutcome& o : run->outcomes) {
    EXPECT_FALSE(o.success);
    EXPECT_NE(o.error.find("connect"), std::string::npos) << o.error;
  }
}

TEST(RunnerLiveTest, ConcurrencyCapAndAllAtOnce) {
  const auto script = [](int) {
    FakeReply r;
    r.first_delay_ms = 100;
    r.num_chunks = 1;
    return r;
  };
  {
    FakeOpenAiServer server(script);
    auto run = RunBenchmark(Options(server.url()), Requests(6));  // rate inf, no cap
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(server.max_concurrent(), 6);
    EXPECT_EQ(server.connections(), 6);
    EXPECT_LT(run->duration_s, 0.1 + 0.3);  // concurrent: far below 6 x 100 ms
  }
  {
    FakeOpenAiServer server(script);
    RunOptions options = Options(server.url());
    options.max_concurrency = 2;
    auto run = RunBenchmark(options, Requests(6));
    ASSERT_TRUE(run.ok());
    EXPECT_LE(server.max_concurrent(), 2);
    EXPECT_LE(server.connections(), 2);
    EXPECT_GE(run->duration_s, 3 * 0.100 - kClockS);  // three waves of two
    for (const RequestOutcome& o : run->outcomes) EXPECT_TRUE(o.success) << o.error;
  }
}

TEST(RunnerLiveTest, SendTimesFollowTheArrivalProcess) {
  FakeOpenAiServer server([](int) {
    FakeReply r;
    r.first_delay_ms = 1;
    r.num_chunks = 1;
    return r;
  });
  RunOptions options = Options(server.url());
  options.request_rate = 20;
  options.seed = 5;
  auto run = RunBenchmark(options, Requests(6));
  ASSERT_TRUE(run.ok());
  auto offsets = ArrivalOffsets(6, 20, 1.0, 5);
  ASSERT_TRUE(offsets.ok());
  for (int i = 0; i < 6; ++i) {
    EXPECT_GE(run->outcomes[i].send_time, (*offsets)[i] - kClockS) << i;
    EXPECT_LE(run->outcomes[i].send_time, (*offsets)[i] + kSlackS) << i;
  }
}

TEST(RunnerLiveTest, ChatRolePreambleIsNotTheFirstToken) {
  FakeOpenAiServer server([](int) { return FakeReply{}; });
  RunOptions options = Options(server.url());
  options.api = ApiKind::kChat;
  auto run = RunBenchmark(options, Requests(1));
  ASSERT_TRUE(run.ok());
  const RequestOutcome& o = run->outcomes[0];
  ASSERT_TRUE(o.success) << o.error;
  EXPECT_EQ(o.chunk_times.size(), 5u);
  EXPECT_GE(DeriveTimings(o).ttft, 0.050 - kClockS);  // the preamble came at once
  EXPECT_EQ(server.paths()[0], "/v1/chat/completions");
  EXPECT_EQ(server.bodies()[0]["messages"][0]["role"], "user");
}

TEST(RunnerTest, RejectsBadOptions) {
  RunOptions options = Options("http://127.0.0.1:9");
  options.request_rate = 0;
  EXPECT_FALSE(RunBenchmark(options, Requests(1)).ok());
  options = Options("http://127.0.0.1:9");
  options.max_concurrency = -1;
  EXPECT_FALSE(RunBenchmark(options, Requests(1)).ok());
  options = Options("http://no-such-host.invalid:80");
  EXPECT_FALSE(RunBenchmark(options, Requests(1)).ok());
}

}  // namespace
}  // namespace stride::server::loadgen
