// API-key check for gRPC calls: the key travels as the metadata `authorization: Bearer KEY`
// (the same header the OpenAI HTTP API uses). Compared in time that does not depend on where
// a wrong key differs.
#pragma once

#include <map>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/support/string_ref.h"

namespace stride::server::grpc {

// OK when `api_key` is empty (no authentication) or the metadata carries it; UNAUTHENTICATED
// otherwise.
absl::Status CheckApiKey(const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata,
                         std::string_view api_key);

// Equality whose running time depends only on the lengths.
bool ConstantTimeEquals(std::string_view given, std::string_view expected);

}  // namespace stride::server::grpc
