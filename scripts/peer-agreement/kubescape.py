#!/usr/bin/env python3
"""Agreement of kanon's bundled rules with Kubescape's own test fixtures (regolibrary).

    scripts/peer-agreement/kubescape.py REGOLIBRARY_CLONE KANON_BINARY [--rules DIR] > kubescape.jsonl

Reads, from a clone of https://github.com/kubescape/regolibrary (at its HEAD), `rules/` and
`controls/`.

Each control of the peer catalog runs the regolibrary rules named in its `rulesNames`; each
rule has tests `rules/<rule>/test/<test>/input/*` with the resources the rule failed in
`expected.json`. A case is one object of a test's input whose kind the rule matches (its
`rule.metadata.json`), for each control that runs the rule: expected `fail` when
`expected.json` names the object (as the alert object, or among the related objects of an
alert on a subject, i.e. the binding and the role), `pass` otherwise. When a control runs
several rules, an object that passes one rule's test may still fail another rule of the
control, which that test does not run: such `pass` cases are not comparable (kanon is not
run on them).

kanon scans each test's input directory on its own. A case fails in kanon when a rule whose
`refs` names the control reports the object itself (a binding is not judged through its
role). Prints one JSON line per case (see README.md).
"""

import json
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PEER = "kubescape"


def rule_kinds(rule_dir):
    """The kinds a regolibrary rule matches (its `rule.metadata.json`), or None."""
    try:
        meta = json.loads((rule_dir / "rule.metadata.json").read_text())
    except (OSError, ValueError):
        return None
    return {k for m in meta.get("match") or [] for k in m.get("resources") or []}


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
                out.append(c.object_key(o))
    return out


def matches(failed, obj):
    kind, ns, name = obj
    return any(k == kind and n == name and (fns is None or ns is None or fns == ns) for k, fns, n in failed)


def read_controls(directory):
    """Control id -> the names of the rules it runs (`rulesNames`)."""
    controls = {}
    for path in sorted(directory.glob("*.json")):
        try:
            control = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(control, dict) and control.get("controlID"):
            controls[control["controlID"]] = control.get("rulesNames") or []
    return controls


def test_objects(inputs, kinds):
    """(kind, namespace, name) of the objects of a test's input whose kind is in `kinds`,
    each once, in file order."""
    objects = []
    for path in sorted(inputs.glob("*")) if inputs.is_dir() else []:
        for o in c.load_objects(path):
            if o.get("kind") in kinds and c.object_key(o) not in objects:
                objects.append(c.object_key(o))
    return objects


def cases(root, mapping, kanon, catalog_kinds):
    root = Path(root)
    controls = read_controls(root / "controls")
    for check in sorted(catalog_kinds):
        rules = set(mapping.rules_for(check))
        names = controls.get(check, [])
        kinds_of = {name: rule_kinds(root / "rules" / name) for name in names}
        for rule_name in names:
            rule_dir = root / "rules" / rule_name
            kinds = kinds_of[rule_name]
            if kinds is None:
                continue
            # kinds the control's other rules judge: an object this rule's test passes may
            # still fail the control through them.
            others = {k for name, ks in kinds_of.items() if name != rule_name for k in ks or ()}
            for test in sorted((rule_dir / "test").glob("*/")):
                inputs = test / "input"
                try:
                    expected = json.loads((test / "expected.json").read_text())
                except (OSError, ValueError):
                    continue
                failed = failed_objects(expected)
                objects = test_objects(inputs, kinds)
                notes = []
                if (test / "data.json").exists():
                    notes.append("the test sets the control's configuration (data.json)")
                if len(names) > 1:
                    notes.append(f"{check} runs {len(names)} rules; this test is {rule_name}'s")
                note = "; ".join(notes) or None
                findings = c.scan(kanon, inputs) if rules and objects else ()
                case_name = f"{rule_name}/{test.name}"
                for obj in objects:
                    if obj[2] is None:
                        continue
                    expect = "fail" if matches(failed, obj) else "pass"
                    if expect == "pass" and obj[0] in others:
                        why = f"passes {rule_name}, but {check}'s other rules also judge {obj[0]} and their tests do not say"
                        yield c.case(mapping, check, case_name, obj, expect, None, why)
                    else:
                        yield c.case(mapping, check, case_name, obj, expect, c.reports(findings, rules, *obj), note)


def main():
    c.run(PEER, __doc__.splitlines()[0], ["rules", "controls"], cases, no_namespace=None)


if __name__ == "__main__":
    main()
