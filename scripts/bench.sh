#!/usr/bin/env bash
# Prints kanon's performance table: objects, input MB, load-only time, full-scan time,
# their ratio, MB/s of the full scan, of the load only and of reading and parsing alone
# (the load stage of `--timings`: issue 18's "JSON load", which an earlier table of its
# targets measured so), peak RSS, for synthetic cluster exports (YAML and JSON `List`s,
# and a YAML stream of one document per object) at 1 and 2 threads. Medians of RUNS
# runs (default 3). The input is read once before every timed run, so that each run
# finds it in the page cache: this machine's cache drops pages of large files within
# seconds, and a run that reads part of its input from the disk measures the disk.
#
#   scripts/bench.sh                 # 10k and 100k objects
#   scripts/bench.sh 10000 100000 1000000
#   FORMATS="yaml json" RUNS=1 scripts/bench.sh 1000000
#
# Last, the time to compile the bundled ruleset over COMPILE_RUNS (20) runs.
#
# Load only = a scan with a rule that matches nothing (benches/data/noop.kanon): reading,
# parsing and building the graph. Full scan = the whole bundled ruleset. The two alternate,
# run by run, so that a machine whose speed drifts moves both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
runs="${RUNS:-3}"
cargo build --release --quiet --bin kanon --example gen-cluster
kanon=target/release/kanon
gen=target/release/examples/gen-cluster
work="${BENCH_DIR:-${TMPDIR:-/tmp}/kanon-bench}"
mkdir -p "$work"

# median wall seconds and max RSS (KiB) of RUNS runs of a command
median() { sort -g | sed -n "$(( (runs + 1) / 2 ))p"; }
# wall seconds, max RSS (KiB) and the `--timings` load stage (ms, 0 when not printed) of
# one run of a command on file $1, read into the page cache first
once() {
  local f=$1
  shift
  cat "$f" >/dev/null
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || true
  local stage
  stage=$(sed -nE 's/^timings: .*load ([0-9.]+) ms.*/\1/p' "$work/stderr" | head -1)
  echo "$(cat "$work/time") ${stage:-0}"
}
# the load-only and the full scan of a file, RUNS times each, alternating (a machine
# whose speed drifts moves both alike, not their ratio): "load full rss stage", the
# times medians, the RSS the full scan's largest, the load-only runs' load stage (ms)
# median
measure_pair() {
  local f=$1 thr=$2 loads=() fulls=() stages=() rss=0 t m st
  for _ in $(seq "$runs"); do
    read -r t m st < <(once "$f" "$kanon" scan "$f" --max-file-size 4G --threads "$thr" --no-default-rules --rules benches/data/noop.kanon --fail-on never --timings)
    loads+=("$t")
    stages+=("$st")
    read -r t m st < <(once "$f" "$kanon" scan "$f" --max-file-size 4G --threads "$thr" --format json --fail-on never)
    fulls+=("$t")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$(printf '%s\n' "${loads[@]}" | median) $(printf '%s\n' "${fulls[@]}" | median) $rss $(printf '%s\n' "${stages[@]}" | median)"
}

printf '%-9s %-6s %-3s %9s %10s %10s %6s %8s %9s %10s %9s %8s\n' objects fmt thr "input MB" "load s" "scan s" ratio "MB/s" "load MB/s" "parse MB/s" "RSS MB" "RSS/in"
for n in "${sizes[@]}"; do
  for fmt in ${FORMATS:-yaml json stream}; do
    # `stream`: one YAML stream with every object its own document (helm template style)
    case "$fmt" in
      stream) f="$work/cluster-$n.stream.yaml"; layout=stream; gfmt=yaml ;;
      *) f="$work/cluster-$n.$fmt"; layout=list; gfmt=$fmt ;;
    esac
    [ -f "$f" ] || "$gen" --objects "$n" --format "$gfmt" --layout "$layout" --out "$f" 2>/dev/null
    bytes=$(stat -c %s "$f")
    mb=$(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }")
    for thr in 1 2; do
      read -r load full rss stage < <(measure_pair "$f" "$thr")
      awk -v n="$n" -v fmt="$fmt" -v thr="$thr" -v mb="$mb" -v load="$load" -v full="$full" -v rss="$rss" -v stage="$stage" 'BEGIN {
        printf "%-9d %-6s %-3d %9.1f %10.2f %10.2f %6.2f %8.1f %9.1f %10.1f %9.0f %8.2f\n",
          n, fmt, thr, mb, load, full, (load > 0 ? full / load : 0), (full > 0 ? mb / full : 0),
          (load > 0 ? mb / load : 0), (stage > 0 ? mb / (stage / 1000) : 0), rss / 1024, (rss / 1024) / mb }'
    done
  done
done

# compiling the bundled ruleset (`compile` of `--timings`), COMPILE_RUNS runs (default
# 20): min, median, max in ms (issue 18's target: under 20 ms in every run)
compile_runs="${COMPILE_RUNS:-20}"
for _ in $(seq "$compile_runs"); do
  "$kanon" scan examples/manifests --timings --fail-on never 2>&1 >/dev/null |
    sed -nE 's/^timings: compile ([0-9.]+) ms.*/\1/p'
done | sort -g | awk -v n="$compile_runs" '{ v[NR] = $1 } END {
  printf "compile (bundled ruleset, %d runs): min %.1f ms, median %.1f ms, max %.1f ms\n", n, v[1], v[int((NR + 1) / 2)], v[NR] }'
