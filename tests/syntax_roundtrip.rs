use kanon::syntax::{format::format_file, parse};

const SAMPLE: &str = r#"// leading comment
import "lib/common.kanon"

/// Registries images may come from.
param trusted_registries: list<string> = ["registry.k8s.io", "ghcr.io"]

table eol from "data/eol.yaml"

/// True when the container runs privileged.
def privileged(c, w) = effective(c, w).privileged == true

/// Containers with `securityContext.privileged: true` share the host's devices.
rule K01-001 privileged-container {
  title    "Container runs in privileged mode"
  severity high // high because it is root on the node
  owasp    "K01:2022" "K01:2025"
  refs     "CKV_K8S_16" "KSV017" "C-0057"
  fix      "Remove securityContext.privileged or set it to false."

  // every container of every workload
  for w in workloads, c in w.containers
  where privileged(c, w) and not (c.name in ["a", "b"]) and count(p in c.ports where p.hostPort > 0) >= 1
  report at c.securityContext.privileged
    "container `{c.name}` of {w.kind} `{w.labels[\"app\"]}` runs privileged {{literally}}"
}

rule K07-001 workload-not-isolated {
  severity medium
  for w in workloads
  where not exists np in networkpolicies(w.namespace) where np selects w
  report at w "{w.kind} `{w.name}` is not selected by any NetworkPolicy"
}
"#;

#[test]
fn sample_parses_without_errors() {
    let (file, diags) = parse(0, SAMPLE);
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(file.items.len(), 6);
}

#[test]
fn format_round_trips_and_is_idempotent() {
    let (file, _) = parse(0, SAMPLE);
    let once = format_file(&file, SAMPLE);
    let (again, diags) = parse(0, &once);
    assert!(diags.is_empty(), "{once}\n{diags:#?}");
    assert_eq!(file, again, "{once}");
    let twice = format_file(&again, &once);
    assert_eq!(once, twice);
    assert!(once.contains("// leading comment"));
    assert!(once.contains("severity high // high because it is root on the node"));
    assert!(once.contains("  // every container of every workload\n  for w in workloads"));
    insta::assert_snapshot!(once);
}

const RELATION: &str = r#"/// One step.
relation edge(a, b) {
  // the first case
  case {
    for a in serviceaccounts, b in serviceaccounts(a.namespace)
    where a.name != b.name and b.labels["x"] == null // trailing
    step at a.metadata "`{a.name}` to `{b.name}`"
  }
  case {
    for a in workloads, b in [a.serviceAccount]
  }
}

relation reach(a, b) {
  case {
    for a in serviceaccounts, b in edge(a)
  }
  case {
    for a in serviceaccounts, m in reach(a), b in edge(m)
    step "through {m.name}"
  }
}
"#;

#[test]
fn relations_round_trip_with_their_comments() {
    let (file, diags) = parse(0, RELATION);
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(file.items.len(), 2);
    let once = format_file(&file, RELATION);
    let (again, diags) = parse(0, &once);
    assert!(diags.is_empty(), "{once}\n{diags:#?}");
    assert_eq!(file, again, "{once}");
    assert_eq!(format_file(&again, &once), once);
    assert!(once.contains("  // the first case\n  case {"), "{once}");
    assert!(
        once.contains("and b.labels[\"x\"] == null // trailing"),
        "{once}"
    );
    insta::assert_snapshot!(once);
}
