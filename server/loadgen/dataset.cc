#include "server/loadgen/dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stride::server::loadgen {
namespace {

using Json = nlohmann::json;

std::vector<int32_t> RandomTokens(int64_t length, int vocab_size, std::mt19937_64& generator) {
  std::uniform_int_distribution<int32_t> token(0, vocab_size - 1);
  std::vector<int32_t> ids(length);
  for (int32_t& id : ids) id = token(generator);
  return ids;
}

absl::Status CheckCommon(int num_prompts, int vocab_size) {
  if (num_prompts < 1) return absl::InvalidArgumentError("--num-prompts must be >= 1");
  if (vocab_size < 1) return absl::InvalidArgumentError("--vocab-size must be >= 1");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<BenchRequest>> RandomDataset(const RandomDatasetOptions& options) {
  if (absl::Status s = CheckCommon(options.num_prompts, options.vocab_size); !s.ok()) return s;
  if (options.input_len < 1 || options.output_len < 1) {
    return absl::InvalidArgumentError("--input-len and --output-len must be >= 1");
  }
  if (!(options.range_ratio >= 0 && options.range_ratio < 1)) {
    return absl::InvalidArgumentError("--range-ratio must be in [0, 1)");
  }
  const double r = options.range_ratio;
  const auto low = [r](int len) {
    return std::max<int64_t>(1, static_cast<int64_t>(std::floor(len * (1 - r))));
  };
  const auto high = [r](int len) { return static_cast<int64_t>(std::ceil(len * (1 + r))); };
  std::mt19937_64 generator(options.seed);
  std::uniform_int_distribution<int64_t> input_len(low(options.input_len), high(options.input_len));
  std::uniform_int_distribution<int64_t> output_len(low(options.output_len),
                                                    high(options.output_len));
  std::vector<BenchRequest> requests(options.num_prompts);
  for (BenchRequest& request : requests) request.input_len = input_len(generator);
  for (BenchRequest& request : requests) request.output_len = output_len(generator);
  for (BenchRequest& request : requests) {
    request.prompt_ids = RandomTokens(request.input_len, options.vocab_size, generator);
  }
  return requests;
}

absl::StatusOr<std::vector<BenchRequest>> ShareGptLikeDataset(int num_prompts, int vocab_size,
                                                              uint64_t seed) {
  if (absl::Status s = CheckCommon(num_prompts, vocab_size); !s.ok()) return s;
  // Log-normal fits: medians 150 / 130 tokens, sigma 1.15 / 1.0 before vLLM's ShareGPT filter.
  std::mt19937_64 generator(seed);
  std::lognormal_distribution<double> input_len(std::log(150.0), 1.15);
  std::lognormal_distribution<double> output_len(std::log(130.0), 1.0);
  std::vector<BenchRequest> requests;
  requests.reserve(num_prompts);
  while (static_cast<int>(requests.size()) < num_prompts) {
    const int64_t in = std::llround(input_len(generator));
    const int64_t out = std::llround(output_len(generator));
    if (in < 4 || out < 4 || in > 1024 || in + out > 2048) continue;
    BenchRequest request;
    request.input_len = in;
    request.output_len = static_cast<int>(out);
    requests.push_back(std::move(request));
  }
  for (BenchRequest& request : requests) {
    request.prompt_ids = RandomTokens(request.input_len, vocab_size, generator);
  }
  return requests;
}

absl::StatusOr<std::vector<BenchRequest>> ParseJsonlDataset(const std::string& text,
                                                            const std::string& source,
                                                            int num_prompts,
                                                            int default_output_len) {
  if (num_prompts < 1) return absl::InvalidArgumentError("--num-prompts must be >= 1");
  std::vector<BenchRequest> lines;
  std::istringstream in(text);
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto fail = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": ", what));
    };
    Json object = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!object.is_object()) return fail("not a JSON object");
    BenchRequest request;
    request.output_len = default_output_len;
    if (auto it = object.find("output_len"); it != object.end()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > (1 << 30)) {
        return fail("\"output_len\" must be a positive integer");
      }
      request.output_len = it->get<int>();
    }
    const auto ids = object.find("prompt_ids");
    const auto prompt = object.find("prompt");
    if (ids != object.end()) {
      if (!ids->is_array() || ids->empty()) return fail("\"prompt_ids\" must be a non-empty array");
      for (const Json& id : *ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
          return fail("\"prompt_ids\" must hold non-negative integer token ids");
        }
        request.prompt_ids.push_back(id.get<int32_t>());
      }
      request.input_len = static_cast<int64_t>(request.prompt_ids.size());
    } else if (prompt != object.end()) {
      if (!prompt->is_string() || prompt->get_ref<const std::string&>().empty()) {
        return fail("\"prompt\" must be a non-empty string");
      }
      request.prompt_text = prompt->get<std::string>();
    } else {
      return fail("needs \"prompt\" (text) or \"prompt_ids\" (token ids)");
    }
    if (request.output_len < 1) return fail("no \"output_len\" and no default --output-len");
    lines.push_back(std::move(request));
  }
  if (lines.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no requests"));
  std::vector<BenchRequest> requests;
  requests.reserve(num_prompts);
  for (int i = 0; i < num_prompts; ++i) requests.push_back(lines[i % lines.size()]);
  return requests;
}

absl::StatusOr<std::vector<BenchRequest>> LoadJsonlDataset(const std::string& path, int num_prompts,
                                                           int default_output_len) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read the data set ", path));
  std::ostringstream text;
  text << file.rdbuf();
  return ParseJsonlDataset(text.str(), path, num_prompts, default_output_len);
}

}  // namespace stride::server::loadgen
