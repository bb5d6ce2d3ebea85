#!/usr/bin/env python3
"""Tests of the peer-agreement scripts on inputs written here (no peer repository needed).

    python3 scripts/peer-agreement/test_peer_agreement.py

`cargo test --test suite peer_agreement_scripts::` runs it.
"""

import io
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from contextlib import redirect_stdout

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
import checkov  # noqa: E402
import kube_linter  # noqa: E402
import kubescape  # noqa: E402
import summarize  # noqa: E402
import trivy  # noqa: E402


def fake_mapping(rules=None, differences=None, explained=None, no_namespace="-"):
    """A Mapping without the catalog and kanon: `rules` check -> rule ids."""
    m = c.Mapping.__new__(c.Mapping)
    m.peer = "peer"
    m.no_namespace = no_namespace
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

    def test_kanon_not_run(self):
        m = fake_mapping(
            rules={"CHK-1": ["K01-001"]},
            explained={("CHK-1", "bad", "Pod/p"): ("fixture", "no valid object")},
            no_namespace=None,
        )
        line = c.case(m, "CHK-1", "x", ("Pod", None, "p"), "fail", None, "input not read")
        self.assertEqual((line["verdict"], line["kanon"], line["rules"], line["note"]), ("not-comparable", None, [], "input not read"))
        self.assertNotIn("class", line)
        # a case judged `fixture` that kanon was not run on is set aside with its reason
        self.assertTrue(m.set_aside("CHK-1", "bad", ("Pod", None, "p")))
        self.assertFalse(m.set_aside("CHK-1", "x", ("Pod", None, "p")))
        bad = c.case(m, "CHK-1", "bad", ("Pod", None, "p"), "fail", None)
        self.assertEqual((bad["verdict"], bad["kanon"], bad["class"]), ("not-comparable", None, "fixture"))
        self.assertEqual(bad["note"], "peer fixture: no valid object")
        self.assertEqual(m.used_explanations, {("CHK-1", "bad", "Pod/p")})

    def test_object_labels(self):
        dash, bare = fake_mapping(), fake_mapping(no_namespace=None)
        self.assertEqual((dash.label("Pod", None, "p"), bare.label("Pod", None, "p")), ("Pod/-/p", "Pod/p"))
        self.assertEqual((dash.label("Pod", "ns", "p"), bare.label("Pod", "ns", "p")), ("Pod/ns/p", "Pod/ns/p"))
        line = c.case(bare, "CHK-1", "x", ("Pod", None, "p"), "pass", [])
        self.assertEqual(line["object"], "Pod/p")

    def test_load_objects(self):
        with tempfile.TemporaryDirectory() as d:
            yml, js = os.path.join(d, "a.yaml"), os.path.join(d, "b.json")
            with open(yml, "w", encoding="utf-8") as f:
                f.write("kind: Pod\nmetadata: {name: a, namespace: ''}\n---\nkind: List\nitems:\n- {kind: Service, metadata: {name: s}}\n---\nnot: an object\n")
            with open(js, "w", encoding="utf-8") as f:
                json.dump([{"kind": "Role", "metadata": {"name": "r", "namespace": "ns"}}, {"kind": "Pod"}], f)
            self.assertEqual([c.object_key(o) for o in c.load_objects(yml)], [("Pod", None, "a"), ("Service", None, "s")])
            self.assertEqual([c.object_key(o) for o in c.load_objects(js)], [("Role", "ns", "r")])
            with open(yml, "w", encoding="utf-8") as f:
                f.write("kind: [unclosed\n")
            self.assertEqual(c.load_objects(yml), [])

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


class Kubescape(unittest.TestCase):
    """The whole Kubescape path over a regolibrary tree written here, kanon's findings given."""

    def write(self, root, path, value):
        p = Path(root, path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(value if isinstance(value, str) else json.dumps(value))

    def test_cases(self):
        with tempfile.TemporaryDirectory() as root:
            self.write(root, "controls/c1.json", {"controlID": "C-1", "rulesNames": ["r1", "r2"]})
            self.write(root, "rules/r1/rule.metadata.json", {"match": [{"resources": ["Pod", "RoleBinding"]}]})
            self.write(root, "rules/r2/rule.metadata.json", {"match": [{"resources": ["Deployment", "RoleBinding"]}]})
            self.write(root, "rules/r1/test/t/expected.json", [{"alertObject": {"k8sApiObjects": [{"kind": "Pod", "metadata": {"name": "bad"}}]}}])
            pods = "".join(f"---\nkind: Pod\nmetadata: {{name: {n}}}\n" for n in ("bad", "good", "missed"))
            self.write(root, "rules/r1/test/t/input/pods.yaml", pods + "---\nkind: Deployment\nmetadata: {name: d}\n---\nkind: RoleBinding\nmetadata: {name: rb}\n")
            m = fake_mapping(
                rules={"C-1": ["K01-001"]},
                differences={"C-1": "they differ"},
                explained={("C-1", "r1/t", "Pod/missed"): ("difference", "because")},
                no_namespace=None,
            )
            m.peer = "kubescape"
            findings = (("K01-001", "Pod", "default", "bad", "/x"), ("K01-001", "Pod", "default", "missed", "/x"))
            saved, c.scan = c.scan, lambda kanon, paths: findings
            try:
                lines = list(kubescape.cases(root, m, "kanon", {"C-1": None}))
            finally:
                c.scan = saved
        got = {x["object"]: (x["expected"], x["kanon"], x["verdict"]) for x in lines}
        # r1 does not match Deployment; `missed` fails in kanon where r1's test passes it, as
        # judged; r2 also judges RoleBindings, so r1's test passing one says nothing of C-1
        self.assertEqual(
            got,
            {
                "Pod/bad": ("fail", "fail", "agree"),
                "Pod/good": ("pass", "pass", "agree"),
                "Pod/missed": ("pass", "fail", "difference"),
                "RoleBinding/rb": ("pass", None, "not-comparable"),
            },
        )
        self.assertIn("C-1 runs 2 rules", lines[0]["note"])


class Trivy(unittest.TestCase):
    TEST = """package builtin.kubernetes.KSV001_test

pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}

test_denied {
  r := deny with input as pod
  count(r) == 1
}

test_allowed {
  r := deny with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "ns"}}
  count(r) == 0
}

test_built {
  r := deny with input as build_pod(1)
  count(r) > 0
}
"""

    def test_rego_cases(self):
        got = {name: (obj, exp) for name, obj, exp, _notes in trivy.rego_cases(self.TEST)}
        self.assertEqual(got["test_denied"][0]["metadata"], {"name": "p"})
        self.assertEqual(got["test_denied"][1], "fail")
        self.assertEqual((got["test_allowed"][0]["metadata"]["namespace"], got["test_allowed"][1]), ("ns", "pass"))
        self.assertIsInstance(got["test_built"][0], trivy.NotLiteral)
        self.assertEqual(got["test_built"][1], "fail")
        self.assertEqual(trivy.check_id("# METADATA\n# custom:\n#   id: KSV001\n"), "KSV001")


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
