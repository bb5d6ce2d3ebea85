#!/usr/bin/env python3
"""Agreement of the bundled ruleset with Kubescape's own test fixtures (regolibrary).

    scripts/peer-agreement/kubescape.py [--repo DIR] [--no-summary] > kubescape.jsonl

DIR is a git clone or mirror of https://github.com/kubescape/regolibrary (default
/work/.mirror/kubescape+regolibrary/repo, or KUBESCAPE_REPO). Its `rules/` and `controls/`
are extracted to a temporary directory at run time; nothing of them is kept. kanon is
target/release/kanon (or KANON).

Each control of the peer catalog runs the regolibrary rules named in its `rulesNames`; each
rule has tests `rules/<rule>/test/<test>/input/*` with the resources the rule failed in
`expected.json`. A case is one object of a test's input whose kind the rule matches (its
`rule.metadata.json`), for each control that runs the rule: expected `fail` when
`expected.json` names the object (as the alert object, or among the related objects of an
alert on a subject, i.e. the binding and the role), `pass` otherwise. kanon scans each
test's input directory on its own, with the bundled ruleset. One JSON line per case goes to
stdout (see kanon_cases.py) and a per-peer summary to stderr.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import kanon_cases as kc
from kanon_cases import yaml

PEER = "kubescape"

# Disagreements judged one by one to be what the check's difference sentence in
# docs/rules/peer-mapping.yaml describes: (check, case, object) -> why.
EXPLAINED = {}


def load_documents(path):
    """The objects of one input file (YAML stream, JSON object or list, `List` kinds)."""
    text = path.read_text(errors="replace")
    try:
        docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    except (ValueError, yaml.YAMLError):
        return []
    out = []
    while docs:
        doc = docs.pop(0)
        if isinstance(doc, list):
            docs[:0] = doc
        elif isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            docs[:0] = doc["items"]
        elif isinstance(doc, dict) and isinstance(doc.get("kind"), str):
            out.append(doc)
    return out


def identity(obj):
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name")
    ns = meta.get("namespace")
    return obj.get("kind"), ns if isinstance(ns, str) and ns else None, name if isinstance(name, str) else None


def failed_objects(expected):
    """(kind, namespace, name) of every object an expected.json fails."""
    out = []
    for alert in expected or []:
        alert_obj = alert.get("alertObject") or {}
        objs = list(alert_obj.get("k8sApiObjects") or [])
        external = alert_obj.get("externalObjects")
        if isinstance(external, dict):
            objs += [o for o in external.get("relatedObjects") or [] if isinstance(o, dict)]
        for o in objs:
            if isinstance(o, dict) and "kind" in o:
                out.append(identity(o))
    return out


def matches(failed, obj):
    kind, ns, name = obj
    return any(k == kind and n == name and (fns is None or ns is None or fns == ns) for k, fns, n in failed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get("KUBESCAPE_REPO", "/work/.mirror/kubescape+regolibrary/repo"))
    parser.add_argument("--no-summary", action="store_true", help="do not print the summary to stderr")
    args = parser.parse_args()

    binary = kc.kanon_binary()
    rules = kc.rules_by_check(PEER)
    diffs = kc.differences(PEER)
    checks = sorted(set(kc.catalog(PEER).values()))

    with tempfile.TemporaryDirectory(prefix="kanon-kubescape-") as tmp:
        archive = subprocess.run(
            ["git", "-C", args.repo, "archive", "HEAD", "rules", "controls"], capture_output=True, check=False
        )
        if archive.returncode != 0:
            sys.exit(f"kubescape: cannot read `{args.repo}`: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        root = Path(tmp)

        controls = {}
        for path in sorted((root / "controls").glob("*.json")):
            try:
                control = json.loads(path.read_text())
            except ValueError:
                continue
            if isinstance(control, dict) and control.get("controlID"):
                controls[control["controlID"]] = control.get("rulesNames") or []

        scans = {}
        lines = []
        for check in checks:
            mapped = rules.get(check, [])
            names = controls.get(check, [])
            for rule_name in names:
                rule_dir = root / "rules" / rule_name
                try:
                    meta = json.loads((rule_dir / "rule.metadata.json").read_text())
                except (OSError, ValueError):
                    continue
                kinds = {k for m in meta.get("match") or [] for k in m.get("resources") or []}
                for test in sorted((rule_dir / "test").glob("*/")):
                    inputs = test / "input"
                    try:
                        expected = json.loads((test / "expected.json").read_text())
                    except (OSError, ValueError):
                        continue
                    failed = failed_objects(expected)
                    objects = []
                    for path in sorted(inputs.glob("*")) if inputs.is_dir() else []:
                        for o in load_documents(path):
                            if o.get("kind") in kinds and identity(o) not in objects:
                                objects.append(identity(o))
                    notes = []
                    if (test / "data.json").exists():
                        notes.append("the test sets the control's configuration (data.json)")
                    if len(names) > 1:
                        notes.append(f"{check} runs {len(names)} rules; this test is {rule_name}'s")
                    note = "; ".join(notes) or None
                    findings = None
                    if mapped:
                        if inputs not in scans:
                            try:
                                scans[inputs] = kc.scan(binary, inputs)
                            except (RuntimeError, ValueError) as err:
                                scans[inputs] = err
                        findings = scans[inputs]
                    case = f"{rule_name}/{test.name}"
                    for obj in objects:
                        if obj[2] is None:
                            continue
                        expect = "fail" if matches(failed, obj) else "pass"
                        if isinstance(findings, Exception):
                            lines.append(
                                kc.verdict(PEER, check, case, obj, expect, None, mapped, diffs, EXPLAINED, f"kanon failed: {findings}")
                            )
                        else:
                            lines.append(kc.verdict(PEER, check, case, obj, expect, findings, mapped, diffs, EXPLAINED, note))
    kc.emit(lines, not args.no_summary)


if __name__ == "__main__":
    main()
