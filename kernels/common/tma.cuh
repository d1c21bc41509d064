// The Hopper (sm_90) asynchronous copy engine from device code: mbarriers that count the bytes
// their copies deliver, bulk copies of contiguous bytes, and tensor copies of a box of a tensor
// map (kernels/common/tensor_map.h) into shared memory. One thread issues a copy; whoever waits
// on its barrier sees the bytes. Included only from .cu files; every helper compiles to nothing
// below sm_90, so callers guard their kernel bodies with STRIDE_TMA.
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdint>

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define STRIDE_TMA 1
#endif

namespace stride::kernels::tma {

// Where a tensor copy with 128-byte swizzle puts 16-byte chunk `chunk` (0..7) of the 128-byte
// row `row` of its box: at chunk ^ (row % 8) of that row, the destination being 1024-byte
// aligned (the pattern repeats every 8 rows). Readers of swizzled tiles find their data here.
__device__ __forceinline__ int Swizzle128Chunk(int row, int chunk) { return chunk ^ (row % 8); }

#ifdef STRIDE_TMA
__device__ __forceinline__ uint32_t SharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// One arrival completes a phase (with the bytes it expects). Call FenceBarrierInit once after the
// inits, before any copy names the barrier.
__device__ __forceinline__ void BarrierInit(uint64_t* bar) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(SharedAddress(bar)));
}

__device__ __forceinline__ void FenceBarrierInit() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

// The arrival of the barrier's current phase, which then completes once `bytes` have landed.
__device__ __forceinline__ void BarrierExpectBytes(uint64_t* bar, int bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(SharedAddress(bar)),
               "r"(bytes)
               : "memory");
}

// Returns once the barrier's phase with parity `parity` has completed.
__device__ __forceinline__ void BarrierWait(uint64_t* bar, int parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT_%=;\n"
      "}\n" ::"r"(SharedAddress(bar)),
      "r"(parity)
      : "memory");
}

// `bytes` (a multiple of 16) contiguous bytes from global memory to shared memory (both 16-byte
// aligned), completing on bar.
__device__ __forceinline__ void BulkLoad(void* dst, const void* src, int bytes, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::
          "r"(SharedAddress(dst)),
      "l"(src), "r"(bytes), "r"(SharedAddress(bar))
      : "memory");
}

// The box of `map` at element coordinates c (innermost first) into shared memory at dst
// (1024-byte aligned for a 128-byte swizzle), completing on bar.
__device__ __forceinline__ void TensorLoad(void* dst, const CUtensorMap* map, int c0, int c1,
                                           uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, "
      "{%2, %3}], [%4];" ::"r"(SharedAddress(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(SharedAddress(bar))
      : "memory");
}

__device__ __forceinline__ void TensorLoad(void* dst, const CUtensorMap* map, int c0, int c1,
                                           int c2, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, "
      "{%2, %3, %4}], [%5];" ::"r"(SharedAddress(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(SharedAddress(bar))
      : "memory");
}

__device__ __forceinline__ void TensorLoad(void* dst, const CUtensorMap* map, int c0, int c1,
                                           int c2, int c3, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, "
      "{%2, %3, %4, %5}], [%6];" ::"r"(SharedAddress(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3),
      "r"(SharedAddress(bar))
      : "memory");
}
#endif  // STRIDE_TMA

}  // namespace stride::kernels::tma
