// Statements of the interpreter: for (loop variables, else, filters, unpacking, break/continue),
// if/elif/else, set (scoping, namespaces, tuples, blocks), macros, filter and with blocks.
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

TEST(JinjaStatementsTest, LoopVariables) {
  EXPECT_EQ(Render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}"
                   "{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}|"
                   "{% endfor %}"),
            "10TrueFalse332|21FalseFalse321|32FalseTrue310|");
}

TEST(JinjaStatementsTest, PrevAndNextItem) {
  EXPECT_EQ(Render("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}"),
            "-2;1-3;2-;");
}

TEST(JinjaStatementsTest, LoopCycle) {
  EXPECT_EQ(Render("{% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "aba");
}

TEST(JinjaStatementsTest, ForElseRunsOnlyWithoutIterations) {
  EXPECT_EQ(Render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(Render("{% for x in [1] %}x{% else %}empty{% endfor %}"), "x");
  EXPECT_EQ(Render("{% for x in missing %}x{% else %}none{% endfor %}"), "none");
}

TEST(JinjaStatementsTest, ForWithFilterCountsOnlyKeptItems) {
  EXPECT_EQ(Render("{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}:{{ x }}/"
                   "{{ loop.length }} {% endfor %}"),
            "1:2/2 2:4/2 ");
}

TEST(JinjaStatementsTest, TupleUnpackingAndDictIteration) {
  EXPECT_EQ(Render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"),
            "a=1;b=2;");
  EXPECT_EQ(Render("{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}"), "xy");
  EXPECT_EQ(Render("{% for c in 'hé' %}[{{ c }}]{% endfor %}"), "[h][é]");
  EXPECT_EQ(Render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}"), "3 7 ");
}

TEST(JinjaStatementsTest, UnpackingTheWrongNumberOfValuesFails) {
  EXPECT_NE(Render("{% for a, b in [[1, 2, 3]] %}{% endfor %}").find("too many values to unpack"),
            std::string::npos);
  EXPECT_NE(Render("{% for a, b in [[1]] %}{% endfor %}").find("not enough values to unpack"),
            std::string::npos);
}

TEST(JinjaStatementsTest, BreakAndContinue) {
  EXPECT_EQ(Render("{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}"
                   "{% endfor %}"),
            "012");
  EXPECT_EQ(Render("{% for i in range(5) %}{% if i is odd %}{% continue %}{% endif %}{{ i }}"
                   "{% endfor %}"),
            "024");
  // break leaves only the inner loop.
  EXPECT_EQ(Render("{% for i in [1, 2] %}{% for j in [1, 2, 3] %}{% if j == 2 %}{% break %}"
                   "{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}"),
            "11 21 ");
}

TEST(JinjaStatementsTest, IfElifElse) {
  const std::string t =
      "{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}many{% endif %}";
  EXPECT_EQ(Render(t, R"({"x": 1})"), "one");
  EXPECT_EQ(Render(t, R"({"x": 3})"), "three");
  EXPECT_EQ(Render(t, R"({"x": 9})"), "many");
}

TEST(JinjaStatementsTest, SetInsideALoopDoesNotLeak) {
  EXPECT_EQ(Render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"),
            "21");
}

TEST(JinjaStatementsTest, SetInsideIfDoesLeak) {
  EXPECT_EQ(Render("{% if true %}{% set x = 5 %}{% endif %}{{ x }}"), "5");
}

TEST(JinjaStatementsTest, NamespaceCarriesStateOutOfLoops) {
  EXPECT_EQ(Render("{% set ns = namespace(x=1, seen=false) %}{% for i in [1, 2, 3] %}"
                   "{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }} {{ ns.seen }}"),
            "7 False");
  EXPECT_EQ(Render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}|"),
            "12|");
}

TEST(JinjaStatementsTest, AssigningAnAttributeOfANonNamespaceFails) {
  EXPECT_NE(Render("{% set d = {} %}{% set d.x = 1 %}").find("non-namespace"), std::string::npos);
}

TEST(JinjaStatementsTest, TupleAssignment) {
  EXPECT_EQ(Render("{% set a, b = 1, 2 %}{{ b }}{{ a }}"), "21");
}

TEST(JinjaStatementsTest, BlockSet) {
  EXPECT_EQ(Render("{% set x %}a{{ 1 + 1 }}b{% endset %}[{{ x }}]"), "[a2b]");
  EXPECT_EQ(Render("{% set x | upper %}ab{% endset %}{{ x }}"), "AB");
}

TEST(JinjaStatementsTest, Macros) {
  EXPECT_EQ(Render("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!"
                   "{% endmacro %}{{ greet('Bob') }} {{ greet('Amy', greeting='Hi') }}"),
            "Hello, Bob! Hi, Amy!");
  EXPECT_EQ(Render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                   "{{ f(3) }}"),
            "321");
  // Missing arguments without defaults are undefined; macros see template-level variables.
  EXPECT_EQ(Render("{% set g = '!' %}{% macro m(a, b) %}{{ a }}[{{ b }}]{{ g }}{% endmacro %}"
                   "{{ m(1) }}"),
            "1[]!");
}

TEST(JinjaStatementsTest, MacroArgumentErrors) {
  EXPECT_NE(Render("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").find("takes not more than 1"),
            std::string::npos);
  EXPECT_NE(Render("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}").find("no keyword argument 'b'"),
            std::string::npos);
}

TEST(JinjaStatementsTest, FilterBlock) {
  EXPECT_EQ(Render("{% filter upper %}hello {{ 'world' }}{% endfilter %}"), "HELLO WORLD");
  EXPECT_EQ(Render("{% filter replace('a', 'b') | upper %}aXa{% endfilter %}"), "BXB");
}

TEST(JinjaStatementsTest, WithBlockScopes) {
  EXPECT_EQ(Render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]"), "3[]");
}

TEST(JinjaStatementsTest, GenerationBlockRendersItsBody) {
  EXPECT_EQ(Render("a{% generation %}b{{ 1 }}{% endgeneration %}c"), "ab1c");
}

TEST(JinjaStatementsTest, NestedLoopsShadowLoop) {
  EXPECT_EQ(Render("{% for i in [1, 2] %}{% set outer = loop %}{% for j in [1, 2] %}"
                   "{{ outer.index }}{{ loop.index }} {% endfor %}{% endfor %}"),
            "11 12 21 22 ");
}

}  // namespace
}  // namespace stride::engine::text::jinja
