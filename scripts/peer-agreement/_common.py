"""Shared by the four peer-agreement scripts (checkov.py, kube_linter.py, kubescape.py,
trivy.py): the command line, the bundled rules' refs, the peer catalog, the stated
differences and judged cases, kanon scans, matching findings to objects, and the JSON line
and verdict of each case.

Nothing of the peers is kept here: their fixtures are read from a local clone given on the
command line and extracted to a temporary directory at run time.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CATALOG = os.path.join(REPO, "tests", "data", "peer-checks", "checks.json")
DECISIONS = os.path.join(REPO, "docs", "rules", "peer-mapping.yaml")
EXPLAINED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explained.yaml")


# Extra arguments of `kanon scan` and `kanon rules`: `--no-default-rules --rules DIR` when a
# ruleset directory is given, to measure rules being edited without rebuilding kanon.
RULE_ARGS = []


def arguments(peer, description):
    """Parses `CLONE KANON [--rules DIR]`; returns (clone, kanon binary)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("clone", help=f"a clone of {peer}'s repository (or a bare mirror)")
    ap.add_argument("kanon", help="the kanon binary")
    ap.add_argument(
        "--rules",
        metavar="DIR",
        help="run the rules of DIR (e.g. rulesets/) instead of the bundled ones",
    )
    a = ap.parse_args()
    if a.rules:
        RULE_ARGS[:] = ["--no-default-rules", "--rules", os.path.abspath(a.rules)]
    return a.clone, os.path.abspath(a.kanon)


def run(peer, description, paths, cases, no_namespace="-"):
    """The whole of a peer's script: parses `CLONE KANON [--rules DIR]`, extracts `paths` of
    the clone, prints the lines `cases(root, mapping, kanon, kinds)` yields (`kinds`: the
    catalog's kinds per check), removes the extracted files and says which judged cases no
    longer disagree. `no_namespace`: how a case's object shows an unset namespace (see
    `Mapping.label`)."""
    mirror, kanon = arguments(peer, description)
    mapping = Mapping(kanon, peer, no_namespace)
    kinds = catalog_kinds(peer)
    root = extract(mirror, paths)
    try:
        for line in cases(root, mapping, kanon, kinds):
            emit(line)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    warn_unused(mapping)


def die(msg):
    print(f"peer-agreement: {msg}", file=sys.stderr)
    sys.exit(2)


def extract(mirror, paths):
    """Extracts `paths` of the git repository at `mirror` (a clone or a bare mirror) at
    HEAD into a new temporary directory, which is returned."""
    if not os.path.isdir(mirror):
        die(f"`{mirror}` is not a directory (give the path of a clone of the peer's repository)")
    out = tempfile.mkdtemp(prefix="kanon-peer-")
    archive = subprocess.run(
        ["git", "-C", mirror, "archive", "HEAD", *paths], capture_output=True, check=False
    )
    if archive.returncode != 0:
        die(f"`git archive` failed in `{mirror}`: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", out], input=archive.stdout, check=True)
    return out


def head_commit(mirror):
    r = subprocess.run(["git", "-C", mirror, "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip()


def catalog_kinds(peer):
    """Check id -> the kinds of object it reads, from the catalog (None when not known)."""
    with open(CATALOG, encoding="utf-8") as f:
        return {x["id"]: x.get("kinds") for x in json.load(f) if x["peer"] == peer}


class Mapping:
    """Peer check -> the bundled rules that name it in `refs`, by id or alias."""

    def __init__(self, kanon, peer, no_namespace="-"):
        self.peer = peer
        self.no_namespace = no_namespace
        with open(CATALOG, encoding="utf-8") as f:
            catalog = json.load(f)
        self.canonical = {}
        for c in catalog:
            if c["peer"] != peer:
                continue
            for name in [c["id"], *(c.get("aliases") or [])]:
                self.canonical[name] = c["id"]
        out = subprocess.run(
            [kanon, "rules", "--format", "json", *RULE_ARGS], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            die(f"`{kanon} rules --format json` failed: {out.stderr.strip()}")
        self.rules = {}
        for rule in json.loads(out.stdout):
            for ref in rule.get("refs") or []:
                if ref in self.canonical:
                    self.rules.setdefault(self.canonical[ref], set()).add(rule["id"])
        with open(DECISIONS, encoding="utf-8") as f:
            decisions = yaml.safe_load(f)
        self.differences = {}
        for name, sentence in (decisions.get("differences") or {}).items():
            if name in self.canonical:
                self.differences[self.canonical[name]] = sentence
        self.not_covered = {}
        for group in decisions.get("not_covered") or []:
            for name in group["checks"]:
                if name in self.canonical:
                    self.not_covered[self.canonical[name]] = group["reason"]
        # Disagreements judged one by one (explained.yaml): `difference` when the stated
        # difference of the check explains the case, `fixture` when the peer's fixture does
        # not ask the check's question (an object the API server rejects, a malformed value,
        # a permission in an API group that has no such resource).
        self.explained = {}
        if os.path.exists(EXPLAINED):
            with open(EXPLAINED, encoding="utf-8") as f:
                for e in yaml.safe_load(f) or []:
                    if e["peer"] != peer:
                        continue
                    if e["class"] not in ("difference", "fixture"):
                        die(f"explained.yaml: unknown class `{e['class']}` (difference or fixture)")
                    key = (self.canonical.get(e["check"], e["check"]), e["case"], e["object"])
                    if key in self.explained:
                        die(f"explained.yaml: {key} is given twice")
                    if e["class"] == "difference" and key[0] not in self.differences:
                        die(f"explained.yaml: {key} is called a difference, but peer-mapping.yaml states none for `{key[0]}`")
                    self.explained[key] = (e["class"], e["why"])
        self.used_explanations = set()

    def id(self, name):
        return self.canonical.get(name, name)

    def rules_for(self, check):
        return sorted(self.rules.get(self.id(check), ()))

    def label(self, kind, namespace, name):
        """The object of a case as its line and explained.yaml write it: `Kind/ns/name`; an
        unset namespace is `-` (Checkov, kube-linter: `Kind/-/name`) or, when
        `no_namespace` is None, left out (Kubescape, Trivy: `Kind/name`)."""
        if namespace or self.no_namespace is not None:
            return f"{kind}/{namespace or self.no_namespace}/{name}"
        return f"{kind}/{name}"

    def set_aside(self, check, case_name, obj):
        """Whether explained.yaml judges the case `fixture`; a script may then leave kanon
        unrun on it (Trivy, for inputs that are no valid object) and `case` sets it aside."""
        judged = self.explained.get((self.id(check), case_name, self.label(*obj)))
        return bool(judged) and judged[0] == "fixture"


_SCANS = {}


def scan(kanon, paths):
    """Runs the bundled rules (or those of `--rules DIR`) over `paths` (a path or a list);
    returns (rule id, kind, namespace, name, file) of each finding, the file as an absolute
    path. A path list is scanned once per run."""
    paths = [str(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    key = (str(kanon), tuple(paths), tuple(RULE_ARGS))
    if key not in _SCANS:
        _SCANS[key] = _scan(kanon, paths)
    return _SCANS[key]


def _scan(kanon, paths):
    out = subprocess.run(
        [kanon, "scan", *paths, "--format", "json", "--fail-on", "never", "--no-config", "--no-render", *RULE_ARGS],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode not in (0, 1):
        die(f"`kanon scan {' '.join(paths)}` exited with {out.returncode}: {out.stderr.strip()}")
    report = json.loads(out.stdout)
    return tuple(
        (
            f["rule"]["id"],
            f["resource"]["kind"],
            f["resource"].get("namespace"),
            f["resource"]["name"],
            os.path.abspath(f["location"]["file"]),
        )
        for f in report["findings"]
    )


def reports(findings, rules, kind, namespace, name, files=None):
    """The rules of `rules` that report the object (a null namespace matches any), in one of
    `files` when given (objects of the same name in other files are others)."""
    hit = set()
    for rule, k, ns, n, f in findings:
        if files and f not in files:
            continue
        if rule in rules and k == kind and n == name and (ns is None or namespace is None or ns == namespace):
            hit.add(rule)
    return sorted(hit)


def verdict_rules(findings, rules, objs, kind, namespace, name, files=None):
    """The rules of `rules` that report the object, and a note. kanon reports a permission
    once, on the role, where a peer may judge the binding: a binding also fails when a rule
    reports the role it references (a Role in the binding's namespace, or a ClusterRole)."""
    hit = reports(findings, rules, kind, namespace, name, files)
    if hit or kind not in ("RoleBinding", "ClusterRoleBinding"):
        return hit, None
    binding = next(
        (
            o
            for o in objs
            if o.get("kind") == kind
            and (o.get("metadata") or {}).get("name") == name
            and (namespace is None or (o.get("metadata") or {}).get("namespace") in (None, namespace))
        ),
        None,
    )
    ref = (binding or {}).get("roleRef") or {}
    if not isinstance(ref, dict) or not ref.get("name"):
        return hit, None
    rns = namespace if ref.get("kind") == "Role" else None
    hit = reports(findings, rules, ref.get("kind"), rns, ref["name"])
    return hit, (f"kanon reports the {ref.get('kind')} `{ref['name']}` it binds" if hit else None)


def object_key(obj):
    """(kind, namespace, name) of an object as its findings name it (namespace None when
    the object does not set one, name None when it has none)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns, name = meta.get("namespace"), meta.get("name")
    return obj.get("kind"), ns if isinstance(ns, str) and ns else None, name if isinstance(name, str) else None


def load_objects(path):
    """The Kubernetes objects of a YAML stream or JSON file, in order: the items of lists and
    of `List` objects are taken one by one; documents that are not objects are left out."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        docs = [json.loads(text)] if str(path).endswith(".json") else list(yaml.safe_load_all(text))
    except (ValueError, yaml.YAMLError):
        return []
    objs = []
    while docs:
        d = docs.pop(0)
        if isinstance(d, list):
            docs[:0] = d
        elif isinstance(d, dict) and d.get("kind") == "List" and isinstance(d.get("items"), list):
            docs[:0] = d["items"]
        elif isinstance(d, dict) and isinstance(d.get("kind"), str) and isinstance(d.get("metadata"), dict):
            objs.append(d)
    return objs


def case(mapping, check, case_name, obj, expected, kanon_rules, note=None, comparable=True):
    """Builds one case line and its verdict. `obj` is (kind, namespace, name);
    `kanon_rules` the rules that report it (`reports`, `verdict_rules`), None when kanon was
    not run on the case (then it is not comparable, `note` says why)."""
    check = mapping.id(check)
    rules = mapping.rules_for(check)
    line = {
        "peer": mapping.peer,
        "check": check,
        "case": case_name,
        "object": mapping.label(*obj),
        "expected": expected,
        "kanon": None if kanon_rules is None else "fail" if kanon_rules else "pass",
        "rules": kanon_rules or [],
        "mapped": rules,
        "verdict": None,
        "note": note,
    }
    if not rules:
        line["verdict"] = "not-comparable"
        reason = mapping.not_covered.get(check)
        line["note"] = f"no rule names it ({reason})" if reason else "no rule names it"
        line["kanon"] = None
    elif kanon_rules is None:
        line["verdict"] = "not-comparable"
        if mapping.set_aside(check, case_name, obj):
            key = (check, case_name, line["object"])
            mapping.used_explanations.add(key)
            line["class"] = "fixture"
            line["note"] = "peer fixture: " + mapping.explained[key][1]
    elif not comparable:
        line["verdict"] = "not-comparable"
    elif line["kanon"] == expected:
        line["verdict"] = "agree"
    else:
        key = (check, case_name, line["object"])
        judged = mapping.explained.get(key)
        if judged:
            mapping.used_explanations.add(key)
            line["class"] = judged[0]
            if judged[0] == "difference":
                line["verdict"] = "difference"
                line["note"] = f"{judged[1]} (stated difference: {mapping.differences[check]})"
            else:
                line["verdict"] = "not-comparable"
                line["note"] = "peer fixture: " + judged[1]
        else:
            line["verdict"] = "disagree"
            if check in mapping.differences:
                line["note"] = "stated difference (not judged to explain this case): " + mapping.differences[check]
    return line


def emit(line):
    print(json.dumps(line, sort_keys=True))


def warn_unused(mapping):
    """Says which judged cases no longer disagree (fixed, or the fixture changed): such an
    entry of explained.yaml is stale and should go."""
    for key in sorted(set(mapping.explained) - mapping.used_explanations):
        print(f"peer-agreement: explained.yaml: {key} matched no disagreement (stale?)", file=sys.stderr)
