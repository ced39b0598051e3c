#!/usr/bin/env bash
# Throughput and memory of extip-lint against the bare saphyr-parser event loop (the ceiling).
# Generates two 50 MB corpora with ../shared/bench/gen-corpus.py (a tree of many files and one
# `helm template`-like stream), then prints MB/s, the ratio and peak RSS for each, on one core
# (RAYON_NUM_THREADS=1) and on all cores.
#
#   scripts/bench.sh            # 50 MB corpora
#   SIZE_MB=10 scripts/bench.sh # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-50}
GEN=${GEN:-../shared/bench/gen-corpus.py}
OUT=target/bench
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ -f "$GEN" ] || { echo "needs the corpus generator at $GEN (set GEN=...)" >&2; exit 2; }
[ -d "$OUT/tree-$SIZE_MB" ] || python3 "$GEN" --size-mb "$SIZE_MB" --out "$OUT/tree-$SIZE_MB" >/dev/null
[ -f "$OUT/stream-$SIZE_MB.yaml" ] || python3 "$GEN" --size-mb "$SIZE_MB" --out "$OUT/stream-$SIZE_MB.yaml" --one-file >/dev/null
cargo build --release --quiet --bin extip-lint --example parse_only

# run LABEL CMD... -> "seconds maxrss_kb"
measure() {
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/stderr.txt" || true
  cat "$OUT/time.txt" | tail -1
}

printf "%-8s %-22s %8s %9s %10s\n" corpus run seconds "MB/s" "RSS MiB"
for corpus in "tree-$SIZE_MB" "stream-$SIZE_MB.yaml"; do
  path="$OUT/$corpus"
  mb=$(du -sb "$path" | awk '{printf "%.1f", $1/1048576}')
  read -r ps prss < <(RAYON_NUM_THREADS=1 measure target/release/examples/parse_only "$path")
  read -r ls lrss < <(RAYON_NUM_THREADS=1 measure target/release/extip-lint "$path" -f sarif -o "$OUT/out.sarif")
  read -r as arss < <(measure target/release/extip-lint "$path" -f sarif -o "$OUT/out-parallel.sarif")
  for row in "parse only (ceiling)|$ps|$prss" "extip-lint, 1 core|$ls|$lrss" "extip-lint, $(nproc) cores|$as|$arss"; do
    IFS='|' read -r name s rss <<<"$row"
    awk -v c="${corpus%%-*}" -v n="$name" -v s="$s" -v mb="$mb" -v r="$rss" 'BEGIN{printf "%-8s %-22s %8.2f %9.1f %10.0f\n", c, n, s, mb/s, r/1024}'
  done
  awk -v a="$ps" -v b="$ls" 'BEGIN{printf "         end-to-end / ceiling on one core: %.0f%%\n", 100*a/b}'
  cmp -s "$OUT/out.sarif" "$OUT/out-parallel.sarif" && echo "         parallel output is byte-identical" || echo "         PARALLEL OUTPUT DIFFERS"
done
