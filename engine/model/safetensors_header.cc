// Parses and validates a safetensors header; see safetensors_header.h.
#include "engine/model/safetensors_header.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {
namespace {

using nlohmann::json;

struct DTypeInfo {
  const char* name;
  int size;
  std::optional<DType> dtype;
};

constexpr DTypeInfo kDTypes[] = {
    {"F32", 4, DType::kF32},      {"F16", 2, DType::kF16},      {"BF16", 2, DType::kBF16},
    {"F64", 8, std::nullopt},     {"I64", 8, std::nullopt},     {"U64", 8, std::nullopt},
    {"I32", 4, std::nullopt},     {"U32", 4, std::nullopt},     {"I16", 2, std::nullopt},
    {"U16", 2, std::nullopt},     {"I8", 1, std::nullopt},      {"U8", 1, std::nullopt},
    {"BOOL", 1, std::nullopt},    {"F8_E4M3", 1, std::nullopt}, {"F8_E5M2", 1, std::nullopt},
    {"F8_E8M0", 1, std::nullopt},
};

class ErrorBuilder {
 public:
  explicit ErrorBuilder(std::string_view file_name) : file_name_(file_name) {}

  absl::Status File(std::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat("safetensors file ", std::string(file_name_), ": ", std::string(problem)));
  }
  absl::Status Tensor(std::string_view tensor, std::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat("safetensors file ", std::string(file_name_),
                                                   ": tensor '", std::string(tensor),
                                                   "': ", std::string(problem)));
  }

 private:
  std::string_view file_name_;
};

// A JSON integer that fits in [0, 2^63).
std::optional<uint64_t> NonNegativeInt(const json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (v <= static_cast<uint64_t>(INT64_MAX)) return v;
    return std::nullopt;
  }
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return std::nullopt;
}

absl::StatusOr<SafetensorsEntry> ParseEntry(const std::string& name, const json& value,
                                            uint64_t data_size, const ErrorBuilder& error) {
  if (!value.is_object()) return error.Tensor(name, "entry is not a JSON object");
  SafetensorsEntry entry;
  entry.name = name;

  auto dtype_it = value.find("dtype");
  if (dtype_it == value.end() || !dtype_it->is_string()) {
    return error.Tensor(name, "missing string field 'dtype'");
  }
  entry.dtype_name = dtype_it->get<std::string>();
  const DTypeInfo* info = nullptr;
  for (const DTypeInfo& candidate : kDTypes) {
    if (entry.dtype_name == candidate.name) info = &candidate;
  }
  if (info == nullptr) {
    return error.Tensor(name, absl::StrCat("unknown dtype '", entry.dtype_name, "'"));
  }
  entry.dtype = info->dtype;
  entry.element_size = info->size;

  auto shape_it = value.find("shape");
  if (shape_it == value.end() || !shape_it->is_array()) {
    return error.Tensor(name, "missing list field 'shape'");
  }
  uint64_t numel = 1;
  bool overflow = false;
  for (const json& dim : *shape_it) {
    std::optional<uint64_t> size = NonNegativeInt(dim);
    if (!size.has_value()) {
      return error.Tensor(name, absl::StrCat("shape must be a list of non-negative integers, got ",
                                             shape_it->dump()));
    }
    entry.shape.push_back(static_cast<int64_t>(*size));
    overflow = overflow || __builtin_mul_overflow(numel, *size, &numel);
  }
  uint64_t num_bytes = 0;
  overflow = overflow ||
             __builtin_mul_overflow(numel, static_cast<uint64_t>(entry.element_size), &num_bytes);

  auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return error.Tensor(name, "'data_offsets' must be a list [begin, end]");
  }
  std::optional<uint64_t> begin = NonNegativeInt((*offsets_it)[0]);
  std::optional<uint64_t> end = NonNegativeInt((*offsets_it)[1]);
  if (!begin.has_value() || !end.has_value() || *begin > *end) {
    return error.Tensor(name, absl::StrCat("'data_offsets' must be [begin, end] with 0 <= begin "
                                           "<= end, got ",
                                           offsets_it->dump()));
  }
  entry.begin = *begin;
  entry.end = *end;
  if (entry.end > data_size) {
    return error.Tensor(
        name, absl::StrCat("data_offsets end ", entry.end, " is past the end of the data section (",
                           data_size, " bytes)"));
  }
  if (overflow || num_bytes != entry.end - entry.begin) {
    return error.Tensor(
        name, absl::StrCat("byte size ", entry.end - entry.begin, " does not match shape ",
                           shape_it->dump(), " of ", entry.dtype_name));
  }
  return entry;
}

}  // namespace

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(std::string_view bytes, uint64_t file_size,
                                                         std::string_view file_name) {
  const ErrorBuilder error(file_name);
  if (file_size < 8) {
    return error.File(
        absl::StrCat("file is ", file_size, " bytes, shorter than the 8-byte header length"));
  }
  if (bytes.size() < 8) {
    return error.File(absl::StrCat("only ", bytes.size(), " bytes given for the 8-byte length"));
  }
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) {
    header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
  }
  if (header_length > kMaxSafetensorsHeaderBytes) {
    return error.File(absl::StrCat("header length ", header_length, " exceeds the limit of ",
                                   kMaxSafetensorsHeaderBytes, " bytes"));
  }
  if (header_length > file_size - 8) {
    return error.File(absl::StrCat("header length ", header_length,
                                   " runs past the end of the file (", file_size, " bytes)"));
  }
  if (bytes.size() - 8 < header_length) {
    return error.File(absl::StrCat("only ", bytes.size(), " bytes given for a header of ",
                                   header_length, " bytes"));
  }

  const std::string_view text = bytes.substr(8, header_length);
  json root = json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return error.File("header is not valid JSON");
  if (!root.is_object()) return error.File("header is not a JSON object");

  SafetensorsHeader header;
  header.data_offset = 8 + header_length;
  header.data_size = file_size - header.data_offset;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) return error.File("'__metadata__' is not a JSON object");
      continue;
    }
    absl::StatusOr<SafetensorsEntry> entry = ParseEntry(name, value, header.data_size, error);
    if (!entry.ok()) return entry.status();
    header.tensors.push_back(*std::move(entry));
  }

  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  // Empty tensors occupy no bytes and cannot overlap anything.
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& entry : header.tensors) {
    if (entry.begin == entry.end) continue;
    if (previous != nullptr && entry.begin < previous->end) {
      return error.Tensor(entry.name, absl::StrCat("bytes [", entry.begin, ", ", entry.end,
                                                   ") overlap tensor '", previous->name, "' [",
                                                   previous->begin, ", ", previous->end, ")"));
    }
    previous = &entry;
  }
  return header;
}

}  // namespace stride::engine::model
