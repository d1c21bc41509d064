#include "engine/text/jinja/value_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/text/jinja/eval_context.h"
#include "engine/text/jinja/unicode.h"
#include "engine/text/jinja/value_repr.h"

namespace stride::engine::text::jinja {
namespace {

absl::StatusOr<Value> Convert(const nlohmann::ordered_json& json, int depth) {
  if (depth > kMaxValueDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", kMaxValueDepth, " levels"));
  }
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
    case nlohmann::ordered_json::value_t::discarded:
      return Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::Int(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::Float(static_cast<double>(u));
      }
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::Float(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::String(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) {
        STRIDE_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictData dict;
      for (const auto& [key, item] : json.items()) {
        STRIDE_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1));
        dict.Set(Value::String(key), std::move(v));
      }
      return Value::Dict(std::move(dict));
    }
    case nlohmann::ordered_json::value_t::binary:
      break;
  }
  return absl::InvalidArgumentError("binary JSON values are not supported");
}

void AppendJsonString(std::string_view s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  char buf[16];
  for (char32_t cp : DecodeCodepoints(s)) {
    switch (cp) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
      if (cp > 0xFFFF) {
        const char32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
      }
      out->append(buf);
    } else {
      AppendCodepoint(cp, out);
    }
  }
  out->push_back('"');
}

std::string JsonFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return PyFloatRepr(d);
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonDumpOptions& options) : options_(options) {
    item_separator_ = options.item_separator.value_or(options.indent ? "," : ", ");
  }

  absl::Status Write(const Value& v, int level, std::string* out) {
    switch (v.kind()) {
      case ValueKind::kNone:
        out->append("null");
        return absl::OkStatus();
      case ValueKind::kBool:
        out->append(v.as_bool() ? "true" : "false");
        return absl::OkStatus();
      case ValueKind::kInt:
        absl::StrAppend(out, v.as_int());
        return absl::OkStatus();
      case ValueKind::kFloat:
        out->append(JsonFloat(v.as_float()));
        return absl::OkStatus();
      case ValueKind::kString:
        AppendJsonString(v.str(), options_.ensure_ascii, out);
        return absl::OkStatus();
      case ValueKind::kList: {
        if (v.is_iterator()) break;
        const auto& items = v.items();
        if (items.empty()) {
          out->append("[]");
          return absl::OkStatus();
        }
        out->push_back('[');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out->append(item_separator_);
          NewLine(level + 1, out);
          STRIDE_RETURN_IF_ERROR(Write(items[i], level + 1, out));
        }
        NewLine(level, out);
        out->push_back(']');
        return absl::OkStatus();
      }
      case ValueKind::kDict:
        return WriteDict(v.dict(), level, out);
      default:
        break;
    }
    return TypeError(absl::StrCat("Object of type ", TypeName(v), " is not JSON serializable"));
  }

 private:
  void NewLine(int level, std::string* out) {
    if (!options_.indent) return;
    out->push_back('\n');
    for (int i = 0; i < level; ++i) out->append(*options_.indent);
  }

  static absl::StatusOr<std::string> KeyText(const Value& key) {
    switch (key.kind()) {
      case ValueKind::kString:
        return key.str();
      case ValueKind::kNone:
        return std::string("null");
      case ValueKind::kBool:
        return std::string(key.as_bool() ? "true" : "false");
      case ValueKind::kInt:
        return absl::StrCat(key.as_int());
      case ValueKind::kFloat:
        return JsonFloat(key.as_float());
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("keys must be str, int, float, bool or None, not ", TypeName(key)));
    }
  }

  absl::Status WriteDict(const DictData& dict, int level, std::string* out) {
    if (dict.size() == 0) {
      out->append("{}");
      return absl::OkStatus();
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& entry : dict.entries()) entries.push_back(&entry);
    if (options_.sort_keys) {
      const bool all_strings = std::all_of(entries.begin(), entries.end(),
                                           [](const auto* e) { return e->first.is_string(); });
      const bool all_numbers = std::all_of(entries.begin(), entries.end(),
                                           [](const auto* e) { return e->first.is_number(); });
      if (all_strings) {
        std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
          return a->first.str() < b->first.str();
        });
      } else if (all_numbers) {
        std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
          return a->first.as_number() < b->first.as_number();
        });
      } else {
        return absl::InvalidArgumentError("'<' not supported between dict keys of different types");
      }
    }
    out->push_back('{');
    bool first = true;
    for (const auto* entry : entries) {
      if (!first) out->append(item_separator_);
      first = false;
      NewLine(level + 1, out);
      STRIDE_ASSIGN_OR_RETURN(std::string key, KeyText(entry->first));
      AppendJsonString(key, options_.ensure_ascii, out);
      out->append(options_.key_separator);
      STRIDE_RETURN_IF_ERROR(Write(entry->second, level + 1, out));
    }
    NewLine(level, out);
    out->push_back('}');
    return absl::OkStatus();
  }

  const JsonDumpOptions& options_;
  std::string item_separator_;
};

}  // namespace

absl::StatusOr<Value> ValueFromJson(const nlohmann::ordered_json& json) { return Convert(json, 0); }

absl::StatusOr<std::string> DumpJson(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  JsonWriter writer(options);
  STRIDE_RETURN_IF_ERROR(writer.Write(value, 0, &out));
  return out;
}

}  // namespace stride::engine::text::jinja
