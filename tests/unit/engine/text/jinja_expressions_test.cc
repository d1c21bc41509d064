// Expressions: literals, Python arithmetic and comparison semantics, operator precedence
// (filters and tests bind to the unary operand), subscripts and slices, attribute access, and
// what `{{ }}` prints for non-strings (Python's str()/repr()).
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

TEST(JinjaExpressionsTest, IntegerArithmeticFollowsPython) {
  EXPECT_EQ(Render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }}"),
            "3 -4 1 2 -2");
  EXPECT_EQ(Render("{{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1 + 2 * 3 }}"),
            "3.5 2.0 1024 0.5 7");
  EXPECT_EQ(Render("{{ true + true }} {{ 1_000 }} {{ 0x10 }} {{ -(3) }}"), "2 1000 16 -3");
}

TEST(JinjaExpressionsTest, FloatsPrintLikePythonRepr) {
  EXPECT_EQ(Render("{{ 0.1 + 0.2 }} {{ 100.0 }} {{ 1e16 }} {{ 1e15 }} {{ 1.5e-5 }} {{ 0.0001 }}"),
            "0.30000000000000004 100.0 1e+16 1000000000000000.0 1.5e-05 0.0001");
  EXPECT_EQ(Render("{{ 2.5 * 2 }} {{ -0.5 }} {{ 123456789012345678.0 }}"),
            "5.0 -0.5 1.2345678901234568e+17");
}

TEST(JinjaExpressionsTest, StringAndListOperators) {
  EXPECT_EQ(Render("{{ 'a' ~ 1 ~ none ~ true ~ missing }}"), "a1NoneTrue");
  EXPECT_EQ(Render("{{ 'ab' * 3 }} {{ [1] * 3 }} {{ [1] + [2] }} {{ 'a' + 'b' }}"),
            "ababab [1, 1, 1] [1, 2] ab");
}

TEST(JinjaExpressionsTest, Comparisons) {
  EXPECT_EQ(Render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 2 >= 2 }} {{ 'a' < 'b' }}"),
            "True False True True");
  EXPECT_EQ(Render("{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' == 'a' }} {{ [1, 2] == [1, 2] }} "
                   "{{ {'a': 1} == {'a': 1} }} {{ 1 != '1' }} {{ none == none }}"),
            "True True True True True True True");
  EXPECT_EQ(Render("{{ [1, 2] < [1, 3] }} {{ (1, 2) == [1, 2] }}"), "True False");
}

TEST(JinjaExpressionsTest, Membership) {
  EXPECT_EQ(Render("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} "
                   "{{ 'x' not in 'abc' }} {{ 'a' in missing }}"),
            "True True True True False");
}

TEST(JinjaExpressionsTest, LogicReturnsOperands) {
  EXPECT_EQ(Render("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ none or [] }} {{ not 0 }} {{ not 'a' }}"),
            "x b [] True False");
}

TEST(JinjaExpressionsTest, ConditionalExpression) {
  EXPECT_EQ(Render("{{ 'y' if true else 'n' }}{{ 'y' if false else 'n' }}[{{ 'y' if false }}]"),
            "yn[]");
  EXPECT_EQ(Render("{{ 'a' if false else 'b' if false else 'c' }}"), "c");
}

TEST(JinjaExpressionsTest, FiltersAndTestsBindTighterThanOperators) {
  EXPECT_EQ(Render("{{ 'a' + ' b ' | trim + 'c' }}"), "abc");
  EXPECT_EQ(Render("{{ -3 | abs }}"), "3");
  EXPECT_EQ(Render("{{ not x is defined }} {{ 1 + 1 is odd }}"), "True 2");
  EXPECT_EQ(Render("{{ [1, 2] | length > 1 }}"), "True");
}

TEST(JinjaExpressionsTest, SubscriptsAndSlices) {
  EXPECT_EQ(Render("{{ [1, 2, 3][-1] }} {{ 'hello'[1:3] }} {{ [1, 2, 3, 4][::-1] }} "
                   "{{ 'abcdef'[::2] }} {{ [1, 2, 3][5:] }} {{ 'héllo'[1] }} {{ [1, 2, 3][:-1] }}"),
            "3 el [4, 3, 2, 1] ace [] é [1, 2]");
  EXPECT_EQ(Render("{{ a.0 }}{{ a[1] }}[{{ a[7] }}]", R"({"a": [5, 6]})"), "56[]");
  EXPECT_EQ(Render("{{ 'abc'[-2:] }} {{ 'abc'[::-1] }} {{ [0, 1, 2, 3, 4][3:0:-2] }}"),
            "bc cba [3, 1]");
}

TEST(JinjaExpressionsTest, AttributeAndItemAccess) {
  const std::string vars = R"({"d": {"a": 1, "items": 5, "n": {"x": "y"}}})";
  EXPECT_EQ(Render("{{ d.a }} {{ d['a'] }} [{{ d.missing }}] {{ d.n.x }} {{ d['n']['x'] }}", vars),
            "1 1 [] y y");
  // `.items` finds the dict method first; ['items'] finds the key first.
  EXPECT_EQ(Render("{{ d.items is callable }} {{ d['items'] }}", vars), "True 5");
}

TEST(JinjaExpressionsTest, PrintsContainersWithPythonRepr) {
  EXPECT_EQ(Render("{{ {'a': 1, 'b': [true, none, 'x', 1.5]} }}"),
            "{'a': 1, 'b': [True, None, 'x', 1.5]}");
  EXPECT_EQ(Render(R"({{ ["it's", 'say "hi"', 'both \'"', 'nl\n', 'back\\slash'] }})"),
            R"(["it's", 'say "hi"', 'both \'"', 'nl\n', 'back\\slash'])");
  EXPECT_EQ(Render("{{ (1,) }} {{ (1, 'a') }} {{ () }}"), "(1,) (1, 'a') ()");
  EXPECT_EQ(Render("{{ ['é', '\\u00a0', '\\x01'] }}"), "['é', '\\xa0', '\\x01']");
  EXPECT_EQ(Render("{{ none }}{{ None }}{{ True }}{{ false }}[{{ missing }}]"),
            "NoneNoneTrueFalse[]");
}

TEST(JinjaExpressionsTest, StringLiteralEscapes) {
  EXPECT_EQ(Render("{{ 'a\\tb\\x41\\u00e9\\n' }}"), "a\tbA\xC3\xA9\n");
  EXPECT_EQ(Render("{{ 'a' 'b' \"c\" }}"), "abc");
  EXPECT_EQ(Render("{{ '\\d' }}"), "\\d");  // unknown escapes keep their backslash
}

TEST(JinjaExpressionsTest, DictKeysKeepInsertionOrder) {
  EXPECT_EQ(Render("{{ d }}", R"({"d": {"z": 1, "a": 2, "m": 3}})"), "{'z': 1, 'a': 2, 'm': 3}");
}

TEST(JinjaExpressionsTest, TypeErrorsAreReported) {
  EXPECT_NE(Render("{{ 'a' + 1 }}").find("can only concatenate str (not \"int\") to str"),
            std::string::npos);
  EXPECT_NE(Render("{{ 1 + 'a' }}").find("unsupported operand type(s) for +: 'int' and 'str'"),
            std::string::npos);
  EXPECT_NE(Render("{{ 1 / 0 }}").find("division by zero"), std::string::npos);
  EXPECT_NE(Render("{{ 1 < 'a' }}").find("not supported between instances of 'int' and 'str'"),
            std::string::npos);
  // Python would switch to a big integer; we refuse rather than print a wrong number.
  EXPECT_NE(Render("{{ 9223372036854775807 + 1 }}").find("overflow"), std::string::npos);
}

TEST(JinjaExpressionsTest, UndefinedSemantics) {
  // Printing, iterating, testing and default-ing an undefined value are fine...
  EXPECT_EQ(Render("[{{ x }}]{% for i in x %}no{% endfor %}{{ x is defined }}{{ x | default(1) }}"
                   "{{ x | length }}{{ x == x }}"),
            "[]False10True");
  // ...using its attributes, arithmetic or calling it is an error naming it.
  EXPECT_NE(Render("{{ x.y }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(Render("{{ x + 1 }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(Render("{{ x() }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(
      Render("{{ d.missing.y }}", R"({"d": {}})").find("'dict object' has no attribute 'missing'"),
      std::string::npos);
}

}  // namespace
}  // namespace stride::engine::text::jinja
