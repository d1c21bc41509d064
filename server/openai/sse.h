// Server-Sent Events framing for streamed responses: `data: <json>\n\n` per chunk and
// `data: [DONE]\n\n` at the end (OpenAI's convention).
#pragma once

#include <string>

#include "nlohmann/json.hpp"

namespace stride::server::openai {

inline constexpr char kSseDone[] = "data: [DONE]\n\n";

// One event. The JSON is written compactly, on one line (strings escape their newlines), with
// invalid UTF-8 replaced so a chunk is always valid JSON.
std::string SseEvent(const nlohmann::json& data);

// Compact JSON text for a response body, invalid UTF-8 replaced.
std::string JsonText(const nlohmann::json& value);

}  // namespace stride::server::openai
