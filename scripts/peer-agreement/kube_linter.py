#!/usr/bin/env python3
"""Agreement of kanon's bundled rules with kube-linter's own check fixtures.

    scripts/peer-agreement/kube_linter.py KUBE_LINTER_CLONE KANON_BINARY [--rules DIR] > kube-linter.jsonl

Reads, from a clone of https://github.com/stackrox/kube-linter (at its HEAD),
`e2etests/bats-tests.sh`: each test that runs one built-in check (`--include CHECK`) over one
fixture file (`tests/checks/*.yml`) states how many reports kube-linter gives and the kind
and message of some of them, in the order of the objects in the file.

kube-linter's tests name the reports, not the objects, so the objects that fail are worked
out: every way of giving each report, in order, an object of the file (the same object may
take several reports) such that the object has the report's kind and holds, as whole
values, every value the message quotes (container names, variable names, ports) is listed. An object that
fails in every such way is expected to fail, one that fails in none to pass. Objects that
fail in some ways only are decided by the fixtures' naming (`dont-fire`, `fire`) when that
leaves one answer, and are not comparable otherwise.

kanon scans each fixture file alone. A case fails in kanon when a rule whose `refs` names
the check reports the object. Prints one JSON line per case (see README.md).
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PEER = "kube-linter"
MAX_WAYS = 200000


def bats_tests(text):
    """(name, fixture, check, count, {index: (kind, message, exact)}, status) per test."""
    for m in re.finditer(r'@test "([^"]+)" \{\n(.*?)\n\}', text, re.S):
        name, body = m.group(1), m.group(2)
        tmp = re.search(r'tmp="([^"]+)"', body)
        inc = re.findall(r"--include ([\w-]+)", body)
        if not tmp or len(inc) != 1 or "--config" in body:
            continue
        count = re.search(r'\[\[ "\$\{count\}" == "(\d+)" \]\]', body)
        status = re.search(r'\[ "\$status" -eq (\d+) \]', body)
        messages = {}
        # the whole quoted text up to the line's closing `" ]]`: some tests quote inside it
        # without escaping (`"Role: wildcard "*" in verb specification"`)
        for mm in re.finditer(r'^\s*\[\[ "\$\{message(\d+)\}" (==|=~) "(.*)" \]\]\s*$', body, re.M):
            text_ = mm.group(3).replace('\\"', '"')
            kind, _, msg = text_.partition(": ")
            messages[int(mm.group(1)) - 1] = (kind, msg, mm.group(2) == "==")
        if count:
            n = int(count.group(1))
        elif status and status.group(1) == "0":
            n = 0
        else:
            continue
        yield name, tmp.group(1), inc[0], n, messages


def quoted_values(message):
    """Values a message names that the object must hold."""
    vals = {v for v in re.findall(r'"([^"]+)"', message) if re.fullmatch(r"[\w.:/@*-]+", v)}
    vals |= set(re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", message))
    vals |= set(re.findall(r"(?<![\w.])\d{2,}(?![\w.])", message))
    return vals


def scalars(value):
    """Every scalar of an object, as text (`22`, `app`, `NET_RAW`)."""
    if isinstance(value, dict):
        return set().union(*(scalars(v) | {str(k)} for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(scalars(v) for v in value)) if value else set()
    return {str(value)}


def fits(obj_scalars, kind, report):
    """Object (kind and scalars) can be the one `report` is about: the kind is the report's
    and every value the message quotes is a whole scalar of the object (a container named
    `app-no-protocol` does not hold `app`)."""
    if report is None:
        return True
    rkind, msg, _exact = report
    if rkind != kind:
        return False
    return all(v in obj_scalars for v in quoted_values(msg))


def ways(objs, values, n, messages):
    """Every non-decreasing assignment of the n reports to objects; None when too many."""
    out = []

    def go(i, start, chosen):
        if len(out) > MAX_WAYS:
            return
        if i == n:
            out.append(tuple(chosen))
            return
        for j in range(start, len(objs)):
            if fits(values[j], objs[j]["kind"], messages.get(i)):
                chosen.append(j)
                go(i + 1, j, chosen)
                chosen.pop()

    go(0, 0, [])
    return None if len(out) > MAX_WAYS else out


def dont_fire(name):
    return bool(re.search(r"(dont|do-not|don-t|not|no)-fire|dontfire", name or ""))


def fire(name):
    return bool(re.search(r"(^|-)fire(-|$)", name or "")) and not dont_fire(name)


def labels(objs, values, n, messages):
    """Per object index: (expected, comparable, note)."""
    all_ways = ways(objs, values, n, messages)
    if not all_ways:
        reason = "too many ways to place the reports" if all_ways is None else "no way to place the reports"
        return {j: (None, False, reason) for j in range(len(objs))}
    sets = [set(w) for w in all_ways]
    result = {}
    undecided = []
    for j in range(len(objs)):
        inside = sum(1 for s in sets if j in s)
        if inside == len(sets):
            result[j] = ("fail", True, "reported in every placement of the test's reports")
        elif inside == 0:
            result[j] = ("pass", True, "reported in no placement of the test's reports")
        else:
            undecided.append(j)
    if undecided:
        names = [(objs[j].get("metadata") or {}).get("name") for j in range(len(objs))]
        named = [
            s
            for s in sets
            if not any(dont_fire(names[j]) for j in s) and all(j in s for j in range(len(objs)) if fire(names[j]))
        ]
        for j in undecided:
            if named and all(j in s for s in named):
                result[j] = ("fail", True, "reported in every placement that follows the fixture's names")
            elif named and not any(j in s for s in named):
                result[j] = ("pass", True, "reported in no placement that follows the fixture's names")
            else:
                result[j] = (None, False, "the test's reports do not say whether this object fails")
    return result


def cases(root, mapping, kanon, kinds):
    with open(os.path.join(root, "e2etests", "bats-tests.sh"), encoding="utf-8") as f:
        text = f.read()
    for _name, fixture, check, n, messages in bats_tests(text):
        path = os.path.join(root, fixture)
        if not os.path.isfile(path):
            continue
        objs = c.load_objects(path)
        verdicts = labels(objs, [scalars(o) for o in objs], n, messages)
        keys = [c.object_key(o) for o in objs]
        rules = set(mapping.rules_for(check))
        findings = c.scan(kanon, [path]) if rules else []
        for j, obj in enumerate(objs):
            if kinds.get(check) and obj["kind"] not in kinds[check]:
                continue
            key = keys[j]
            exp, comparable, note = verdicts[j]
            if keys.count(key) > 1:
                # kanon's findings name the object, which cannot tell these apart
                comparable = False
                note += "; another object of the file has the same kind, namespace and name"
            hit, extra = c.verdict_rules(findings, rules, objs, *key)
            if extra:
                note += "; " + extra
            case_name = f"{os.path.basename(fixture)}#{j + 1}"
            yield c.case(mapping, check, case_name, key, exp, hit, note, comparable)


def main():
    c.run(PEER, __doc__.splitlines()[0], ["tests/checks", "e2etests/bats-tests.sh"], cases)


if __name__ == "__main__":
    main()
