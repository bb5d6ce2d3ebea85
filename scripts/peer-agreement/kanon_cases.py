"""What kubescape.py and trivy.py share: the refs of the bundled rules, one kanon scan per
case directory, the verdict of a case and its JSON line, and a per-peer summary.

A case is one (check, object) pair of a peer's own test fixture with a known expected
outcome. kanon's answer is `fail` when any bundled rule whose `refs` names the check
reports that object; a check no rule names is `not-comparable`. A disagreement on a check
that docs/rules/peer-mapping.yaml lists under `differences` counts as `difference` only when
the calling script has judged, case by case, that the sentence explains it (its
`explained` table); any other disagreement stays `disagree`.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# KANON_RULES: another copy of the ruleset (an older commit's), for its refs and its rules.
RULESET = Path(os.environ.get("KANON_RULES", ROOT / "rulesets" / "owasp-k8s-top10")).resolve()
CATALOG = ROOT / "tests" / "data" / "peer-checks" / "checks.json"
MAPPING = ROOT / "docs" / "rules" / "peer-mapping.yaml"

try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("peer-agreement: PyYAML is needed (`pip install pyyaml`)")


def catalog(peer):
    """The catalog's checks of `peer`: a map from every id and alias to the catalog id."""
    names = {}
    for check in json.loads(CATALOG.read_text()):
        if check["peer"] != peer:
            continue
        for name in [check["id"], *check.get("aliases", [])]:
            names[name] = check["id"]
    return names


def rules_by_check(peer):
    """Catalog id of each check of `peer` named in a bundled rule's `refs` -> rule ids."""
    names = catalog(peer)
    out = {}
    for path in sorted(RULESET.rglob("*.kanon")):
        rule = None
        for line in path.read_text().splitlines():
            m = re.match(r"rule\s+(\S+)\s", line)
            if m:
                rule = m.group(1)
            m = re.match(r"\s*refs\s+(.*)$", line)
            if m and rule:
                for ref in re.findall(r'"([^"]+)"', m.group(1)):
                    if ref in names:
                        out.setdefault(names[ref], []).append(rule)
    return {check: sorted(set(rules)) for check, rules in out.items()}


def differences(peer):
    """Catalog id -> the difference sentence of docs/rules/peer-mapping.yaml."""
    names = catalog(peer)
    raw = yaml.safe_load(MAPPING.read_text()).get("differences") or {}
    return {names[k]: v for k, v in raw.items() if k in names}


def arguments(doc, env, default):
    """The command line of a peer script: `--repo` (default: `$env`, then `default`) and
    `--no-summary`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get(env, default), help=f"the peer's git repository (or ${env})")
    parser.add_argument("--no-summary", action="store_true", help="do not print the summary to stderr")
    return parser.parse_args()


def kanon_binary():
    binary = Path(os.environ.get("KANON", ROOT / "target" / "release" / "kanon"))
    if not binary.exists():
        sys.exit(f"peer-agreement: `{binary}` not found (run `cargo build --release` or set KANON)")
    return binary


def scan(binary, directory):
    """Findings of the bundled ruleset on `directory`: a list of (rule id, kind, namespace, name)."""
    args = [str(binary), "scan", str(directory), "--format", "json", "--fail-on", "never", "--no-render"]
    if os.environ.get("KANON_RULES"):
        # the ruleset as it is on disk, without rebuilding the binary that bundles it
        args += ["--no-default-rules", "--rules", str(RULESET)]
    proc = subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kanon scan {directory} exited with {proc.returncode}: {proc.stderr.strip()}")
    report = json.loads(proc.stdout)
    return [
        (f["rule"]["id"], f["resource"]["kind"], f["resource"]["namespace"], f["resource"]["name"])
        for f in report["findings"]
    ]


def same_object(finding, kind, namespace, name):
    """Whether a finding's resource is the object `kind`/`namespace`/`name` of the input;
    kanon gives namespaced objects without a namespace the `default` one."""
    _, f_kind, f_ns, f_name = finding
    if f_kind != kind or f_name != name:
        return False
    return namespace is None or f_ns in (None, namespace)


def object_label(kind, namespace, name):
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def verdict(peer, check, case, obj, expected, findings, rules, diffs, explained, note=None):
    """The JSON line of one case. `findings` is None when kanon was not run (the check is
    unmapped or the input could not be read); `obj` is (kind, namespace, name)."""
    label = object_label(*obj)
    line = {"peer": peer, "check": check, "case": case, "object": label, "expected": expected}
    if not rules:
        line.update(kanon=None, rules=[], verdict="not-comparable", note=note or "no bundled rule names this check")
        return line
    if findings is None:
        line.update(kanon=None, rules=rules, verdict="not-comparable", note=note)
        return line
    fired = sorted({f[0] for f in findings if f[0] in rules and same_object(f, *obj)})
    kanon = "fail" if fired else "pass"
    line.update(kanon=kanon, rules=rules)
    if kanon == expected:
        line.update(verdict="agree", note=note)
    elif (check, case, label) in explained:
        if check not in diffs:
            raise RuntimeError(f"{check} {case} {label} is explained but {check} has no difference sentence")
        line.update(verdict="difference", note=explained[(check, case, label)])
    else:
        why = "kanon fired " + ", ".join(fired) if fired else "no mapped rule fired"
        if check in diffs:
            why += "; the difference sentence does not explain this case"
        line.update(verdict="disagree", note=why if not note else f"{note}; {why}")
    return line


def summarize(lines, out=sys.stderr):
    """Per peer: comparable cases, agree, difference, disagree, and agree / (comparable -
    difference)."""
    peers = {}
    for line in lines:
        counts = peers.setdefault(line["peer"], {"cases": 0, "not-comparable": 0, "agree": 0, "difference": 0, "disagree": 0})
        counts["cases"] += 1
        counts[line["verdict"]] += 1
    print("| peer | cases | not comparable | comparable | agree | difference | disagree | agreement |", file=out)
    print("|---|---:|---:|---:|---:|---:|---:|---:|", file=out)
    for peer, c in sorted(peers.items()):
        comparable = c["cases"] - c["not-comparable"]
        judged = comparable - c["difference"]
        pct = f"{100.0 * c['agree'] / judged:.1f} %" if judged else "-"
        print(
            f"| {peer} | {c['cases']} | {c['not-comparable']} | {comparable} | {c['agree']} | "
            f"{c['difference']} | {c['disagree']} | {pct} |",
            file=out,
        )


def emit(lines, summary, explained):
    """Prints the JSON lines, then (with `summary`) the summary and the explained
    disagreements that no longer occur, which should leave the table."""
    for line in lines:
        print(json.dumps(line, sort_keys=False))
    if summary:
        summarize(lines)
        used = {(line["check"], line["case"], line["object"]) for line in lines if line["verdict"] == "difference"}
        for key in sorted(set(explained) - used):
            print(f"explained but not a disagreement: {' '.join(key)}", file=sys.stderr)
