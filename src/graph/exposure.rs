//! External exposure: the paths by which traffic from outside the cluster reaches a
//! workload, each with its evidence chain, computed once.
//!
//! | via | path |
//! |---|---|
//! | `LoadBalancer Service`, `NodePort Service` | a Service of that type selects the workload |
//! | `Ingress` | an Ingress routes to a Service that selects the workload |
//! | `HTTPRoute`, `GRPCRoute` | a Gateway API route attached (`parentRefs`) to a `Gateway` has a backend Service that selects the workload |
//! | `Istio Gateway` | an Istio `VirtualService` bound to a gateway (`spec.gateways`, other than `mesh`) routes to a Service that selects the workload |
//!
//! A route attached to a `Service` (service-mesh routing) or a VirtualService bound only to
//! `mesh` stays inside the cluster and is no exposure. The Gateway of a path is `None` when
//! it is not in the input.

use super::references::RefKind;
use super::{Graph, ObjId, nonempty_str};
use crate::model::{Document, NodeId};
use std::sync::Arc;

/// One path from outside the cluster to a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// What exposes it: `LoadBalancer Service`, `NodePort Service`, `Ingress`,
    /// `HTTPRoute`, `GRPCRoute` or `Istio Gateway`.
    pub via: &'static str,
    /// The Service that selects the workload.
    pub service: ObjId,
    /// The Ingress, route or VirtualService in front of the Service.
    pub route: Option<ObjId>,
    /// The Gateway the route is attached to, when in the input.
    pub gateway: Option<ObjId>,
    /// The path in words, e.g. ``Ingress `shop` → Service `web` `` or
    /// ``LoadBalancer Service `web` `` (one string for every workload the path reaches).
    pub path: Arc<str>,
}

const GATEWAY_API: &str = "gateway.networking.k8s.io";
const ISTIO: &str = "networking.istio.io";

fn named(g: &Graph, id: ObjId) -> String {
    g.object(id)
        .map_or_else(String::new, |o| format!("{} `{}`", o.kind, o.name))
}

/// The exposures of every object (empty for objects that are not workloads).
pub(crate) fn build(g: &Graph) -> super::index::PerObject<Exposure> {
    // the few exposed workloads' lists, by workload (not a list for every object)
    let mut out: std::collections::HashMap<ObjId, Vec<Exposure>, foldhash::fast::RandomState> =
        Default::default();
    // the same path twice (one install in several files of the input) is listed once
    let mut add = |service: ObjId, e: &dyn Fn(ObjId) -> Exposure| {
        let workloads = g.selected(service);
        if workloads.is_empty() {
            return;
        }
        // made once for every workload the Service selects: they share the path string
        let x = e(service);
        for &w in workloads {
            if (w as usize) < g.objects.len() {
                let list = out.entry(w).or_default();
                if list.iter().all(|y| y.path != x.path) {
                    list.push(x.clone());
                }
            }
        }
    };
    for &s in g.by_kind("Service") {
        let Some((doc, node)) = g.doc_node(s) else {
            continue;
        };
        let via = match doc.str_at(node, &["spec", "type"]) {
            Some("LoadBalancer") => "LoadBalancer Service",
            Some("NodePort") => "NodePort Service",
            _ => continue,
        };
        add(s, &|s| Exposure {
            via,
            service: s,
            route: None,
            gateway: None,
            path: format!("{via} `{}`", g.object(s).map_or("", |o| &*o.name)).into(),
        });
    }
    for &i in g.by_kind("Ingress") {
        for s in backend_services(g, i) {
            add(s, &|s| Exposure {
                via: "Ingress",
                service: s,
                route: Some(i),
                gateway: None,
                path: format!("{} → {}", named(g, i), named(g, s)).into(),
            });
        }
    }
    for kind in ["HTTPRoute", "GRPCRoute"] {
        for &r in g.by_kind(kind) {
            let Some(o) = g.object(r).filter(|o| o.group() == GATEWAY_API) else {
                continue;
            };
            let Some(gateways) = route_gateways(g, r) else {
                continue;
            };
            let via = if &*o.kind == "HTTPRoute" {
                "HTTPRoute"
            } else {
                "GRPCRoute"
            };
            let gateway = gateways.first().copied().flatten();
            let on = gateway.map_or_else(|| "a Gateway".to_owned(), |gw| named(g, gw));
            for s in backend_services(g, r) {
                add(s, &|s| Exposure {
                    via,
                    service: s,
                    route: Some(r),
                    gateway,
                    path: format!("{} on {on} → {}", named(g, r), named(g, s)).into(),
                });
            }
        }
    }
    for &v in g.by_kind("VirtualService") {
        if g.object(v).is_none_or(|o| o.group() != ISTIO) {
            continue;
        }
        let Some(gateways) = virtual_service_gateways(g, v) else {
            continue;
        };
        let gateway = gateways.first().copied().flatten();
        let on = gateway.map_or_else(|| "an Istio Gateway".to_owned(), |gw| named(g, gw));
        for s in virtual_service_hosts(g, v) {
            add(s, &|s| Exposure {
                via: "Istio Gateway",
                service: s,
                route: Some(v),
                gateway,
                path: format!("{on} → {} → {}", named(g, v), named(g, s)).into(),
            });
        }
    }
    let pairs: Vec<(ObjId, Exposure)> = out
        .into_iter()
        .flat_map(|(w, list)| list.into_iter().map(move |e| (w, e)))
        .collect();
    // sorted by workload, each workload's list in the order it was found
    super::index::PerObject::from_pairs(g.objects.len(), pairs)
}

/// The Services in the input that an Ingress or route sends traffic to, deduplicated.
fn backend_services(g: &Graph, id: ObjId) -> Vec<ObjId> {
    let mut out: Vec<ObjId> = g
        .references(id)
        .iter()
        .filter(|r| r.kind == RefKind::Service)
        .filter_map(|r| r.target())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The Gateways a Gateway API route is attached to (`None` for one not in the input);
/// `None` when no parent is a Gateway.
fn route_gateways(g: &Graph, r: ObjId) -> Option<Vec<Option<ObjId>>> {
    let (doc, node) = g.doc_node(r)?;
    let ns = g.object(r)?.namespace.as_deref()?;
    let parents = doc.path(node, &["spec", "parentRefs"])?;
    let found: Vec<Option<ObjId>> = doc
        .seq(parents)
        .iter()
        .filter(|&&p| {
            doc.str_at(p, &["group"]).unwrap_or(GATEWAY_API) == GATEWAY_API
                && doc.str_at(p, &["kind"]).unwrap_or("Gateway") == "Gateway"
        })
        .filter_map(|&p| {
            let name = doc.get(p, "name").and_then(|n| nonempty_str(doc, n))?;
            let pns = doc
                .get(p, "namespace")
                .and_then(|n| nonempty_str(doc, n))
                .unwrap_or(ns);
            Some(g.find(GATEWAY_API, "Gateway", Some(pns), name))
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

/// The gateways an Istio VirtualService is bound to, other than `mesh`; `None` when it is
/// bound to none (the default is `mesh` only).
fn virtual_service_gateways(g: &Graph, v: ObjId) -> Option<Vec<Option<ObjId>>> {
    let (doc, node) = g.doc_node(v)?;
    let ns = g.object(v)?.namespace.as_deref()?;
    let list = doc.path(node, &["spec", "gateways"])?;
    let found: Vec<Option<ObjId>> = doc
        .seq(list)
        .iter()
        .filter_map(|&n| nonempty_str(doc, n))
        .filter(|&s| s != "mesh")
        .map(|s| {
            let (gns, name) = s.split_once('/').unwrap_or((ns, s));
            g.find(ISTIO, "Gateway", Some(gns), name)
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

/// The Services in the input an Istio VirtualService routes to (`destination.host` of its
/// `http`, `tcp` and `tls` routes): `svc`, `svc.ns`, `svc.ns.svc` or
/// `svc.ns.svc.cluster.local`.
fn virtual_service_hosts(g: &Graph, v: ObjId) -> Vec<ObjId> {
    let Some((doc, node)) = g.doc_node(v) else {
        return Vec::new();
    };
    let Some(ns) = g.object(v).and_then(|o| o.namespace.as_deref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for section in ["http", "tcp", "tls"] {
        for &rule in seq_at(doc, node, &["spec", section]) {
            for &route in seq_at(doc, rule, &["route"]) {
                let Some(host) = doc.str_at(route, &["destination", "host"]) else {
                    continue;
                };
                if let Some(s) = service_host(g, host, ns) {
                    out.push(s);
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn seq_at<'d>(doc: &'d Document, node: NodeId, path: &[&str]) -> &'d [NodeId] {
    doc.path(node, path).map_or(&[], |n| doc.seq(n))
}

/// The Service a mesh host name stands for, when it is in the input.
fn service_host(g: &Graph, host: &str, ns: &str) -> Option<ObjId> {
    let host = host
        .strip_suffix(".svc.cluster.local")
        .or_else(|| host.strip_suffix(".svc"))
        .unwrap_or(host);
    let (name, sns) = match host.split_once('.') {
        None => (host, ns),
        Some((name, rest)) if !rest.contains('.') => (name, rest),
        // an outside host name
        Some(_) => return None,
    };
    g.find("", "Service", Some(sns), name)
}

impl Graph {
    /// The paths from outside the cluster to a workload, in the order: Services of type
    /// `LoadBalancer`/`NodePort`, Ingresses, Gateway API routes, Istio VirtualServices.
    pub fn exposures(&self, w: ObjId) -> &[Exposure] {
        self.exposed.get(w)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::graph;

    const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}}
"#;

    fn paths(extra: &str) -> Vec<String> {
        let g = graph(&format!("{WEB}---\n{extra}"));
        g.exposures(0)
            .iter()
            .map(|e| format!("{}: {}", e.via, e.path))
            .collect()
    }

    #[test]
    fn service_types() {
        let g = graph(&WEB.replace("spec: {selector", "spec: {type: LoadBalancer, selector"));
        assert_eq!(g.exposures(0).len(), 1);
        assert_eq!(g.exposures(0)[0].via, "LoadBalancer Service");
        assert_eq!(g.exposures(0)[0].service, 1);
        let g = graph(&WEB.replace("spec: {selector", "spec: {type: NodePort, selector"));
        assert_eq!(&*g.exposures(0)[0].path, "NodePort Service `web`");
        // a ClusterIP Service alone does not expose
        assert!(graph(WEB).exposures(0).is_empty());
    }

    #[test]
    fn ingress() {
        assert_eq!(
            paths(
                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, backend: {service: {name: web, port: {number: 80}}}}\n      - {path: /b, backend: {service: {name: web, port: {number: 81}}}}\n"
            ),
            vec!["Ingress: Ingress `shop` → Service `web`"]
        );
    }

    #[test]
    fn gateway_api_routes() {
        let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: infra}\nspec: {gatewayClassName: x}\n---\n";
        let route = |parent: &str| {
            format!(
                "{gw}apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: shop}}\nspec:\n  parentRefs: [{parent}]\n  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]\n"
            )
        };
        assert_eq!(
            paths(&route("{name: public, namespace: infra}")),
            vec!["HTTPRoute: HTTPRoute `r` on Gateway `public` → Service `web`"]
        );
        // a Gateway not in the input still exposes
        assert_eq!(
            paths(&route("{name: elsewhere}")),
            vec!["HTTPRoute: HTTPRoute `r` on a Gateway → Service `web`"]
        );
        // a route attached to a Service is mesh routing
        assert!(paths(&route("{kind: Service, group: '', name: web}")).is_empty());
        let grpc = format!(
            "{gw}apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {{name: g, namespace: shop}}\nspec:\n  parentRefs: [{{name: public, namespace: infra}}]\n  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]\n"
        );
        assert_eq!(
            paths(&grpc)[0],
            "GRPCRoute: GRPCRoute `g` on Gateway `public` → Service `web`"
        );
    }

    #[test]
    fn istio_virtual_service() {
        let vs = |gateways: &str, host: &str| {
            format!(
                "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: public, namespace: istio-system}}\nspec: {{selector: {{istio: ingressgateway}}}}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: vs, namespace: shop}}\nspec:\n  hosts: [shop.example.com]\n  {gateways}\n  http:\n  - route: [{{destination: {{host: {host}}}}}]\n"
            )
        };
        let want = vec![
            "Istio Gateway: Gateway `public` → VirtualService `vs` → Service `web`".to_owned(),
        ];
        assert_eq!(paths(&vs("gateways: [istio-system/public]", "web")), want);
        assert_eq!(
            paths(&vs(
                "gateways: [istio-system/public, mesh]",
                "web.shop.svc.cluster.local"
            )),
            want
        );
        assert_eq!(
            paths(&vs("gateways: [istio-system/public]", "web.shop")),
            want
        );
        assert!(paths(&vs("gateways: [mesh]", "web")).is_empty());
        assert!(paths(&vs("tcp: []", "web")).is_empty());
        assert!(paths(&vs("gateways: [istio-system/public]", "web.example.com")).is_empty());
        assert!(paths(&vs("gateways: [istio-system/public]", "web.other")).is_empty());
    }
}
