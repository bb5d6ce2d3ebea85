#!/usr/bin/env python3
"""Tests of the peer-agreement scripts on inputs written here (no peer repository needed).

    python3 scripts/peer-agreement/test_peer_agreement.py

`cargo test --test peer_agreement_scripts` runs it.
"""

import io
import json
import os
import sys
import unittest
from contextlib import redirect_stdout

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
import checkov  # noqa: E402
import kube_linter  # noqa: E402
import summarize  # noqa: E402


def fake_mapping(rules=None, differences=None, explained=None):
    """A Mapping without the catalog and kanon: `rules` check -> rule ids."""
    m = c.Mapping.__new__(c.Mapping)
    m.peer = "peer"
    m.canonical = {"AL-1": "CHK-1"}
    m.rules = {k: set(v) for k, v in (rules or {}).items()}
    m.differences = differences or {}
    m.not_covered = {"CHK-9": "not-security"}
    m.explained = explained or {}
    m.used_explanations = set()
    return m


def deployment(name, container, kind="Deployment"):
    return {"kind": kind, "metadata": {"name": name}, "spec": {"template": {"spec": {"containers": [{"name": container}]}}}}


class Case(unittest.TestCase):
    def test_verdicts(self):
        m = fake_mapping(rules={"CHK-1": ["K01-001"]}, differences={"CHK-1": "they differ"})
        obj = ("Pod", "default", "p")
        self.assertEqual(c.case(m, "AL-1", "x", obj, "fail", ["K01-001"])["verdict"], "agree")
        self.assertEqual(c.case(m, "CHK-1", "x", obj, "pass", [])["verdict"], "agree")
        line = c.case(m, "CHK-1", "x", obj, "fail", [])
        self.assertEqual((line["verdict"], line["kanon"]), ("disagree", "pass"))
        self.assertIn("not judged", line["note"])
        self.assertEqual(c.case(m, "CHK-1", "x", obj, "fail", [], comparable=False)["verdict"], "not-comparable")
        unmapped = c.case(m, "CHK-9", "x", obj, "fail", [])
        self.assertEqual((unmapped["verdict"], unmapped["kanon"]), ("not-comparable", None))
        self.assertIn("not-security", unmapped["note"])

    def test_explained_cases(self):
        m = fake_mapping(
            rules={"CHK-1": ["K01-001"]},
            differences={"CHK-1": "they differ"},
            explained={
                ("CHK-1", "a", "Pod/default/p"): ("difference", "because"),
                ("CHK-1", "b", "Pod/default/p"): ("fixture", "broken"),
            },
        )
        obj = ("Pod", "default", "p")
        d = c.case(m, "CHK-1", "a", obj, "fail", [])
        self.assertEqual(d["verdict"], "difference")
        self.assertIn("because", d["note"])
        f = c.case(m, "CHK-1", "b", obj, "fail", [])
        self.assertEqual((f["verdict"], f["class"]), ("not-comparable", "fixture"))
        # the same object in another case is not explained
        self.assertEqual(c.case(m, "CHK-1", "c", obj, "fail", [])["verdict"], "disagree")
        # an agreement does not use an explanation
        c.case(m, "CHK-1", "a", obj, "fail", ["K01-001"])
        err = io.StringIO()
        m.used_explanations.discard(("CHK-1", "a", "Pod/default/p"))
        sys.stderr, saved = err, sys.stderr
        try:
            c.warn_unused(m)
        finally:
            sys.stderr = saved
        self.assertIn("'a'", err.getvalue())

    def test_binding_fails_through_its_role(self):
        objs = [
            {"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "ns"}, "roleRef": {"kind": "Role", "name": "r"}},
            {"kind": "ClusterRoleBinding", "metadata": {"name": "cb"}, "roleRef": {"kind": "ClusterRole", "name": "cr"}},
        ]
        findings = [("K03-003", "Role", "ns", "r", "/f"), ("K03-003", "Role", "other", "cr", "/f")]
        hit, note = c.verdict_rules(findings, {"K03-003"}, objs, "RoleBinding", "ns", "b")
        self.assertEqual(hit, ["K03-003"])
        self.assertIn("Role `r`", note)
        # a ClusterRoleBinding's role is a ClusterRole, not a Role of the same name
        self.assertEqual(c.verdict_rules(findings, {"K03-003"}, objs, "ClusterRoleBinding", None, "cb")[0], [])
        # another rule's finding does not count
        self.assertEqual(c.verdict_rules(findings, {"K03-004"}, objs, "RoleBinding", "ns", "b")[0], [])

    def test_findings_in_other_files_are_other_objects(self):
        findings = [("K01-001", "Pod", "default", "p", "/a.yaml")]
        self.assertEqual(c.reports(findings, {"K01-001"}, "Pod", "default", "p", {"/a.yaml"}), ["K01-001"])
        self.assertEqual(c.reports(findings, {"K01-001"}, "Pod", "default", "p", {"/b.yaml"}), [])
        self.assertEqual(c.reports(findings, {"K01-001"}, "Pod", "other", "p"), [])


class KubeLinter(unittest.TestCase):
    BATS = '''
@test "privileged-container" {
  tmp="tests/checks/privileged-container.yml"
  cmd="${KUBE_LINTER_BIN} lint --include privileged-container --do-not-auto-add-defaults --format json ${tmp}"
  run ${cmd}
  [ "$status" -eq 1 ]
  [[ "${message1}" == "Deployment: container \\"app\\" is privileged" ]]
  [[ "${count}" == "2" ]]
}

@test "with-config" {
  tmp="tests/checks/x.yml"
  cmd="${KUBE_LINTER_BIN} lint --config c.yaml --include x ${tmp}"
}
'''

    def test_bats_tests(self):
        tests = list(kube_linter.bats_tests(self.BATS))
        self.assertEqual(len(tests), 1)
        name, fixture, check, n, messages = tests[0]
        self.assertEqual((name, fixture, check, n), ("privileged-container", "tests/checks/privileged-container.yml", "privileged-container", 2))
        self.assertEqual(messages, {0: ("Deployment", 'container "app" is privileged', True)})

    def labels(self, objs, n, messages):
        return kube_linter.labels(objs, [kube_linter.scalars(o) for o in objs], n, messages)

    def test_placements_decide_by_values(self):
        objs = [deployment("a", "web"), deployment("b", "db"), deployment("c", "db", "DeploymentConfig")]
        got = self.labels(objs, 1, {0: ("Deployment", 'container "db" is privileged', True)})
        self.assertEqual([got[j][0] for j in range(3)], ["pass", "fail", "pass"])
        self.assertTrue(all(got[j][1] for j in range(3)))

    def test_placements_fall_back_on_names(self):
        objs = [deployment("dont-fire", "app"), deployment("app1", "app")]
        got = self.labels(objs, 1, {0: ("Deployment", 'container "app" is privileged', True)})
        self.assertEqual([got[0][0], got[1][0]], ["pass", "fail"])
        self.assertIn("names", got[1][2])

    def test_undecided_and_impossible(self):
        objs = [deployment("x", "app"), deployment("y", "app")]
        got = self.labels(objs, 1, {0: ("Deployment", 'container "app" is privileged', True)})
        self.assertEqual([got[0][1], got[1][1]], [False, False])
        none = self.labels(objs, 1, {0: ("Service", "", True)})
        self.assertEqual(none[0], (None, False, "no way to place the reports"))

    def test_values_are_whole_scalars(self):
        objs = [deployment("x", "app-no-protocol"), deployment("y", "app")]
        got = self.labels(objs, 1, {0: ("Deployment", 'container "app" found', True)})
        self.assertEqual([got[0][0], got[1][0]], ["pass", "fail"])

    def test_unescaped_quotes_in_a_message(self):
        bats = '@test "w" {\n  tmp="t.yml"\n  cmd="lint --include w ${tmp}"\n  [[ "${message1}" == "Role: wildcard "*" in verb specification" ]]\n  [[ "${count}" == "1" ]]\n}'
        (_, _, _, _, messages), = kube_linter.bats_tests(bats)
        self.assertEqual(messages[0][1], 'wildcard "*" in verb specification')

    def test_reports_only_known_values(self):
        self.assertEqual(kube_linter.quoted_values('container "app" has ADD capability: "NET_RAW", port 22 and TCP'), {"app", "NET_RAW", "22"})
        # quoted regular expressions are not values the object holds
        self.assertEqual(kube_linter.quoted_values('criteria : [".*:(latest)$"]'), set())


class Checkov(unittest.TestCase):
    TEST = """
        passing_resources = {
            "Pod.default.a",
            "Pod.kube-system.b",
        }
        failing_resources = {"CronJob.default.c"}
        self.assertEqual(summary['passed'], 2)
        self.assertEqual(summary["failed"], 1)
    """

    def test_literal_sets_and_counts(self):
        self.assertEqual(checkov.literal_set(self.TEST, "passing_resources"), {"Pod.default.a", "Pod.kube-system.b"})
        self.assertEqual(checkov.literal_set(self.TEST, "failing_resources"), {"CronJob.default.c"})
        self.assertIsNone(checkov.literal_set(self.TEST, "skipped_resources"))
        self.assertEqual((checkov.summary_count(self.TEST, "passed"), checkov.summary_count(self.TEST, "failed")), (2, 1))

    def test_file_labels(self):
        self.assertEqual(checkov.file_label("privilegedPod-FAILED.yaml"), "fail")
        self.assertEqual(checkov.file_label("rootContainersPASSED.yaml"), "pass")
        self.assertEqual(checkov.file_label("CronJob-pass.yaml"), "pass")
        self.assertEqual(checkov.file_label("tiller-deployment_FAILED_WRONGARG.yaml"), "fail")
        self.assertIsNone(checkov.file_label("cloudwatch-agent-1PASSED-1FAILED.yaml"))
        self.assertIsNone(checkov.file_label("scope-UNKNOWN.yaml"))
        self.assertIsNone(checkov.file_label("bypass-failover.yaml"))

    def test_resource_ids(self):
        self.assertEqual(checkov.resource_id({"kind": "Pod", "metadata": {"name": "p"}}), "Pod.default.p")
        self.assertEqual(checkov.parse_id("Deployment.ns.name.with.dots"), ("Deployment", "ns", "name.with.dots"))


class Summarize(unittest.TestCase):
    def lines(self):
        def line(peer, verdict, **kw):
            return {"peer": peer, "check": "C", "case": "k", "object": "o", "verdict": verdict, **kw}

        return [
            line("a", "agree"),
            line("a", "agree"),
            line("a", "agree"),
            line("a", "difference"),
            line("a", "disagree", expected="fail", kanon="pass", rules=[]),
            line("a", "not-comparable", **{"class": "fixture"}),
            line("b", "not-comparable"),
        ]

    def test_tally(self):
        t = summarize.tally(self.lines())
        self.assertEqual((t["cases"], t["comparable"], t["agree"], t["difference"], t["disagree"], t["fixture"]), (7, 5, 3, 1, 1, 1))
        self.assertAlmostEqual(t["agreement"], 75.0)
        self.assertIsNone(summarize.tally([{"peer": "b", "check": "C", "verdict": "not-comparable"}])["agreement"])

    def test_output(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"peer-agreement-test-{os.getpid()}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for line in self.lines():
                f.write(json.dumps(line) + "\n")
        try:
            out = io.StringIO()
            saved = sys.argv
            sys.argv = ["summarize.py", path]
            try:
                with redirect_stdout(out):
                    summarize.main()
            finally:
                sys.argv = saved
        finally:
            os.remove(path)
        text = out.getvalue()
        self.assertIn("75.0%", text)
        self.assertIn("overall", text)
        self.assertIn("disagreements (1):", text)


if __name__ == "__main__":
    unittest.main()
