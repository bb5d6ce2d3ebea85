#!/usr/bin/env bash
# Times kanon against Checkov on the same directories: ../shared/corpus/real as a whole and
# each of its projects. For each directory it prints the files and objects each tool
# scanned, the median wall time, the median CPU time (user + sys) and the peak RSS of each
# tool, and the ratios Checkov / kanon.
#
#   scripts/compare-peers.sh                  # kanon 5 runs, Checkov 3 runs
#   KANON_RUNS=9 CHECKOV_RUNS=1 scripts/compare-peers.sh
#   CORPUS=/path/to/dirs scripts/compare-peers.sh
#   KANON=/path/to/kanon scripts/compare-peers.sh   # that binary, no build
#
# The commands, on the same directory DIR:
#   kanon:   target/release/kanon scan DIR --format json --fail-on never --no-render
#   Checkov: checkov -d DIR --framework kubernetes --quiet --compact -o json
#
# What differs between the two:
# - kanon runs its bundled ruleset (169 rules, many of them over the whole resource graph);
#   Checkov runs its Kubernetes checks (CKV_K8S_*, each over one object at a time).
# - Both read the `.yaml`, `.yml` and `.json` files below DIR as plain manifests: kanon
#   with `--no-render` does not render Helm charts or kustomizations, and Checkov's
#   `kubernetes` framework does not either (Helm and Kustomize are its separate `helm` and
#   `kustomize` frameworks, which need the `helm` and `kustomize` binaries). The corpus
#   has no Chart.yaml and no kustomization.yaml, so neither would render anything.
# - "files" is what each tool reports: kanon's `summary.files` (every file it read);
#   for Checkov the distinct files of its passed and failed checks (files with no object
#   Checkov checks, such as a file holding only CRDs, are not counted).
# - "objects" is kanon's `summary.objects`; for Checkov, `summary.resource_count`.
#
# Checkov is installed from PyPI into .bench/venv (or CHECKOV_VENV) when that has no
# `checkov` yet (CHECKOV_VERSION picks a version; the default is the newest). Without the
# corpus, or when pip fails, the script says so and exits with 1. Times come from
# /usr/bin/time; the machine this runs on may be shared, so compare the CPU time
# (user + sys) as well as the wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "compare-peers: $*" >&2
  exit 1
}

corpus="${CORPUS:-../shared/corpus/real}"
kanon_runs="${KANON_RUNS:-5}"
checkov_runs="${CHECKOV_RUNS:-3}"
venv="${CHECKOV_VENV:-.bench/venv}"

[ -d "$corpus" ] || die "corpus \`$corpus\` not found (set CORPUS to a directory of manifest directories)"
[ -x /usr/bin/time ] || die "\`/usr/bin/time\` (GNU time) is needed for wall time and peak memory"
command -v python3 >/dev/null || die "\`python3\` is needed to install and run Checkov"

if [ ! -x "$venv/bin/checkov" ]; then
  echo "compare-peers: installing Checkov into $venv" >&2
  python3 -m venv "$venv" || die "could not create the virtual environment \`$venv\`"
  spec=checkov
  [ -n "${CHECKOV_VERSION:-}" ] && spec="checkov==$CHECKOV_VERSION"
  if ! "$venv/bin/pip" install --quiet "$spec"; then
    rm -rf "$venv"
    die "\`pip install $spec\` failed (is PyPI reachable?)"
  fi
fi
checkov="$venv/bin/checkov"
checkov_version=$("$checkov" --version 2>/dev/null) || die "\`$checkov --version\` failed"

if [ -n "${KANON:-}" ]; then
  kanon=$KANON
  [ -x "$kanon" ] || die "\`$kanon\` (KANON) is not an executable"
else
  cargo build --release --quiet --bin kanon || die "\`cargo build --release\` failed"
  kanon=target/release/kanon
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kanon-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs a command RUNS times; prints "median-wall median-cpu max-rss-KiB" and keeps the
# standard output of the last run in $work/out.
measure() {
  local runs=$1
  shift
  local walls=() cpus=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
    # the last line: earlier ones may be the command's own (`Command exited with ...`)
    read -r w u s m < <(tail -n 1 "$work/time")
    walls+=("$w")
    cpus+=("$(awk "BEGIN { printf \"%.2f\", $u + $s }")")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  local mid=$(((runs + 1) / 2))
  echo "$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "${mid}p")" \
    "$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "${mid}p")" "$rss"
}

# a / b to the nearest whole number; b under the 10 ms resolution of /usr/bin/time:
# at least a / 0.01
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else printf ">%.0f", a / 0.01 }'
}

# files and objects of a kanon JSON report
kanon_counts() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["files"], s["objects"])' "$1"
}

# files and objects of a Checkov JSON report (one framework: an object, or a list of them;
# nothing found: an empty summary)
checkov_counts() {
  python3 - "$1" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
files, objects = set(), 0
for r in reports:
    results = r.get("results", {})
    for key in ("passed_checks", "failed_checks", "skipped_checks"):
        for c in results.get(key, []):
            files.add(c.get("file_path"))
    objects += r.get("summary", {}).get("resource_count", 0)
print(len(files), objects)
EOF
}

echo "kanon: $("$kanon" --version), $kanon_runs runs: $kanon scan DIR --format json --fail-on never --no-render"
echo "Checkov: $checkov_version, $checkov_runs runs: checkov -d DIR --framework kubernetes --quiet --compact -o json"
echo "machine: $(nproc) cores, $(uname -sm), load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "times: medians in seconds (wall, and user+sys CPU); RSS: peak MB; ratio: Checkov / kanon"
echo
printf '%-22s %13s %13s | %7s %7s %6s | %7s %7s %6s | %7s %7s %6s\n' \
  directory "kanon f/obj" "checkov f/obj" "k wall" "k cpu" "k RSS" "c wall" "c cpu" "c RSS" "x wall" "x cpu" "x RSS"

dirs=("$corpus")
for d in "$corpus"/*/; do
  dirs+=("${d%/}")
done
for dir in "${dirs[@]}"; do
  name=${dir#"$corpus"}
  name=${name#/}
  [ -n "$name" ] || name="(all)"
  read -r kw kc km < <(measure "$kanon_runs" "$kanon" scan "$dir" --format json --fail-on never --no-render)
  read -r kf ko < <(kanon_counts "$work/out") || die "kanon wrote no JSON report for \`$dir\`: $(head -c 500 "$work/err")"
  read -r cw cc cm < <(measure "$checkov_runs" "$checkov" -d "$dir" --framework kubernetes --quiet --compact -o json)
  read -r cf co < <(checkov_counts "$work/out") || die "Checkov wrote no JSON report for \`$dir\`: $(head -c 500 "$work/err")"
  printf '%-22s %13s %13s | %7.2f %7.2f %6d | %7.2f %7.2f %6d | %7s %7s %6s\n' \
    "$name" "$kf/$ko" "$cf/$co" "$kw" "$kc" $((km / 1024)) "$cw" "$cc" $((cm / 1024)) \
    "$(ratio "$cw" "$kw")" "$(ratio "$cc" "$kc")" \
    "$(awk "BEGIN { printf \"%.1f\", $cm / $km }")"
done
