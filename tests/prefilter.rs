//! Text prefilters (`plan::prefilter`): a rule that compares a string of its root object
//! with constant words skips the objects whose source text has none of them. Every rule
//! must find exactly what it finds without its prefilter: on the bundled ruleset's own
//! fixtures and examples, and on objects whose values are not written as they read (an
//! escape, a YAML alias, a folded line), which the prefilter must never skip.

use kanon::check::fs::RuleFs;
use kanon::check::ir::Program;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::eval::exec::StepLimitHit;
use kanon::eval::finding::Finding;
use kanon::graph::{Graph, GraphOptions};
use kanon::limits::Limits;
use kanon::model::Loader;
use kanon::plan::physical::PhysicalPlan;
use kanon::plan::prefilter::Words;

use crate::common;

/// The plan with every prefilter taken away.
fn without_prefilters(plan: &PhysicalPlan) -> PhysicalPlan {
    let mut p = plan.clone();
    for r in p.rules_mut() {
        r.prefilter.clear();
        r.prefilter_mask = 0;
    }
    p.words = Words::default();
    p
}

fn prefiltered(plan: &PhysicalPlan) -> Vec<usize> {
    let mut rules: Vec<usize> = plan
        .rules()
        .filter(|r| r.prefilter_mask != 0)
        .map(|r| r.rule)
        .collect();
    rules.sort_unstable();
    rules
}

/// The findings and step-limit hits of a plan.
fn run(
    plan: &PhysicalPlan,
    on: (&Program, &Graph, &SourceMap),
    max_steps: u64,
) -> (Vec<Finding>, Vec<StepLimitHit>) {
    let (program, graph, sources) = on;
    let out = common::execute_at(program, plan, graph, sources, max_steps);
    (out.findings, out.limits)
}

#[test]
fn bundled_rules_find_the_same_with_and_without_their_prefilters() {
    let mut sources = SourceMap::new();
    let compiled =
        kanon::bundled::compile(&[], true, &Overrides::new(), &mut sources).expect("compiled");
    let program = compiled.program;
    let load = Loader::default().load_paths(&common::fixtures(), &mut sources);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, errors) = kanon::plan::plan(&program);
    assert!(errors.is_empty(), "{errors:?}");
    let with = prefiltered(&plan);
    // the control-plane, service-mesh and database rules, among others
    assert!(with.len() >= 50, "{} rules prefiltered", with.len());
    let plain = without_prefilters(&plan);
    assert!(prefiltered(&plain).is_empty());

    for max_steps in [Limits::default().max_steps, 200] {
        let (found, limits) = run(&plan, (&program, &graph, &sources), max_steps);
        let (all, all_limits) = run(&plain, (&program, &graph, &sources), max_steps);
        assert_eq!(found.len(), all.len(), "at a limit of {max_steps} steps");
        assert!(
            found == all,
            "findings differ at a limit of {max_steps} steps"
        );
        if max_steps == Limits::default().max_steps {
            assert!(limits.is_empty() && all_limits.is_empty());
            // the fixtures' positive cases of the prefiltered rules are all still found
            let ids: std::collections::BTreeSet<&str> = found.iter().map(|f| &*f.rule.id).collect();
            let found_prefiltered = with
                .iter()
                .filter_map(|&r| program.rules.get(r))
                .filter(|r| ids.contains(r.id.as_str()))
                .count();
            assert!(
                found_prefiltered * 10 >= with.len() * 9,
                "{found_prefiltered} of {} prefiltered rules have findings",
                with.len()
            );
        } else {
            // a skipped object cannot match; only the objects it skips can be missing
            // from the step-limit hits
            assert!(limits.iter().all(|l| all_limits.contains(l)));
        }
    }
}

const RULES: &str = r#"
rule PF-001 apiserver-container {
  severity low
  for w in workloads, c in w.containers
  where c.name == "kube-apiserver" or (any x in c.command where x ends with "/kube-apiserver")
  report at c "`{w.name}` runs the API server"
}

rule PF-002 skip-annotation {
  severity low
  for w in workloads, k in ["example.com/skip-ports", "example.com/skip-all"]
  where trim(string(w.metadata.annotations[k]) ?? "") != ""
  report at w "`{w.name}` skips the proxy with `{k}`"
}

rule PF-003 host-network {
  severity low
  for w in workloads
  where w.podSpec.hostNetwork == true
  report at w "`{w.name}` shares the node's network"
}
"#;

/// The program of `rules` (one embedded file).
fn program(rules: &str, sources: &mut SourceMap) -> Program {
    let mut fs = RuleFs::default();
    fs.add_embedded("pf", "pf.kanon", rules);
    let entry = fs.embedded_rules("pf");
    let compiled = compile(&fs, &entry, &Overrides::new(), sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.program
}

fn pod(name: &str, container: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: {container}\n      image: img\n"
    )
}

/// Runs the three rules over `text` (a file named `name`) with and without prefilters;
/// both must give the same findings. Returns the findings' messages.
fn messages(name: &str, text: &str) -> Vec<String> {
    messages_of(RULES, name, text)
}

#[test]
fn the_words_of_a_rule_are_found_where_written() {
    let mut text = pod("plain", "kube-apiserver");
    text.push_str(&pod("other", "sidecar"));
    text.push_str(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: by-path\nspec:\n  containers:\n    - name: main\n      command: [/usr/local/bin/kube-apiserver, --v=2]\n",
    );
    text.push_str(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: annotated\n  annotations:\n    example.com/skip-all: \"true\"\n    example.com/skip-none: \"true\"\nspec:\n  containers:\n    - name: main\n",
    );
    text.push_str(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: on-host\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n",
    );
    text.push_str(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: flow\nspec: {\"hostNetwork\": yes, containers: [{name: main}]}\n",
    );
    assert_eq!(
        messages("plain.yaml", &text),
        [
            "`plain` runs the API server",
            "`by-path` runs the API server",
            "`annotated` skips the proxy with `example.com/skip-all`",
            "`on-host` shares the node's network",
            "`flow` shares the node's network"
        ]
    );
}

#[test]
fn values_written_another_way_are_never_skipped() {
    // a YAML escape, a line continued with a backslash, and a single-quoted string
    let yaml = [
        pod("escaped", r#""kube\x2Dapiserver""#),
        pod("continued", "\"kube-\\\n      apiserver\""),
        pod("quoted", "'kube-apiserver'"),
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: key-escaped\n  annotations:\n    \"example.com/skip\\x2Dall\": \"yes\"\nspec:\n  containers:\n    - name: main\n".to_string(),
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: field-escaped\nspec:\n  \"host\\x4Eetwork\": true\n  containers:\n    - name: main\n".to_string(),
    ]
    .concat();
    assert_eq!(
        messages("escaped.yaml", &yaml),
        [
            "`escaped` runs the API server",
            "`continued` runs the API server",
            "`quoted` runs the API server",
            "`key-escaped` skips the proxy with `example.com/skip-all`",
            "`field-escaped` shares the node's network"
        ]
    );
    // a JSON escape
    let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "json"},
      "spec": {"containers": [{"name": "kube\u002dapiserver"}]}}"#;
    assert_eq!(
        messages("escaped.json", json),
        ["`json` runs the API server"]
    );
    // escaped slashes in a path, beside the annotation `kubectl apply` writes (an
    // escaped JSON text), and an object with that annotation only
    let applied = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "slashes", "annotations":
        {"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Pod\"}\n"}},
       "spec": {"containers": [{"name": "main", "command": ["\/usr\/local\/bin\/kube-apiserver"]}]}},
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "applied", "annotations":
        {"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Pod\"}\n"}},
       "spec": {"containers": [{"name": "main"}]}}]}"#;
    assert_eq!(
        messages("applied.json", applied),
        ["`slashes` runs the API server"]
    );
    // a line continued with a backslash before a CRLF, and a `*` that is not an alias
    let crlf = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: crlf\r\n  annotations:\r\n    schedule: \"*/5 * * * *\"\r\nspec:\r\n  containers:\r\n    - name: \"kube-\\\r\n        apiserver\"\r\n";
    assert_eq!(messages("crlf.yaml", crlf), ["`crlf` runs the API server"]);
    // a YAML alias: the value is written in another item of the list
    let alias = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: names\n    data:\n      server: &server kube-apiserver\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: aliased\n    spec:\n      containers:\n        - name: *server\n";
    assert_eq!(
        messages("alias.yaml", alias),
        ["`aliased` runs the API server"]
    );
    // a merge key that brings the annotation from another item
    let merged = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: base\n      annotations: &base\n        example.com/skip-ports: \"8080\"\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: merged\n      annotations:\n        <<: *base\n    spec:\n      containers:\n        - name: main\n";
    assert_eq!(
        messages("merged.yaml", merged),
        ["`merged` skips the proxy with `example.com/skip-ports`"]
    );
}

/// Each rule's prefilter (the words of its clause), planned as the whole program runs.
fn prefilters(rules: &str) -> Vec<(String, Vec<String>)> {
    let program = program(rules, &mut SourceMap::new());
    let (plan, errors) = kanon::plan::plan(&program);
    assert!(errors.is_empty(), "{errors:?}");
    let mut out: Vec<(String, Vec<String>)> = plan
        .rules()
        .map(|r| {
            let id = program
                .rules
                .get(r.rule)
                .map(|x| x.id.clone())
                .unwrap_or_default();
            let words = r.prefilter.iter().map(|w| w.to_string()).collect();
            (id, words)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn what_a_rule_compares_with_gives_its_words() {
    let rules = r#"
rule W-001 either { severity low
  for w in workloads, c in w.containers
  where c.name in ["kube-scheduler", "kube-apiserver"] or (any x in c.command where x ends with "/kube-scheduler" or x == "etcd-server")
  report at c "x" }
rule W-002 both { severity low
  for w in workloads
  where w.metadata.labels["tier"] == "control-plane" and w.kind == "DaemonSet"
  report at w "x" }
rule W-003 in-args { severity low
  for w in workloads, c in w.containers
  where "--insecure-mode" in c.args
  report at c "x" }
rule W-004 trimmed { severity low
  for w in workloads, c in w.containers
  where trim(effective(c, w).appArmorProfile.localhostProfile ?? "") != ""
  report at c "x" }
rule W-005 flag-listed { severity low
  for w in workloads, c in w.containers
  where not (c.name == "kubelet") and (flags(c, "--tls-cipher-suites") != [] or flags(c, "--cipher-suites") != [])
  report at c "x" }
rule W-006 flag-value { severity low
  for w in workloads, c in w.containers, s in ["RC4", "3DES"]
  where s in flags(c, "--tls-cipher-suites")
  report at c "x" }
rule W-008 own-name-flagged { severity low
  for w in workloads, c in w.containers
  where c.name in flags(c, "--allowed-names")
  report at c "x" }
rule W-007 flag-set { severity low
  for w in workloads, c in w.containers, f in ["--profiling", "--enable-debugging-handlers"]
  where has_flag(c, f) and flag(c, "--bind-address") starts with "0."
  report at c "x" }
"#;
    assert_eq!(
        prefilters(rules),
        [
            (
                "W-001".into(),
                vec![
                    "etcd-server".into(),
                    "kube-apiserver".into(),
                    "kube-scheduler".into()
                ]
            ),
            ("W-002".into(), vec!["control-plane".into()]),
            ("W-003".into(), vec!["--insecure-mode".into()]),
            ("W-004".into(), vec!["localhostProfile".into()]),
            // the flag's name, without its dashes (`-cipher-suites` is the flag too)
            ("W-005".into(), vec!["cipher-suites".into()]),
            ("W-006".into(), vec!["tls-cipher-suites".into()]),
            ("W-007".into(), vec!["bind-address".into()]),
            // a value read from the object among a flag's values: the flag, not the value
            ("W-008".into(), vec!["allowed-names".into()]),
        ]
    );
}

#[test]
fn what_may_hold_without_the_words_gives_none() {
    // rewritten text, a negation, a default, another object, a parsed image, every
    // element (none is one), a word YAML reads as a boolean, a word with a space
    let rules = r#"
rule N-001 lowered { severity low
  for w in workloads, c in w.containers where lower(c.name) == "kube-apiserver" report at c "x" }
rule N-002 negated { severity low
  for w in workloads, c in w.containers where not (c.name == "kube-apiserver") report at c "x" }
rule N-003 namespace { severity low
  for w in workloads where w.namespace == "kube-system" report at w "x" }
rule N-004 other-object { severity low
  for w in workloads where w.serviceAccount.metadata.name == "cluster-admin-sa" report at w "x" }
rule N-005 image { severity low
  for w in workloads, c in w.containers where image(c.image).registry == "docker.io" report at c "x" }
rule N-006 every { severity low
  for w in workloads, c in w.containers where all x in c.command where x == "kube-apiserver" report at c "x" }
rule N-007 boolean-word { severity low
  for w in workloads, c in w.containers where c.name == "true" report at c "x" }
rule N-008 spaced { severity low
  for w in workloads, c in w.containers where c.name == "kube apiserver" report at c "x" }
rule N-009 defaulted { severity low
  for w in workloads, c in w.containers where (c.securityContext.runAsUser ?? 0) < 1000 report at c "x" }
rule N-010 or-unknown { severity low
  for w in workloads, c in w.containers where c.name == "kube-apiserver" or c.image != "x" report at c "x" }
rule N-011 flag-absent { severity low
  for w in workloads, c in w.containers where flags(c, "--tls-cipher-suites") == [] report at c "x" }
rule N-012 flag-not-set { severity low
  for w in workloads, c in w.containers where not has_flag(c, "--anonymous-auth") report at c "x" }
rule N-013 flag-other-value { severity low
  for w in workloads, c in w.containers where flag(c, "--authorization-mode") != "RBAC" report at c "x" }
rule N-014 flag-defaulted { severity low
  for w in workloads, c in w.containers where (flag(c, "--profiling") ?? "true") == "true" report at c "x" }
rule N-015 flag-named-by-the-object { severity low
  for w in workloads, c in w.containers where has_flag(c, c.name) report at c "x" }
"#;
    let none: Vec<(String, Vec<String>)> = prefilters(rules)
        .into_iter()
        .filter(|(_, words)| !words.is_empty())
        .collect();
    assert!(none.is_empty(), "{none:?}");
}

/// Runs `rules` over `text` (a file named `name`) with and without prefilters, which must
/// give the same findings, and with every rule prefiltered; returns the findings' messages.
fn messages_of(rules: &str, name: &str, text: &str) -> Vec<String> {
    let mut sources = SourceMap::new();
    let program = program(rules, &mut sources);
    let load = Loader::default().load_text(name, text.to_string(), &mut sources);
    assert!(!load.has_errors(), "{name}: {:#?}", load.diagnostics);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, errors) = kanon::plan::plan(&program);
    assert!(errors.is_empty(), "{errors:?}");
    let every: Vec<usize> = (0..program.rules.len()).collect();
    assert_eq!(prefiltered(&plan), every, "{plan:#?}");
    let (found, _) = run(&plan, (&program, &graph, &sources), 1_000_000);
    let (all, _) = run(
        &without_prefilters(&plan),
        (&program, &graph, &sources),
        1_000_000,
    );
    assert!(found == all, "{name}: {found:#?}\n{all:#?}");
    found.iter().map(|f| f.message.to_string()).collect()
}

#[test]
fn a_flag_is_found_however_it_is_written() {
    let rules = r#"
rule F-001 weak-suites { severity low
  for w in workloads, c in w.containers
  where flags(c, "--tls-cipher-suites") != [] or flags(c, "--cipher-suites") != []
  report at c "`{w.name}` sets cipher suites" }
rule F-002 debugging { severity low
  for w in workloads, c in w.containers
  where has_flag(c, "--enable-debugging-handlers")
  report at c "`{w.name}` sets debugging handlers" }
"#;
    let pod = |name: &str, line: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: main\n      {line}\n"
        )
    };
    let yaml = [
        pod(
            "equals",
            "args: [--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA]",
        ),
        pod(
            "separate",
            "command: [etcd, --cipher-suites, TLS_RSA_WITH_RC4_128_SHA]",
        ),
        pod("one-dash", "args: [-tls-cipher-suites=x]"),
        pod("bare", "args: [\"--enable-debugging-handlers\"]"),
        // escapes in the flag's name: YAML's `\x2D` and a line continued with a backslash
        pod("escaped", r#"args: ["--tls\x2Dcipher-suites=x"]"#),
        pod(
            "continued",
            "args: [\"--enable-debugging-\\\n          handlers\"]",
        ),
        pod("none", "args: [--v=2, --tls-min-version=VersionTLS12]"),
        pod("value-only", "args: [--x=tls-cipher-suites]"),
    ]
    .concat();
    assert_eq!(
        messages_of(rules, "flags.yaml", &yaml),
        [
            "`equals` sets cipher suites",
            "`separate` sets cipher suites",
            "`one-dash` sets cipher suites",
            "`bare` sets debugging handlers",
            "`escaped` sets cipher suites",
            "`continued` sets debugging handlers",
        ]
    );
    let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "json"},
      "spec": {"containers": [{"name": "main", "args": ["--cipher\u002dsuites=x"]}]}}"#;
    assert_eq!(
        messages_of(rules, "flags.json", json),
        ["`json` sets cipher suites"]
    );
}
