// Whitespace rules of the lexer as transformers configures jinja2: trim_blocks, lstrip_blocks,
// "-" and "+" tag modifiers, comments, newline normalization and the dropped trailing newline.
// Each expected string follows from jinja2's documented lexer rules.
#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/template.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/text/jinja_test_util.h"

namespace stride::engine::text::jinja {
namespace {

using testing::Render;

TEST(JinjaWhitespaceTest, TrimBlocksDropsTheNewlineAfterABlockTag) {
  EXPECT_EQ(Render("{% if true %}\nyes\n{% endif %}\nafter"), "yes\nafter");
  // Only one newline goes.
  EXPECT_EQ(Render("{% if true %}\n\nx{% endif %}"), "\nx");
}

TEST(JinjaWhitespaceTest, TrimBlocksDoesNotApplyToVariables) {
  EXPECT_EQ(Render("{{ 'a' }}\nb"), "a\nb");
}

TEST(JinjaWhitespaceTest, LstripBlocksRemovesIndentationBeforeBlockTags) {
  EXPECT_EQ(Render("  {% if true %}x{% endif %}"), "x");
  EXPECT_EQ(Render("a\n    {% if true %}b\n    {% endif %}c"), "a\nb\nc");
  EXPECT_EQ(Render("a\n\t {% set x = 1 %}b"), "a\nb");
}

TEST(JinjaWhitespaceTest, LstripBlocksKeepsTextOnTheSameLine) {
  EXPECT_EQ(Render("a  {% if true %}b{% endif %}"), "a  b");
}

TEST(JinjaWhitespaceTest, LstripBlocksDoesNotApplyToVariables) {
  EXPECT_EQ(Render("  {{ 'a' }}"), "  a");
}

TEST(JinjaWhitespaceTest, LstripAfterATrimmedBlockEnd) {
  // The first tag's trimmed newline means the next text starts a line.
  EXPECT_EQ(Render("{% if true %}\n  {% if true %}x{% endif %}\n{% endif %}"), "x");
  // After a variable the text does not start a line, so its spaces stay.
  EXPECT_EQ(Render("{{ 'a' }}  {% if true %}b{% endif %}"), "a  b");
}

TEST(JinjaWhitespaceTest, PlusModifierDisablesLstripAndTrim) {
  EXPECT_EQ(Render("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(Render("{% if true +%}\nx{% endif %}"), "\nx");
}

TEST(JinjaWhitespaceTest, MinusModifierStripsAllWhitespaceIncludingNewlines) {
  EXPECT_EQ(Render("a  \n  {{- 'b' -}}  \n c"), "abc");
  EXPECT_EQ(Render("a\n\n  {%- if true %}b{% endif %}"), "ab");
  EXPECT_EQ(Render("{% if true -%}\n\n   x{%- endif %}"), "x");
}

TEST(JinjaWhitespaceTest, Comments) {
  EXPECT_EQ(Render("a {# comment #}\nb"), "a b");
  EXPECT_EQ(Render("x\n   {# c #}\ny"), "x\ny");
  EXPECT_EQ(Render("x {#- c -#} y"), "xy");
  EXPECT_EQ(Render("{# {{ not parsed }} {% if %} #}ok"), "ok");
}

TEST(JinjaWhitespaceTest, SingleTrailingNewlineIsDropped) {
  EXPECT_EQ(Render("hello\n"), "hello");
  EXPECT_EQ(Render("hello\n\n"), "hello\n");
}

TEST(JinjaWhitespaceTest, NewlinesAreNormalized) {
  EXPECT_EQ(Render("a\r\nb\rc"), "a\nb\nc");
  EXPECT_EQ(Render("{% if true %}\r\nx{% endif %}"), "x");
}

TEST(JinjaWhitespaceTest, RawBlocks) {
  EXPECT_EQ(Render("{% raw %}{{ x }}{% if %}{% endraw %}"), "{{ x }}{% if %}");
}

TEST(JinjaWhitespaceTest, BracesInsideExpressionsDoNotEndTheTag) {
  EXPECT_EQ(Render("{{ {'a': {'b': 1}}['a']['b'] }}"), "1");
  EXPECT_EQ(Render("{{ '}}' }}"), "}}");
}

TEST(JinjaWhitespaceTest, TypicalIndentedTemplate) {
  const std::string source =
      "{%- for m in ['a', 'b'] %}\n"
      "    {%- if m == 'a' %}\n"
      "        {{- 'A:' + m }}\n"
      "    {%- else %}\n"
      "        {{- '|B:' + m }}\n"
      "    {%- endif %}\n"
      "{%- endfor %}\n";
  EXPECT_EQ(Render(source), "A:a|B:b");
}

}  // namespace
}  // namespace stride::engine::text::jinja
