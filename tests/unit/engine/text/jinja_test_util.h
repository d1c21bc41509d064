// Shared by the jinja_*_test.cc files: renders a template with variables given as JSON and
// returns the output, or "PARSE ERROR: ..." / "ERROR: ..." so tests can assert on messages too.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/template.h"
#include "engine/text/jinja/value_json.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text::jinja::testing {

inline std::string Render(const std::string& source, const std::string& vars_json = "{}") {
  auto t = Template::Parse(source);
  if (!t.ok()) return "PARSE ERROR: " + std::string(t.status().message());
  std::vector<std::pair<std::string, Value>> vars;
  const nlohmann::ordered_json json = nlohmann::ordered_json::parse(vars_json);
  for (const auto& [key, value] : json.items()) {
    vars.emplace_back(key, *ValueFromJson(value));
  }
  auto r = t->Render(vars);
  if (!r.ok()) return "ERROR: " + std::string(r.status().message());
  return *r;
}

}  // namespace stride::engine::text::jinja::testing
