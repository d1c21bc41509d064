#include "server/loadgen/request_body.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stride::server::loadgen {

absl::StatusOr<HttpTarget> ParseHttpUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "http://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--url must start with http:// (TLS is not supported), got \"", url, "\""));
  }
  absl::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  HttpTarget target;
  target.base_path = std::string(path);
  target.port = "80";
  absl::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("--url: bad IPv6 host");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return absl::InvalidArgumentError("--url: bad port");
      target.port = std::string(after.substr(1));
    }
  } else if (const size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    target.port = std::string(authority.substr(colon + 1));
  }
  int port = 0;
  if (!absl::SimpleAtoi(target.port, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--url: bad port \"", target.port, "\""));
  }
  if (host.empty()) return absl::InvalidArgumentError("--url: no host");
  target.host = std::string(host);
  return target;
}

std::string ApiPath(const HttpTarget& target, ApiKind api) {
  const char* tail = api == ApiKind::kChat ? "/chat/completions" : "/completions";
  if (absl::EndsWith(target.base_path, "/v1")) return absl::StrCat(target.base_path, tail);
  return absl::StrCat(target.base_path, "/v1", tail);
}

std::string WordsForTokenIds(absl::Span<const int32_t> ids) {
  static constexpr const char* kWords[] = {
      "the",  "of",   "and",   "to",    "in",    "is",    "it",   "you",   "that", "he",   "was",
      "for",  "on",   "are",   "with",  "as",    "his",   "they", "be",    "at",   "one",  "have",
      "this", "from", "or",    "had",   "by",    "hot",   "word", "but",   "what", "some", "we",
      "can",  "out",  "other", "were",  "all",   "there", "when", "up",    "use",  "your", "how",
      "said", "an",   "each",  "she",   "which", "do",    "time", "if",    "will", "way",  "about",
      "many", "then", "them",  "write", "would", "like",  "so",   "these", "her"};
  constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) text.push_back(' ');
    text.append(kWords[static_cast<uint32_t>(ids[i]) % kNumWords]);
  }
  return text;
}

std::string RequestBody(const BenchRequest& request, ApiKind api, const std::string& model) {
  nlohmann::json body = nlohmann::json::object();
  if (!model.empty()) body["model"] = model;
  if (api == ApiKind::kCompletions) {
    if (request.prompt_text.empty()) {
      body["prompt"] = request.prompt_ids;
    } else {
      body["prompt"] = request.prompt_text;
    }
    body["max_tokens"] = request.output_len;
  } else {
    const std::string text =
        request.prompt_text.empty() ? WordsForTokenIds(request.prompt_ids) : request.prompt_text;
    body["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", text}}});
    body["max_completion_tokens"] = request.output_len;
  }
  body["temperature"] = 0.0;
  body["ignore_eos"] = true;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stride::server::loadgen
