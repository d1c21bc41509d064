// The header of a safetensors file: 8-byte little-endian length, then a JSON object mapping tensor
// names to {dtype, shape, data_offsets}. ParseSafetensorsHeader is pure (bytes in, table out, no
// I/O) so that SafetensorsFile and the fuzz target tests/fuzz/safetensors_header_fuzz.cc share it.
// Every inconsistency is an InvalidArgument naming the file and, where there is one, the tensor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/weights.h"

namespace stride::engine::model {

// Larger headers are rejected before parsing (the safetensors format sets the same bound).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;

struct SafetensorsEntry {
  std::string name;
  std::string dtype_name;      // as written: "BF16", "I64", ...
  std::optional<DType> dtype;  // set for the dtypes the engine computes with (F32, F16, BF16)
  int element_size = 0;        // bytes per element of dtype_name
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte range inside the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;  // where the data section starts in the file: 8 + header length
  uint64_t data_size = 0;    // file size - data_offset
  std::vector<SafetensorsEntry> tensors;  // sorted by begin
};

// `bytes` is the start of the file (at least 8 + header length bytes; the whole file is fine) and
// `file_size` the size of the whole file; `file_name` only labels error messages. Tensors of any
// safetensors dtype are accepted here (their sizes are checked); an unknown dtype is an error.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(std::string_view bytes, uint64_t file_size,
                                                         std::string_view file_name);

}  // namespace stride::engine::model
