#!/usr/bin/env python3
"""Agreement of kanon's bundled rules with Checkov's own Kubernetes test fixtures.

    scripts/peer-agreement/checkov.py CHECKOV_CLONE KANON_BINARY [--rules DIR] > checkov.jsonl

Reads, from a clone of https://github.com/bridgecrewio/checkov (at its HEAD):

- resource checks: `tests/kubernetes/checks/test_<Name>.py` imports the check (its id is in
  `checkov/kubernetes/checks/resource/k8s/<Check>.py`) and runs it over
  `example_<Name>/`. When the test lists `passing_resources` and `failing_resources`
  (`Kind.namespace.name`), those are the cases. Otherwise each object of a kind the check
  reads is expected to pass in a file named `PASSED` (`*-PASSED.yaml`, `xPASSED.yaml`,
  `*-pass.yaml`) and to fail in one named `FAILED`; files named both ways are left out;
  when the files named for one outcome hold more such objects than the test's
  `summary['passed']` (or `summary['failed']`) counts (suppressed or unknown results), the
  labels of that outcome are not certain and those cases are not comparable.
- graph checks: `tests/kubernetes/graph/checks/resources/<Name>/expected.yaml` (`pass` and
  `fail` lists) for the check `checkov/kubernetes/checks/graph_checks/<Name>.yaml`.

kanon scans each example directory as a whole, as Checkov's test does. A case fails in
kanon when a rule whose `refs` names the check reports the object. Checkov's RBAC graph
checks judge a binding while kanon reports a permission once, on the role: a binding case
also fails in kanon when such a rule reports the role it references.

Prints one JSON line per case (see README.md).
"""

import ast
import glob
import os
import re
import sys

import yaml

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PEER = "checkov"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def literal_set(text, var):
    """The string literals of `var = {...}` (or `[...]`) in a test file, or None."""
    m = re.search(var + r"\s*=\s*([\[{])", text)
    if not m:
        return None
    close = "}" if m.group(1) == "{" else "]"
    end = text.index(close, m.end())
    body = text[m.start(1) : end + 1]
    try:
        value = ast.literal_eval(body)
    except (ValueError, SyntaxError):
        return None
    return set(value)


def file_label(name):
    """The outcome a fixture file's name gives its objects: `PASSED` or `FAILED` in capitals,
    or `pass` or `fail` as a word (`CronJob-pass.yaml`); None for names that say both
    (`cloudwatch-agent-1PASSED-1FAILED.yaml`) or neither (`scope-UNKNOWN.yaml`)."""
    stem = os.path.splitext(name)[0]
    said = set()
    if "PASSED" in stem or re.search(r"(^|[-_.])pass(ed)?($|[-_.])", stem):
        said.add("pass")
    if "FAILED" in stem or re.search(r"(^|[-_.])fail(ed)?($|[-_.])", stem):
        said.add("fail")
    return said.pop() if len(said) == 1 else None


def summary_count(text, key):
    m = re.search(r"summary\[['\"]" + key + r"['\"]\],\s*(\d+)", text)
    return int(m.group(1)) if m else None


def resource_id(obj):
    meta = obj.get("metadata") or {}
    return f"{obj['kind']}.{meta.get('namespace') or 'default'}.{meta.get('name')}"


def parse_id(rid):
    kind, ns, name = rid.split(".", 2)
    return kind, ns, name


def kinds_of(catalog_kinds, check):
    return set(catalog_kinds.get(check) or [])


def resource_checks(root, mapping, kanon, catalog_kinds):
    tests = os.path.join(root, "tests", "kubernetes", "checks")
    checks_dir = os.path.join(root, "checkov", "kubernetes", "checks", "resource", "k8s")
    for test in sorted(glob.glob(os.path.join(tests, "test_*.py"))):
        text = read(test)
        m = re.search(r"checkov\.kubernetes\.checks\.resource\.k8s\.(\w+) import check", text)
        d = re.search(r"example_[A-Za-z0-9_]+", text)
        if not m or not d:
            continue
        src = read(os.path.join(checks_dir, m.group(1) + ".py"))
        ids = re.findall(r"\bid\s*=\s*['\"](CKV2?_K8S_\d+)['\"]", src)
        if len(ids) != 1:
            continue
        check = ids[0]
        example = os.path.join(tests, d.group(0))
        if not os.path.isdir(example):
            continue
        case_name = d.group(0)
        files = sorted(
            f for pattern in ("*.y*ml", "*.json") for f in glob.glob(os.path.join(example, "**", pattern), recursive=True)
        )
        objects = []  # (resource id, object, file)
        where = {}  # resource id -> the files that hold such an object
        for f in files:
            for obj in c.load_objects(f):
                objects.append((resource_id(obj), obj, f))
                where.setdefault(resource_id(obj), set()).add(os.path.abspath(f))
        all_objs = [o for _, o, _ in objects]
        passing = literal_set(text, "passing_resources")
        failing = literal_set(text, "failing_resources")
        cases = []  # (resource id, files, expected, comparable, note)
        if passing is not None and failing is not None:
            for exp, listed in (("pass", passing), ("fail", failing)):
                for r in sorted(listed):
                    note = "listed in the test"
                    if len(where.get(r, ())) > 1:
                        note += f"; {len(where[r])} files hold an object of that name, any of them counts"
                    cases.append((r, where.get(r), exp, True, note))
        else:
            kinds = kinds_of(catalog_kinds, check)
            labelled = {"pass": [], "fail": []}
            for rid, obj, path in sorted(objects, key=lambda x: (x[0], x[2])):
                fname = os.path.basename(path)
                if (kinds and obj["kind"] not in kinds) or not (obj.get("metadata") or {}).get("name"):
                    continue
                label = file_label(fname)
                if label:
                    labelled[label].append((rid, path))
            want = {"pass": summary_count(text, "passed"), "fail": summary_count(text, "failed")}
            # A file name labels its objects unless the test counts fewer results of that
            # outcome than the files so named hold (suppressed or unknown results); objects
            # of other files (named neither way) may make up the rest of the count.
            for exp in ("pass", "fail"):
                certain = want[exp] is None or want[exp] >= len(labelled[exp])
                for rid, path in labelled[exp]:
                    note = f"labelled by file name `{os.path.basename(path)}`"
                    if not certain:
                        note += f"; the test counts {want[exp]} {exp}ed, files so named hold {len(labelled[exp])}"
                    # kanon's findings name the object, which cannot tell these apart
                    alone = labelled[exp].count((rid, path)) == 1
                    if not alone:
                        note += "; another object of the file has the same kind, namespace and name"
                    cases.append((rid, {os.path.abspath(path)}, exp, certain and alone, note))
        if not cases:
            continue
        findings = c.scan(kanon, [example]) if mapping.rules_for(check) else []
        rules = set(mapping.rules_for(check))
        for rid, files_, exp, comparable, note in cases:
            kind, ns, name = parse_id(rid)
            hit, extra = c.verdict_rules(findings, rules, all_objs, kind, ns, name, files_)
            if extra:
                note += "; " + extra
            label = case_name + (f"/{os.path.basename(next(iter(files_)))}" if files_ and len(files_) == 1 else "")
            yield c.case(mapping, check, label, (kind, ns, name), exp, hit, note, comparable)


def graph_checks(root, mapping, kanon):
    res = os.path.join(root, "tests", "kubernetes", "graph", "checks", "resources")
    defs = os.path.join(root, "checkov", "kubernetes", "checks", "graph_checks")
    for name in sorted(os.listdir(res)):
        definition = os.path.join(defs, name + ".yaml")
        expected_file = os.path.join(res, name, "expected.yaml")
        if not os.path.exists(definition) or not os.path.exists(expected_file):
            continue
        check = (yaml.safe_load(read(definition)).get("metadata") or {}).get("id")
        expected = yaml.safe_load(read(expected_file)) or {}
        directory = os.path.join(res, name)
        objs = []
        for f in sorted(glob.glob(os.path.join(directory, "**", "*.y*ml"), recursive=True)):
            if os.path.basename(f) != "expected.yaml":
                objs += c.load_objects(f)
        rules = set(mapping.rules_for(check))
        findings = c.scan(kanon, [directory]) if rules else []
        for exp in ("pass", "fail"):
            for rid in expected.get(exp) or []:
                parts = rid.split(".")
                kind, ns, oname = parts[0], parts[1], ".".join(parts[2:])
                note = "listed in expected.yaml"
                if len(parts) > 3 and kind == "Pod":
                    # Checkov names the pod of a workload `Pod.ns.<workload>.<app label>`.
                    owner = next(
                        (o for o in objs if (o.get("metadata") or {}).get("name") == parts[2] and o["kind"] != "Pod"),
                        None,
                    )
                    if owner is not None:
                        kind, oname = owner["kind"], parts[2]
                        note += f"; Checkov's pod `{rid}` is {kind} `{oname}`"
                hit, extra = c.verdict_rules(findings, rules, objs, kind, ns, oname)
                if extra:
                    note += "; " + extra
                yield c.case(mapping, check, f"graph/{name}", (kind, ns, oname), exp, hit, note)


def cases(root, mapping, kanon, kinds):
    yield from resource_checks(root, mapping, kanon, kinds)
    yield from graph_checks(root, mapping, kanon)


def main():
    c.run(PEER, __doc__.splitlines()[0], ["tests/kubernetes", "checkov/kubernetes/checks"], cases)


if __name__ == "__main__":
    main()
