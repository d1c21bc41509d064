// See weight_storage.h.
#include "engine/model/weight_storage.h"

#include <algorithm>
#include <new>

#include "base/check.h"

namespace stride::engine::model {

const SafetensorsFile* WeightStorage::AddFile(std::unique_ptr<SafetensorsFile> file) {
  files_.push_back(std::move(file));
  return files_.back().get();
}

void* WeightStorage::AllocateBuffer(size_t bytes) {
  constexpr size_t kAlignment = 64;
  const size_t rounded = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  buffers_.emplace_back(p);
  buffer_bytes_ += bytes;
  return p;
}

}  // namespace stride::engine::model
