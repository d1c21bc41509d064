#include "server/grpc/api_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace stride::server::grpc {

bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() != expected.size() ? 1 : 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

absl::Status CheckApiKey(const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata,
                         std::string_view api_key) {
  if (api_key.empty()) return absl::OkStatus();
  // gRPC lower-cases metadata keys on the wire.
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <key>' metadata");
  }
  // Debian's Abseil has its own string_view type.
  absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("the authorization metadata must be 'Bearer <key>'");
  }
  absl::string_view key = absl::StripAsciiWhitespace(value.substr(kScheme.size()));
  if (!ConstantTimeEquals(std::string_view(key.data(), key.size()), api_key))
    return absl::UnauthenticatedError("invalid API key");
  return absl::OkStatus();
}

}  // namespace stride::server::grpc
