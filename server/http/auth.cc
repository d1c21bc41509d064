#include "server/http/auth.h"

#include <algorithm>

namespace stride::server::http {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  // volatile keeps the compiler from turning the loop into an early-exit comparison.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

bool AuthorizationMatches(absl::string_view authorization, absl::string_view api_key) {
  if (api_key.empty()) return true;
  constexpr absl::string_view kBearer = "Bearer ";
  absl::string_view presented;
  if (authorization.size() >= kBearer.size() &&
      authorization.substr(0, kBearer.size()) == kBearer) {
    presented = authorization.substr(kBearer.size());
  }
  return ConstantTimeEquals(presented, api_key);
}

}  // namespace stride::server::http
