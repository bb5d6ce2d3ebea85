#!/usr/bin/env python3
"""Agreement of kanon's bundled rules with Trivy's own test fixtures (trivy-checks).

    scripts/peer-agreement/trivy.py TRIVY_CHECKS_CLONE KANON_BINARY [--rules DIR] > trivy.jsonl

Reads, from a clone of https://github.com/aquasecurity/trivy-checks (at its HEAD),
`checks/kubernetes/`.

Each check `checks/kubernetes/NAME.rego` has its tests in `NAME_test.rego`: rules
`test_...` that evaluate `deny with input as <object>` and expect `count(r) == 0` (pass) or
`count(r) == N`, `> 0`, `!= 0` (fail). The object is a Rego literal; this script reads the
literals that are plain data (objects, arrays, sets, strings, numbers, booleans, null), also
through a name assigned a literal in the test or the file, and writes each as a JSON
manifest in a directory of its own for kanon to scan. Inputs it cannot read (built by a
function, taken from a loop, holding a variable) are not comparable, and so are inputs that
explained.yaml judges no valid object (`class: fixture`): kanon is not run on them. stderr
says how many inputs were not read. A case is one test; its object is the input's kind and
name. A case fails in kanon when a rule whose `refs` names the check reports the object.
Prints one JSON line per case (see README.md).
"""

import json
import os
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PEER = "trivy"


class NotLiteral(Exception):
    """The Rego expression is not plain data."""


TOKEN = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\],:()])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text, start):
    """Tokens of `text` from `start`: (kind, value, end offset)."""
    pos = start
    while pos < len(text):
        m = TOKEN.match(text, pos)
        pos = m.end()
        if m.lastgroup != "ws":
            yield m.lastgroup, m.group(), pos


class Literal:
    """Reads one Rego data literal; names are looked up in `names` (name -> text offset)."""

    def __init__(self, text, start, names, text_of_name):
        self.toks = tokens(text, start)
        self.peek = next(self.toks, None)
        self.names = names
        self.text_of_name = text_of_name
        self.end = start

    def take(self):
        tok = self.peek
        if tok is None:
            raise NotLiteral("end of text")
        self.end = tok[2]
        self.peek = next(self.toks, None)
        return tok

    def value(self, depth=0):
        if depth > 200:
            raise NotLiteral("too deep")
        kind, val, _ = self.take()
        if kind == "str":
            return json.loads(val)
        if kind == "raw":
            return val[1:-1]
        if kind == "num":
            return json.loads(val)
        if kind == "name":
            if val in ("true", "false", "null"):
                return json.loads(val)
            if self.peek and self.peek[1] in ("(", "[", "."):
                raise NotLiteral(f"`{val}` is not data")
            if val in self.names and depth < 100:
                text, start = self.text_of_name(val)
                return Literal(text, start, self.names, self.text_of_name).value(depth + 1)
            raise NotLiteral(f"`{val}` is a variable")
        if val == "[":
            items = []
            while self.peek and self.peek[1] != "]":
                items.append(self.value(depth + 1))
                if self.peek and self.peek[1] == ",":
                    self.take()
            self.take()
            return items
        if val == "{":
            obj, items, is_set = {}, [], None
            while self.peek and self.peek[1] != "}":
                first = self.value(depth + 1)
                if self.peek and self.peek[1] == ":":
                    if is_set:
                        raise NotLiteral("mixed set and object")
                    is_set = False
                    self.take()
                    if not isinstance(first, (str, int, float, bool)) and first is not None:
                        raise NotLiteral("object key is not a scalar")
                    obj[first if isinstance(first, str) else json.dumps(first)] = self.value(depth + 1)
                else:
                    if is_set is False:
                        raise NotLiteral("mixed set and object")
                    is_set = True
                    items.append(first)
                if self.peek and self.peek[1] == ",":
                    self.take()
            self.take()
            return items if is_set else obj
        raise NotLiteral(f"`{val}` is not data")


def top_level_blocks(text):
    """Offsets of the top-level statements: (name, start, end) for `name` at column 0."""
    starts = [(m.group(1), m.start()) for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE)]
    return [(name, start, starts[i + 1][1] if i + 1 < len(starts) else len(text)) for i, (name, start) in enumerate(starts)]


def assignments(text, start, end):
    """`name := <expression>` in text[start:end]: name -> offset of the expression."""
    return {m.group(1): m.end() for m in re.compile(r"(?m)^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:?=\s*").finditer(text, start, end)}


REPLACES = "the test replaces "

DENY = re.compile(r"\b(\w+)\s*:=\s*(?:\w+\.)?deny\s+with\s+input\s+as\s+")
EXPECT = re.compile(r"count\(\s*(\w+)\s*\)\s*(==|=|>|!=|>=)\s*(\d+)")


def rego_cases(text):
    """Every (test name, input or NotLiteral, expected, notes) of one test file."""
    blocks = top_level_blocks(text)
    package = {}
    for name, start, end in blocks:
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*\s*:?=\s*", text[start:end])
        if m and not name.startswith("test_"):
            package[name] = start + m.end()
    out = []
    for name, start, end in blocks:
        if not name.startswith("test_"):
            continue
        local = assignments(text, start, end)
        names = {**package, **local}
        denies = list(DENY.finditer(text, start, end))
        for i, m in enumerate(denies):
            var = m.group(1)
            stop = denies[i + 1].start() if i + 1 < len(denies) else end
            reader = Literal(text, m.end(), names, lambda n: (text, names[n]))
            notes = []
            try:
                obj = reader.value()
                rest = text[reader.end : stop]
            except NotLiteral as err:
                obj = err
                rest = text[m.end() : stop]
            for target in re.findall(r"with\s+([\w.]+)\s+as", rest):
                if target.startswith("data."):
                    notes.append(f"the test sets `{target}`")
                elif target != "input":
                    notes.append(f"{REPLACES}`{target}`, a table of the check itself")
            expected = None
            for e in EXPECT.finditer(rest):
                if e.group(1) != var:
                    continue
                op, n = e.group(2), int(e.group(3))
                equal = op in ("==", "=")
                expected = "pass" if equal and n == 0 else "fail" if (equal and n > 0) or op in (">", "!=") else None
                break
            if expected is None and re.search(rf"(?m)^\s*{var}\[_\]", rest):
                expected = "fail"
            case = name if len(denies) == 1 else f"{name}#{i + 1}"
            out.append((case, obj, expected, notes))
    return out


def check_id(rego_text):
    m = re.search(r"^#\s+id:\s*(\S+)", rego_text, re.MULTILINE) or re.search(
        r"^#\s+avd_id:\s*(\S+)", rego_text, re.MULTILINE
    )
    return m.group(1).strip("\"'") if m else None


def cases(root, mapping, kanon, _kinds):
    root = Path(root)
    unread = {}
    for test_file in sorted((root / "checks" / "kubernetes").glob("*_test.rego")):
        check_file = test_file.with_name(test_file.name[: -len("_test.rego")] + ".rego")
        raw_id = check_id(check_file.read_text()) if check_file.exists() else None
        if raw_id not in mapping.canonical:
            continue
        check = mapping.id(raw_id)
        rules = set(mapping.rules_for(check))
        for case, obj, expected, notes in rego_cases(test_file.read_text()):
            if expected is None:
                unread["no count() expectation"] = unread.get("no count() expectation", 0) + 1
                continue
            if isinstance(obj, NotLiteral) or not isinstance(obj, dict):
                why = f"input not read: {obj}" if isinstance(obj, NotLiteral) else "input is not an object"
                unread[why.split(":")[0]] = unread.get(why.split(":")[0], 0) + 1
                yield c.case(mapping, check, case, ("?", None, "?"), expected, None, why)
                continue
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            ident = (str(obj.get("kind")), meta.get("namespace") or None, str(meta.get("name")))
            hit = None
            note = "; ".join(notes) or None
            if mapping.set_aside(check, case, ident):
                pass  # no valid object: `case` gives the reason
            elif any(n.startswith(REPLACES) for n in notes):
                note = f"{note}: its outcome is not about the manifest"
            elif not obj.get("apiVersion"):
                unread["input without apiVersion"] = unread.get("input without apiVersion", 0) + 1
                note = "the input has no `apiVersion`: not a manifest kanon reads"
            elif rules:
                case_dir = root / "kanon-cases" / check / case
                case_dir.mkdir(parents=True)
                (case_dir / "input.json").write_text(json.dumps(obj, indent=2))
                hit = c.reports(c.scan(kanon, case_dir), rules, *ident)
            yield c.case(mapping, check, case, ident, expected, hit, note)
    if unread:
        print("trivy: test inputs not read: " + ", ".join(f"{k}: {v}" for k, v in sorted(unread.items())), file=sys.stderr)


def main():
    c.run(PEER, __doc__.splitlines()[0], ["checks/kubernetes"], cases, no_namespace=None)


if __name__ == "__main__":
    main()
