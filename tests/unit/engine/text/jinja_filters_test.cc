// Built-in filters with jinja2's semantics and transformers' tojson (json.dumps with
// ensure_ascii=False: ", " and ": " separators, no HTML escaping, optional indent/sort_keys).
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

TEST(JinjaFiltersTest, Trim) {
  EXPECT_EQ(Render("[{{ '  x \\n' | trim }}] {{ 'xxhixx' | trim('x') }}"), "[x] hi");
  EXPECT_EQ(Render("[{{ none | trim }}]"), "[None]");
}

TEST(JinjaFiltersTest, ToJsonMatchesPythonJsonDumps) {
  EXPECT_EQ(Render("{{ {'b': 1, 'a': [1.0, 'é', none, true, 2.5e-7]} | tojson }}"),
            R"({"b": 1, "a": [1.0, "é", null, true, 2.5e-07]})");
  EXPECT_EQ(Render("{{ 'a\"b\\\\c\\n<&>\\x01' | tojson }}"), R"("a\"b\\c\n<&>\u0001")");
  EXPECT_EQ(Render("{{ 'é😀' | tojson(ensure_ascii=true) }}"), R"("\u00e9\ud83d\ude00")");
  EXPECT_EQ(Render("{{ {'a': [1, 2], 'b': {}} | tojson(indent=2) }}"),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
  EXPECT_EQ(Render("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true, separators=(',', ':')) }}"),
            R"({"a":2,"b":1})");
  EXPECT_EQ(Render("{{ d | tojson }}", R"({"d": {"z": [], "a": {"k": "v"}}})"),
            R"({"z": [], "a": {"k": "v"}})");
  EXPECT_NE(Render("{{ missing | tojson }}").find("not JSON serializable"), std::string::npos);
}

TEST(JinjaFiltersTest, Length) {
  EXPECT_EQ(Render("{{ 'héllo' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} "
                   "{{ missing | length }}"),
            "5 2 1 0");
  EXPECT_NE(Render("{{ 5 | length }}").find("has no len()"), std::string::npos);
}

TEST(JinjaFiltersTest, CaseFilters) {
  EXPECT_EQ(Render("{{ 'hello WORLD' | capitalize }}|{{ 'hello big-world (x)y' | title }}|"
                   "{{ 'ab' | upper }}|{{ 'ÀB' | lower }}"),
            "Hello world|Hello Big-World (X)y|AB|àb");
}

TEST(JinjaFiltersTest, ReplaceAndJoin) {
  EXPECT_EQ(Render("{{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '-') }}"),
            "bba -a-b-");
  EXPECT_EQ(Render("{{ [1, 'a', none] | join(', ') }}|{{ ['x', 'y'] | join }}"), "1, a, None|xy");
  EXPECT_EQ(Render("{{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }}"), "x-y");
}

TEST(JinjaFiltersTest, Default) {
  EXPECT_EQ(
      Render("{{ missing | default('d') }} [{{ '' | default('d') }}] {{ '' | default('d', true) }} "
             "{{ none | d('x') }}"),
      "d [] d None");
}

TEST(JinjaFiltersTest, ItemsFirstLastList) {
  EXPECT_EQ(Render("{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}{{ v }}{% endfor %}"), "a1b2");
  EXPECT_EQ(
      Render("{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ 'abc' | first }}[{{ [] | first }}]"),
      "13a[]");
  EXPECT_EQ(Render("{{ 'ab' | list }} {{ {'k': 1} | list }}"), "['a', 'b'] ['k']");
}

TEST(JinjaFiltersTest, Conversions) {
  EXPECT_EQ(Render("{{ '42' | int + 1 }} {{ '3.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} "
                   "{{ ' 12 ' | int }} {{ 2.7 | int }} {{ '0x1A' | int(base=16) }}"),
            "43 3 0 7 12 2 26");
  EXPECT_EQ(Render("{{ '2.5' | float }} {{ 3 | float }} {{ 'x' | float }} {{ 1 | string ~ 2 }}"),
            "2.5 3.0 0.0 12");
}

TEST(JinjaFiltersTest, Numbers) {
  EXPECT_EQ(Render("{{ -2.5 | abs }} {{ -3 | abs }}"), "2.5 3");
  // Python's round() rounds half to even, on the exact binary value.
  EXPECT_EQ(
      Render("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} "
             "{{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 3 | round }}"),
      "2.0 4.0 2.67 3.0 2.0 3");
}

TEST(JinjaFiltersTest, Indent) {
  EXPECT_EQ(Render("{{ 'a\\nb\\n\\nc' | indent(2) }}"), "a\n  b\n\n  c");
  EXPECT_EQ(Render("{{ 'a\\nb' | indent(2, true) }}"), "  a\n  b");
  EXPECT_EQ(Render("{{ 'a\\n\\nb' | indent(2, blank=true) }}"), "a\n  \n  b");
  EXPECT_EQ(Render("{{ 'a\\nb' | indent('> ') }}"), "a\n> b");
}

TEST(JinjaFiltersTest, MapSelectReject) {
  EXPECT_EQ(Render("{{ [{'n': 1}, {'n': 2}] | map(attribute='n') | list }}"), "[1, 2]");
  EXPECT_EQ(Render("{{ [{'n': 1}, {}] | map(attribute='n', default=0) | list }}"), "[1, 0]");
  EXPECT_EQ(Render("{{ ['a', 'b'] | map('upper') | join }}"), "AB");
  EXPECT_EQ(
      Render("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} "
             "{{ [0, 1, '', 'a'] | select | list }} {{ [1, 5, 3] | select('gt', 2) | list }}"),
      "[1, 3] [2, 4] [1, 'a'] [5, 3]");
  const std::string msgs =
      R"({"m": [{"role": "user", "content": "a"}, {"role": "sys", "content": "b"},
                {"role": "user", "content": "c"}]})";
  EXPECT_EQ(Render("{{ m | selectattr('role', 'equalto', 'user') | map(attribute='content') | "
                   "join(',') }}",
                   msgs),
            "a,c");
  EXPECT_EQ(Render("{{ m | rejectattr('role', 'eq', 'user') | list | length }}", msgs), "1");
  EXPECT_EQ(Render("{{ [{'a': 0}, {'a': 1}] | rejectattr('a') | list }}"), "[{'a': 0}]");
}

TEST(JinjaFiltersTest, GeneratorsAreAlwaysTruthyAndHaveNoLength) {
  // jinja2's select/map/... return generators: `if` sees them as true even when empty.
  EXPECT_EQ(Render("{% if [] | select %}yes{% else %}no{% endif %}"), "yes");
  EXPECT_EQ(Render("{% if [] | select | list %}yes{% else %}no{% endif %}"), "no");
  EXPECT_NE(Render("{{ [1] | map('string') | length }}").find("has no len()"), std::string::npos);
}

TEST(JinjaFiltersTest, UniqueSortReverse) {
  EXPECT_EQ(Render("{{ ['a', 'A', 'b', 'a'] | unique | list }} "
                   "{{ ['a', 'A'] | unique(case_sensitive=true) | list }}"),
            "['a', 'b'] ['a', 'A']");
  EXPECT_EQ(Render("{{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} "
                   "{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') }}"),
            "['A', 'b', 'c'] [3, 2, 1] [{'n': 1}, {'n': 2}]");
  EXPECT_EQ(Render("{{ 'abc' | reverse }} {{ [1, 2, 3] | reverse | list }}"), "cba [3, 2, 1]");
  EXPECT_EQ(Render("{{ {'b': 1, 'a': 2} | dictsort }}"), "[('a', 2), ('b', 1)]");
}

TEST(JinjaFiltersTest, Aggregates) {
  EXPECT_EQ(Render("{{ [1, 2, 3] | sum }} {{ [3, 1, 2] | min }} {{ ['a', 'B'] | max }} "
                   "{{ [{'v': 2}, {'v': 5}] | sum(attribute='v') }}"),
            "6 1 B 7");
  EXPECT_EQ(Render("{{ [1, 2, 3] | batch(2) | list }}"), "[[1, 2], [3]]");
}

TEST(JinjaFiltersTest, TextFilters) {
  EXPECT_EQ(Render("{{ '<a href=\"x\">&\\'' | e }}"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
  EXPECT_EQ(Render("{{ 'hello, big world_x 42' | wordcount }}"), "4");
  EXPECT_EQ(Render("{{ 'ab' | center(6) }}|{{ 'abc' | center(6) }}|"), "  ab  | abc  |");
  EXPECT_EQ(Render("{{ '%s-%d' | format('a', 3) }} {{ 'x' | safe }}"), "a-3 x");
  EXPECT_EQ(Render("{{ 'hello world foo' | truncate(9, leeway=0) }}"), "hello...");
}

}  // namespace
}  // namespace stride::engine::text::jinja
