// API-key checks for `--api-key`: `Authorization: Bearer <key>` compared in constant time, so
// the time a wrong key takes says nothing about how much of it matched.
#pragma once

#include "absl/strings/string_view.h"

namespace stride::server::http {

// Compares every byte of the longer input; the result depends only on equality.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// True when no key is configured, or `authorization` is "Bearer <api_key>".
bool AuthorizationMatches(absl::string_view authorization, absl::string_view api_key);

}  // namespace stride::server::http
