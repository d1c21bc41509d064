// Errors: unsupported or malformed syntax fails at parse time with the construct and its line
// and column; runtime errors carry the template's message; render limits stop runaway templates
// (deep nesting, huge loops, huge output, unbounded recursion) with an error instead of a crash.
#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/template.h"
#include "gtest/gtest.h"

namespace stride::engine::text::jinja {
namespace {

absl::Status ParseError(const std::string& source) {
  auto t = Template::Parse(source);
  return t.status();
}

absl::Status RenderError(const std::string& source, RenderLimits limits = RenderLimits()) {
  auto t = Template::Parse(source);
  if (!t.ok()) return t.status();
  return t->Render({}, limits).status();
}

void ExpectMessage(const absl::Status& status, const std::string& fragment) {
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find(fragment), std::string::npos)
      << "message: " << status.message() << "\nwanted: " << fragment;
}

TEST(JinjaErrorsTest, UnsupportedTagsNameTheTagAndPosition) {
  ExpectMessage(ParseError("{% include 'x' %}"), "line 1, column 4: unsupported tag 'include'");
  ExpectMessage(ParseError("a\nb {% extends 'x' %}"),
                "line 2, column 6: unsupported tag 'extends'");
  ExpectMessage(ParseError("{% call foo() %}{% endcall %}"), "unsupported tag 'call'");
  ExpectMessage(ParseError("{% do x.append(1) %}"), "unsupported tag 'do'");
  ExpectMessage(ParseError("{% frobnicate %}"), "unknown tag 'frobnicate'");
  ExpectMessage(ParseError("{% for x in y recursive %}{% endfor %}"), "recursive for loops");
  ExpectMessage(ParseError("{{ f(*args) }}"), "*args");
}

TEST(JinjaErrorsTest, UnknownFiltersFailAtParseTime) {
  ExpectMessage(ParseError("\n  {{ x | nosuchfilter }}"),
                "line 2, column 10: unknown filter 'nosuchfilter'");
}

TEST(JinjaErrorsTest, MalformedTemplates) {
  ExpectMessage(ParseError("{% if x %}"), "unexpected end of template, expected");
  ExpectMessage(ParseError("{{ 'abc }}"), "unterminated string literal");
  ExpectMessage(ParseError("{{ x "), "missing '}}'");
  ExpectMessage(ParseError("{# never closed"), "missing end of comment tag");
  ExpectMessage(ParseError("{% break %}"), "'break' outside of a for loop");
  ExpectMessage(ParseError("{{ 1 + }}"), "expected an expression");
  ExpectMessage(ParseError("{{ a ] }}"), "unexpected ']'");
  ExpectMessage(ParseError("{% endif %}"), "unknown tag 'endif'");
  ExpectMessage(ParseError("{{ x @ y }}"), "unexpected character '@'");
  ExpectMessage(ParseError("{% macro m(a=1, b) %}{% endmacro %}"), "non-default argument");
}

TEST(JinjaErrorsTest, DeepNestingIsRefused) {
  ExpectMessage(ParseError("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}"),
                "nested");
  ExpectMessage(ParseError("{{ " + std::string(300, '-') + "1 }}"), "nested");
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "{% if true %}";
  for (int i = 0; i < 300; ++i) ifs += "{% endif %}";
  ExpectMessage(ParseError(ifs), "nested");
  // Long left-nested chains nest the tree as deeply as brackets do.
  std::string sum = "{{ 1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  ExpectMessage(ParseError(sum + " }}"), "nested");
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 5000; ++i) filters += " | upper";
  ExpectMessage(ParseError(filters + " }}"), "nested");
  // A realistic chain is fine.
  std::string short_sum = "{{ 1";
  for (int i = 0; i < 40; ++i) short_sum += " + 1";
  auto t = Template::Parse(short_sum + " }}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Render({}), "41");
}

TEST(JinjaErrorsTest, RaiseExceptionCarriesTheMessage) {
  const absl::Status s =
      RenderError("ok{{ raise_exception('Conversation roles must alternate') }}");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ExpectMessage(s, "TemplateError: Conversation roles must alternate");
  ExpectMessage(s, "line 1, column");
}

TEST(JinjaErrorsTest, RuntimeErrorsNameTheLine) {
  ExpectMessage(RenderError("a\n\n{{ missing.x }}"),
                "line 3, column 11: UndefinedError: 'missing' is undefined");
}

TEST(JinjaErrorsTest, StepBudgetStopsHugeLoops) {
  RenderLimits limits;
  limits.max_steps = 100000;
  const absl::Status s = RenderError(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
}

TEST(JinjaErrorsTest, OutputLimitStopsHugeOutput) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  const absl::Status s = RenderError(
      "{% set s = 'x' * 1000 %}{% for i in range(100000) %}{{ s }}{% endfor %}", limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  // Doubling a string in a namespace hits the size limit, not the machine's memory.
  EXPECT_EQ(RenderError("{% set ns = namespace(s='x') %}{% for i in range(100) %}"
                        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                        limits)
                .code(),
            absl::StatusCode::kResourceExhausted);
  // So does a list of many references to one big string, before anything prints it.
  EXPECT_EQ(RenderError("{% set s = 'x' * 100000 %}{{ [s] * 1000 }}", limits).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(JinjaErrorsTest, RangeIsCappedAsInTheSandbox) {
  ExpectMessage(RenderError("{{ range(1000000) | length }}"), "Range too big");
}

TEST(JinjaErrorsTest, UnboundedMacroRecursionStops) {
  const absl::Status s = RenderError("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
}

TEST(JinjaErrorsTest, DeeplyNestedValuesAreRefused) {
  ExpectMessage(RenderError("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}"
                            "{% set ns.l = [ns.l] %}{% endfor %}"),
                "nested deeper");
}

TEST(JinjaErrorsTest, NamespacesCannotReferToNamespaces) {
  ExpectMessage(RenderError("{% set ns = namespace() %}{% set ns.me = [ns] %}"), "namespace");
}

}  // namespace
}  // namespace stride::engine::text::jinja
