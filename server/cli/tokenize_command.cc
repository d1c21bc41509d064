// `stride tokenize` and `stride detokenize`: text <-> token ids with a HuggingFace tokenizer
// directory, one JSON line per input. For scripts and for checking a tokenizer by hand:
//   stride tokenize --tokenizer DIR --text "Hello" [--add-special-tokens]   -> [9906]
//   stride tokenize --tokenizer DIR --texts in.jsonl     (one JSON string per line)
//   stride detokenize --tokenizer DIR --ids 9906,1917 [--skip-special-tokens] -> "Hello world"
//   stride detokenize --tokenizer DIR --ids-file in.jsonl (one JSON array of ids per line)
// Exit codes: 0 ok, 1 bad input or files, 2 bad usage.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/text/tokenizer.h"
#include "nlohmann/json.hpp"
#include "server/cli/commands.h"
#include "server/cli/common_flags.h"

ABSL_FLAG(std::string, text, "", "tokenize: the text to encode");
ABSL_FLAG(std::string, texts, "", "tokenize: JSONL file, one JSON string per line");
ABSL_FLAG(bool, add_special_tokens, false, "tokenize: add BOS/EOS as the tokenizer files say");
ABSL_FLAG(std::string, ids, "", "detokenize: comma-separated token ids");
ABSL_FLAG(std::string, ids_file, "", "detokenize: JSONL file, one JSON array of ids per line");
ABSL_FLAG(bool, skip_special_tokens, false, "detokenize: drop special tokens from the text");

namespace stride::server::cli {
namespace {

using engine::text::Tokenizer;
using nlohmann::json;

constexpr int kBadInput = 1;
constexpr int kBadUsage = 2;

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "stride: %s\n", message.c_str());
  return code;
}

// Loads --tokenizer; on failure prints the reason and returns null.
std::unique_ptr<Tokenizer> LoadTokenizer(int* exit_code) {
  const std::string dir = absl::GetFlag(FLAGS_tokenizer);
  if (dir.empty()) {
    *exit_code = Fail(kBadUsage, "--tokenizer DIR is required");
    return nullptr;
  }
  auto tokenizer = Tokenizer::FromDirectory(dir);
  if (!tokenizer.ok()) {
    *exit_code = Fail(kBadInput, std::string(tokenizer.status().message()));
    return nullptr;
  }
  return *std::move(tokenizer);
}

// Calls `handle` with each non-empty line of `path` parsed as JSON (1-based line numbers).
absl::Status ForEachJsonLine(const std::string& path,
                             const std::function<absl::Status(const json&, int)>& handle) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": not valid JSON"));
    }
    absl::Status status = handle(value, number);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(path, ":", number, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status PrintIds(const Tokenizer& tokenizer, const std::string& text) {
  auto ids = tokenizer.Encode(text, absl::GetFlag(FLAGS_add_special_tokens));
  if (!ids.ok()) return ids.status();
  std::printf("%s\n", json(*ids).dump().c_str());
  return absl::OkStatus();
}

absl::Status PrintText(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  auto text = tokenizer.Decode(ids, absl::GetFlag(FLAGS_skip_special_tokens));
  if (!text.ok()) return text.status();
  std::printf("%s\n", json(*text).dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> ParseIdList(const std::string& list) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    int32_t id = 0;
    if (!absl::SimpleAtoi(part, &id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(part.data(), part.size()), "' is not a token id"));
    }
    ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<std::vector<int32_t>> IdsFromJson(const json& value) {
  if (!value.is_array()) return absl::InvalidArgumentError("expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const json& id : value) {
    if (!id.is_number_integer() || id.get<int64_t>() < INT32_MIN || id.get<int64_t>() > INT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(id.dump(), " is not a token id"));
    }
    ids.push_back(id.get<int32_t>());
  }
  return ids;
}

}  // namespace

int RunTokenize(const std::vector<char*>& args) {
  const std::string text = absl::GetFlag(FLAGS_text);
  const std::string texts = absl::GetFlag(FLAGS_texts);
  if (args.size() > 1) return Fail(kBadUsage, absl::StrCat("unexpected argument '", args[1], "'"));
  if (text.empty() == texts.empty()) {
    return Fail(kBadUsage, "tokenize needs exactly one of --text TEXT or --texts FILE.jsonl");
  }
  int exit_code = 0;
  std::unique_ptr<Tokenizer> tokenizer = LoadTokenizer(&exit_code);
  if (tokenizer == nullptr) return exit_code;
  absl::Status status;
  if (!text.empty()) {
    status = PrintIds(*tokenizer, text);
  } else {
    status = ForEachJsonLine(texts, [&](const json& value, int) {
      if (!value.is_string()) return absl::InvalidArgumentError("expected a JSON string");
      return PrintIds(*tokenizer, value.get<std::string>());
    });
  }
  return status.ok() ? 0 : Fail(kBadInput, std::string(status.message()));
}

int RunDetokenize(const std::vector<char*>& args) {
  const std::string ids = absl::GetFlag(FLAGS_ids);
  const std::string ids_file = absl::GetFlag(FLAGS_ids_file);
  if (args.size() > 1) return Fail(kBadUsage, absl::StrCat("unexpected argument '", args[1], "'"));
  if (ids.empty() == ids_file.empty()) {
    return Fail(kBadUsage, "detokenize needs exactly one of --ids 1,2,3 or --ids-file FILE.jsonl");
  }
  int exit_code = 0;
  std::unique_ptr<Tokenizer> tokenizer = LoadTokenizer(&exit_code);
  if (tokenizer == nullptr) return exit_code;
  absl::Status status;
  if (!ids.empty()) {
    auto list = ParseIdList(ids);
    status = list.ok() ? PrintText(*tokenizer, *list) : list.status();
  } else {
    status = ForEachJsonLine(ids_file, [&](const json& value, int) {
      auto list = IdsFromJson(value);
      return list.ok() ? PrintText(*tokenizer, *list) : list.status();
    });
  }
  return status.ok() ? 0 : Fail(kBadInput, std::string(status.message()));
}

}  // namespace stride::server::cli
