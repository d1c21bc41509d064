#include "server/loadgen/sse_stream.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stride::server::loadgen {
namespace {

using Json = nlohmann::json;

bool IsString(const Json& object, const char* key, bool* non_empty) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return false;
  *non_empty = !it->get_ref<const std::string&>().empty();
  return true;
}

bool IsTokenChoice(const Json& choice, ApiKind api) {
  if (!choice.is_object()) return false;
  auto finish = choice.find("finish_reason");
  const bool finished = finish != choice.end() && !finish->is_null();
  bool non_empty = false;
  if (api == ApiKind::kCompletions) {
    if (!IsString(choice, "text", &non_empty)) return false;
    return non_empty || !finished;
  }
  auto delta = choice.find("delta");
  if (delta == choice.end() || !delta->is_object()) return false;
  bool reasoning = false;
  if (IsString(*delta, "reasoning_content", &reasoning) && reasoning) return true;
  if (!IsString(*delta, "content", &non_empty)) return false;
  return non_empty || (!finished && !delta->contains("role"));
}

}  // namespace

void SseParser::Feed(std::string_view bytes, std::vector<std::string>* events) {
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF
    }
    if (c == '\r') {
      after_cr_ = true;
      EndLine(events);
    } else if (c == '\n') {
      EndLine(events);
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::EndLine(std::vector<std::string>* events) {
  if (line_.empty()) {  // a blank line dispatches the event
    if (has_data_) events->push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  std::string_view line = line_;
  if (line.substr(0, 5) == "data:") {
    std::string_view value = line.substr(5);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  line_.clear();
}

StreamEvent ClassifyEvent(std::string_view data, ApiKind api) {
  StreamEvent event;
  if (data == "[DONE]") {
    event.kind = StreamEvent::Kind::kDone;
    return event;
  }
  Json chunk = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!chunk.is_object()) {
    event.kind = StreamEvent::Kind::kMalformed;
    event.error =
        absl::StrCat("not a JSON object in the stream: ", std::string(data.substr(0, 200)));
    return event;
  }
  if (auto error = chunk.find("error"); error != chunk.end() && !error->is_null()) {
    event.kind = StreamEvent::Kind::kError;
    auto message = error->is_object() ? error->find("message") : error->end();
    event.error = message != error->end() && message->is_string() ? message->get<std::string>()
                                                                  : error->dump();
    return event;
  }
  if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
    auto completion = usage->find("completion_tokens");
    if (completion != usage->end() && completion->is_number_integer()) {
      event.completion_tokens = completion->get<int64_t>();
    }
    auto prompt = usage->find("prompt_tokens");
    if (prompt != usage->end() && prompt->is_number_integer()) {
      event.prompt_tokens = prompt->get<int64_t>();
    }
  }
  auto choices = chunk.find("choices");
  if (choices != chunk.end() && choices->is_array() && !choices->empty() &&
      IsTokenChoice(choices->front(), api)) {
    event.kind = StreamEvent::Kind::kToken;
  }
  return event;
}

}  // namespace stride::server::loadgen
