// The HTTP side of one benchmark request: where it goes (the --url split into host, port and
// base path) and the JSON body. Bodies force the output length (`max_tokens` with
// `ignore_eos: true`), sample greedily, and stream with `stream_options.include_usage` so the
// server reports exact token counts, as vLLM's `bench serve` asks.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/loadgen/dataset.h"
#include "server/loadgen/sse_stream.h"

namespace stride::server::loadgen {

struct HttpTarget {
  std::string host;
  std::string port;       // "80" unless given
  std::string base_path;  // "" or e.g. "/proxy" (no trailing slash)
};

// "http://HOST[:PORT][/PATH]". Only plain http (no TLS).
absl::StatusOr<HttpTarget> ParseHttpUrl(absl::string_view url);

// base_path + "/v1/completions" or "/v1/chat/completions" ("/v1" not doubled when the base
// path already ends with it).
std::string ApiPath(const HttpTarget& target, ApiKind api);

// The request body; an empty model leaves "model" out (the server's default model). A chat
// request whose prompt is token ids and has no text gets WordsForTokenIds(ids) as content.
std::string RequestBody(const BenchRequest& request, ApiKind api, const std::string& model);

// Text standing in for a token-id prompt when the chat API needs text and no tokenizer was
// given: one common English word per id (picked by id), which most BPE vocabularies hold as a
// single token. The server's usage.prompt_tokens then gives the exact input length.
std::string WordsForTokenIds(absl::Span<const int32_t> ids);

}  // namespace stride::server::loadgen
