// `stride_gpu_bench --read-ceiling`: how fast can anything read HBM on this GPU? Decode attention
// is judged against the 4.28 TB/s copy ceiling (bytes read + written by a device-to-device copy),
// but it only reads. This probe reads one flat 4 GiB buffer (80x the L2), with no math, three ways:
//  * per-thread 16-byte loads (`ld.global.nc`), kUnroll of them in flight per thread, at several
//    occupancies: the decode kernel's way of loading, at its best;
//  * the same with the L2 told to fetch whole 256-byte lines (`.L2::256B`);
//  * bulk asynchronous copies (`cp.async.bulk`, the TMA engine) of kChunk bytes into a
//    kStages-deep shared-memory ring per CTA, issued by one thread: no registers or lanes held
//    by loads in flight.
// and times the device-to-device copy of the same bytes in the same run. If some read runs clearly
// faster than the decode kernel's ~4.1-4.2 TB/s, its load path has room; if not, it is at the
// ceiling.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "kernels/common/tma.cuh"
#include "tests/gpu/bench/bench_util.h"

namespace stride::testing::gpu {
namespace {

namespace tma = kernels::tma;

constexpr size_t kBytes = size_t{4} << 30;
constexpr size_t kVectors = kBytes / sizeof(uint4);

// Writes to `sink` only for a value no input produces, so the loads cannot be dropped.
__device__ __forceinline__ void Keep(uint32_t acc, uint32_t* sink) {
  if (acc == 0x9e3779b9u) *sink = acc;
}

template <int kUnroll, bool kLine256>
__global__ void __launch_bounds__(256) LdgReadKernel(const uint4* data, size_t n, uint32_t* sink) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  uint32_t acc = 0;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride * kUnroll) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const size_t at = i + u * stride;
      if (at >= n) {
        v[u] = make_uint4(0, 0, 0, 0);
      } else if constexpr (kLine256) {
        asm volatile("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
                     : "=r"(v[u].x), "=r"(v[u].y), "=r"(v[u].z), "=r"(v[u].w)
                     : "l"(data + at));
      } else {
        v[u] = __ldg(data + at);
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  Keep(acc, sink);
}

// One thread per CTA issues bulk copies of kChunk bytes, chunk c of the grid-strided sequence
// into stage c % kStages, and waits for each stage (mbarrier with transaction count) before it
// refills it. Chunks past the end are not issued.
template <int kChunk, int kStages>
__global__ void __launch_bounds__(32)
    BulkReadKernel(const unsigned char* data, size_t chunks, uint32_t* sink) {
#ifdef STRIDE_TMA
  extern __shared__ __align__(128) unsigned char ring[];
  __shared__ __align__(8) uint64_t full[kStages];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < kStages; ++s) tma::BarrierInit(&full[s]);
  tma::FenceBarrierInit();
  auto issue = [&](size_t chunk, int stage) {
    tma::BarrierExpectBytes(&full[stage], kChunk);
    tma::BulkLoad(ring + stage * kChunk, data + chunk * kChunk, kChunk, &full[stage]);
  };
  const size_t first = blockIdx.x, step = gridDim.x;
  for (int s = 0; s < kStages; ++s) {
    const size_t chunk = first + s * step;
    if (chunk < chunks) issue(chunk, s);
  }
  uint32_t acc = 0;
  int stage = 0, parity = 0;
  for (size_t chunk = first; chunk < chunks; chunk += step) {
    tma::BarrierWait(&full[stage], parity);
    acc ^= reinterpret_cast<const uint32_t*>(ring + stage * kChunk)[0];
    const size_t next = chunk + kStages * step;
    if (next < chunks) issue(next, stage);
    if (++stage == kStages) stage = 0, parity ^= 1;
  }
  Keep(acc, sink);
#endif
}

template <int kUnroll, bool kLine256>
void ProbeLdg(const uint4* data, uint32_t* sink, int sms) {
  for (int per_sm : {4, 8}) {
    const int grid = sms * per_sm;
    const double ms =
        MedianMs([&] { LdgReadKernel<kUnroll, kLine256><<<grid, 256>>>(data, kVectors, sink); });
    Report("read_ceiling_TBps",
           absl::StrCat(kLine256 ? "ld.nc.L2::256B" : "ld.nc", " x", kUnroll, ", ", per_sm,
                        "x256 thr/SM"),
           kBytes / (ms * 1e-3) / 1e12, "TB/s", 4.28, "copy");
  }
}

template <int kChunk, int kStages>
void ProbeBulk(const uint4* data, uint32_t* sink, int sms) {
  constexpr int kShared = kChunk * kStages;
  const auto kernel = BulkReadKernel<kChunk, kStages>;
  GPU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kShared));
  int per_sm = 0;
  GPU_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, 32, kShared));
  for (int ctas : {1, per_sm}) {
    const int grid = sms * ctas;
    const double ms = MedianMs([&] {
      kernel<<<grid, 32, kShared>>>(reinterpret_cast<const unsigned char*>(data), kBytes / kChunk,
                                    sink);
    });
    Report("read_ceiling_TBps",
           absl::StrCat("bulk ", kChunk / 1024, " KB x", kStages, ", ", ctas, " CTA/SM (",
                        kShared * ctas / 1024, " KB in flight)"),
           kBytes / (ms * 1e-3) / 1e12, "TB/s", 4.28, "copy");
  }
}

}  // namespace

void RunReadCeilingProbe() {
  DeviceArray<uint4> data(kVectors), copy(kVectors / 2);
  DeviceArray<uint32_t> sink(1);
  GPU_CHECK(cudaMemset(data.get(), 0x5a, kBytes));
  int device = 0, sms = 0;
  GPU_CHECK(cudaGetDevice(&device));
  GPU_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  // The copy ceiling of this machine: 2 GiB read + 2 GiB written.
  const double copy_ms = MedianMs([&] {
    GPU_CHECK(cudaMemcpyAsync(copy.get(), data.get(), kBytes / 2, cudaMemcpyDeviceToDevice));
  });
  Report("read_ceiling_TBps", "device-to-device copy, 2 GiB", kBytes / (copy_ms * 1e-3) / 1e12,
         "TB/s", 4.28, "copy");
  ProbeLdg<4, false>(data.get(), sink.get(), sms);
  ProbeLdg<8, false>(data.get(), sink.get(), sms);
  ProbeLdg<16, false>(data.get(), sink.get(), sms);
  ProbeLdg<8, true>(data.get(), sink.get(), sms);
  ProbeBulk<8192, 4>(data.get(), sink.get(), sms);
  ProbeBulk<16384, 4>(data.get(), sink.get(), sms);
  ProbeBulk<32768, 4>(data.get(), sink.get(), sms);
  ProbeBulk<4096, 8>(data.get(), sink.get(), sms);
}

}  // namespace stride::testing::gpu
