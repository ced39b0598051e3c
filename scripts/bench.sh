#!/usr/bin/env bash
# Throughput and memory of extip-lint against the bare libyaml-safer event loop (the ceiling).
#
# Generates corpora with ../shared/bench/gen-corpus.py: a tree of many files and one
# `helm template`-like stream of SIZE_MB each, plus a tree of SIZE_MB/5 for the scaling check.
# Prints, for each corpus: seconds, MB/s and peak RSS of the parse-only ceiling and of
# extip-lint (all rules, SARIF to a file) on one core and on all cores; their ratio; whether the
# parallel output is byte-identical. Then: linear scaling, the EXT003 index on 20,000 Services,
# Deployments and policies, human rendering per 5,000 findings, and Checkov on a 1 MB corpus
# when CHECKOV names its executable.
#
#   scripts/bench.sh                          # 50 MB corpora
#   SIZE_MB=10 scripts/bench.sh               # quicker
#   CHECKOV=/path/to/checkov scripts/bench.sh # with the peer comparison
#   HOSTILE=1 scripts/bench.sh                # with the hostile inputs' peak memory
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-50}
SMALL_MB=$((SIZE_MB / 5))
GEN=${GEN:-../shared/bench/gen-corpus.py}
OUT=target/bench
BIN=target/release/extip-lint
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ -f "$GEN" ] || { echo "needs the corpus generator at $GEN (set GEN=...)" >&2; exit 2; }
gen() { [ -e "$OUT/$1" ] || python3 "$GEN" --size-mb "$2" --out "$OUT/$1" "${@:3}" >/dev/null; }
gen "tree-$SIZE_MB" "$SIZE_MB"
gen "stream-$SIZE_MB.yaml" "$SIZE_MB" --one-file
gen "tree-$SMALL_MB" "$SMALL_MB"
gen tree-1 1
cargo build --release --quiet --bin extip-lint --example parse_only

# measure CMD... -> "seconds maxrss_kb" (the exit code is ignored: findings exit 1)
measure() {
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/stderr.txt" || true
  tail -1 "$OUT/time.txt"
}
mb() { du -sb "$1" | awk '{printf "%.1f", $1/1048576}'; }

echo "machine: $(nproc) cores; $(rustc --version)"
printf "%-8s %-22s %8s %9s %10s\n" corpus run seconds "MB/s" "RSS MiB"
for corpus in "tree-$SIZE_MB" "stream-$SIZE_MB.yaml"; do
  path="$OUT/$corpus"
  size=$(mb "$path")
  read -r ps prss < <(RAYON_NUM_THREADS=1 measure target/release/examples/parse_only "$path")
  read -r ls lrss < <(RAYON_NUM_THREADS=1 measure "$BIN" "$path" -f sarif -o "$OUT/out.sarif")
  read -r as arss < <(measure "$BIN" "$path" -f sarif -o "$OUT/out-parallel.sarif")
  for row in "parse only (ceiling)|$ps|$prss" "extip-lint, 1 core|$ls|$lrss" "extip-lint, $(nproc) cores|$as|$arss"; do
    IFS='|' read -r name s rss <<<"$row"
    awk -v c="${corpus%%-*}" -v n="$name" -v s="$s" -v mb="$size" -v r="$rss" 'BEGIN{printf "%-8s %-22s %8.2f %9.1f %10.0f\n", c, n, s, mb/s, r/1024}'
  done
  awk -v a="$ps" -v b="$ls" -v c="$as" 'BEGIN{printf "         end to end / bare parse on one core: %.2fx; speed-up on all cores: %.2fx\n", b/a, b/c}'
  cmp -s "$OUT/out.sarif" "$OUT/out-parallel.sarif" && echo "         parallel output is byte-identical" || echo "         PARALLEL OUTPUT DIFFERS"
done

# The stream on standard input, as `helm template | extip-lint -` runs: time and peak memory.
read -r ss srss < <(RAYON_NUM_THREADS=1 measure sh -c "$BIN -f sarif -o $OUT/out-stdin.sarif - < $OUT/stream-$SIZE_MB.yaml")
awk -v s="$ss" -v r="$srss" 'BEGIN{printf "stream on standard input, 1 core: %.2f s, peak RSS %.0f MiB\n", s, r/1024}'

# Linear scaling: SIZE_MB against SIZE_MB/5, one core.
read -r small _ < <(RAYON_NUM_THREADS=1 measure "$BIN" "$OUT/tree-$SMALL_MB" -f sarif -o "$OUT/out-small.sarif")
read -r large _ < <(RAYON_NUM_THREADS=1 measure "$BIN" "$OUT/tree-$SIZE_MB" -f sarif -o "$OUT/out.sarif")
awk -v s="$small" -v l="$large" -v a="$SMALL_MB" -v b="$SIZE_MB" \
  'BEGIN{printf "scaling: %s MB tree %.2f s, %s MB tree %.2f s: %.2fx the time for 5x the input\n", a, s, b, l, l/s}'

# The EXT003 index: 20,000 Services, Deployments and NetworkPolicies over 40 namespaces. The
# rule's cost is the run with EXT003 against the run with only EXT900 (load, no index).
index="$OUT/index-20k.yaml"
[ -f "$index" ] || python3 - "$index" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        ns, app = f"ns-{i % 40}", f"app-{i}"
        f.write(f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: {app}, namespace: {ns}}}\n"
                f"spec: {{selector: {{app: {app}}}, ports: [{{port: 80}}]}}\n")
        f.write(f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}, namespace: {ns}}}\n"
                f"spec: {{template: {{metadata: {{labels: {{app: {app}, tier: web}}}}}}}}\n")
        pt = "[Egress]" if i % 3 == 0 else "[Ingress]"
        f.write(f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p-{i}, namespace: {ns}}}\n"
                f"spec: {{podSelector: {{matchLabels: {{app: app-{i + 1}}}}}, policyTypes: {pt}}}\n")
EOF
read -r load _ < <(RAYON_NUM_THREADS=1 measure "$BIN" "$index" --select EXT900 -f short)
read -r ext003 _ < <(RAYON_NUM_THREADS=1 measure "$BIN" "$index" --select EXT003 -f short)
awk -v a="$load" -v b="$ext003" 'BEGIN{printf "EXT003 on 20,000 Services/Deployments/policies: %.2f s, load alone %.2f s: index and rule %.2f s\n", b, a, b-a}'

# Human rendering: the extra time of --format human over --format short, per 5,000 findings.
read -r short _ < <(RAYON_NUM_THREADS=1 measure "$BIN" "$OUT/tree-$SMALL_MB" -f short)
read -r human _ < <(RAYON_NUM_THREADS=1 measure "$BIN" "$OUT/tree-$SMALL_MB" -f human --color never)
n=$("$BIN" "$OUT/tree-$SMALL_MB" -f short 2>/dev/null | grep -c ': EXT' || true)
awk -v s="$short" -v h="$human" -v n="$n" 'BEGIN{printf "human rendering: %d findings in %.2f s more than short: %.2f s per 5,000\n", n, h-s, (h-s)*5000/n}'

# Hostile inputs (HOSTILE=1): peak memory against the input's size. One ConfigMap document of
# 4 x SIZE_MB, 10^6 tiny documents in one file, and a sparse file over max-file-size (refused from
# its size, never read).
if [ -n "${HOSTILE:-}" ]; then
  big="$OUT/hostile-one-document-$((4 * SIZE_MB)).yaml"
  tiny="$OUT/hostile-tiny-documents.yaml"
  [ -f "$big" ] || python3 - "$big" "$((4 * SIZE_MB * 1000000))" <<'EOF2'
import sys
with open(sys.argv[1], "w") as f:
    f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n")
    i, size = 0, int(sys.argv[2])
    while f.tell() < size:
        f.write(f"  key-{i:08}: \"value of key {i} padded to a usual length\"\n")
        i += 1
EOF2
  [ -f "$tiny" ] || python3 - "$tiny" <<'EOF2'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1_000_000):
        f.write(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i:06}\n")
EOF2
  sparse="$OUT/hostile-sparse.yaml"
  truncate -s 300G "$sparse"
  for f in "$big" "$tiny" "$sparse"; do
    read -r hs hrss < <(RAYON_NUM_THREADS=1 measure "$BIN" "$f" -f short)
    awk -v n="$(basename "$f")" -v s="$hs" -v r="$hrss" -v b="$(stat -c %s "$f")" \
      'BEGIN{printf "hostile %s (%.0f MB): %.2f s, peak RSS %.0f MiB (%.2fx the file)\n", n, b/1e6, s, r/1024, r*1024/b}'
  done
  rm -f "$sparse"
fi

# The peer: Checkov on the same 1 MB tree.
if [ -n "${CHECKOV:-}" ]; then
  size=$(mb "$OUT/tree-1")
  read -r es erss < <(RAYON_NUM_THREADS=1 measure "$BIN" "$OUT/tree-1" -f sarif -o "$OUT/out-1.sarif")
  read -r cs crss < <(measure "$CHECKOV" -d "$OUT/tree-1" --framework kubernetes --skip-download --quiet --compact)
  awk -v m="$size" -v es="$es" -v er="$erss" -v cs="$cs" -v cr="$crss" -v v="$("$CHECKOV" --version 2>/dev/null)" \
    'BEGIN{printf "peer on a %s MB tree: extip-lint %.2f s (%.0f MiB), checkov %s %.2f s (%.0f MiB): %.0fx\n", m, es, er/1024, v, cs, cr/1024, cs/es}'
fi
