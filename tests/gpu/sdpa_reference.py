# PyTorch SDPA references for stride_gpu_bench's attention figures, measured in the same session
# (PERFORMANCE.md's protocol): prefill, causal, 32 query heads (K/V expanded from 8), d=128, bf16,
# the same batch x length shapes; decode, one query per sequence, GQA 32/8 over contiguous K/V
# (enable_gqa, so K and V are read once), at the decode benchmark's batch x context shapes, in
# KV bytes read per second. Prints RESULT lines in stride_gpu_bench's format.
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel


def median_ms(fn, warmup=2, iters=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return sorted(times)[len(times) // 2]


for seq_len, total in ((2048, 16384), (8192, 16384), (32768, 32768)):
    batch = max(1, total // seq_len)
    q = torch.randn(batch, 32, seq_len, 128, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(batch, 32, seq_len, 128, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(batch, 32, seq_len, 128, device="cuda", dtype=torch.bfloat16)
    flops = 4.0 * batch * seq_len * seq_len / 2 * 32 * 128
    for name, backend in (("sdpa_fa2", SDPBackend.FLASH_ATTENTION),
                          ("sdpa_cudnn", SDPBackend.CUDNN_ATTENTION)):
        try:
            with sdpa_kernel(backend):
                ms = median_ms(lambda: torch.nn.functional.scaled_dot_product_attention(
                    q, k, v, is_causal=True))
            tflops = flops / ms / 1e9
            print(f"RESULT {name + '_tflops':<28} | B{batch} S{seq_len} causal 32 d128{'':<9} | "
                  f"{tflops:10.3f} TFLOP/s  | anchor 855.000 | ratio {tflops / 855:.3f}", flush=True)
        except Exception as e:  # a backend missing on this build is a note, not a failure
            print(f"{name} S{seq_len}: unavailable ({e})", flush=True)
    del q, k, v
    torch.cuda.empty_cache()


# Decode: q [B, 32, 1, 128] against K, V [B, 8, L, 128]; bytes = K + V read once.
for batch, context in ((64, 4096), (256, 2048), (384, 1536)):
    q = torch.randn(batch, 32, 1, 128, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(batch, 8, context, 128, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(batch, 8, context, 128, device="cuda", dtype=torch.bfloat16)
    kv_bytes = 2.0 * batch * 8 * context * 128 * 2
    for name, backend in (("sdpa_decode", None), ("sdpa_decode_fa2", SDPBackend.FLASH_ATTENTION),
                          ("sdpa_decode_cudnn", SDPBackend.CUDNN_ATTENTION)):
        try:
            def run():
                return torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            if backend is None:
                ms = median_ms(run)
            else:
                with sdpa_kernel(backend):
                    ms = median_ms(run)
            tbps = kv_bytes / ms / 1e9
            print(f"RESULT {name + '_TBps':<28} | B{batch} ctx{context} 32/8 d128{'':<12} | "
                  f"{tbps:10.3f} TB/s     | copy 4.280 | ratio {tbps / 4.28:.3f}", flush=True)
        except Exception as e:  # a backend without GQA decode on this build is a note
            print(f"{name} B{batch} ctx{context}: unavailable ({e})", flush=True)
    del q, k, v
    torch.cuda.empty_cache()
