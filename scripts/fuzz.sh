#!/usr/bin/env bash
# Bounded fuzzing of kanon's three fuzz targets with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60; the release check uses 600)
#
# cargo-fuzz needs nightly-only compiler flags; on a stable toolchain they are enabled
# with RUSTC_BOOTSTRAP=1, which is what this script does. Seeds come from rulesets/,
# tests/ and, when present, ../shared/corpus. Crashes land in fuzz/artifacts/<target>/;
# turn each into a regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

seed() { # target, then files to copy
  local t="$1"; shift
  mkdir -p "fuzz/corpus/$t"
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/$t/$(echo "$f" | tr '/' '_')" || true
  done
}
seed parse_rules $(find rulesets examples/org-rules -name '*.kanon')
yaml=$(find examples tests/data rulesets -name '*.yaml' -size -64k | sort | sed -n '1,400p')
if [ -d ../shared/corpus/real ]; then
  yaml="$yaml $(find ../shared/corpus/real -name '*.yaml' -size -64k | sort | sed -n '1,400p')"
fi
seed load_inputs $yaml
seed scan_end_to_end $yaml

for t in parse_rules load_inputs scan_end_to_end; do
  echo "== $t: ${secs}s"
  cargo fuzz run --fuzz-dir fuzz --sanitizer none "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 -timeout=20 2>&1 \
    | tee "fuzz/last-$t.log" | grep -E "^#[0-9]+.*(DONE|pulse)|ERROR|panicked|SUMMARY" || true
  grep -E "^#[0-9]+ *DONE" "fuzz/last-$t.log" | tail -1 || true
  if grep -qE "ERROR: libFuzzer|panicked" "fuzz/last-$t.log"; then
    echo "crash in $t: see fuzz/artifacts/$t/"; exit 1
  fi
done
