//! Descriptions shown by hover and completion: built-in functions, attributes, sources, metadata, OWASP categories, schema field docs, types.

use super::*;

/// Built-in functions: name, signature, description.
pub const BUILTINS: &[(&str, &str, &str)] = &[
    (
        "effective",
        "effective(c, w)",
        "The effective security context of container `c` of workload `w`: the container's `securityContext`, or for the fields a pod-level context also sets (`runAsUser`, `runAsGroup`, `runAsNonRoot`, `seLinuxOptions`, `seccompProfile`, `appArmorProfile`, `windowsOptions`) the pod's value when the container does not set it.",
    ),
    (
        "image",
        "image(s)",
        "The image reference with fields `registry`, `repository`, `tag`, `digest` (Docker's defaults apply: `nginx` is `docker.io`, `library/nginx`).",
    ),
    (
        "quantity",
        "quantity(s)",
        "A resource quantity as a number of base units: `quantity(\"500m\") == 0.5`, `quantity(\"1Gi\") == 1073741824`.",
    ),
    (
        "version",
        "version(s)",
        "A Kubernetes version ordered by major, minor, patch (`1.29`, `v1.29.3-eks-abc`).",
    ),
    (
        "flag",
        "flag(c, \"--name\")",
        "The last value of a command-line flag over the container's `command` and `args`; null when absent.",
    ),
    (
        "flags",
        "flags(c, \"--name\")",
        "Every value of a repeated flag, comma lists split and trimmed.",
    ),
    (
        "has_flag",
        "has_flag(c, \"--name\")",
        "Whether the flag is given at all.",
    ),
    ("lower", "lower(s)", "The string in lower case."),
    ("upper", "upper(s)", "The string in upper case."),
    (
        "trim",
        "trim(s)",
        "The string without leading and trailing whitespace.",
    ),
    (
        "len",
        "len(x)",
        "The length of a string (characters), list or map.",
    ),
    ("split", "split(s, sep)", "The parts of `s` between `sep`."),
    ("keys", "keys(m)", "A map's keys."),
    ("values", "values(m)", "A map's values."),
    (
        "string",
        "string(x)",
        "The text of a scalar (numbers and booleans as text).",
    ),
    ("raw", "raw(x)", "The scalar as written in the source."),
    (
        "quoted",
        "quoted(x)",
        "Whether the scalar was quoted in the YAML source (`\"true\"` versus `true`).",
    ),
];

/// Virtual attributes: name, description.
pub(super) const ATTRIBUTES: &[(&str, &str)] = &[
    ("name", "`metadata.name`"),
    (
        "namespace",
        "the namespace (defaulted to `default`); null for cluster-scoped objects",
    ),
    ("kind", "`kind`"),
    ("labels", "`metadata.labels`"),
    ("annotations", "`metadata.annotations`"),
    (
        "owners",
        "the objects named in `ownerReferences` that are in the input",
    ),
    (
        "references",
        "its references to other objects: records with `kind`, `name`, `namespace`, `via`, `target` and `missing`",
    ),
    (
        "namespaceObject",
        "the Namespace object it lives in, when in the input",
    ),
    (
        "containers",
        "every container of the workload: init, regular and ephemeral",
    ),
    ("podSpec", "the pod spec, wherever the kind keeps it"),
    (
        "podLabels",
        "the pod's labels (the template's for controllers)",
    ),
    (
        "serviceAccountName",
        "the ServiceAccount name the pod runs as (`default` when unset)",
    ),
    (
        "serviceAccount",
        "that ServiceAccount object (null when not in the input)",
    ),
    (
        "automountsToken",
        "whether the service-account token is mounted",
    ),
    (
        "bindings",
        "the RoleBindings and ClusterRoleBindings whose subjects include the workload's ServiceAccount (or this ServiceAccount)",
    ),
    (
        "serviceAccounts",
        "on RoleBindings and ClusterRoleBindings: the ServiceAccounts they apply to (named as subjects, or through the groups `system:serviceaccounts[:NAMESPACE]` and `system:authenticated`)",
    ),
    (
        "services",
        "the Services selecting the workload, or the Services an Ingress or HTTPRoute routes to",
    ),
    (
        "role",
        "the Role or ClusterRole of `roleRef` (null when not in the input)",
    ),
    (
        "rules",
        "the effective policy rules (aggregated ClusterRoles resolved)",
    ),
    ("target", "the object of `scaleTargetRef`"),
    ("isolatesIngress", "whether the policy isolates ingress"),
    ("isolatesEgress", "whether the policy isolates egress"),
    ("containerType", "`init`, `regular` or `ephemeral`"),
];

/// The sources besides kind plurals: name, description.
pub(super) const SOURCES: &[(&str, &str)] = &[
    (
        "workloads",
        "Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs and custom resources that embed a pod template",
    ),
    ("objects", "every object"),
    ("all_roles", "Roles and ClusterRoles"),
    ("all_bindings", "RoleBindings and ClusterRoleBindings"),
];

/// Metadata keywords of a rule: keyword, description.
pub(super) const METADATA: &[(&str, &str)] = &[
    (
        "title",
        "one-line summary shown with each finding: `title \"text\"`",
    ),
    (
        "severity",
        "`info`, `low`, `medium`, `high` or `critical`; required",
    ),
    (
        "owasp",
        "OWASP Kubernetes Top 10 categories: `owasp \"K01:2022\" \"K01:2025\"`",
    ),
    (
        "refs",
        "ids of the corresponding checks of other tools: `refs \"CKV_K8S_16\"`",
    ),
    ("fix", "how to fix a finding: `fix \"text\"`"),
    ("tags", "free tags for selecting rules: `tags \"a\" \"b\"`"),
];

/// OWASP Kubernetes Top 10 categories of both editions.
pub(super) const OWASP: &[(&str, &str)] = &[
    ("K01:2022", "Insecure Workload Configurations"),
    ("K02:2022", "Supply Chain Vulnerabilities"),
    ("K03:2022", "Overly Permissive RBAC Configurations"),
    ("K04:2022", "Lack of Centralized Policy Enforcement"),
    ("K05:2022", "Inadequate Logging and Monitoring"),
    ("K06:2022", "Broken Authentication Mechanisms"),
    ("K07:2022", "Missing Network Segmentation Controls"),
    ("K08:2022", "Secrets Management Failures"),
    ("K09:2022", "Misconfigured Cluster Components"),
    ("K10:2022", "Outdated and Vulnerable Kubernetes Components"),
    ("K01:2025", "Insecure Workload Configurations"),
    ("K02:2025", "Overly Permissive Authorization Configurations"),
    ("K03:2025", "Secrets Management Failures"),
    ("K04:2025", "Lack of Cluster Level Policy Enforcement"),
    ("K05:2025", "Missing Network Segmentation Controls"),
    ("K06:2025", "Overly Exposed Kubernetes Components"),
    (
        "K07:2025",
        "Misconfigured and Vulnerable Cluster Components",
    ),
    ("K08:2025", "Cluster to Cloud Lateral Movement"),
    ("K09:2025", "Broken Authentication Mechanisms"),
    ("K10:2025", "Inadequate Logging and Monitoring"),
];

#[derive(Deserialize)]
pub(super) struct SchemaDocs {
    types: HashMap<String, HashMap<String, String>>,
}

/// The OpenAPI description of a field of a schema type (`schema/k8s-1.37-docs.json`,
/// made by `tools/gen_schema_docs.py`).
pub(super) fn field_doc(type_name: &str, field: &str) -> Option<&'static str> {
    static DOCS: OnceLock<SchemaDocs> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        serde_json::from_str(include_str!("../../../schema/k8s-1.37-docs.json")).unwrap_or(
            SchemaDocs {
                types: HashMap::new(),
            },
        )
    });
    docs.types
        .get(type_name)
        .and_then(|t| t.get(field))
        .map(String::as_str)
}

pub(super) fn short_type(ft: FieldType) -> String {
    Schema::bundled()
        .describe(ft)
        .split(' ')
        .map(|w| w.rsplit('.').next().unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A type as a person reads it.
pub fn ty_text(t: &Ty) -> String {
    match t {
        Ty::Any => "any".into(),
        Ty::Null => "null".into(),
        Ty::Bool => "boolean".into(),
        Ty::Number => "number".into(),
        Ty::Str => "string".into(),
        Ty::List(e) => format!("list of {}", ty_text(e)),
        Ty::Data(ft) => short_type(*ft),
        Ty::Union(fts) => fts
            .iter()
            .map(|f| short_type(*f))
            .collect::<Vec<_>>()
            .join(" | "),
        Ty::Object(k) => match k {
            KindSet::All => "object (any kind)".into(),
            KindSet::Workloads => "workload".into(),
            KindSet::Kinds(ks) => ks.iter().map(|k| &**k).collect::<Vec<_>>().join(" | "),
            KindSet::PodsAnd(_) => "object running pods".into(),
        },
        Ty::Container => "container".into(),
        Ty::Image => "image reference".into(),
        Ty::Version => "version".into(),
        Ty::Reference => "reference".into(),
        Ty::Exposure => "exposure path (via, service, route, gateway, path)".into(),
    }
}

/// What a kind plural or source ranges over.
pub(super) fn source_doc(name: &str) -> Option<String> {
    if let Some((_, d)) = SOURCES.iter().find(|(n, _)| *n == name) {
        return Some(format!("`{name}`: {d}"));
    }
    let k = kinds::kind_by_plural(name)?;
    let scope = if k.is_namespaced() {
        "namespaced"
    } else {
        "cluster-scoped"
    };
    Some(format!(
        "`{name}`: every {} object (`{}`, {scope}); `{name}(ns)` ranges over those in namespace `ns`",
        k.kind,
        k.api_version()
    ))
}

pub(super) fn member_doc(base: &Ty, m: &Member) -> String {
    let mut s = format!("```kanon\n.{}: {}\n```", m.name, ty_text(&m.ty));
    if m.attribute {
        if let Some((_, d)) = ATTRIBUTES.iter().find(|(n, _)| *n == m.name) {
            s.push_str(&format!("\n\nattribute of {}: {d}", ty_text(base)));
        }
    } else if let Some(owner) = m.owner {
        let tname = Schema::bundled().type_name(owner);
        s.push_str(&format!("\n\nfield of `{tname}`"));
        if let Some(d) = field_doc(tname, &m.name) {
            s.push_str(&format!("\n\n{d}"));
        }
    }
    s
}

pub(super) fn def_signature(d: &ast::Def) -> String {
    let params: Vec<&str> = d.params.iter().map(|p| p.text.as_str()).collect();
    format!("def {}({})", d.name.text, params.join(", "))
}

pub(super) fn relation_signature(r: &crate::syntax::ast::Relation) -> String {
    let params: Vec<&str> = r.params.iter().map(|p| p.text.as_str()).collect();
    format!("relation {}({})", r.name.text, params.join(", "))
}

pub(super) fn docs_text(docs: &[String]) -> String {
    docs.iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn item_doc(item: &Item) -> String {
    let code = |s: String| format!("```kanon\n{s}\n```");
    match item {
        Item::Def(d) => {
            let mut s = code(def_signature(d));
            if !d.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&d.docs)));
            }
            s
        }
        Item::Param(p) => {
            let default = p
                .default
                .as_ref()
                .map(|e| format!(" = {}", crate::syntax::format::expr_text(e)))
                .unwrap_or_default();
            let mut s = code(format!(
                "param {}: {}{default}",
                p.name.text,
                type_text(&p.ty)
            ));
            if !p.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&p.docs)));
            }
            s
        }
        Item::Table(t) => {
            let mut s = code(format!(
                "table {} from {}",
                t.name.text,
                crate::syntax::format::quote(&t.path.value)
            ));
            s.push_str("\n\na list of rows (maps); range over it or use it with `in`");
            if !t.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&t.docs)));
            }
            s
        }
        Item::Rule(r) => rule_doc(r),
        Item::Relation(r) => {
            let mut s = code(relation_signature(r));
            s.push_str(&format!(
                "\n\na relation of {} case{}; call it with every argument for a condition, or with the last one left out for the list of values it reaches",
                r.cases.len(),
                if r.cases.len() == 1 { "" } else { "s" }
            ));
            if !r.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&r.docs)));
            }
            s
        }
        Item::Import(i) => code(format!(
            "import {}",
            crate::syntax::format::quote(&i.path.value)
        )),
    }
}

pub(super) fn type_text(t: &ast::TypeExpr) -> String {
    match t {
        ast::TypeExpr::Named(n) => n.text.clone(),
        ast::TypeExpr::List(i) => format!("list<{}>", type_text(i)),
    }
}

pub(super) fn rule_doc(r: &ast::Rule) -> String {
    let mut title = String::new();
    let mut severity = String::from("(none)");
    let mut owasp = Vec::new();
    for m in &r.meta {
        match m {
            ast::Meta::Title(s) => title.clone_from(&s.value),
            ast::Meta::Severity(n) => severity.clone_from(&n.text),
            ast::Meta::Owasp(v) => owasp.extend(v.iter().map(|s| {
                let name = OWASP
                    .iter()
                    .find(|(c, _)| *c == s.value)
                    .map_or("", |(_, n)| n);
                format!("`{}` {name}", s.value)
            })),
            _ => {}
        }
    }
    let mut s = format!("**{}** `{}`", r.id.text, r.name.text);
    if !title.is_empty() {
        s.push_str(&format!(": {title}"));
    }
    s.push_str(&format!("\n\nseverity: `{severity}`"));
    if !owasp.is_empty() {
        s.push_str(&format!("\n\nOWASP: {}", owasp.join(", ")));
    }
    if !r.docs.is_empty() {
        s.push_str(&format!("\n\n{}", docs_text(&r.docs)));
    }
    s
}
