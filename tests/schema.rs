//! Tests of the bundled Kubernetes field schema and the kinds table.

use kanon::schema::kinds::{self, Origin};
use kanon::schema::{FieldType, Schema, TypeId};

fn schema() -> &'static Schema {
    Schema::bundled()
}

/// Test result: failures are reported as `Err` rather than by panicking.
type TestResult = Result<(), String>;

fn ty(name: &str) -> Result<TypeId, String> {
    schema()
        .type_by_name(name)
        .ok_or_else(|| format!("type {name} not in schema"))
}

fn kind(name: &str) -> Result<TypeId, String> {
    schema()
        .kind(name)
        .ok_or_else(|| format!("kind {name} not in schema"))
}

fn resolve(t: TypeId, dotted: &str) -> Result<FieldType, kanon::schema::PathError> {
    let path: Vec<&str> = dotted.split('.').collect();
    schema().resolve_path(t, &path)
}

#[test]
fn bundled_schema_has_all_types() -> TestResult {
    assert!(schema().type_count() >= 800, "{}", schema().type_count());
    assert!(schema().kinds().count() > 100);
    Ok(())
}

#[test]
fn privileged_is_boolean() -> TestResult {
    let c = ty("io.k8s.api.core.v1.Container")?;
    assert_eq!(
        resolve(c, "securityContext.privileged"),
        Ok(FieldType::Boolean)
    );
    let sc = ty("SecurityContext")?;
    assert_eq!(schema().field(sc, "privileged"), Some(FieldType::Boolean));
    assert_eq!(schema().type_name(sc), "io.k8s.api.core.v1.SecurityContext");
    Ok(())
}

#[test]
fn typo_suggests_privileged() -> TestResult {
    let c = ty("Container")?;
    let err = match resolve(c, "securityContext.privilegd") {
        Err(e) => e,
        Ok(t) => return Err(format!("resolved to {t:?}")),
    };
    assert_eq!(err.index, 1);
    assert_eq!(err.name, "privilegd");
    assert!(err.candidates.iter().any(|c| c == "privileged"));
    assert_eq!(
        err.candidates.first().map(String::as_str),
        Some("privileged")
    );
    assert_eq!(err.suggestion(), Some("privileged"));
    assert_eq!(
        err.to_string(),
        "unknown field `privilegd`; did you mean `privileged`?"
    );
    Ok(())
}

#[test]
fn deployment_container_image_is_string() -> TestResult {
    let d = kind("Deployment")?;
    assert_eq!(schema().type_name(d), "io.k8s.api.apps.v1.Deployment");
    assert_eq!(
        resolve(d, "spec.template.spec.containers.image"),
        Ok(FieldType::String)
    );
    // Explicit index / wildcard segments step into the list too.
    assert_eq!(
        resolve(d, "spec.template.spec.containers.0.image"),
        Ok(FieldType::String)
    );
    assert_eq!(
        resolve(d, "spec.template.spec.containers.*.image"),
        Ok(FieldType::String)
    );
    let containers = resolve(d, "spec.template.spec.containers");
    assert_eq!(
        containers,
        Ok(FieldType::list_of(FieldType::Object(ty(
            "io.k8s.api.core.v1.Container"
        )?)))
    );
    assert_eq!(
        containers.map(|t| schema().describe(t)),
        Ok("list of io.k8s.api.core.v1.Container".to_string())
    );
    Ok(())
}

#[test]
fn labels_allow_anything_below() -> TestResult {
    let p = kind("Pod")?;
    assert_eq!(resolve(p, "metadata.labels"), Ok(FieldType::StringMap));
    assert_eq!(
        resolve(p, "metadata.labels.anything.deeper"),
        Ok(FieldType::Any)
    );
    assert_eq!(resolve(p, "metadata.annotations.x"), Ok(FieldType::Any));
    // A CRD body is free-form.
    let crd = kind("CustomResourceDefinition")?;
    assert_eq!(
        resolve(crd, "spec.versions.schema.openAPIV3Schema.default.whatever"),
        Ok(FieldType::Any)
    );
    Ok(())
}

#[test]
fn resource_limits_are_quantities() -> TestResult {
    let c = ty("Container")?;
    assert_eq!(resolve(c, "resources.limits.cpu"), Ok(FieldType::Quantity));
    assert_eq!(
        resolve(c, "resources.requests.memory"),
        Ok(FieldType::Quantity)
    );
    assert_eq!(
        resolve(c, "resources.limits"),
        Ok(FieldType::map_of(FieldType::Quantity))
    );
    Ok(())
}

#[test]
fn other_field_types() -> TestResult {
    let c = ty("Container")?;
    assert_eq!(resolve(c, "ports.containerPort"), Ok(FieldType::Integer));
    assert_eq!(
        resolve(c, "livenessProbe.httpGet.port"),
        Ok(FieldType::IntOrString)
    );
    assert_eq!(
        resolve(kind("Pod")?, "metadata.creationTimestamp"),
        Ok(FieldType::Time)
    );
    assert_eq!(
        resolve(c, "securityContext.capabilities.add"),
        Ok(FieldType::list_of(FieldType::String))
    );
    assert_eq!(
        resolve(kind("ConfigMap")?, "data"),
        Ok(FieldType::StringMap)
    );
    // Below a scalar nothing exists.
    let err = resolve(c, "image.tag");
    assert!(
        matches!(&err, Err(e) if e.index == 1 && e.candidates.is_empty()),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn cluster_role_verbs_are_a_string_list() -> TestResult {
    let cr = kind("ClusterRole")?;
    let verbs = resolve(cr, "rules.verbs");
    assert_eq!(verbs, Ok(FieldType::list_of(FieldType::String)));
    assert_eq!(
        verbs.ok().and_then(FieldType::element),
        Some(FieldType::String)
    );
    Ok(())
}

#[test]
fn unknown_kinds_are_none() -> TestResult {
    assert_eq!(schema().kind("Rollout"), None);
    assert_eq!(schema().kind("MyCustomThing"), None);
    assert_eq!(schema().kind_in("argoproj.io", "Rollout"), None);
    assert_eq!(schema().type_by_name("io.example.v1.Widget"), None);
    Ok(())
}

#[test]
fn preferred_versions() -> TestResult {
    let hpa = schema().kind_info("HorizontalPodAutoscaler");
    assert_eq!(
        hpa.map(|k| k.api_version()),
        Some("autoscaling/v2".to_string())
    );
    assert_eq!(
        schema().kind_info("Event").map(|k| k.group.as_str()),
        Some("")
    );
    assert_eq!(
        schema()
            .kind_in("events.k8s.io", "Event")
            .map(|t| schema().type_name(t)),
        Some("io.k8s.api.events.v1.Event")
    );
    assert_eq!(
        schema()
            .kind_at("autoscaling", "v1", "HorizontalPodAutoscaler")
            .map(|t| schema().type_name(t)),
        Some("io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler")
    );
    // Exactly one preferred entry per kind name.
    let mut seen = std::collections::HashSet::new();
    for k in schema().kinds().filter(|k| k.preferred) {
        assert!(seen.insert(k.kind.as_str()), "two preferred {}", k.kind);
    }
    assert!(schema().kinds().all(|k| seen.contains(k.kind.as_str())));
    Ok(())
}

#[test]
fn kinds_table_agrees_with_schema() -> TestResult {
    let pod_spec = FieldType::Object(ty("io.k8s.api.core.v1.PodSpec")?);
    for k in kinds::KINDS {
        let in_schema = schema().kind_at(k.group, k.version, k.kind);
        match k.origin {
            Origin::BuiltIn => {
                let Some(t) = in_schema else {
                    return Err(format!("{} {} not in schema", k.api_version(), k.kind));
                };
                assert_eq!(
                    schema().kind_in(k.group, k.kind),
                    Some(t),
                    "{} not preferred",
                    k.kind
                );
                if let Some(path) = k.pod_spec_path {
                    assert_eq!(schema().resolve_path(t, path), Ok(pod_spec), "{}", k.kind);
                }
            }
            Origin::Removed(_) | Origin::Crd => {
                assert_eq!(
                    schema().kind_in(k.group, k.kind),
                    None,
                    "{} is in schema",
                    k.kind
                );
            }
        }
    }
    Ok(())
}

#[test]
fn committed_schema_matches_generator() -> TestResult {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("../shared/k8s-schema/definitions.json.gz");
    if !src.exists() {
        eprintln!("skip: {} not found", src.display());
        return Ok(());
    }
    let out = std::env::temp_dir().join(format!("kanon-schema-{}.json", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(root.join("tools/gen_schema.py"))
        .arg(&src)
        .arg(&out)
        .status();
    match status {
        Err(e) => {
            eprintln!("skip: cannot run python3: {e}");
            return Ok(());
        }
        Ok(s) => assert!(s.success(), "gen_schema.py failed: {s}"),
    }
    let fresh = std::fs::read(&out);
    let _ = std::fs::remove_file(&out);
    let committed = std::fs::read(root.join("schema/k8s-1.37.json"));
    match (fresh, committed) {
        (Ok(fresh), Ok(committed)) => assert!(
            fresh == committed,
            "schema/k8s-1.37.json is stale: rerun `python3 tools/gen_schema.py ../shared/k8s-schema/definitions.json.gz`"
        ),
        (f, c) => return Err(format!("read failed: {:?} {:?}", f.err(), c.err())),
    }
    Ok(())
}
