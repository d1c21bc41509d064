#include "server/openai/completion_response.h"

#include <string>

namespace stride::server::openai {

using nlohmann::json;

int64_t CodePointCount(const std::string& text) {
  int64_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

json UsageJson(const Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

json PromptLogprobsJson(const std::vector<TokenLogprobText>& tokens) {
  json out = json::array();
  for (const TokenLogprobText& t : tokens) {
    if (!t.logprob) {
      out.push_back(nullptr);
      continue;
    }
    json entry = json::object();
    entry[std::to_string(t.token_id)] = {{"logprob", *t.logprob}, {"decoded_token", t.token}};
    for (size_t rank = 0; rank < t.top.size(); ++rank) {
      const TopLogprob& top = t.top[rank];
      entry[std::to_string(top.token_id)] = {
          {"logprob", top.logprob}, {"rank", rank + 1}, {"decoded_token", top.token}};
    }
    out.push_back(std::move(entry));
  }
  return out;
}

json CompletionFormatter::Header() const {
  return {{"id", meta_.id},
          {"object", "text_completion"},
          {"created", meta_.created},
          {"model", meta_.model}};
}

json CompletionFormatter::LogprobsJson(int index, const std::vector<TokenLogprobText>& tokens) {
  json out = {{"tokens", json::array()},
              {"token_logprobs", json::array()},
              {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  int64_t& offset = text_offset_[index];
  for (const TokenLogprobText& t : tokens) {
    out["tokens"].push_back(t.token);
    out["text_offset"].push_back(offset);
    offset += CodePointCount(t.token);
    if (!t.logprob) {
      out["token_logprobs"].push_back(nullptr);
      out["top_logprobs"].push_back(nullptr);
      continue;
    }
    out["token_logprobs"].push_back(*t.logprob);
    // Like vLLM: the top k plus the sampled token (so up to k + 1 entries).
    json top = json::object();
    for (const TopLogprob& entry : t.top) {
      if (!top.contains(entry.token)) top[entry.token] = entry.logprob;
    }
    if (!top.contains(t.token)) top[t.token] = *t.logprob;
    out["top_logprobs"].push_back(std::move(top));
  }
  return out;
}

json CompletionFormatter::ChoiceJson(const ChoiceDelta& delta) {
  json choice = {{"index", delta.index}, {"text", delta.text}};
  choice["logprobs"] = with_logprobs_ ? LogprobsJson(delta.index, delta.logprobs) : json(nullptr);
  choice["finish_reason"] = delta.finish_reason.empty() ? json(nullptr) : json(delta.finish_reason);
  choice["stop_reason"] = delta.stop_reason ? json(*delta.stop_reason) : json(nullptr);
  return choice;
}

json CompletionFormatter::Chunk(const ChoiceDelta& delta, bool with_usage_field) {
  json chunk = Header();
  chunk["choices"] = json::array({ChoiceJson(delta)});
  if (with_usage_field) chunk["usage"] = nullptr;
  return chunk;
}

json CompletionFormatter::UsageChunk(const Usage& usage) {
  json chunk = Header();
  chunk["choices"] = json::array();
  chunk["usage"] = UsageJson(usage);
  return chunk;
}

json CompletionFormatter::Response(const std::vector<ChoiceDelta>& choices, const Usage& usage,
                                   const std::vector<json>& prompt_logprobs) {
  json response = Header();
  response["choices"] = json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    json choice = ChoiceJson(choices[i]);
    if (i < prompt_logprobs.size()) choice["prompt_logprobs"] = prompt_logprobs[i];
    response["choices"].push_back(std::move(choice));
  }
  response["usage"] = UsageJson(usage);
  return response;
}

}  // namespace stride::server::openai
