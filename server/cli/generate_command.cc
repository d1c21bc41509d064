// `stride generate`: runs one prompt or a JSONL file of requests through the engine at once and
// prints one JSON object per request, in input order.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "server/cli/commands.h"
#include "server/cli/common_flags.h"
#include "server/cli/engine_flags.h"
#include "server/cli/generate_request_json.h"

ABSL_FLAG(std::string, prompt, "", "prompt text (needs a tokenizer)");
ABSL_FLAG(std::string, prompt_ids, "", "prompt token ids, comma-separated");
ABSL_FLAG(std::string, requests, "", "JSONL file: one request object per line");
ABSL_FLAG(std::string, output, "", "write the JSON lines here instead of stdout");
ABSL_FLAG(int, max_tokens, 16, "tokens to generate at most");
ABSL_FLAG(double, temperature, 1.0, "0 means greedy");
ABSL_FLAG(double, top_p, 1.0, "nucleus sampling mass");
ABSL_FLAG(int, top_k, 0, "sample from the k most likely tokens; 0: off");
ABSL_FLAG(std::string, seed, "", "sampling seed (an unsigned integer); empty: random");
ABSL_FLAG(int, logprobs, -1, "return the top-k log-probs of generated tokens; -1: off");
ABSL_FLAG(int, prompt_logprobs, -1, "return the top-k log-probs of prompt tokens; -1: off");
ABSL_FLAG(bool, ignore_eos, false, "keep generating after the end-of-sequence token");

namespace stride::server::cli {
namespace {

using nlohmann::json;

int Fail(const absl::Status& status) {
  std::cerr << "stride generate: " << status.message() << "\n";
  return 1;
}

absl::StatusOr<std::unique_ptr<engine::text::Tokenizer>> LoadTokenizer(const std::string& model) {
  std::string dir = absl::GetFlag(FLAGS_tokenizer);
  if (dir.empty()) {
    // Default: the checkpoint directory, when it has a tokenizer.
    std::ifstream probe(model + "/tokenizer.json");
    if (!probe) return std::unique_ptr<engine::text::Tokenizer>();
    dir = model;
  }
  return engine::text::Tokenizer::FromDirectory(dir);
}

absl::StatusOr<engine::GenerateRequest> DefaultsFromFlags() {
  engine::GenerateRequest r;
  if (const std::string seed = absl::GetFlag(FLAGS_seed); !seed.empty()) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(seed, &value)) {
      return absl::InvalidArgumentError("--seed must be an unsigned integer, not '" + seed + "'");
    }
    r.sampling.seed = value;
  }
  r.sampling.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  r.sampling.temperature = static_cast<float>(absl::GetFlag(FLAGS_temperature));
  r.sampling.top_p = static_cast<float>(absl::GetFlag(FLAGS_top_p));
  r.sampling.top_k = absl::GetFlag(FLAGS_top_k);
  r.sampling.logprobs = absl::GetFlag(FLAGS_logprobs);
  r.sampling.prompt_logprobs = absl::GetFlag(FLAGS_prompt_logprobs);
  r.sampling.ignore_eos = absl::GetFlag(FLAGS_ignore_eos);
  return r;
}

// The request lines, as JSON: from --requests, or one built from --prompt / --prompt-ids.
absl::StatusOr<std::vector<json>> ReadRequestLines() {
  std::vector<json> lines;
  const std::string file = absl::GetFlag(FLAGS_requests);
  const std::string prompt = absl::GetFlag(FLAGS_prompt);
  const std::string prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  if ((!file.empty()) + (!prompt.empty()) + (!prompt_ids.empty()) != 1) {
    return absl::InvalidArgumentError("give exactly one of --prompt, --prompt-ids, --requests");
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return absl::NotFoundError("cannot open " + file);
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (line.is_discarded()) {
        return absl::InvalidArgumentError(file + ":" + std::to_string(number) + ": not JSON");
      }
      lines.push_back(std::move(line));
    }
  } else if (!prompt.empty()) {
    lines.push_back(json{{"prompt", prompt}});
  } else {
    std::vector<int32_t> ids;
    for (absl::string_view part : absl::StrSplit(prompt_ids, ',', absl::SkipWhitespace())) {
      int32_t id = 0;
      if (!absl::SimpleAtoi(part, &id)) {
        return absl::InvalidArgumentError("--prompt-ids: '" + std::string(part) + "' is not an id");
      }
      ids.push_back(id);
    }
    lines.push_back(json{{"prompt_ids", ids}});
  }
  return lines;
}

struct Pending {
  engine::GenerateRequest request;
  std::shared_ptr<engine::RequestStream> stream;
  absl::Status status;
};

json Collect(Pending& p, const engine::text::Tokenizer* tokenizer) {
  if (!p.status.ok()) return json{{"error", std::string(p.status.message())}};
  std::vector<SequenceResult> sequences(p.request.sampling.n);
  std::vector<engine::TokenLogprob> prompt_logprobs;
  engine::RequestOutput delta;
  while (p.stream->Next(&delta)) {
    SequenceResult& seq = sequences[delta.index];
    seq.token_ids.insert(seq.token_ids.end(), delta.token_ids.begin(), delta.token_ids.end());
    seq.logprobs.insert(seq.logprobs.end(), delta.logprobs.begin(), delta.logprobs.end());
    if (delta.index == 0) {
      prompt_logprobs.insert(prompt_logprobs.end(), delta.prompt_logprobs.begin(),
                             delta.prompt_logprobs.end());
    }
    if (delta.finish_reason != engine::FinishReason::kNone) {
      seq.finish_reason = delta.finish_reason;
      seq.status = delta.status;
    }
  }
  return GenerateResultJson(p.request, prompt_logprobs, sequences, tokenizer);
}

}  // namespace

int RunGenerate(const std::vector<char*>& args) {
  if (args.size() > 1) return Fail(absl::InvalidArgumentError(std::string("unexpected argument ") + args[1]));
  absl::StatusOr<engine::EngineOptions> options = EngineOptionsFromFlags();
  if (!options.ok()) return Fail(options.status());
  auto tokenizer = LoadTokenizer(options->model);
  if (!tokenizer.ok()) return Fail(tokenizer.status());
  absl::StatusOr<std::vector<json>> lines = ReadRequestLines();
  if (!lines.ok()) return Fail(lines.status());
  absl::StatusOr<engine::LoadedEngine> loaded = engine::CreateEngine(*options);
  if (!loaded.ok()) return Fail(loaded.status());

  // Submit everything first so the engine batches it, then collect in input order.
  absl::StatusOr<engine::GenerateRequest> defaults = DefaultsFromFlags();
  if (!defaults.ok()) return Fail(defaults.status());
  std::vector<Pending> pending;
  for (const json& line : *lines) {
    Pending& p = pending.emplace_back();
    auto request = ParseGenerateRequest(line, *defaults, tokenizer->get());
    if (!request.ok()) {
      p.status = request.status();
      continue;
    }
    p.request = *request;
    auto stream = loaded->engine->Submit(*request);
    if (stream.ok()) {
      p.stream = *stream;
    } else {
      p.status = stream.status();
    }
  }
  std::ofstream file;
  const std::string output = absl::GetFlag(FLAGS_output);
  if (!output.empty()) {
    file.open(output);
    if (!file) return Fail(absl::NotFoundError("cannot write " + output));
  }
  std::ostream& out = output.empty() ? std::cout : file;
  int exit_code = 0;
  for (Pending& p : pending) {
    json result = Collect(p, tokenizer->get());
    if (result.contains("error")) exit_code = 1;
    out << result.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return exit_code;
}

}  // namespace stride::server::cli
