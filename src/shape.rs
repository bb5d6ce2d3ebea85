//! The shape check: objects of the input against the structure the Kubernetes schema gives
//! their kind, so that a field of the wrong shape (a Pod whose `spec` is a list, a container
//! that is a string, a `securityContext` written as a list) is a located warning (`W2003`)
//! instead of a place where every rule silently sees nothing.
//!
//! Only the structure is checked, driven by the schema rather than a list of paths: a field
//! the schema types as an object or a map must be a mapping, a list must be a list, and a
//! scalar must not be a mapping or a list. Scalar types are not compared (YAML 1.1 and
//! quoting make `"80"` and `80` both common), unknown fields are left to the API server,
//! and free-form fields (labels, `RawExtension`) are not looked into. `null` is accepted
//! anywhere. Below a field of the wrong shape nothing more is reported.
//!
//! It works at the workload level: objects of the built-in kinds that run pods (`Pod`,
//! `Deployment`, ..., `CronJob`, as the schema's kinds table says) are checked whole; every
//! other object at `metadata`, and, when the graph found a pod template in it (a custom
//! workload, see [`crate::graph::workload`]), at that template's `metadata` and `spec`.
//! Workloads whose controller is in the input (an exported Deployment's ReplicaSets and
//! Pods, reported at the Deployment) are checked at `metadata` only. Checking every kind
//! whole cost 60% more graph-stage time on a 10k-object cluster export (46 → 76 ms, one
//! thread), for fields no rule reads.
//!
//! It sits above the graph and the schema (the graph knows nothing of the schema) and is run
//! by [`crate::engine`] after the graph is built. It visits each node of the input at most
//! once, with one binary search per mapping entry, in parallel over objects.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::graph::workload::MAX_TEMPLATE_DEPTH;
use crate::graph::{Graph, ObjId, Object};
use crate::model::{Document, NodeId, Value};
use crate::schema::{FieldType, Schema, TypeId, kinds};

/// Code of the warning for a field whose shape is not the one its schema type has.
pub const MALFORMED_SHAPE: &str = "W2003";

/// Nesting beyond which the check stops (deeper input is not a Kubernetes object).
const MAX_DEPTH: usize = 64;

/// The warnings for every field of the wrong shape, in input order.
pub fn check(graph: &Graph, schema: &Schema) -> Vec<Diagnostic> {
    let types = Types::new(graph, schema);
    graph
        .objects
        .par_iter()
        .enumerate()
        // one path buffer per worker, reused from object to object
        .map_init(Vec::new, |path, (i, o)| {
            // a workload whose controller is in the input (the Pods and ReplicaSets of an
            // exported Deployment) is reported at that owner: its own copy of the pod
            // template is not checked again
            let owned = o.is_workload()
                && ObjId::try_from(i).is_ok_and(|id| graph.workloads().binary_search(&id).is_err());
            check_object(graph, schema, &types, o, owned, path)
        })
        .flat_map_iter(|out| out)
        .collect()
}

/// The schema types the check starts from, looked up once per input.
struct Types<'g> {
    /// The type of each `(apiVersion, kind)` of the input (`None` when the schema does not
    /// know it), keyed by the objects' own strings.
    kinds: HashMap<(&'g str, &'g str), Option<TypeId>, foldhash::fast::RandomState>,
    object_meta: Option<TypeId>,
    pod_spec: Option<TypeId>,
}

impl<'g> Types<'g> {
    fn new(graph: &'g Graph, schema: &Schema) -> Types<'g> {
        let mut kinds = HashMap::default();
        for o in &graph.objects {
            let key = (&*o.api_version, &*o.kind);
            if kinds.contains_key(&key) {
                continue;
            }
            let version = o
                .api_version
                .rsplit_once('/')
                .map_or(&*o.api_version, |(_, v)| v);
            // only kinds that run pods are checked whole (the schema's kinds table says
            // which); a served version first, else another version of the kind (an old
            // `apps/v1beta1` Deployment has much the same structure)
            let ty = if kinds::kind_by_name(&o.kind)
                .is_some_and(|k| k.is_workload() && k.origin == kinds::Origin::BuiltIn)
            {
                schema
                    .kind_at(o.group(), version, &o.kind)
                    .or_else(|| schema.kind_in(o.group(), &o.kind))
            } else {
                None
            };
            kinds.insert(key, ty);
        }
        Types {
            kinds,
            object_meta: schema.type_by_name("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
            pod_spec: schema.type_by_name("io.k8s.api.core.v1.PodSpec"),
        }
    }

    fn kind(&self, o: &Object) -> Option<TypeId> {
        self.kinds
            .get(&(&*o.api_version, &*o.kind))
            .copied()
            .flatten()
    }
}

/// One step of a path: a mapping key or a list position.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The walk over one object.
struct Walk<'a, 'p> {
    schema: &'a Schema,
    doc: &'a Document,
    object: &'a Object,
    path: &'p mut Vec<Step<'a>>,
    out: Vec<Diagnostic>,
}

fn check_object<'a>(
    graph: &'a Graph,
    schema: &'a Schema,
    types: &Types<'_>,
    o: &'a Object,
    owned: bool,
    path: &mut Vec<Step<'a>>,
) -> Vec<Diagnostic> {
    let Some(doc) = graph.load.docs.get(o.r.doc as usize) else {
        return Vec::new();
    };
    path.clear();
    let mut w = Walk {
        schema,
        doc,
        object: o,
        path,
        out: Vec::new(),
    };
    if let Some(t) = types.kind(o).filter(|_| !owned) {
        w.node(o.r.node, FieldType::Object(t));
        return w.out;
    }
    let root = doc.map(o.r.node);
    if let (Some(meta), Some(t)) = (root.get("metadata"), types.object_meta) {
        w.path.push(Step::Key("metadata"));
        w.node(meta, FieldType::Object(t));
        w.path.clear();
    }
    // a custom kind's pod template, found by the graph (the path is told from the object)
    if let Some(wl) = o.workload.as_ref().filter(|_| !owned) {
        let parts = [
            (wl.pod_metadata(), types.object_meta),
            (wl.pod_spec(), types.pod_spec),
        ];
        for (node, ty) in parts {
            let (Some(node), Some(t)) = (node, ty) else {
                continue;
            };
            if let Some(path) = path_to(doc, o.r.node, node) {
                *w.path = path;
                w.node(node, FieldType::Object(t));
            }
        }
    }
    w.out
}

/// The steps from `from` down to `to` (breadth first; the graph looks for pod templates at
/// most [`MAX_TEMPLATE_DEPTH`] below `spec`, so no deeper).
fn path_to<'d>(doc: &'d Document, from: NodeId, to: NodeId) -> Option<Vec<Step<'d>>> {
    let mut queue = std::collections::VecDeque::from([(from, Vec::new())]);
    while let Some((n, path)) = queue.pop_front() {
        if n == to {
            return Some(path);
        }
        if path.len() > usize::from(MAX_TEMPLATE_DEPTH) + 2 {
            continue;
        }
        match doc.value(n) {
            Some(Value::Map(m)) => {
                for (k, v) in m.iter() {
                    let mut p = path.clone();
                    p.push(Step::Key(k));
                    queue.push_back((v, p));
                }
            }
            Some(Value::Seq(items)) => {
                for (i, &v) in items.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Step::Index(i));
                    queue.push_back((v, p));
                }
            }
            _ => {}
        }
    }
    None
}

/// A scalar type, for messages.
fn expected_scalar(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Integer | FieldType::Number => "a number",
        FieldType::Boolean => "a boolean",
        FieldType::IntOrString => "a number or a string",
        FieldType::Quantity => "a quantity",
        _ => "a string",
    }
}

/// What a node is, for messages.
fn found(v: &Value<'_>) -> &'static str {
    match v {
        Value::Map(_) => "a mapping",
        Value::Seq(_) => "a list",
        Value::Str(_) => "a string",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    }
}

impl<'a> Walk<'a, '_> {
    /// Checks `id` against `ty`, and below it.
    fn node(&mut self, id: NodeId, ty: FieldType) {
        let Some(v) = self.doc.value(id) else {
            return;
        };
        if matches!(v, Value::Null) || self.path.len() > MAX_DEPTH {
            return;
        }
        match ty {
            FieldType::Object(t) => match v {
                Value::Map(m) => {
                    for (k, child) in m.iter() {
                        let Some(ft) = self.schema.field(t, k) else {
                            continue;
                        };
                        if ft.is_free_form() && !matches!(ft, FieldType::StringMap) {
                            continue;
                        }
                        // most fields are scalars that are scalars: nothing to say, and no
                        // step to push
                        if ft.is_scalar() && !self.doc.is_collection(child) {
                            continue;
                        }
                        self.path.push(Step::Key(k));
                        self.node(child, ft);
                        self.path.pop();
                    }
                }
                _ => self.warn(id, &v, "a mapping"),
            },
            FieldType::Map(e) => match v {
                Value::Map(m) => {
                    let elem = e.get();
                    if elem.is_scalar() || elem.is_free_form() {
                        return;
                    }
                    for (k, child) in m.iter() {
                        self.path.push(Step::Key(k));
                        self.node(child, elem);
                        self.path.pop();
                    }
                }
                _ => self.warn(id, &v, "a mapping"),
            },
            FieldType::StringMap => {
                if !matches!(v, Value::Map(_)) {
                    self.warn(id, &v, "a mapping");
                }
            }
            FieldType::List(e) => match v {
                Value::Seq(items) => {
                    let elem = e.get();
                    if elem.is_free_form() {
                        return;
                    }
                    for (i, &child) in items.iter().enumerate() {
                        if elem.is_scalar() && !self.doc.is_collection(child) {
                            continue;
                        }
                        self.path.push(Step::Index(i));
                        self.node(child, elem);
                        self.path.pop();
                    }
                }
                _ => self.warn(id, &v, "a list"),
            },
            FieldType::Any => {}
            scalar => {
                if matches!(v, Value::Map(_) | Value::Seq(_)) {
                    self.warn(id, &v, expected_scalar(scalar));
                }
            }
        }
    }

    fn path_text(&self) -> String {
        let mut s = String::new();
        for step in self.path.iter() {
            match step {
                Step::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Step::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    fn warn(&mut self, id: NodeId, v: &Value<'_>, expected: &str) {
        let what = found(v);
        let object = if self.object.name.is_empty() {
            format!("a {} without a name", self.object.kind)
        } else {
            format!("{} `{}`", self.object.kind, self.object.name)
        };
        let mut d = Diagnostic::warning(
            MALFORMED_SHAPE,
            format!("`{}` of {object} is {what}, not {expected}", self.path_text()),
        )
        .with_help(format!(
            "write {expected} here: the API server rejects the object as it is, and rules see nothing below this field"
        ));
        if let Some(span) = self.doc.node(id).map(|n| n.key_span.unwrap_or(n.span)) {
            d = d.at(span, format!("{what} where {expected} is expected"));
        }
        self.out.push(d);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::diag::SourceMap;
    use crate::graph::GraphOptions;
    use crate::model::Loader;

    fn warnings(yaml: &str) -> Vec<(String, (usize, usize))> {
        let mut sources = SourceMap::new();
        let out = Loader::default().load_text("t.yaml", yaml.to_string(), &mut sources);
        let g = Graph::build(out, &GraphOptions::default());
        check(&g, Schema::bundled())
            .into_iter()
            .map(|d| {
                assert_eq!(d.code, MALFORMED_SHAPE);
                let at = sources.line_col(d.primary.unwrap().span);
                (d.message, at)
            })
            .collect()
    }

    #[test]
    fn wrong_shapes_are_located_with_their_path() {
        let w = warnings(
            r#"apiVersion: v1
kind: Pod
metadata: {name: list-spec}
spec:
- containers: [{name: c, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: [a]}
spec:
  template:
    spec:
      containers:
      - nginx
      - name: c
        image: nginx
        securityContext: [privileged]
        ports: {containerPort: 80}
        env: [{name: A, value: {x: 1}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {template: [x]}
---
apiVersion: v1
kind: ConfigMap
metadata: [oops]
---
apiVersion: agents.x-k8s.io/v1alpha1
kind: Sandbox
metadata: {name: sb}
spec:
  podTemplate:
    spec:
      containers: [{name: c, image: nginx, securityContext: [x]}]
"#,
        );
        let m: Vec<(&str, (usize, usize))> = w.iter().map(|(m, at)| (m.as_str(), *at)).collect();
        assert_eq!(
            m,
            [
                ("`spec` of Pod `list-spec` is a list, not a mapping", (4, 1)),
                (
                    "`metadata.labels` of Deployment `web` is a list, not a mapping",
                    (9, 23)
                ),
                (
                    "`spec.template.spec.containers[0]` of Deployment `web` is a string, not a mapping",
                    (14, 9)
                ),
                (
                    "`spec.template.spec.containers[1].securityContext` of Deployment `web` is a list, not a mapping",
                    (17, 9)
                ),
                (
                    "`spec.template.spec.containers[1].ports` of Deployment `web` is a mapping, not a list",
                    (18, 9)
                ),
                (
                    "`spec.template.spec.containers[1].env[0].value` of Deployment `web` is a mapping, not a string",
                    (19, 25)
                ),
                (
                    "`spec.template` of Job `j` is a list, not a mapping",
                    (24, 8)
                ),
                (
                    "`metadata` of a ConfigMap without a name is a list, not a mapping",
                    (28, 1)
                ),
                (
                    "`spec.podTemplate.spec.containers[0].securityContext` of Sandbox `sb` is a list, not a mapping",
                    (36, 44)
                ),
            ]
        );
    }

    #[test]
    fn owned_copies_of_a_template_are_checked_at_their_owner() {
        let rs = "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]
spec: {template: {spec: {containers: [{name: c, securityContext: [x]}]}}}
";
        let owner = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, uid: d1}
spec: {template: {spec: {containers: [{name: c}]}}}
---
";
        assert_eq!(warnings(rs).len(), 1);
        assert!(warnings(&format!("{owner}{rs}")).is_empty());
    }

    #[test]
    fn well_formed_objects_and_nulls_give_nothing() {
        let w = warnings(
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {a: b}, annotations: ~}
spec:
  replicas: "3"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: ~
      containers:
      - name: c
        image: nginx
        resources: {limits: {cpu: 500m, memory: 1Gi}}
        ports: [{containerPort: "80"}]
        unknownField: [1, 2]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {anything: [1, {a: b}]}
"#,
        );
        assert!(w.is_empty(), "{w:?}");
    }
}
