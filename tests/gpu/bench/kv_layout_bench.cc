// `stride_gpu_bench --kv-layout`: the KV-layout read probe (kv_layout_probe.cu) at the decode
// shapes of kernels/NOTES.md, against the 4.28 TB/s copy ceiling; the decode kernel's own
// bandwidth at the same shapes is the `--decode-attention` rows.
#include "absl/strings/str_cat.h"
#include "tests/gpu/bench/bench_util.h"
#include "tests/gpu/bench/kv_layout_probe.h"

namespace stride::testing::gpu {

void RunKvLayoutBenchmarks() {
  constexpr double kCopy = 4.28e12;
  for (auto [seqs, context] : {std::pair{384, 1536}, {256, 2048}, {64, 4096}}) {
    for (const KvLayoutResult& r : ProbeKvLayouts(seqs, context, 8)) {
      Report("kv_layout_read_TBps",
             absl::StrCat("B", seqs, " ctx", context, r.head_major ? " head-major" : " token-major",
                          r.tensor ? (r.decode_occupancy ? " tensor 2-stage 3 CTA/SM"
                                                         : " tensor 4-stage 1 CTA/SM")
                          : r.bulk ? " bulk 128KB/CTA"
                                   : (r.decode_occupancy ? " 3 CTA/SM" : " full occupancy"),
                          r.tensor && r.tensor_mode > 0 ? absl::StrCat(" mode", r.tensor_mode)
                                                        : std::string(),
                          r.tensor && !r.l2_promotion ? " no-promotion" : "",
                          r.heads_fastest ? " heads-fastest" : ""),
             r.bytes_per_s / 1e12, "TB/s", kCopy / 1e12, "copy");
    }
  }
}

}  // namespace stride::testing::gpu
