#include "server/openai/sse.h"

namespace stride::server::openai {

std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SseEvent(const nlohmann::json& data) {
  std::string event = "data: ";
  event += JsonText(data);
  event += "\n\n";
  return event;
}

}  // namespace stride::server::openai
