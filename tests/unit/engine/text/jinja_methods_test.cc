// Python methods on str, dict and list values, and the sandbox refusing mutation.
#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/template.h"
#include "engine/text/jinja/value_json.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/text/jinja_test_util.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text::jinja {
namespace {

using testing::Render;

TEST(JinjaMethodsTest, Split) {
  EXPECT_EQ(Render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} "
                   "{{ 'a b c'.rsplit(' ', 1) }} {{ 'a,b'.split(sep=',') }} {{ ''.split() }}"),
            "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a b', 'c'] ['a', 'b'] []");
  EXPECT_EQ(Render("{{ '  a  b '.split(none, 1) }} {{ '  a  b '.rsplit(none, 1) }}"),
            "['a', 'b '] ['  a', 'b']");
  EXPECT_EQ(Render("{{ 'x</think>y'.split('</think>')[-1] }}"), "y");
  EXPECT_NE(Render("{{ 'a'.split('') }}").find("empty separator"), std::string::npos);
}

TEST(JinjaMethodsTest, Strip) {
  EXPECT_EQ(Render("{{ 'xxhixx'.strip('x') }} {{ '\\n\\nhi\\n'.lstrip('\\n') }}|"
                   "{{ '  hi  '.rstrip() }}|{{ ' \\t hi'.strip() }}"),
            "hi hi\n|  hi|hi");
}

TEST(JinjaMethodsTest, AffixesAndSearch) {
  EXPECT_EQ(Render("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} "
                   "{{ 'hello'.startswith('l', 2) }} {{ 'hello'.endswith('he', 0, 2) }}"),
            "True True True True");
  EXPECT_EQ(Render("{{ 'héllo'.find('l') }} {{ 'banana'.count('an') }} {{ 'banana'.rfind('a') }} "
                   "{{ 'x'.find('z') }} {{ 'banana'.replace('a', 'o', 1) }}"),
            "2 2 5 -1 bonana");
}

TEST(JinjaMethodsTest, Case) {
  EXPECT_EQ(Render("{{ 'they\\'re bill'.title() }} {{ 'hELLO'.capitalize() }} {{ 'Ab'.upper() }}"
                   "{{ 'Ab'.lower() }} {{ 'Ab'.swapcase() }}"),
            "They'Re Bill Hello ABab aB");
  EXPECT_EQ(
      Render("{{ '123'.isdigit() }} {{ 'a1'.isalnum() }} {{ ' '.isspace() }} {{ ''.isalpha() }}"),
      "True True True False");
}

TEST(JinjaMethodsTest, FormatAndJoin) {
  EXPECT_EQ(
      Render("{{ '{} and {name}'.format(1, name='x') }}|{{ '{:>5}|{:.2f}'.format('a', 3.14159) }}"
             "|{{ '{0}{0}{{}}'.format('z') }}"),
      "1 and x|    a|3.14|zz{}");
  EXPECT_EQ(Render("{{ '-'.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }}"),
            "a-b ['a', 'b', 'c']");
}

TEST(JinjaMethodsTest, DictMethods) {
  const std::string vars = R"({"d": {"a": 1, "b": 2}})";
  EXPECT_EQ(
      Render("{{ d.get('a') }} {{ d.get('z', 'none') }} {{ d.get('z') }} {{ d.keys() | list }} "
             "{{ d.values() | list }} {{ d.items() | list }}",
             vars),
      "1 none None ['a', 'b'] [1, 2] [('a', 1), ('b', 2)]");
}

TEST(JinjaMethodsTest, ListMethods) {
  EXPECT_EQ(Render("{{ [1, 2, 3].index(2) }} {{ [1, 1, 2].count(1) }}"), "1 2");
}

TEST(JinjaMethodsTest, MutatingMethodsAreRefusedLikeTheImmutableSandbox) {
  EXPECT_NE(Render("{% set l = [] %}{{ l.append(1) }}").find("unsafe"), std::string::npos);
  EXPECT_NE(Render("{% set d = {} %}{{ d.update({'a': 1}) }}").find("unsafe"), std::string::npos);
}

TEST(JinjaMethodsTest, MissingMethodIsUndefinedAndCallingItFails) {
  EXPECT_EQ(Render("[{{ 'a'.nope }}]"), "[]");
  EXPECT_NE(Render("{{ [1].startswith('a') }}").find("'list object' has no attribute 'startswith'"),
            std::string::npos);
}

}  // namespace
}  // namespace stride::engine::text::jinja
