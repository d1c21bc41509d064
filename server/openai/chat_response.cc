#include "server/openai/chat_response.h"

#include "server/openai/completion_response.h"

namespace stride::server::openai {

using nlohmann::json;

json TokenBytes(const std::string& token) {
  json bytes = json::array();
  for (unsigned char c : token) bytes.push_back(static_cast<int>(c));
  return bytes;
}

json ChatFormatter::Header(const char* object) const {
  return {{"id", meta_.id}, {"object", object}, {"created", meta_.created}, {"model", meta_.model}};
}

json ChatFormatter::LogprobsJson(const std::vector<TokenLogprobText>& tokens) const {
  json content = json::array();
  for (const TokenLogprobText& t : tokens) {
    json top = json::array();
    for (const TopLogprob& entry : t.top) {
      top.push_back(
          {{"token", entry.token}, {"logprob", entry.logprob}, {"bytes", TokenBytes(entry.token)}});
    }
    content.push_back({{"token", t.token},
                       {"logprob", t.logprob.value_or(0.0f)},
                       {"bytes", TokenBytes(t.token)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}};
}

json ChatFormatter::RoleChunk(int index, bool with_usage_field) const {
  json chunk = Header("chat.completion.chunk");
  chunk["choices"] = json::array({{{"index", index},
                                   {"delta", {{"role", "assistant"}, {"content", ""}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", nullptr}}});
  if (with_usage_field) chunk["usage"] = nullptr;
  return chunk;
}

json ChatFormatter::Chunk(const ChoiceDelta& delta, bool with_usage_field) const {
  json chunk = Header("chat.completion.chunk");
  json choice = {{"index", delta.index}};
  choice["delta"] = delta.text.empty() && !delta.finish_reason.empty()
                        ? json::object()
                        : json{{"content", delta.text}};
  choice["logprobs"] = with_logprobs_ ? LogprobsJson(delta.logprobs) : json(nullptr);
  choice["finish_reason"] = delta.finish_reason.empty() ? json(nullptr) : json(delta.finish_reason);
  choice["stop_reason"] = delta.stop_reason ? json(*delta.stop_reason) : json(nullptr);
  chunk["choices"] = json::array({std::move(choice)});
  if (with_usage_field) chunk["usage"] = nullptr;
  return chunk;
}

json ChatFormatter::UsageChunk(const Usage& usage) const {
  json chunk = Header("chat.completion.chunk");
  chunk["choices"] = json::array();
  chunk["usage"] = UsageJson(usage);
  return chunk;
}

json ChatFormatter::Response(const std::vector<ChoiceDelta>& choices, const Usage& usage) const {
  json response = Header("chat.completion");
  response["choices"] = json::array();
  for (const ChoiceDelta& c : choices) {
    response["choices"].push_back(
        {{"index", c.index},
         {"message", {{"role", "assistant"}, {"content", c.text}}},
         {"logprobs", with_logprobs_ ? LogprobsJson(c.logprobs) : json(nullptr)},
         {"finish_reason", c.finish_reason.empty() ? json(nullptr) : json(c.finish_reason)},
         {"stop_reason", c.stop_reason ? json(*c.stop_reason) : json(nullptr)}});
  }
  response["usage"] = UsageJson(usage);
  return response;
}

}  // namespace stride::server::openai
