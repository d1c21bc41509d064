// Owns the memory behind a ModelWeights' TensorViews: mapped safetensors files (unmapped on
// destruction) and heap buffers (dummy weights). ModelWeights holds it by shared_ptr, so views
// stay valid for as long as any copy of the ModelWeights lives.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/model/safetensors.h"

namespace stride::engine::model {

class WeightStorage {
 public:
  WeightStorage() = default;
  WeightStorage(const WeightStorage&) = delete;
  WeightStorage& operator=(const WeightStorage&) = delete;

  // Takes ownership; returns the file for convenience.
  const SafetensorsFile* AddFile(std::unique_ptr<SafetensorsFile> file);

  // Uninitialized memory of `bytes` bytes, 64-byte aligned, alive as long as the storage.
  void* AllocateBuffer(size_t bytes);

  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  size_t buffer_bytes() const { return buffer_bytes_; }

 private:
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<std::unique_ptr<void, FreeDeleter>> buffers_;
  size_t buffer_bytes_ = 0;
};

}  // namespace stride::engine::model
