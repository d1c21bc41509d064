#include "engine/text/jinja/filters.h"

#include "absl/container/flat_hash_map.h"

namespace stride::engine::text::jinja {

FilterFunction FindFilter(std::string_view name) {
  static const auto* kFilters = new absl::flat_hash_map<std::string_view, FilterFunction>{
      {"abs", filters::Abs},           {"attr", filters::Attr},
      {"batch", filters::Batch},       {"capitalize", filters::Capitalize},
      {"center", filters::Center},     {"count", filters::Length},
      {"d", filters::Default},         {"default", filters::Default},
      {"dictsort", filters::DictSort}, {"e", filters::Escape},
      {"escape", filters::Escape},     {"first", filters::First},
      {"float", filters::Float},       {"forceescape", filters::Escape},
      {"format", filters::Format},     {"indent", filters::Indent},
      {"int", filters::Int},           {"items", filters::Items},
      {"join", filters::Join},         {"last", filters::Last},
      {"length", filters::Length},     {"list", filters::List},
      {"lower", filters::Lower},       {"map", filters::Map},
      {"max", filters::Max},           {"min", filters::Min},
      {"reject", filters::Reject},     {"rejectattr", filters::RejectAttr},
      {"replace", filters::Replace},   {"reverse", filters::Reverse},
      {"round", filters::Round},       {"safe", filters::Safe},
      {"select", filters::Select},     {"selectattr", filters::SelectAttr},
      {"sort", filters::Sort},         {"string", filters::String},
      {"sum", filters::Sum},           {"title", filters::Title},
      {"tojson", filters::ToJson},     {"trim", filters::Trim},
      {"truncate", filters::Truncate}, {"unique", filters::Unique},
      {"upper", filters::Upper},       {"wordcount", filters::WordCount},
  };
  auto it = kFilters->find(name);
  return it == kFilters->end() ? nullptr : it->second;
}

}  // namespace stride::engine::text::jinja
