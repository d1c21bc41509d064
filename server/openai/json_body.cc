#include "server/openai/json_body.h"

#include "absl/strings/str_cat.h"
#include "server/openai/api_error.h"

namespace stride::server::openai {

int JsonNestingDepth(absl::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

absl::StatusOr<Json> ParseJsonObject(absl::string_view body, int max_depth) {
  if (body.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return InvalidParam("", "the request body is empty; expected a JSON object");
  }
  if (JsonNestingDepth(body, max_depth) > max_depth) {
    return InvalidParam(
        "", absl::StrCat("the request JSON is nested deeper than ", max_depth, " levels"));
  }
  Json value = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return InvalidParam("", "the request body is not valid JSON (or not valid UTF-8)");
  }
  if (!value.is_object()) {
    return InvalidParam(
        "", absl::StrCat("the request body must be a JSON object, not ", value.type_name()));
  }
  return value;
}

}  // namespace stride::server::openai
