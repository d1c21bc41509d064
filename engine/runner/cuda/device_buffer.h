// Owning device and pinned-host allocations for the CUDA runner (RAII over cudaMalloc and
// cudaMallocHost). Grow-only: Reserve keeps the allocation when it is already large enough,
// so device pointers stay stable for captured CUDA graphs unless a step needs more.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "engine/runner/cuda/cuda_check.h"

namespace stride::engine::runner::cuda {

template <bool kPinnedHost>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t bytes) { Reserve(bytes); }
  ~Buffer() { Free(); }
  Buffer(Buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    Free();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    return *this;
  }

  // Returns true when it had to reallocate (the old contents are gone).
  bool Reserve(size_t bytes) {
    if (bytes <= bytes_) return false;
    Free();
    if constexpr (kPinnedHost) {
      STRIDE_CUDA_CHECK(cudaMallocHost(&data_, bytes));
    } else {
      STRIDE_CUDA_CHECK(cudaMalloc(&data_, bytes));
    }
    bytes_ = bytes;
    return true;
  }

  template <typename T = void>
  T* get() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void Free() {
    if (data_ == nullptr) return;
    if constexpr (kPinnedHost) {
      cudaFreeHost(data_);
    } else {
      cudaFree(data_);
    }
    data_ = nullptr;
    bytes_ = 0;
  }

  void* data_ = nullptr;
  size_t bytes_ = 0;
};

using DeviceBuffer = Buffer<false>;
using PinnedBuffer = Buffer<true>;

}  // namespace stride::engine::runner::cuda
