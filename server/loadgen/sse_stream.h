// Reading an OpenAI streaming response: Server-Sent Events framing (SseParser, fed whatever
// bytes arrived) and the meaning of each event's data (ClassifyEvent): a token chunk, usage,
// an error, or the final [DONE].
//
// A token chunk is one whose first choice carries generated text (completions: "text"; chat:
// "delta.content" or "delta.reasoning_content"). Chunks that carry no token are not timed: the
// chat role preamble (`delta: {role, content: ""}`), a final chunk that only sets
// finish_reason, and usage-only chunks. An empty-text chunk with no finish_reason is timed (a
// token whose text the detokenizer holds back still arrived).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stride::server::loadgen {

enum class ApiKind { kCompletions, kChat };

class SseParser {
 public:
  // Appends bytes (any split, LF / CRLF / CR line ends); adds the data of each event they
  // complete to `events` (multi-line data joined with '\n'; comments and other fields ignored).
  void Feed(std::string_view bytes, std::vector<std::string>* events);

 private:
  void EndLine(std::vector<std::string>* events);

  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool after_cr_ = false;
};

struct StreamEvent {
  enum class Kind { kDone, kToken, kOther, kError, kMalformed };
  Kind kind = Kind::kOther;
  std::string error;               // kError: the server's message; kMalformed: what was wrong
  int64_t completion_tokens = -1;  // from a "usage" object, -1 if none
  int64_t prompt_tokens = -1;
};

StreamEvent ClassifyEvent(std::string_view data, ApiKind api);

}  // namespace stride::server::loadgen
