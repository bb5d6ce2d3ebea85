#!/usr/bin/env python3
"""Agreement of the bundled ruleset with Trivy's own test fixtures (trivy-checks).

    scripts/peer-agreement/trivy.py [--repo DIR] [--no-summary] > trivy.jsonl

DIR is a git clone or mirror of https://github.com/aquasecurity/trivy-checks (default
/work/.mirror/aquasecurity+trivy-checks/repo, or TRIVY_REPO). Its `checks/kubernetes/` is
extracted to a temporary directory at run time; nothing of it is kept. kanon is
target/release/kanon (or KANON).

Each check `checks/kubernetes/NAME.rego` has its tests in `NAME_test.rego`: rules
`test_...` that evaluate `deny with input as <object>` and expect `count(r) == 0` (pass) or
`count(r) == N`, `> 0`, `!= 0` (fail). The object is a Rego literal; this script reads the
literals that are plain data (objects, arrays, sets, strings, numbers, booleans, null), also
through a name assigned a literal in the test or the file, and writes each as a JSON
manifest in a directory of its own for kanon to scan. Inputs it cannot read (built by a
function, taken from a loop, holding a variable) are counted as not comparable; the summary
on stderr says how many. A case is one test; its object is the input's kind and name.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import kanon_cases as kc

PEER = "trivy"

# Fixtures that are not valid Kubernetes objects, so that no answer is expected of kanon:
# (check, case) -> why. Counted as not comparable.
PEER_FIXTURE = {
    ("KSV-0122", "test_cluster_role_binding_with_anonymous_user_binding"): "kind `ClusterRolebinding` is no Kubernetes kind",
    ("KSV-0123", "test_cluster_role_binding_with_system_masters_binding"): "kind `ClusterRolebinding` is no Kubernetes kind",
    ("KSV-01011", "test_cluster_role_binding_with_system_authenticate_binding"): "kind `ClusterRolebinding` is no Kubernetes kind",
    ("KSV-0030", "test_pod_context_custom_profile_denied"): "seccomp profile `type: custom` is no profile type; the API server rejects it",
    ("KSV-0030", "test_container_context_custom_profile_denied"): "seccomp profile `type: custom` is no profile type; the API server rejects it",
}

# Disagreements judged one by one to be what the check's difference sentence in
# docs/rules/peer-mapping.yaml describes: (check, case, object) -> why.
EXPLAINED = {
    ("KSV-0051", "test_allowing_create_role_binding_and_associate_clusterrole", "Role/default/pod-reader"): "a Role alone, no binding; `resourceNames: ['*']` names no role",
    ("KSV-0051", "test_allowing_create_role_binding_and_associate_role", "Role/default/pod-reader"): "a Role alone, no binding; `resourceNames: ['*']` names no role",
    ("KSV-0052", "test_allowing_create_clusterrolebindings_binding_and_associate_clusterrole", "Role/default/pod-reader"): "a Role alone, no binding; `resourceNames: ['*']` names no role",
    ("KSV-0048", "test_update_malicious_pod_deletecollection", "Role/default/pod-reader"): "deletecollection runs no new code",
    ("KSV-0044", "test_any_any_role_no_resource", "Role/default/pod-reader"): "wildcard API group and verb on one resource",
    ("KSV-0044", "test_any_any_role_no_resource_no_verbs", "Role/default/pod-reader"): "wildcard API group and resources with one verb",
    ("KSV-0045", "test_any_verb_role_no_specific_resource", "Role/default/pod-reader"): "wildcard verb on a resource outside Trivy's list",
    ("KSV-0045", "test_any_verb_role_no_any_verb", "Role/default/pod-reader"): "wildcard API group and resources, no wildcard verb",
    ("KSV-0046", "test_resource_resource_role_no_specific_verb", "ClusterRole/default/pod-reader"): "wildcard API group, no `*` resources",
    ("KSV-0112", "test_resource_resource_role_no_specific_verb", "Role/default/pod-reader"): "wildcard API group, no `*` resources",
    ("KCV-0020", "test_audit_log_maxage_is_not_set", "Pod/apiserver"): "no `--audit-log-path`",
    ("KSV-0002", "test_custom_deny", "Pod/hello-apparmor"): "annotation value `custom`",
    ("KSV-01011", "test_role_binding_with_system_authenticated_group_binding_non_gke", "RoleBinding/default/roleGroup"): "not a GKE cluster",
    ("KCV-0038", "test_use_rotate_kubelet_server_certificate_is_not_configured", "Pod/controller-manager"): "the gate left out, on by default",
    ("KSV-0022", "test_capabilities_add_denied", "Pod/hello-add-capabilities"): "adds `NET_BIND_SERVICE`",
    ("KSV-0119", "test_pod_without_container_net_raw_capability", "Pod/no-net-raw-pod"): "adds NET_ADMIN and SYS_ADMIN, not NET_RAW",
    ("KSV-0116", "test_failRootGroupId", "Pod/hello-gid"): "GID 0 in `supplementalGroups` and `fsGroup`; the pod has no container to run as group 0",
    ("KCV-0093", "test_invalid_auth_url_annotation", "Ingress/default/test-ingress-invalid-url"): "a `|` in `auth-url`",
    ("KCV-0093", "test_invalid_auth_tls_match_cn_annotation", "Ingress/default/test-ingress-invalid-cn"): "a `|` in `auth-tls-match-cn`",
    ("KCV-0093", "test_invalid_mirror_target_annotation", "Ingress/default/test-ingress-invalid-target"): "a `|` in `mirror-target`",
    ("KCV-0093", "test_invalid_mirror_host_annotation", "Ingress/default/test-ingress-invalid-host"): "a `|` in `mirror-host`",
    **{
        (check, f"test_manage{kind}_verb_{verb}", f"{role}/default/pod-reader"): f"`{verb}` on Secrets is no read access"
        for check, role in (("KSV-0041", "ClusterRole"), ("KSV-0113", "Role"))
        for kind, verb in (("", "update"), ("_secret", "update"), ("_secret", "impersonate"), ("_secret", "deletecollection"), ("_secret", "patch"))
    },
    **{
        ("KSV-0114", f"test_manageWebhookConfig_verb_{verb}", "Role/default/pod-reader"): "a Role cannot grant cluster-scoped webhook configurations"
        for verb in ("create", "update", "patch", "delete", "deletecollection", "impersonate")
    },
    ("KSV-0047", "test_privilege_escalation_from_node_proxy_create", "Role/default/pod-reader"): "a Role cannot grant cluster-scoped `nodes/proxy`",
    ("KSV-0047", "test_privilege_escalation_from_node_proxy_get", "Role/default/pod-reader"): "a Role cannot grant cluster-scoped `nodes/proxy`",
}


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


def cases(text):
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


def main():
    args = kc.arguments(__doc__, "TRIVY_REPO", "/work/.mirror/aquasecurity+trivy-checks/repo")

    binary = kc.kanon_binary()
    names = kc.catalog(PEER)
    rules = kc.rules_by_check(PEER)
    diffs = kc.differences(PEER)

    lines = []
    unread = {}
    with tempfile.TemporaryDirectory(prefix="kanon-trivy-") as tmp:
        archive = subprocess.run(
            ["git", "-C", args.repo, "archive", "HEAD", "checks/kubernetes"], capture_output=True, check=False
        )
        if archive.returncode != 0:
            sys.exit(f"trivy: cannot read `{args.repo}`: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        root = Path(tmp) / "checks" / "kubernetes"
        for test_file in sorted(root.glob("*_test.rego")):
            check_file = test_file.with_name(test_file.name[: -len("_test.rego")] + ".rego")
            raw_id = check_id(check_file.read_text()) if check_file.exists() else None
            check = names.get(raw_id or "")
            if check is None:
                continue
            mapped = rules.get(check, [])
            for case, obj, expected, notes in cases(test_file.read_text()):
                if expected is None:
                    unread["no count() expectation"] = unread.get("no count() expectation", 0) + 1
                    continue
                if isinstance(obj, NotLiteral) or not isinstance(obj, dict):
                    why = f"input not read: {obj}" if isinstance(obj, NotLiteral) else "input is not an object"
                    unread[why.split(":")[0]] = unread.get(why.split(":")[0], 0) + 1
                    lines.append(kc.verdict(PEER, check, case, ("?", None, "?"), expected, None, mapped, diffs, EXPLAINED, why))
                    continue
                meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
                ident = (str(obj.get("kind")), meta.get("namespace") or None, str(meta.get("name")))
                findings = None
                note = "; ".join(notes) or None
                if (check, case) in PEER_FIXTURE:
                    note = f"peer fixture: {PEER_FIXTURE[(check, case)]}"
                elif any(n.startswith(REPLACES) for n in notes):
                    note = f"{note}: its outcome is not about the manifest"
                elif not obj.get("apiVersion"):
                    unread["input without apiVersion"] = unread.get("input without apiVersion", 0) + 1
                    note = "the input has no `apiVersion`: not a manifest kanon reads"
                elif mapped:
                    case_dir = Path(tmp) / "cases" / check / case
                    case_dir.mkdir(parents=True)
                    (case_dir / "input.json").write_text(json.dumps(obj, indent=2))
                    try:
                        findings = kc.scan(binary, case_dir)
                    except (RuntimeError, ValueError) as err:
                        note = f"kanon failed: {err}"
                lines.append(kc.verdict(PEER, check, case, ident, expected, findings, mapped, diffs, EXPLAINED, note))
    kc.emit(lines, not args.no_summary, EXPLAINED)
    if unread and not args.no_summary:
        print("trivy test inputs not read: " + ", ".join(f"{k}: {v}" for k, v in sorted(unread.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
