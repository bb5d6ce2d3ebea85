//! Writes a synthetic, realistic cluster export of about N objects, for benchmarks.
//!
//! ```text
//! cargo run --release --example gen-cluster -- --objects 100000 --format yaml --layout list --out /tmp/c.yaml
//! cargo run --release --example gen-cluster -- --objects 100000 --format json --layout dir --out /tmp/c
//! cargo run --release --example gen-cluster -- --objects 100000 --layout stream --out /tmp/s.yaml
//! ```
//!
//! Layouts: `list` (one `List` export), `dir` (a file per namespace) and `stream` (one YAML
//! stream, each object its own `---` document, as `helm template` writes).
//!
//! The mix follows a real cluster: namespaces with labels; Deployments with their owned
//! ReplicaSets and Pods (ownerReferences with uids, as `kubectl get -o yaml` exports them);
//! StatefulSets, DaemonSets, CronJobs; Services, Ingresses, NetworkPolicies with
//! matchExpressions; ServiceAccounts, Roles, RoleBindings, ClusterRoles (some aggregated),
//! ClusterRoleBindings; Secrets, ConfigMaps; Nodes; control-plane static Pods. A fixed seed
//! gives the same bytes on every run.

use serde_json::{Value, json};
use std::io::Write;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic and fast
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn meta(name: &str, ns: Option<&str>, uid: u64, labels: Value) -> Value {
    let mut m = json!({
        "name": name,
        "uid": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", uid as u32, uid >> 32 & 0xffff, uid & 0xfff, uid >> 8 & 0xfff, uid),
        "resourceVersion": format!("{}", 100_000 + uid),
        "creationTimestamp": "2026-10-01T12:00:00Z",
        "labels": labels,
    });
    if let (Some(ns), Some(o)) = (ns, m.as_object_mut()) {
        o.insert("namespace".into(), json!(ns));
    }
    m
}

fn owner(kind: &str, name: &str, uid: u64, api: &str) -> Value {
    json!([{ "apiVersion": api, "kind": kind, "name": name, "controller": true, "blockOwnerDeletion": true,
             "uid": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", uid as u32, uid >> 32 & 0xffff, uid & 0xfff, uid >> 8 & 0xfff, uid) }])
}

fn container(rng: &mut Rng, name: &str) -> Value {
    let images = [
        "nginx:1.27.2",
        "registry.k8s.io/pause:3.10",
        "ghcr.io/acme/api:v2.3.1",
        "quay.io/prometheus/node-exporter:v1.8.2",
        "redis:latest",
        "docker.io/library/postgres:16",
    ];
    let mut c = json!({
        "name": name,
        "image": images[rng.below(images.len() as u64) as usize],
        "ports": [{ "containerPort": 8080, "protocol": "TCP" }],
        "env": [{ "name": "LOG_LEVEL", "value": "info" }, { "name": "DB_PASSWORD", "valueFrom": { "secretKeyRef": { "name": "db", "key": "password" } } }],
        "resources": { "requests": { "cpu": "100m", "memory": "128Mi" } },
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
    });
    if let Some(o) = c.as_object_mut() {
        if rng.chance(60) {
            o.insert("resources".into(), json!({ "requests": { "cpu": "100m", "memory": "128Mi" }, "limits": { "cpu": "500m", "memory": "512Mi" } }));
        }
        if rng.chance(70) {
            o.insert("securityContext".into(), json!({ "runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": rng.chance(50), "capabilities": { "drop": ["ALL"] } }));
        } else if rng.chance(10) {
            o.insert("securityContext".into(), json!({ "privileged": true }));
        }
    }
    c
}

fn pod_spec(rng: &mut Rng, sa: &str) -> Value {
    let n = 1 + rng.below(2);
    let containers: Vec<Value> = (0..n).map(|i| container(rng, &format!("c{i}"))).collect();
    let mut spec = json!({
        "serviceAccountName": sa,
        "containers": containers,
        "volumes": [{ "name": "config", "configMap": { "name": "app-config" } }],
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
    });
    if rng.chance(5) {
        if let Some(o) = spec.as_object_mut() {
            o.insert("hostNetwork".into(), json!(true));
        }
    }
    spec
}

struct Out {
    objects: Vec<Value>,
    uid: u64,
}

impl Out {
    fn push(&mut self, v: Value) {
        self.objects.push(v);
    }
    fn uid(&mut self) -> u64 {
        self.uid += 1;
        self.uid
    }
}

/// Objects of one namespace (about 60).
fn namespace(rng: &mut Rng, out: &mut Out, ns: &str, team: u64) {
    let uid = out.uid();
    out.push(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, None, uid, json!({ "team": format!("t{team}"), "kubernetes.io/metadata.name": ns, "pod-security.kubernetes.io/enforce": if rng.chance(50) { "restricted" } else { "baseline" } })) }));
    for sa in ["default", "app"] {
        let uid = out.uid();
        out.push(json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(sa, Some(ns), uid, json!({})) }));
    }
    let uid = out.uid();
    out.push(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("app", Some(ns), uid, json!({})),
        "rules": [{ "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"] }] }));
    let uid = out.uid();
    let role = if rng.chance(3) {
        ("ClusterRole", "cluster-admin")
    } else if rng.chance(30) {
        ("ClusterRole", "view")
    } else {
        ("Role", "app")
    };
    out.push(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("app", Some(ns), uid, json!({})),
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": role.0, "name": role.1 },
        "subjects": [{ "kind": "ServiceAccount", "name": "app", "namespace": ns }] }));
    for name in ["app-config", "feature-flags"] {
        let uid = out.uid();
        out.push(json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, Some(ns), uid, json!({})), "data": { "config.yaml": "level: info\nport: 8080\n", "FLAG_A": "true" } }));
    }
    let uid = out.uid();
    out.push(json!({ "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta("db", Some(ns), uid, json!({})), "data": { "password": "c2VjcmV0" } }));
    // default-deny policy in most namespaces, plus app policies with expressions
    if rng.chance(70) {
        let uid = out.uid();
        out.push(json!({ "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("default-deny", Some(ns), uid, json!({})),
            "spec": { "podSelector": {}, "policyTypes": ["Ingress", "Egress"] } }));
    }
    let apps = 4;
    for a in 0..apps {
        let app = format!("app{a}");
        let labels = json!({ "app": app, "tier": if a % 2 == 0 { "front" } else { "back" }, "app.kubernetes.io/part-of": "shop" });
        // Deployment → ReplicaSet → 2 Pods
        let duid = out.uid();
        let dep_name = app.clone();
        let annotations = json!({ "deployment.kubernetes.io/revision": "3",
            "kubectl.kubernetes.io/last-applied-configuration": format!("{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"{dep_name}\",\"namespace\":\"{ns}\"}},\"spec\":{{\"replicas\":2}}}}") });
        let mut m = meta(&dep_name, Some(ns), duid, labels.clone());
        if let Some(o) = m.as_object_mut() {
            o.insert("annotations".into(), annotations);
        }
        let spec = pod_spec(rng, if a == 0 { "app" } else { "default" });
        out.push(json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": m,
            "spec": { "replicas": 2, "selector": { "matchLabels": { "app": app } }, "strategy": { "type": "RollingUpdate" },
                      "template": { "metadata": { "labels": labels }, "spec": spec } },
            "status": { "replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 3 } }));
        let rsuid = out.uid();
        let rs_name = format!("{app}-7d9f8b6c5");
        let mut rsm = meta(&rs_name, Some(ns), rsuid, labels.clone());
        if let Some(o) = rsm.as_object_mut() {
            o.insert(
                "ownerReferences".into(),
                owner("Deployment", &dep_name, duid, "apps/v1"),
            );
        }
        out.push(json!({ "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": rsm,
            "spec": { "replicas": 2, "selector": { "matchLabels": { "app": app } }, "template": { "metadata": { "labels": labels }, "spec": spec } },
            "status": { "replicas": 2 } }));
        for p in 0..2 {
            let puid = out.uid();
            let mut pm = meta(
                &format!("{rs_name}-{p}x{puid:x}"),
                Some(ns),
                puid,
                labels.clone(),
            );
            if let Some(o) = pm.as_object_mut() {
                o.insert(
                    "ownerReferences".into(),
                    owner("ReplicaSet", &rs_name, rsuid, "apps/v1"),
                );
            }
            out.push(json!({ "apiVersion": "v1", "kind": "Pod", "metadata": pm, "spec": spec,
                "status": { "phase": "Running", "podIP": format!("10.{}.{}.{}", puid >> 16 & 255, puid >> 8 & 255, puid & 255), "qosClass": "Burstable" } }));
        }
        let uid = out.uid();
        let svc_type = if rng.chance(10) {
            "LoadBalancer"
        } else if rng.chance(10) {
            "NodePort"
        } else {
            "ClusterIP"
        };
        out.push(json!({ "apiVersion": "v1", "kind": "Service", "metadata": meta(&app, Some(ns), uid, json!({ "app": app })),
            "spec": { "type": svc_type, "selector": { "app": app }, "ports": [{ "port": 80, "targetPort": 8080, "protocol": "TCP" }] } }));
        let uid = out.uid();
        let sel = if a % 2 == 0 {
            json!({ "matchLabels": { "app": app } })
        } else {
            json!({ "matchExpressions": [{ "key": "tier", "operator": "In", "values": ["back"] }, { "key": "app", "operator": "NotIn", "values": ["legacy"] }] })
        };
        out.push(json!({ "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(&format!("allow-{app}"), Some(ns), uid, json!({})),
            "spec": { "podSelector": sel, "policyTypes": ["Ingress"], "ingress": [{ "from": [{ "namespaceSelector": { "matchLabels": { "team": format!("t{team}") } } }], "ports": [{ "port": 8080 }] }] } }));
    }
    let uid = out.uid();
    out.push(json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web", Some(ns), uid, json!({})),
        "spec": { "ingressClassName": "nginx", "rules": [{ "host": format!("{ns}.example.com"), "http": { "paths": [{ "path": "/", "pathType": "Prefix", "backend": { "service": { "name": "app0", "port": { "number": 80 } } } }] } }] } }));
    let uid = out.uid();
    let spec = pod_spec(rng, "default");
    out.push(json!({ "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db", Some(ns), uid, json!({ "app": "db" })),
        "spec": { "serviceName": "db", "replicas": 1, "selector": { "matchLabels": { "app": "db" } }, "template": { "metadata": { "labels": { "app": "db", "tier": "back" } }, "spec": spec } } }));
    let uid = out.uid();
    let spec = pod_spec(rng, "default");
    out.push(json!({ "apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("report", Some(ns), uid, json!({})),
        "spec": { "schedule": "0 3 * * *", "jobTemplate": { "spec": { "template": { "metadata": { "labels": { "app": "report" } }, "spec": spec } } } } }));
}

fn cluster_level(rng: &mut Rng, out: &mut Out, nodes: u64) {
    for r in ["cluster-admin", "view", "edit"] {
        let uid = out.uid();
        out.push(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(r, None, uid, json!({ "kubernetes.io/bootstrapping": "rbac-defaults" })),
            "rules": [{ "apiGroups": ["*"], "resources": [if r == "cluster-admin" { "*" } else { "pods" }], "verbs": [if r == "view" { "get" } else { "*" }] }] }));
    }
    let uid = out.uid();
    out.push(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("monitoring", None, uid, json!({})),
        "aggregationRule": { "clusterRoleSelectors": [{ "matchLabels": { "rbac.example.com/aggregate-to-monitoring": "true" } }] }, "rules": [] }));
    let uid = out.uid();
    out.push(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("monitoring-pods", None, uid, json!({ "rbac.example.com/aggregate-to-monitoring": "true" })),
        "rules": [{ "apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list"] }] }));
    let uid = out.uid();
    out.push(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta("monitoring", None, uid, json!({})),
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "monitoring" },
        "subjects": [{ "kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring" }] }));
    for n in 0..nodes {
        let uid = out.uid();
        let minor = 28 + rng.below(6);
        out.push(json!({ "apiVersion": "v1", "kind": "Node", "metadata": meta(&format!("node-{n}"), None, uid, json!({ "kubernetes.io/os": "linux" })),
            "status": { "nodeInfo": { "kubeletVersion": format!("v1.{minor}.3"), "osImage": "Ubuntu 24.04", "containerRuntimeVersion": "containerd://1.7.20" } } }));
    }
    for (c, flags) in [
        (
            "kube-apiserver",
            vec![
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--audit-log-path=/var/log/audit.log",
                "--anonymous-auth=false",
            ],
        ),
        (
            "etcd",
            vec![
                "--client-cert-auth=true",
                "--cert-file=/etc/etcd/server.crt",
            ],
        ),
        (
            "kube-scheduler",
            vec!["--bind-address=127.0.0.1", "--profiling=false"],
        ),
    ] {
        let uid = out.uid();
        let mut command = vec![c.to_string()];
        command.extend(flags.iter().map(|f| f.to_string()));
        out.push(json!({ "apiVersion": "v1", "kind": "Pod", "metadata": meta(&format!("{c}-node-0"), Some("kube-system"), uid, json!({ "component": c, "tier": "control-plane" })),
            "spec": { "hostNetwork": true, "priorityClassName": "system-node-critical", "containers": [{ "name": c, "image": format!("registry.k8s.io/{c}:v1.33.1"), "command": command }] } }));
    }
}

fn generate(target: usize, seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed | 1);
    let mut out = Out {
        objects: Vec::with_capacity(target + 100),
        uid: 0,
    };
    cluster_level(&mut rng, &mut out, (target as u64 / 500).max(1));
    let mut i = 0;
    while out.objects.len() < target {
        namespace(&mut rng, &mut out, &format!("ns-{i:05}"), i as u64 % 17);
        i += 1;
    }
    out.objects.truncate(target.max(1));
    out.objects
}

fn yaml_item(v: &Value) -> String {
    serde_yaml::to_string(v).unwrap_or_default()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let n: usize = get("--objects", "10000").parse().unwrap_or(10_000);
    let format = get("--format", "yaml");
    let layout = get("--layout", "list");
    let seed: u64 = get("--seed", "42").parse().unwrap_or(42);
    let out = get("--out", "cluster.yaml");
    let objects = generate(n, seed);
    match layout.as_str() {
        // one YAML stream, every object its own `---` document (like `helm template`)
        "stream" => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&out)?);
            for o in &objects {
                f.write_all(b"---\n")?;
                f.write_all(yaml_item(o).as_bytes())?;
            }
        }
        "dir" => {
            std::fs::create_dir_all(&out)?;
            // one file per namespace (and one for cluster-scoped objects), like a GitOps repo
            let mut files: std::collections::BTreeMap<String, Vec<&Value>> = Default::default();
            for o in &objects {
                let ns = o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("_cluster")
                    .to_string();
                files.entry(ns).or_default().push(o);
            }
            for (ns, objs) in files {
                let path = format!(
                    "{out}/{ns}.{}",
                    if format == "json" { "json" } else { "yaml" }
                );
                let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
                if format == "json" {
                    let list = json!({ "apiVersion": "v1", "kind": "List", "items": objs });
                    serde_json::to_writer(&mut f, &list)?;
                } else {
                    for o in objs {
                        f.write_all(b"---\n")?;
                        f.write_all(yaml_item(o).as_bytes())?;
                    }
                }
            }
        }
        _ => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&out)?);
            if format == "json" {
                f.write_all(b"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"},\"items\":[\n")?;
                for (i, o) in objects.iter().enumerate() {
                    if i > 0 {
                        f.write_all(b",\n")?;
                    }
                    serde_json::to_writer(&mut f, o)?;
                }
                f.write_all(b"\n]}\n")?;
            } else {
                f.write_all(
                    b"apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n",
                )?;
                for o in &objects {
                    let text = yaml_item(o);
                    let mut first = true;
                    for line in text.lines() {
                        f.write_all(if first { b"- " } else { b"  " })?;
                        f.write_all(line.as_bytes())?;
                        f.write_all(b"\n")?;
                        first = false;
                    }
                }
            }
        }
    }
    eprintln!("wrote {} objects to {out}", objects.len());
    Ok(())
}
