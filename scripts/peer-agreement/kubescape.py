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

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import kanon_cases as kc
from kanon_cases import yaml

PEER = "kubescape"

# Disagreements judged one by one to be what the check's difference sentence in
# docs/rules/peer-mapping.yaml describes: check -> why -> ["case object", ...].
EXPLAINED_CASES = {
    "C-0002": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "exec-into-container-v1/clusterrole RoleBinding/default/read-secrets",
            "exec-into-container-v1/role RoleBinding/default/pod",
        ],
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "exec-into-container-v1/role Role/default/pod-reader",
        ],
    },
    "C-0004": {
        "a memory limit without request (the request defaults to it)": [
            "resources-memory-limit-and-request/pod-only-requests Pod/frontend",
        ],
        "sizes against configured bounds": [
            "resources-memory-limit-and-request/workload-exceeded Deployment/default/test",
            "resources-memory-limit-and-request/workload-milli-suffix Deployment/default/milli",
            "resources-memory-limit-and-request/workload-mixed-unit Deployment/default/huge",
        ],
    },
    "C-0012": {
        "a value holding a sensitive word, or a configured value": [
            "rule-credentials-in-env-var/deployment Deployment/default/test2",
            "rule-credentials-in-env-var/env-value-lowercase-bearer Pod/lowercase-bearer-pod",
            "rule-credentials-in-env-var/pod Pod/audit-pod",
        ],
    },
    "C-0015": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-list-get-secrets-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-list-get-secrets-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-list-get-secrets-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-can-list-get-secrets-v1/clusterrole-rolebinding ClusterRole/test",
            "rule-can-list-get-secrets-v1/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0020": {
        "Kubescape's provider-specific exact paths": [
            "alert-mount-potential-credentials-paths/deployment_no_cloud_provider_pass Deployment/my-deployment",
            "alert-mount-potential-credentials-paths/pod_eks_passed Pod/test-pd",
        ],
    },
    "C-0021": {
        "Kubescape reports the Service, K07-015 the workload": [
            "exposed-sensitive-interfaces-v1/pod Pod/default/argo-server",
            "exposed-sensitive-interfaces-v1/pod Service/default/my-service",
            "exposed-sensitive-interfaces-v1/vllm Deployment/ml-serving/vllm",
            "exposed-sensitive-interfaces-v1/vllm Service/ml-serving/vllm-service",
            "exposed-sensitive-interfaces-v1/workloads Deployment/default/argo-server",
            "exposed-sensitive-interfaces-v1/workloads Service/default/my-service",
            "exposed-sensitive-interfaces-v1/workloads2 Deployment/devops-tools/jenkins",
            "exposed-sensitive-interfaces-v1/workloads2 Service/devops-tools/jenkins-service",
        ],
    },
    "C-0031": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-delete-k8s-events-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-delete-k8s-events-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-delete-k8s-events-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-can-delete-k8s-events-v1/clusterrole-rolebinding ClusterRole/test",
            "rule-can-delete-k8s-events-v1/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0034": {
        "no RBAC in the input to show the token is not needed": [
            "automount-service-account/both-mount Pod/test-pd",
            "automount-service-account/both-mount-default Pod/test-pd",
            "automount-service-account/cronjob-pod-true-sa-false CronJob/kubescape-test/test-cron",
            "automount-service-account/deployment-pod-true-sa-false Deployment/kubescape-test/test-deploy",
            "automount-service-account/deployment-pod-true-sa-true Deployment/kubescape-test/test-deploy",
            "automount-service-account/pod-mount Pod/test-pd",
        ],
    },
    "C-0035": {
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-list-all-cluster-admins-v1/clusterrole-clusterrolebinding ClusterRole/test",
            "rule-list-all-cluster-admins-v1/clusterrole-rolebinding ClusterRole/test",
            "rule-list-all-cluster-admins-v1/role-rolebinding Role/kube-system/test",
        ],
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-list-all-cluster-admins-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
        ],
    },
    "C-0037": {
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-can-update-configmap-v1/clusterrole-clusterrolebinding ClusterRole/test",
            "rule-can-update-configmap-v1/clusterrole-rolebinding ClusterRole/test",
            "rule-can-update-configmap-v1/role-rolebinding Role/kube-system/test",
        ],
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-update-configmap-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-update-configmap-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-update-configmap-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
    },
    "C-0049": {
        "the namespace has a policy that isolates no ingress": [
            "internal-networking/namespace-ccnp-passed Namespace/test",
            "internal-networking/namespace-ccnp-specs-passed Namespace/test",
            "internal-networking/namespace-cnp-passed Namespace/test",
            "internal-networking/namespace-passed Namespace/test",
        ],
    },
    "C-0050": {
        "a CPU limit without request (the request defaults to it)": [
            "resources-cpu-limit-and-request/pod-only-requests Pod/frontend",
        ],
        "a CPU limit without request, and sizes against configured bounds": [
            "resources-cpu-limit-and-request/workload-exceeded Deployment/default/health-check-deployment",
            "resources-cpu-limit-and-request/workload-mixed-unit Deployment/default/hot",
        ],
    },
    "C-0063": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-portforward-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-portforward-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-portforward-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-can-portforward-v1/clusterrole-rolebinding ClusterRole/test",
            "rule-can-portforward-v1/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0065": {
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-can-impersonate-users-groups-v1/clusterrole-clusterrolebinding ClusterRole/test",
            "rule-can-impersonate-users-groups-v1/clusterrole-rolebinding ClusterRole/test",
        ],
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-impersonate-users-groups-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-impersonate-users-groups-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-impersonate-users-groups-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
    },
    "C-0075": {
        "a tag configured as floating": [
            "image-pull-policy-is-not-set-to-always/pod-configured-floating-tag Pod/floating-tag-test",
        ],
    },
    "C-0078": {
        "a configured registry allowlist": [
            "container-image-repository/cronjob-failed CronJob/hello",
            "container-image-repository/pod-failed Pod/ingress-nginx/command-demo2",
        ],
    },
    "C-0128": {
        "a later `--secure-port=8443` wins": [
            "ensure-that-the-api-server-secure-port-argument-is-not-set-to-0/failed Pod/kube-system/kube-apiserver-minikube",
        ],
    },
    "C-0131": {
        "no `--audit-log-path`": [
            "ensure-that-the-api-server-audit-log-maxage-argument-is-set-to-30-or-as-appropriate/failed Pod/kube-system/kube-apiserver-minikube",
            "ensure-that-the-api-server-audit-log-maxage-argument-is-set-to-30-or-as-appropriate/rke2-args-fail Pod/kube-system/kube-apiserver-rke2-server",
        ],
    },
    "C-0159": {
        "Kubescape also reports the API server Pod": [
            "etcd-unique-ca/fail-same-key-file Pod/kube-system/kube-apiserver",
            "etcd-unique-ca/rke2-args-fail Pod/kube-system/kube-apiserver-rke2-server",
        ],
    },
    "C-0185": {
        "the built-in `cluster-admin` role; K03-001 reports its binding": [
            "cluster-admin-role/clusterrole-clusterrolebinding ClusterRole/cluster-admin",
        ],
    },
    "C-0187": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-list-all-cluster-admins-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-list-all-cluster-admins-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-list-all-cluster-admins-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
    },
    "C-0188": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-create-pod/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-create-pod/role-rolebinding RoleBinding/kube-system/pod",
        ],
    },
    "C-0189": {
        "a namespace with no ServiceAccount besides `default`": [
            "namespace-without-service-account/test Namespace/default",
            "namespace-without-service-account/test Namespace/test",
        ],
    },
    "C-0191": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-bind-escalate/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-bind-escalate/role-rolebinding RoleBinding/default/pod",
            "rule-can-impersonate-users-groups-v1/clusterrole-clusterrolebinding ClusterRoleBinding/read-secrets-global",
            "rule-can-impersonate-users-groups-v1/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-impersonate-users-groups-v1/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "the role grants it only through `*` resources or verbs: K03-002's": [
            "rule-can-impersonate-users-groups-v1/clusterrole-clusterrolebinding ClusterRole/test",
            "rule-can-impersonate-users-groups-v1/clusterrole-rolebinding ClusterRole/test",
        ],
    },
    "C-0192": {
        "a validating webhook on pod creation counts as a policy engine, a mutating one does not": [
            "pod-security-admission-applied-1/test Namespace/my-namespace",
        ],
    },
    "C-0193": {
        "another admission policy engine (a validating webhook on pod creation) in the input": [
            "pod-security-admission-baseline-applied-1/test Namespace/my-namespace",
            "pod-security-admission-baseline-applied-1/test2 Namespace/my-namespace",
            "pod-security-admission-baseline-applied-2/test Namespace/my-namespace",
            "pod-security-admission-baseline-applied-2/test2 Namespace/my-namespace",
        ],
    },
    "C-0197": {
        "a baseline level, or another admission policy engine in the input": [
            "pod-security-admission-restricted-applied-1/test Namespace/my-baseline-namespace",
            "pod-security-admission-restricted-applied-1/test2 Namespace/my-namespace",
            "pod-security-admission-restricted-applied-2/test Namespace/my-baseline-namespace",
            "pod-security-admission-restricted-applied-2/test2 Namespace/my-namespace",
        ],
    },
    "C-0210": {
        "a Localhost profile": [
            "set-seccomp-profile-RuntimeDefault/pod Pod/audit-pod",
            "set-seccomp-profile-RuntimeDefault/workloads Deployment/my-deployment",
        ],
    },
    "C-0225": {
        "a binding labelled `kubernetes.io/bootstrapping: rbac-defaults`": [
            "ensure-default-service-accounts-has-only-default-roles/passed_rolebinding_one_subject RoleBinding/default/pod",
        ],
    },
    "C-0260": {
        "a Cilium policy with an empty `ingress` list": [
            "ensure_network_policy_configured_in_labels/success_pod_cilium_label_match Pod/default/my-cilium-pod",
        ],
    },
    "C-0262": {
        "the public-discovery binding Kubernetes creates": [
            "anonymous-access-enabled/fail ClusterRoleBinding/system:public-info-viewer",
        ],
    },
    "C-0265": {
        "K03-021 reports the binding, not the role": [
            "system-authenticated-allowed-to-take-over-cluster/fail ClusterRole/system:viewer",
        ],
        "a binding of `system:authenticated` beyond discovery": [
            "system-authenticated-allowed-to-take-over-cluster/success ClusterRoleBinding/system:viewer",
        ],
    },
    "C-0268": {
        "a CPU limit without request (the request defaults to it)": [
            "resources-cpu-requests/pod-only-requests Pod/frontend",
        ],
    },
    "C-0269": {
        "a memory limit without request (the request defaults to it)": [
            "resources-memory-requests/pod-only-requests Pod/frontend",
        ],
    },
    "C-0272": {
        "a role with wildcards over the core API group only": [
            "workload-with-administrative-roles/fail-wl-creates-pod Pod/default/test-pd",
        ],
    },
    "C-0278": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-create-pv/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-create-pv/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "a namespaced Role cannot grant this cluster-scoped resource": [
            "rule-can-create-pv/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0279": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-access-proxy-subresource/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-access-proxy-subresource/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "a namespaced Role cannot grant this cluster-scoped resource": [
            "rule-can-access-proxy-subresource/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0280": {
        "`update` on the approval subresource without `approve` on a signer": [
            "rule-can-approve-cert-signing-request/clusterrole-rolebinding ClusterRole/test",
        ],
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-approve-cert-signing-request/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-approve-cert-signing-request/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "a namespaced Role cannot grant this cluster-scoped resource": [
            "rule-can-approve-cert-signing-request/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0281": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-modify-admission-webhooks/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-modify-admission-webhooks/role-rolebinding RoleBinding/kube-system/pod",
        ],
        "a namespaced Role cannot grant this cluster-scoped resource": [
            "rule-can-modify-admission-webhooks/role-rolebinding Role/kube-system/test",
        ],
    },
    "C-0282": {
        "a binding: Kubescape judges its subjects, kanon the role's rule once": [
            "rule-can-create-service-account-token/clusterrole-rolebinding RoleBinding/kube-system/pod",
            "rule-can-create-service-account-token/role-rolebinding RoleBinding/kube-system/pod",
        ],
    },
    "C-0299": {
        "manifests, no live Pods": [
            "dangling-networkpolicy/failed_dangling_matchexpressions NetworkPolicy/default/exp-dangling-policy",
            "dangling-networkpolicy/failed_dangling_matchlabels NetworkPolicy/default/isolate-nginx",
            "dangling-networkpolicy/failed_wrong_namespace NetworkPolicy/default/ns-policy",
        ],
    },
    "C-0306": {
        "a digest algorithm other than sha256 or sha512, or a configured exempt repository": [
            "image-not-pinned-to-digest/pod-blake3-pinned Pod/pod-blake3-pinned",
            "image-not-pinned-to-digest/pod-custom-digest Pod/pod-custom-digest",
            "image-not-pinned-to-digest/pod-exempted-repo Pod/pod-exempted-repo",
            "image-not-pinned-to-digest/pod-short-custom-digest Pod/pod-short-custom-digest",
        ],
    },
}
# Controls that run the same regolibrary rules, with the same difference sentence.
SAME_CASES_AS = {
    "C-0054": "C-0049",
    "C-0186": "C-0015",
    "C-0190": "C-0034",
    "C-0194": "C-0193",
    "C-0195": "C-0193",
    "C-0196": "C-0193",
    "C-0198": "C-0197",
    "C-0199": "C-0193",
    "C-0200": "C-0197",
    "C-0201": "C-0197",
    "C-0202": "C-0193",
    "C-0203": "C-0193",
    "C-0204": "C-0193",
    "C-0206": "C-0049",
    "C-0239": "C-0225",
    "C-0259": "C-0012",
}
EXPLAINED_CASES.update({check: EXPLAINED_CASES[other] for check, other in SAME_CASES_AS.items()})

EXPLAINED = {
    (check, *entry.split(" ", 1)): why for check, whys in EXPLAINED_CASES.items() for why, entries in whys.items() for entry in entries
}


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


def rule_kinds(rule_dir):
    """The kinds a regolibrary rule matches (its `rule.metadata.json`), or None."""
    try:
        meta = json.loads((rule_dir / "rule.metadata.json").read_text())
    except (OSError, ValueError):
        return None
    return {k for m in meta.get("match") or [] for k in m.get("resources") or []}


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
        for o in load_documents(path):
            if o.get("kind") in kinds and identity(o) not in objects:
                objects.append(identity(o))
    return objects


def main():
    args = kc.arguments(__doc__, "KUBESCAPE_REPO", "/work/.mirror/kubescape+regolibrary/repo")

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

        controls = read_controls(root / "controls")
        scans = {}
        lines = []
        for check in checks:
            mapped = rules.get(check, [])
            names = controls.get(check, [])
            kinds_of = {name: rule_kinds(root / "rules" / name) for name in names}
            for rule_name in names:
                rule_dir = root / "rules" / rule_name
                kinds = kinds_of[rule_name]
                if kinds is None:
                    continue
                # kinds the control's other rules judge: an object this rule's test passes
                # may still fail the control through them.
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
                        if expect == "pass" and obj[0] in others:
                            why = f"passes {rule_name}, but {check}'s other rules also judge {obj[0]} and their tests do not say"
                            lines.append(kc.verdict(PEER, check, case, obj, expect, None, mapped, diffs, EXPLAINED, why))
                        elif isinstance(findings, Exception):
                            lines.append(
                                kc.verdict(PEER, check, case, obj, expect, None, mapped, diffs, EXPLAINED, f"kanon failed: {findings}")
                            )
                        else:
                            lines.append(kc.verdict(PEER, check, case, obj, expect, findings, mapped, diffs, EXPLAINED, note))
    kc.emit(lines, not args.no_summary, EXPLAINED)


if __name__ == "__main__":
    main()
