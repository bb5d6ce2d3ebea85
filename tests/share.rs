//! Shared conditions (`plan::share`): a condition that the rules of one scan group test
//! several times on the same values is answered once per value for all of them. Every rule
//! must find what it finds alone (planned without any other rule), and what the reference
//! evaluator finds: the same findings, the same evidence (a shared filter that reaches a
//! service account adds it to every rule's chain), and, under small step limits, the same
//! objects stopped (these rules keep no sub-expression inside a shared condition, where the
//! limit could otherwise fall a few steps apart; `tests/differential.rs` checks the general
//! case).

use kanon::check::fs::RuleFs;
use kanon::check::ir::{Expr, Program};
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::eval::exec::StepLimitHit;
use kanon::eval::finding::{Finding, sort};
use kanon::eval::reference;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use kanon::plan::physical::{self, PhysicalPlan};
use std::fmt::Write as _;

use crate::common;

const RULES: &str = r#"
rule SHARE-001 low-user-named {
  severity low
  for w in workloads, c in w.containers
  where (c.securityContext.runAsUser ?? 0) < 1000 and c.name != "c0"
  report at c "`{c.name}` of `{w.name}` runs as a low user"
}

rule SHARE-002 low-user-image {
  severity low
  for w in workloads, c in w.containers
  where (c.securityContext.runAsUser ?? 0) < 1000 and c.image != "img1"
  report at c "`{c.name}` of `{w.name}` runs a low user's image"
}

rule SHARE-003 account-one {
  severity low
  for w in workloads
  where w.serviceAccount.metadata.name != "sa0" and w.name != "d1"
  report at w "`{w.name}` runs as a service account"
}

rule SHARE-004 account-two {
  severity low
  for w in workloads
  where w.serviceAccount.metadata.name != "sa0" and w.name != "d2"
  report at w "`{w.name}` runs as a service account too"
}

rule SHARE-005 privileged-one {
  severity low
  for w in workloads
  where any c in w.containers where c.securityContext.privileged == true and c.image != "img0"
  report at w "`{w.name}` has a privileged container"
}

rule SHARE-006 privileged-two {
  severity low
  for w in workloads
  where any x in w.containers where x.securityContext.privileged == true and x.image != "img0"
  report at w "`{w.name}` has a privileged container too"
}

rule SHARE-007 privileged-first {
  severity low
  for w in workloads
  where any c in w.containers where c.name == "c0" and c.securityContext.privileged == true
  report at w "`{w.name}` has a privileged first container"
}
"#;

/// Deployments with one to four containers, some with a service account.
fn cluster() -> String {
    let mut yaml = String::new();
    for s in 0..3 {
        let _ = write!(
            yaml,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa{s}\n  namespace: ns0\n"
        );
    }
    for d in 0..90 {
        let account = match d % 4 {
            3 => String::new(),
            s => format!("      serviceAccountName: sa{s}\n"),
        };
        let _ = write!(
            yaml,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{d}\n  namespace: ns0\nspec:\n  template:\n    spec:\n{account}      containers:\n"
        );
        for c in 0..(1 + d % 4) {
            let user = [0, 7, 999, 1000, 5000][(d + c) % 5];
            let privileged = (d + c) % 7 == 0;
            let _ = write!(
                yaml,
                "      - name: c{c}\n        image: img{}\n        securityContext: {{runAsUser: {user}, privileged: {privileged}}}\n",
                (d + c) % 3
            );
        }
    }
    yaml
}

fn program(sources: &mut SourceMap) -> Program {
    let mut fs = RuleFs::default();
    fs.add_embedded("share", "share.kanon", RULES);
    let entry = fs.embedded_rules("share");
    let compiled = compile(&fs, &entry, &Overrides::new(), sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.program
}

/// The shared ids of a plan's conditions.
fn shared_ids(plan: &PhysicalPlan) -> Vec<u32> {
    fn walk(e: &Expr, ids: &mut Vec<u32>) {
        match e {
            Expr::Shared { id, .. } => ids.push(*id),
            _ => e.for_each_child(&mut |c| walk(c, ids)),
        }
    }
    let mut ids = Vec::new();
    for r in plan.groups.iter().flat_map(|g| &g.rules) {
        physical::for_each_filter(r, &mut |f| walk(f, &mut ids));
    }
    ids
}

fn run(
    program: &Program,
    plan: &PhysicalPlan,
    graph: &Graph,
    sources: &SourceMap,
    max_steps: u64,
) -> (Vec<Finding>, Vec<StepLimitHit>) {
    let out = common::execute_at(program, plan, graph, sources, max_steps);
    let mut findings = out.findings;
    for f in &mut findings {
        f.evidence.sort();
    }
    (findings, out.limits)
}

#[test]
fn shared_filters_give_each_rule_its_own_answers() {
    let mut sources = SourceMap::new();
    let program = program(&mut sources);
    let load = Loader::default().load_text("cluster.yaml", cluster(), &mut sources);
    assert!(!load.has_errors(), "{:#?}", load.diagnostics);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, errors) = kanon::plan::plan(&program);
    assert!(errors.is_empty(), "{errors:?}");

    // four conditions are shared: the user's filter, the service account's and the
    // quantifier's (equal up to the name of its variable), each by two rules, and inside
    // the third rule's quantifier the condition on a container the other two test inside
    // theirs (shared there as part of the whole quantifier)
    let mut ids = shared_ids(&plan);
    ids.sort_unstable();
    let mut classes = ids.clone();
    classes.dedup();
    assert_eq!((classes.len(), ids.len()), (4, 7), "{plan:#?}");

    // each rule alone: a plan of its own, where nothing is shared
    let alone: Vec<PhysicalPlan> = (0..program.rules.len())
        .map(|i| {
            let p = kanon::plan::plan_rule(&program, i).expect("planned");
            physical::group(vec![p.physical])
        })
        .collect();
    assert!(alone.iter().all(|p| shared_ids(p).is_empty()));

    let mut stopped_some = false;
    for max_steps in [1_000_000, 12, 20, 30, 45, 70, 100] {
        let (shared, shared_limits) = run(&program, &plan, &graph, &sources, max_steps);
        let mut solo = Vec::new();
        let mut solo_limits = Vec::new();
        for p in &alone {
            let (f, l) = run(&program, p, &graph, &sources, max_steps);
            solo.extend(f);
            solo_limits.extend(l);
        }
        sort(&mut solo);
        solo_limits.sort_by(|a, b| (&a.rule, &a.object).cmp(&(&b.rule, &b.object)));
        assert_eq!(shared, solo, "findings at a limit of {max_steps} steps");
        assert_eq!(
            shared_limits, solo_limits,
            "objects stopped at a limit of {max_steps} steps"
        );
        // some objects stopped, others not: the limit falls inside a shared answer's steps
        stopped_some |= !shared_limits.is_empty() && shared_limits.len() < 7 * 90;
        if max_steps == 1_000_000 {
            assert!(shared_limits.is_empty());
            let mut naive = reference::evaluate(&program, &graph, &sources);
            for f in &mut naive {
                f.evidence.sort();
            }
            assert_eq!(shared, naive);
            let count = |id: &str| shared.iter().filter(|f| &*f.rule.id == id).count();
            // a service account other than sa0 (sa1, sa2, or none in the input: the
            // default account is not there), less d1 or d2
            let others = (0..90).filter(|d| d % 4 != 0).count();
            assert_eq!(count("SHARE-003"), others - 1);
            assert_eq!(count("SHARE-004"), others - 1);
            // where the shared filter reached an account, both rules' evidence names it
            for f in shared
                .iter()
                .filter(|f| matches!(&*f.rule.id, "SHARE-003" | "SHARE-004"))
            {
                let d: usize = f.resource.name.trim_start_matches('d').parse().expect("dN");
                let named = f.evidence.iter().any(|e| &*e.kind == "ServiceAccount");
                assert_eq!(named, d % 4 != 3, "{f:#?}");
            }
            let low = |skip: &dyn Fn(usize, usize) -> bool| {
                (0..90usize)
                    .flat_map(|d| (0..1 + d % 4).map(move |c| (d, c)))
                    .filter(|&(d, c)| [0, 1, 2].contains(&((d + c) % 5)) && !skip(d, c))
                    .count()
            };
            assert_eq!(count("SHARE-001"), low(&|_, c| c == 0));
            assert_eq!(count("SHARE-002"), low(&|d, c| (d + c) % 3 == 1));
            assert!(count("SHARE-005") > 0 && count("SHARE-005") == count("SHARE-006"));
            let first = (0..90usize).filter(|d| d % 7 == 0).count();
            assert_eq!(count("SHARE-007"), first);
        }
    }
    assert!(stopped_some, "no limit stopped some objects and not others");
}

/// The executor runs the scan groups by ranges of object ids sized by the input and the
/// thread count, every group of a range in one task, and keeps a shared condition's answers
/// for the objects of one range: the bundled rules' findings over 3,000 objects (their
/// order, evidence and fixes) and the step-limit hits are the same on 1, 2 and 6 threads,
/// whose ranges are 187, 93 and 64 ids, at the default step limit and at one that stops
/// objects.
#[test]
fn findings_do_not_depend_on_the_ranges_the_groups_run_by() {
    let mut yaml = String::new();
    for i in 0..600 {
        let ns = format!("ns{}", i % 25);
        let sa = format!("sa{}", i % 7);
        let tag = if i % 4 == 0 { "latest" } else { "1.0" };
        write!(
            yaml,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: a{i}\n  template:\n    metadata:\n      labels:\n        app: a{i}\n    spec:\n      serviceAccountName: {sa}\n      hostNetwork: {host}\n      containers:\n      - name: c\n        image: registry{reg}.example/app:{tag}\n        securityContext:\n          privileged: {privileged}\n          runAsUser: {user}\n\
             ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  namespace: {ns}\nspec:\n  type: {svc}\n  selector:\n    app: a{i}\n  ports:\n  - port: 80\n\
             ---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {sa}\n  namespace: {ns}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: b{i}\n  namespace: {ns}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\nsubjects:\n- kind: ServiceAccount\n  name: {sa}\n  namespace: {ns}\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m{i}\n  namespace: {ns}\ndata:\n  password: p{i}\n",
            host = i % 5 == 0,
            reg = i % 3,
            privileged = i % 6 == 0,
            user = i % 2000,
            svc = if i % 9 == 0 { "LoadBalancer" } else { "ClusterIP" },
            role = if i % 11 == 0 { "admin" } else { "view" },
        )
        .expect("written");
    }
    let mut sources = SourceMap::new();
    let compiled =
        kanon::bundled::compile(&[], true, &Overrides::new(), &mut sources).expect("compiled");
    let load = Loader::default().load_text("cluster.yaml", yaml, &mut sources);
    assert!(!load.has_errors(), "{:#?}", load.diagnostics);
    let graph = Graph::build(load, &GraphOptions::default());
    assert_eq!(graph.objects.len(), 3000);
    let (plan, errors) = kanon::plan::plan(&compiled.program);
    assert!(errors.is_empty(), "{errors:?}");
    for max_steps in [kanon::limits::Limits::default().max_steps, 200] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            let out = pool.install(|| {
                common::execute_at(&compiled.program, &plan, &graph, &sources, max_steps)
            });
            (out.findings, out.limits)
        };
        let one = run(1);
        assert!(one.0.len() > 3000, "{} findings", one.0.len());
        assert!(
            one.0.iter().any(|f| !f.evidence.is_empty()),
            "no finding with evidence"
        );
        if max_steps == 200 {
            assert!(!one.1.is_empty(), "no object stopped at 200 steps");
        }
        for threads in [2, 6] {
            let other = run(threads);
            assert!(
                one == other,
                "{threads} threads at a limit of {max_steps} steps: {} and {} findings",
                one.0.len(),
                other.0.len()
            );
        }
    }
}
