// A safetensors file mapped read-only into memory, with its validated header. The weight loader
// opens each checkpoint file once through this and hands out TensorViews pointing into the
// mapping; the mapping lives until the SafetensorsFile is destroyed (WeightStorage owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/model/safetensors_header.h"
#include "engine/model/weights.h"

namespace stride::engine::model {

class SafetensorsFile {
 public:
  // Maps `path` and validates its header. Errors (I/O or format) name the file.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }

  // nullptr when the file has no tensor of that name.
  const SafetensorsEntry* Find(std::string_view name) const;

  // A view of the named tensor: NotFound when absent, InvalidArgument when its dtype is not one
  // the engine computes with (F32, F16, BF16). Messages name the file and the tensor.
  absl::StatusOr<TensorView> Tensor(std::string_view name) const;

 private:
  SafetensorsFile(std::string path, const unsigned char* mapping, uint64_t size,
                  SafetensorsHeader header);

  std::string path_;
  const unsigned char* mapping_;
  uint64_t size_;
  SafetensorsHeader header_;
  absl::flat_hash_map<std::string, size_t> index_;  // name -> position in header_.tensors
};

}  // namespace stride::engine::model
