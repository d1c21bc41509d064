// `stride_gpu_bench --kv-layout`: the KV-layout read probe (kv_layout_probe.cu) at the decode
// shapes of kernels/NOTES.md, against the 4.28 TB/s copy ceiling; the decode kernel's own
// bandwidth at the same shapes is the `--decode-attention` rows.
#include "absl/strings/str_cat.h"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/kv_layout_probe.h"

namespace stride::testing::gpu {

void RunKvLayoutBenchmarks() {
  constexpr double kCopy = 4.28e12;
  for (auto [seqs, context] : {std::pair{256, 1024}, {256, 2048}, {64, 4096}}) {
    for (const KvLayoutResult& r : ProbeKvLayouts(seqs, context, 8)) {
      Report("kv_layout_read_TBps",
             absl::StrCat("B", seqs, " ctx", context, r.head_major ? " head-major" : " token-major",
                          r.decode_occupancy ? " 3 CTA/SM" : " full occupancy"),
             r.bytes_per_s / 1e12, "TB/s", kCopy / 1e12, "copy");
    }
  }
}

}  // namespace stride::testing::gpu
