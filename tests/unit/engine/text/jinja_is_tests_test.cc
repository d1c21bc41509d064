// The `is` tests.
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

TEST(JinjaIsTestsTest, TypeTests) {
  EXPECT_EQ(Render("{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ x is not none }} "
                   "{{ 'a' is string }} {{ {} is mapping }} {{ [] is mapping }}",
                   R"({"x": 1})"),
            "True True True True True True False");
  EXPECT_EQ(
      Render("{{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ '1' is number }} "
             "{{ 1 is integer }} {{ 1.0 is integer }} {{ true is integer }} {{ 1.0 is float }}"),
      "True True True False True False False True");
  EXPECT_EQ(Render("{{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 1 is true }} "
                   "{{ false is false }} {{ 0 is false }}"),
            "True False True False True False");
}

TEST(JinjaIsTestsTest, ContainerTests) {
  EXPECT_EQ(Render("{{ [] is iterable }} {{ 'a' is iterable }} {{ {} is iterable }} "
                   "{{ 1 is iterable }} {{ none is iterable }}"),
            "True True True False False");
  EXPECT_EQ(Render("{{ 'a' is sequence }} {{ (1, 2) is sequence }} {{ {} is sequence }} "
                   "{{ 1 is sequence }}"),
            "True True True False");
}

TEST(JinjaIsTestsTest, NumberTests) {
  EXPECT_EQ(Render("{{ 4 is even }} {{ 3 is odd }} {{ 3 is even }} {{ 9 is divisibleby 3 }} "
                   "{{ 9 is divisibleby(2) }} {{ -3 is odd }}"),
            "True True False True False True");
}

TEST(JinjaIsTestsTest, ComparisonTests) {
  EXPECT_EQ(Render("{{ 2 is eq 2 }} {{ 2 is equalto 3 }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} "
                   "{{ 2 is ge 2 }} {{ 2 is ne 2 }} {{ 'a' is in 'abc' }} {{ 'a' is in ['b'] }}"),
            "True False True False True False True False");
}

TEST(JinjaIsTestsTest, StringCaseAndOthers) {
  EXPECT_EQ(Render("{{ 'abc' is lower }} {{ 'aBc' is lower }} {{ 'ABC' is upper }} "
                   "{{ range is callable }} {{ 'x' is callable }} {{ none is sameas none }}"),
            "True False True True False True");
  EXPECT_EQ(Render("{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }}"),
            "True False True");
}

TEST(JinjaIsTestsTest, UnknownTestIsAParseError) {
  EXPECT_NE(Render("{{ 1 is frobnicated }}").find("unknown test 'frobnicated'"), std::string::npos);
}

}  // namespace
}  // namespace stride::engine::text::jinja
