// ChatTemplate's contract with the server: the variables a template sees (as transformers passes
// them), key order of request JSON, kwargs, parse-time refusal, and a few published templates
// (ChatML, Zephyr from the transformers docs, Mistral-Instruct v0.1) rendered by hand.
#include "engine/text/chat_template.h"

#include <ctime>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {
namespace {

using Json = nlohmann::ordered_json;

std::string Render(const std::string& source, const Json& messages,
                   const ChatTemplateOptions& options = ChatTemplateOptions()) {
  auto t = ChatTemplate::Parse(source, "<s>", "</s>");
  if (!t.ok()) return "PARSE ERROR: " + std::string(t.status().message());
  auto r = t->Render(messages, options);
  if (!r.ok()) return "ERROR: " + std::string(r.status().message());
  return *r;
}

const Json kHello = Json::parse(R"([{"role": "user", "content": "Hi"}])");

TEST(ChatTemplateTest, SeesTheVariablesTransformersPasses) {
  EXPECT_EQ(
      Render("{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ messages | length }}"
             "|{{ tools is none }}|{{ tools is defined }}|{{ documents is none }}",
             kHello),
      "<s>|</s>|True|1|True|True|True");
  ChatTemplateOptions options;
  options.add_generation_prompt = false;
  options.tools = Json::parse(R"([{"type": "function"}])");
  EXPECT_EQ(Render("{{ add_generation_prompt }}|{{ tools | length }}", kHello, options), "False|1");
}

TEST(ChatTemplateTest, KwargsBecomeVariables) {
  ChatTemplateOptions options;
  options.kwargs = Json::parse(R"({"enable_thinking": false, "bos_token": "<B>"})");
  EXPECT_EQ(Render("{{ enable_thinking is false }}|{{ bos_token }}", kHello, options), "True|<B>");
  options.kwargs = Json::parse(R"({"messages": []})");
  EXPECT_NE(Render("x", kHello, options).find("may not set 'messages'"), std::string::npos);
}

TEST(ChatTemplateTest, ToolSchemasKeepTheirKeyOrder) {
  ChatTemplateOptions options;
  options.tools = Json::parse(R"([{"type": "function", "function": {"name": "f", "description": "d",
                                   "parameters": {"type": "object", "properties": {}}}}])");
  EXPECT_EQ(Render("{% for t in tools %}{{ t | tojson }}{% endfor %}", kHello, options),
            R"({"type": "function", "function": {"name": "f", "description": "d", )"
            R"("parameters": {"type": "object", "properties": {}}}})");
}

TEST(ChatTemplateTest, UnsupportedSyntaxFailsAtParse) {
  auto t = ChatTemplate::Parse("{% include 'other.jinja' %}", "", "");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("cannot load chat template"), std::string::npos);
  EXPECT_NE(std::string(t.status().message()).find("'include'"), std::string::npos);
}

TEST(ChatTemplateTest, MessagesMustBeAnArray) {
  EXPECT_NE(Render("x", Json::object()).find("messages must be a JSON array"), std::string::npos);
}

TEST(ChatTemplateTest, StrftimeNowUsesTheLocalClock) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  const std::string year = std::to_string(local.tm_year + 1900);
  const std::string got = Render("{{ strftime_now('%Y') }}", kHello);
  // Allow the year to turn over between the two clock reads.
  EXPECT_TRUE(got == year || got == std::to_string(local.tm_year + 1901)) << got;
}

TEST(ChatTemplateTest, ChatMl) {
  const std::string chatml =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
      "{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const Json messages = Json::parse(R"([{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Hi"}])");
  EXPECT_EQ(Render(chatml, messages),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, ZephyrFromTheTransformersDocs) {
  const std::string zephyr =
      "{%- for message in messages %}\n"
      "    {{- '<|' + message['role'] + '|>\\n' }}\n"
      "    {{- message['content'] + eos_token }}\n"
      "{%- endfor %}\n"
      "{%- if add_generation_prompt %}\n"
      "    {{- '<|assistant|>\\n' }}\n"
      "{%- endif %}\n";
  const Json messages = Json::parse(R"([{"role": "user", "content": "Hi"},
                                        {"role": "assistant", "content": "Hello"}])");
  EXPECT_EQ(Render(zephyr, messages), "<|user|>\nHi</s><|assistant|>\nHello</s><|assistant|>\n");
}

TEST(ChatTemplateTest, MistralInstructAlternationAndRaise) {
  const std::string mistral =
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
      "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
      "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
      "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
      "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
      "roles are supported!') }}{% endif %}{% endfor %}";
  const Json ok = Json::parse(R"([{"role": "user", "content": "Hi"},
                                  {"role": "assistant", "content": "Hello"},
                                  {"role": "user", "content": "Bye"}])");
  EXPECT_EQ(Render(mistral, ok), "<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]");
  const Json twice =
      Json::parse(R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])");
  EXPECT_NE(Render(mistral, twice).find("Conversation roles must alternate"), std::string::npos);
}

}  // namespace
}  // namespace stride::engine::text
