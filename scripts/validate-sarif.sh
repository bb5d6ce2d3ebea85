#!/usr/bin/env bash
# Validates kanon's SARIF output with Microsoft's SARIF validator (the npm package
# @microsoft/sarif-multitool-linux), running the SARIF spec rules and GitHub code scanning's
# ingestion rules (`--rule-kind "Gh;Sarif"`). Fails when the validator reports an error.
#
# The validator is installed into .ci/node (git-ignored) when missing. The multitool exits 0
# even when it reports errors, so this script reads its output instead.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_DIR=.ci/node
VALIDATOR="$NODE_DIR/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
if [ ! -x "$VALIDATOR" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "validate-sarif: npm is needed to install @microsoft/sarif-multitool-linux" >&2
    exit 2
  fi
  npm install --no-audit --no-fund --prefix "$NODE_DIR" @microsoft/sarif-multitool-linux@5.7.0
  # the package's postinstall makes the binary executable; do it here too in case
  # install scripts are disabled
  chmod u+x "$VALIDATOR"
fi

KANON=${KANON:-}
if [ -z "$KANON" ]; then
  cargo build --quiet
  KANON=target/debug/kanon
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/kanon-sarif.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# 1. the sample manifests: findings, no errors
"$KANON" scan examples/manifests --format sarif --output "$OUT/manifests.sarif" --fail-on never
# 2. input errors and a broken rule: tool execution notifications, executionSuccessful false
mkdir -p "$OUT/in" "$OUT/rules"
cat > "$OUT/in/broken.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: "p <&> 'q'"
spec:
  containers:
    - name: c
      image: nginx
      securityContext:
        privileged: true
---
kind: [unclosed
YAML
printf 'rule X-001 x {\n severity low\n for w in workloads where w.spec.templat == null report at w "x"\n}\n' \
  > "$OUT/rules/bad.kanon"
set +e
"$KANON" scan "$OUT/in" --rules "$OUT/rules" --format sarif --output "$OUT/errors.sarif" 2>/dev/null
code=$?
set -e
if [ "$code" -ne 2 ]; then
  echo "validate-sarif: expected exit 2 for a scan with input errors, got $code" >&2
  exit 1
fi

# 3. a Helm chart and a Kustomize overlay, findings mapped back to templates and resource
#    files, with the values entry as a related location (when a helm is there)
files=("$OUT/manifests.sarif" "$OUT/errors.sarif")
HELM=${KANON_TEST_HELM:-$(command -v helm || true)}
if [ -n "$HELM" ]; then
  "$KANON" scan examples/helm examples/kustomize --helm "$HELM" --format sarif \
    --output "$OUT/rendered.sarif" --fail-on never
  files+=("$OUT/rendered.sarif")
fi

status=0
for f in "${files[@]}"; do
  echo "== $(basename "$f")"
  log=$("$VALIDATOR" validate --rule-kind "Gh;Sarif" --level "Error;Warning" "$f" 2>&1) || status=1
  echo "$log"
  if grep -Eq ': error [A-Z]+[0-9]+:' <<<"$log"; then
    status=1
  fi
  if ! grep -q 'Analysis completed successfully' <<<"$log"; then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "validate-sarif: the SARIF validator reported errors" >&2
fi
exit "$status"
