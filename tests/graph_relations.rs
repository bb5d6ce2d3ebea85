//! Relations of the resource graph, built from the YAML fixtures in `tests/data/graph/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::graph::{ContainerKind, Graph, GraphOptions, ObjId, RefKind};
use kanon::model::Loader;

fn load(file: &str) -> (Graph, SourceMap) {
    let path = format!("{}/tests/data/graph/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sources = SourceMap::new();
    let out = Loader::default().load_text(file, text, &mut sources);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    (Graph::build(out, &GraphOptions::default()), sources)
}

/// The id of the object `kind namespace/name` (first of that key), or a panic.
fn id(g: &Graph, kind: &str, ns: Option<&str>, name: &str) -> ObjId {
    g.find_kind(kind, ns, name)
        .unwrap_or_else(|| panic!("no {kind} {ns:?}/{name}"))
}

/// The `namespace/name` of objects, for readable assertions.
fn names(g: &Graph, ids: impl IntoIterator<Item = ObjId>) -> Vec<String> {
    ids.into_iter()
        .map(|i| {
            let o = g.object(i).unwrap();
            format!("{}/{}", o.namespace.as_deref().unwrap_or("-"), o.name)
        })
        .collect()
}

#[test]
fn empty_pod_selector_selects_all_pods_of_its_namespace_only() {
    let (g, _) = load("netpol.yaml");
    let np = id(&g, "NetworkPolicy", Some("shop"), "default-deny");
    assert_eq!(
        names(&g, g.selected(np).iter().copied()),
        ["shop/frontend", "shop/cart", "shop/db"]
    );
    let staging = id(&g, "Pod", Some("staging"), "frontend");
    assert!(!g.selects(np, staging));
    assert_eq!(g.selected_by(staging, "NetworkPolicy").count(), 0);
}

#[test]
fn match_expressions_in_notin_exists_doesnotexist() {
    let (g, _) = load("netpol.yaml");
    let sel = |name: &str| {
        let np = id(&g, "NetworkPolicy", Some("shop"), name);
        names(&g, g.selected(np).iter().copied())
    };
    assert_eq!(sel("web-in"), ["shop/frontend"]);
    // NotIn selects pods without the key too
    assert_eq!(sel("not-pci"), ["shop/frontend", "shop/db"]);
    assert_eq!(sel("has-tier"), ["shop/frontend", "shop/cart"]);
    assert_eq!(sel("no-tier"), ["shop/db"]);
    // matched on pod template labels, not the Deployment's own labels
    let cart = id(&g, "Deployment", Some("shop"), "cart");
    assert_eq!(
        names(&g, g.selected_by(cart, "NetworkPolicy")),
        ["shop/default-deny", "shop/has-tier"]
    );
}

#[test]
fn policy_in_another_namespace_does_not_select() {
    let (g, _) = load("netpol.yaml");
    let np = id(&g, "NetworkPolicy", Some("payments"), "elsewhere");
    assert!(g.selected(np).is_empty());
    let cart = id(&g, "Deployment", Some("shop"), "cart");
    assert!(!g.selects(np, cart));
}

#[test]
fn ingress_only_policy_types_do_not_isolate_egress() {
    let (g, _) = load("netpol.yaml");
    let deny = id(&g, "NetworkPolicy", Some("shop"), "default-deny");
    assert_eq!(g.policy_types(deny), (true, false));
    let web_in = id(&g, "NetworkPolicy", Some("shop"), "web-in");
    assert_eq!(g.policy_types(web_in), (true, false));
    // no policyTypes but egress rules: both
    let not_pci = id(&g, "NetworkPolicy", Some("shop"), "not-pci");
    assert_eq!(g.policy_types(not_pci), (true, true));
}

#[test]
fn namespace_selectors_match_namespace_labels() {
    let (g, _) = load("netpol.yaml");
    let np = id(&g, "NetworkPolicy", Some("shop"), "web-in");
    let (doc, node) = g.doc_node(np).unwrap();
    let d = g.object(np).unwrap().r.doc;
    let from = doc.path(node, &["spec", "ingress"]).unwrap();
    let rule = *doc.seq(from).first().unwrap();
    let peers = doc.seq(doc.get(rule, "from").unwrap());
    let team = doc.get(peers[0], "namespaceSelector").unwrap();
    let by_name = doc.get(peers[1], "namespaceSelector").unwrap();
    assert!(g.namespace_selector_matches(d, team, "shop"));
    assert!(!g.namespace_selector_matches(d, team, "staging"));
    // no Namespace object for `monitoring`: the implicit name label still matches
    assert!(g.namespace_selector_matches(d, by_name, "monitoring"));
    assert!(!g.namespace_selector_matches(d, by_name, "shop"));
    assert_eq!(g.namespace_object("shop"), Some(0));
    assert_eq!(g.namespace_object("staging"), None);
}

#[test]
fn service_map_selector_and_service_without_selector() {
    let (g, _) = load("netpol.yaml");
    let svc = id(&g, "Service", Some("shop"), "cart");
    assert_eq!(names(&g, g.selected(svc).iter().copied()), ["shop/cart"]);
    let cart = id(&g, "Deployment", Some("shop"), "cart");
    assert_eq!(names(&g, g.selected_by(cart, "Service")), ["shop/cart"]);
    let external = id(&g, "Service", Some("shop"), "external");
    assert!(g.selected(external).is_empty());
    assert!(g.references(external).is_empty());
}

#[test]
fn list_export_reports_the_deployment_only() {
    let (g, _) = load("list-export.yaml");
    assert_eq!(g.objects.len(), 4);
    let deploy = id(&g, "Deployment", Some("prod"), "api");
    let rs = id(&g, "ReplicaSet", Some("prod"), "api-7d9c");
    let pod = id(&g, "Pod", Some("prod"), "api-7d9c-abcde");
    assert_eq!(g.workloads(), &[deploy]);
    assert_eq!(g.all_workloads().len(), 4);
    assert_eq!(g.controller(rs), Some(deploy));
    assert_eq!(g.controller(pod), Some(rs));
    assert_eq!(g.owners(pod), &[rs]);
    assert_eq!(
        names(&g, g.owned(rs).iter().copied()),
        ["prod/api-7d9c-abcde", "prod/api-7d9c-fghij"]
    );
}

#[test]
fn rolebinding_to_clusterrole_and_binding_index() {
    let (g, _) = load("rbac.yaml");
    let rb = id(&g, "RoleBinding", Some("build"), "ci-edit");
    let edit = id(&g, "ClusterRole", None, "edit");
    let role = g.binding_role(rb).unwrap();
    assert_eq!(
        (&*role.kind, &*role.name, role.target),
        ("ClusterRole", "edit", Some(edit))
    );
    let subjects = g.subjects(rb);
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].namespace.as_deref(), Some("build"));
    let group = id(&g, "ClusterRoleBinding", None, "all-build-sas");
    assert_eq!(
        g.bindings_for_service_account("build", "ci"),
        vec![rb, group]
    );
    // another service account of the namespace: only the group binding
    assert_eq!(
        g.bindings_for_service_account("build", "other"),
        vec![group]
    );
    assert!(g.bindings_for_service_account("prod", "ci").is_empty());
    let oncall = id(&g, "ClusterRoleBinding", None, "oncall");
    assert_eq!(g.bindings_for_subject("User", "alice"), &[oncall]);
}

#[test]
fn aggregated_clusterrole_rules_are_the_union() {
    let (g, _) = load("rbac.yaml");
    let edit = id(&g, "ClusterRole", None, "edit");
    let rules = g.effective_rules(edit);
    let from = names(&g, rules.iter().map(|(r, _)| *r));
    assert_eq!(from, ["-/edit-deployments", "-/edit-secrets"]);
    let resources: Vec<&str> = rules
        .iter()
        .map(|&(r, n)| {
            let doc = g.doc(r).unwrap();
            doc.str(doc.seq(doc.get(n, "resources").unwrap())[0])
                .unwrap()
        })
        .collect();
    assert_eq!(resources, ["deployments", "secrets"]);
    let view = id(&g, "ClusterRole", None, "view");
    assert_eq!(g.effective_rules(view).len(), 1);
}

#[test]
fn service_account_default_and_automount_precedence() {
    let (g, _) = load("rbac.yaml");
    let plain = id(&g, "Pod", Some("build"), "plain");
    let sa = g.service_account(plain).unwrap();
    assert_eq!(
        (&*sa.name, &*sa.namespace, sa.target, sa.at),
        ("default", "build", None, None)
    );
    assert!(g.automounts_token(plain));
    let ci = id(&g, "ServiceAccount", Some("build"), "ci");
    let build = id(&g, "Job", Some("build"), "build");
    assert_eq!(g.service_account(build).unwrap().target, Some(ci));
    // the ServiceAccount says false and the pod says nothing
    assert!(!g.automounts_token(build));
    // the pod's own setting wins over the ServiceAccount's
    let token = id(&g, "Job", Some("build"), "build-token");
    assert!(g.automounts_token(token));
}

#[test]
fn argo_rollout_is_a_workload() {
    let (g, _) = load("app.yaml");
    let ro = id(&g, "Rollout", Some("web-canary"), "canary");
    assert!(g.workloads().contains(&ro));
    let w = g.workload(ro).unwrap();
    assert_eq!(w.containers.len(), 1);
    assert_eq!(w.labels.to_vec(), vec![("app".into(), "canary".into())]);
}

#[test]
fn pod_and_container_security_contexts_are_reachable() {
    let (g, sources) = load("app.yaml");
    let web = id(&g, "Deployment", Some("default"), "web");
    let doc = g.doc(web).unwrap();
    let w = g.workload(web).unwrap();
    let pod_sc = doc.get(w.pod_spec().unwrap(), "securityContext").unwrap();
    assert_eq!(sources.line_col(doc.node(pod_sc).unwrap().span), (9, 24));
    let kinds: Vec<(ContainerKind, u32, &str)> = w
        .containers
        .iter()
        .map(|c| (c.kind, c.index, doc.str_at(c.node, &["name"]).unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ContainerKind::Init, 0, "migrate"),
            (ContainerKind::Regular, 0, "web"),
            (ContainerKind::Ephemeral, 0, "debugger"),
        ]
    );
    let init = w.containers_of(ContainerKind::Init).next().unwrap();
    let run_as = doc
        .path(init.node, &["securityContext", "runAsUser"])
        .unwrap();
    assert_eq!(sources.line_col(doc.node(run_as).unwrap().span), (13, 38));
    let debugger = w.containers_of(ContainerKind::Ephemeral).next().unwrap();
    assert!(doc.get(debugger.node, "securityContext").is_none());
}

#[test]
fn references_resolve_or_dangle() {
    let (g, sources) = load("app.yaml");
    let web = id(&g, "Deployment", Some("default"), "web");
    let refs = g.references(web);
    let summary: Vec<(RefKind, &str, &str, Option<ObjId>)> = refs
        .iter()
        .map(|r| (r.kind, &*r.name, r.via.as_str(), r.target()))
        .collect();
    let config = id(&g, "ConfigMap", Some("default"), "web-config");
    let tls = id(&g, "Secret", Some("default"), "web-tls");
    assert_eq!(
        summary,
        [
            (
                RefKind::Secret,
                "db-credentials",
                "env.valueFrom.secretKeyRef",
                None
            ),
            (RefKind::ConfigMap, "web-config", "envFrom", Some(config)),
            (RefKind::Secret, "web-tls", "volumes.secret", Some(tls)),
        ]
    );
    // the dangling reference is located at the name
    let dangling = &refs[0];
    let at = g.doc(web).unwrap().node(dangling.at).unwrap().span;
    assert_eq!(sources.slice(at), "db-credentials");
    assert_eq!(sources.line_col(at).0, 20);
}

#[test]
fn ingress_to_service_and_hpa_to_deployment() {
    let (g, _) = load("app.yaml");
    let ing = id(&g, "Ingress", Some("default"), "web");
    let svc = id(&g, "Service", Some("default"), "web");
    let web = id(&g, "Deployment", Some("default"), "web");
    let r = g.references(ing);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].kind, r[0].via.as_str(), r[0].target()),
        (RefKind::Service, "ingress backend", Some(svc))
    );
    let hpa = id(&g, "HorizontalPodAutoscaler", Some("default"), "web");
    let r = g.references(hpa);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].kind, r[0].via.as_str(), r[0].target()),
        (RefKind::Workload, "scaleTargetRef", Some(web))
    );
    // Service → workloads via its selector
    let r = g.references(svc);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].via.as_str(), r[0].target()), ("selector", Some(web)));
}

#[test]
fn default_namespace_applied_and_remembered() {
    let (g, _) = load("app.yaml");
    let web = id(&g, "Deployment", Some("default"), "web");
    let o = g.object(web).unwrap();
    assert_eq!(o.namespace.as_deref(), Some("default"));
    assert!(!o.namespace_explicit);
    let ro = g
        .object(id(&g, "Rollout", Some("web-canary"), "canary"))
        .unwrap();
    assert!(ro.namespace_explicit);
    assert_eq!(g.in_namespace("Secret", "default").len(), 2);

    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n".to_owned();
    let mut sources = SourceMap::new();
    let out = Loader::default().load_text("x.yaml", text, &mut sources);
    let g = Graph::build(
        out,
        &GraphOptions {
            default_namespace: "team-a".into(),
        },
    );
    assert_eq!(g.in_namespace("ConfigMap", "team-a"), &[0]);
}

#[test]
fn duplicate_object_is_kept_and_warned_at_its_name() {
    let (g, sources) = load("app.yaml");
    let secrets = g.by_kind("Secret");
    assert_eq!(secrets.len(), 2);
    assert_eq!(
        g.find("", "Secret", Some("default"), "web-tls"),
        Some(secrets[0])
    );
    // the fixture also mixes objects with and without a namespace (W2004)
    let dups: Vec<_> = g.diagnostics.iter().filter(|d| d.code == "W2001").collect();
    assert_eq!(dups.len(), 1);
    let d = dups[0];
    assert_eq!(d.message, "duplicate object `Secret default/web-tls`");
    let at = d.primary.as_ref().unwrap().span;
    assert_eq!(sources.slice(at), "web-tls");
    assert_eq!(sources.line_col(at), (77, 18));
}
