//! Snapshot tests of what a rule author sees for each error code.

use kanon::check::{Overrides, compile, fs::RuleFs};
use kanon::diag::SourceMap;
use kanon::report::diagnostics::render_plain;

fn check(src: &str) -> String {
    let mut fs = RuleFs::new();
    fs.add_embedded("rules", "test.kanon", src);
    let files = fs.embedded_rules("rules");
    let mut sources = SourceMap::new();
    let out = compile(&fs, &files, &Overrides::new(), &mut sources);
    render_plain(&sources, &out.diagnostics)
}

fn rule(body: &str) -> String {
    format!("rule T-001 test-rule {{\n  title \"t\"\n  severity low\n  {body}\n}}\n")
}

#[test]
fn misspelled_field_suggests_the_right_one() {
    let out = check(&rule(
        "for w in workloads, c in w.containers\n  where c.securityContext.privilegd == true\n  report at c \"x {w.name}\"",
    ));
    assert!(out.contains("did you mean `privileged`"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn unknown_kind() {
    let out = check(&rule("for d in deploymnts\n  report at d \"x\""));
    assert!(out.contains("E0101"), "{out}");
    assert!(out.contains("did you mean `deployments`"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn type_mismatch() {
    let out = check(&rule(
        "for w in workloads, c in w.containers\n  where c.securityContext.privileged == \"true\"\n  report at c \"{w.name}\"",
    ));
    assert!(out.contains("E0301"), "{out}");
    assert!(out.contains("write `true` without quotes"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn three_syntax_errors_reported_together() {
    let src = format!(
        "{}\n{}\n{}\n",
        rule("for w in workloads where w.name == \n report at w \"x\""),
        rule("for w in workloads\n  where (w.name == \"a\"\n  report at w \"x\"")
            .replace("T-001", "T-002"),
        rule("for in workloads\n  report at w \"x\"").replace("T-001", "T-003"),
    );
    let out = check(&src);
    assert_eq!(out.matches("error[E0001]").count(), 3, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn every_error_code_has_a_case() {
    let cases: &[(&str, &str)] = &[
        (
            "E0102",
            "for w in workloads where lowr(w.name) == \"a\" report at w \"x\"",
        ),
        (
            "E0103",
            "for w in workloads where w.name == nam report at w \"x\"",
        ),
        (
            "E0104",
            "for w in workloads where w.serviceAcount == null report at w \"x\"",
        ),
        (
            "E0301",
            "for n in nodes where n.spec.unschedulable == 3 report at n \"x\"",
        ),
        (
            "E0302",
            "for w in workloads where lower(w.name, 2) == \"a\" report at w \"x\"",
        ),
        (
            "E0303",
            "for w in workloads where w.name matches \"(\" report at w \"x\"",
        ),
        ("E0304", "for w in workloads, x in w.name report at w \"x\""),
        ("E0305", "for w in workloads where w.name report at w \"x\""),
        (
            "W0401",
            "for w in workloads, c in w.containers report at w \"x\"",
        ),
    ];
    let mut all = String::new();
    for (code, body) in cases {
        let out = check(&rule(body));
        assert!(out.contains(code), "expected {code} for `{body}`:\n{out}");
        all.push_str(&out);
    }
    insta::assert_snapshot!(all);
    let dup = format!(
        "{}{}",
        rule("for w in workloads report at w \"x\""),
        rule("for w in workloads report at w \"x\"")
    );
    assert!(check(&dup).contains("E0201"));
    let sev = "rule T-001 t {\n severity hgh\n for w in workloads report at w \"x\"\n}\n";
    assert!(check(sev).contains("did you mean `high`"));
}

#[test]
fn valid_rules_have_no_diagnostics() {
    let src = r#"
param trusted: list<string> = ["registry.k8s.io"]
def privileged(c, w) = effective(c, w).privileged == true
rule T-001 ok-rule {
  title "t"
  severity high
  owasp "K01:2022" "K01:2025"
  for w in workloads, c in w.containers
  where privileged(c, w)
    and image(c.image).registry not in trusted
    and not exists np in networkpolicies(w.namespace) where np selects w
    and any p in c.ports where p.hostPort > 0
    and count(v in w.podSpec.volumes where v.hostPath.path starts with "/var/run") == 0
    and quantity(c.resources.limits.memory) > quantity("1Gi")
    and w.labels["app.kubernetes.io/name"] != null
    and flag(c, "--anonymous-auth") == "true"
  report at c.securityContext.privileged "container `{c.name}` of {w.kind} `{w.name}`"
}
rule T-002 rbac {
  severity critical
  for b in all_bindings
  where b.role.name == "cluster-admin" and any s in b.subjects where s.kind == "ServiceAccount"
  report at b.roleRef.name "binding `{b.name}`"
}
"#;
    assert_eq!(check(src), "");
}

#[test]
fn syntax_errors_name_the_likely_fix() {
    // once in tests/bad_error_messages.rs: an unclosed `(`, a single `=`, `&&`
    let unclosed = check(&rule(
        "for w in workloads\n  where (w.name == \"a\"\n  report at w \"x\"",
    ));
    assert!(
        unclosed.contains("error[E0001]: unclosed `(`"),
        "{unclosed}"
    );
    assert!(unclosed.contains("this `(` is not closed"), "{unclosed}");
    let eq = check(&rule(
        "for w in workloads\n  where w.name = \"a\"\n  report at w \"x\"",
    ));
    assert!(
        eq.contains("`=` is not a comparison") && eq.contains("compare with `==`"),
        "{eq}"
    );
    let and = check(&rule(
        "for w in workloads\n  where w.name == \"a\" && w.kind == \"Pod\"\n  report at w \"x\"",
    ));
    assert!(
        and.contains("`&&` is not a kanon operator") && and.contains("write `and`"),
        "{and}"
    );
    insta::assert_snapshot!(format!("{unclosed}{eq}{and}"));
}

/// Once in tests/bad_error_messages.rs: syntax errors whose likely cause is known get a
/// message that names it, at the right place.
#[test]
fn syntax_errors_name_their_likely_cause() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "for w in workloads\n  where w.name is null\n  report at w \"x\"",
            "error[E0001]: `is` is not a kanon operator",
            "write `x == null` for `x is null`",
        ),
        (
            "for w in workloads\n  where w.name == \"a\"",
            "error[E0001]: the rule has no `report` clause",
            "end the rule with `report at EXPR \"message\"`",
        ),
        (
            "for w in workloads\n  where w.name ==\n  report at w \"x\"",
            "error[E0001]: `==` needs a right-hand side",
            "write an expression after `==`",
        ),
        (
            "for w in workloads\n  where w.name not in\n  report at w \"x\"",
            "error[E0001]: `not in` needs a right-hand side",
            "write an expression after `not in`",
        ),
        (
            "for in in workloads\n  report at w \"x\"",
            "error[E0001]: `in` is a reserved word and cannot name a binding",
            "pick another name, such as `in_`",
        ),
        (
            "for w in workloads,\n  report at w \"x\"",
            "error[E0001]: a `,` with no binding after it",
            "remove the `,`",
        ),
        (
            "for w in workloads\n  where w.name == \"a\"\n  report at w x",
            "error[E0001]: the message must be a string",
            "to show `x`",
        ),
        (
            "for w workloads\n  report at w \"x\"",
            "error[E0001]: expected `in` after `w`",
            "a binding is a name, `in` and a source: `w in workloads`",
        ),
        (
            "for w in workloads, c w.containers\n  report at w \"x\"",
            "error[E0001]: expected `in` after `c`",
            "`c in w.containers`",
        ),
        (
            "for w in workloads\n  report w \"x\"",
            "error[E0001]: expected `at` or a message after `report`",
            "write `report at w \"...\"`",
        ),
        (
            "for w in workloads\n  where w.name == \"a\"\n  where w.kind == \"b\"\n  report at w \"x\"",
            "error[E0001]: a rule has one `where` clause",
            "join the conditions with `and`",
        ),
        (
            "for w in workloads\n  where w.name ~= \"a\"\n  report at w \"x\"",
            "error[E0001]: `~=` is not a kanon operator",
            "kanon writes `matches` where other languages write `~=`",
        ),
        (
            "severty high\n  for w in workloads\n  report at w \"x\"",
            "error[E0001]: unknown metadata `severty`",
            "did you mean `severity`?",
        ),
        (
            "for w in workloads\n  where w.name == \"a\"\n  report at w \"{w.name\"",
            "error[E0003]: unclosed `{` in message",
            "close it with `}` to show a value (`{w.name}`), or write `{{` for a literal brace",
        ),
    ];
    let mut all = String::new();
    for (body, first, help) in cases {
        let out = check(&rule(body));
        assert_eq!(out.lines().next(), Some(*first), "{out}");
        assert!(out.contains(help), "{help} in {out}");
        all.push_str(&out);
    }
    // whole files: a rule without its closing brace, a misspelt `list`
    let files: &[(&str, &str, &str)] = &[
        (
            "rule T-001 t {\n  severity low\n  for w in workloads\n  report at w \"x\"\n",
            "error[E0001]: the rule is not closed",
            "add `}` after the rule's `report` clause",
        ),
        (
            "param x: lst<string> = []\n",
            "error[E0001]: `lst<...>` is not a type",
            "did you mean `list<...>`?",
        ),
    ];
    for (src, first, help) in files {
        let out = check(src);
        assert_eq!(out.lines().next(), Some(*first), "{out}");
        assert!(out.contains(help), "{help} in {out}");
        all.push_str(&out);
    }
    insta::assert_snapshot!(all);
}

/// A `fix` clause is checked like the rest of the rule: a typo in a path gets a
/// suggestion, a value of the wrong type and a computed place are errors.
#[test]
fn fix_paths_and_values_are_checked() {
    let out = check(&rule(
        "for w in workloads, c in w.containers\n  where c.securityContext.privileged == true\n  report at c \"{w.name}\"\n  fix unsafe \"why\" {\n    set c.securityContext.privilegd = false\n    set c.securityContext.runAsUser = \"root\"\n    add 1 to c.securityContext.capabilities.drop\n    set w.automountsToken = false\n    remove x in c.securityContext.capabilities.add where x == 2\n  }",
    ));
    assert!(out.contains("did you mean `privileged`"), "{out}");
    assert!(out.contains("error[E0307]"), "{out}");
    assert_eq!(out.matches("error[E0301]").count(), 3, "{out}");
    insta::assert_snapshot!(out);
}

const EDGE: &str = "relation edge(a, b) {\n  case {\n    for a in serviceaccounts, b in serviceaccounts\n    where a.namespace == b.namespace\n  }\n}\n";

#[test]
fn negation_through_recursion_is_located() {
    let src = format!(
        "{EDGE}\nrelation odd(a, b) {{\n  case {{\n    for a in serviceaccounts, b in edge(a)\n    where not odd(b, a)\n  }}\n}}\n"
    );
    let out = check(&src);
    assert!(out.contains("error[E0115]"), "{out}");
    assert!(
        out.contains("relation `odd` depends on itself through a negation"),
        "{out}"
    );
    assert!(
        out.contains("^^^^^^^^^ `odd` is negated here, or counted"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn negation_through_a_cycle_of_two_relations() {
    let src = format!(
        "{EDGE}\nrelation p(a, b) {{\n  case {{\n    for a in serviceaccounts, b in q(a)\n  }}\n}}\n\nrelation q(a, b) {{\n  case {{\n    for a in serviceaccounts, b in edge(a)\n    where count(x in p(b)) == 0\n  }}\n}}\n"
    );
    let out = check(&src);
    assert!(
        out.contains("relation `q` depends on itself through a negation"),
        "{out}"
    );
    assert!(out.contains("`p` depends on `q`"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn negating_a_lower_stratum_is_fine() {
    let src = format!(
        "{EDGE}\nrelation lonely(a) {{\n  case {{\n    for a in serviceaccounts\n    where not exists b in edge(a)\n  }}\n}}\n\nrule T-001 lonely {{\n  severity low\n  for s in serviceaccounts\n  where lonely(s)\n  report at s \"{{s.name}}\"\n}}\n"
    );
    assert_eq!(check(&src), "");
}

#[test]
fn unbound_relation_parameter() {
    let out = check("relation r(a, b) {\n  case {\n    for a in serviceaccounts\n  }\n}\n");
    assert!(out.contains("error[E0116]"), "{out}");
    assert!(
        out.contains("parameter `b` of relation `r` is not bound in this case"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn relation_columns_hold_objects() {
    let out =
        check("relation r(a, b) {\n  case {\n    for a in workloads, b in a.containers\n  }\n}\n");
    assert!(out.contains("error[E0306]"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn relation_called_with_the_wrong_arity() {
    let src = format!(
        "{EDGE}\n{}",
        rule("for s in serviceaccounts\n  where edge(s, s, s)\n  report at s \"x\"")
    );
    let out = check(&src);
    assert!(out.contains("error[E0302]"), "{out}");
    assert!(out.contains("`edge` takes 2 arguments, not 3"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn relation_arguments_are_objects() {
    let src = format!(
        "{EDGE}\n{}",
        rule("for s in serviceaccounts\n  where edge(s.name, s)\n  report at s \"x\"")
    );
    let out = check(&src);
    assert!(
        out.contains("`edge` relates objects, not a string"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}
