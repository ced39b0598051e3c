//! Cluster stage: custom resources against the `CustomResourceDefinition`s of the same cluster.
//!
//! A CRD in the input is the one the cluster will have for its group and kind, so an object of
//! that group and kind in a version the CRD does not serve (`served: true`) is one kubectl
//! cannot map (`no matches for kind "Widget" in version "example.com/v2"`): it is `EXT900` and
//! counts for nothing. A custom kind that no CRD in the input defines may be served by one
//! already in the cluster, so it is left alone (see `kubernetes::apis` for what is checked
//! without a CRD).

use std::collections::BTreeMap;

use crate::k8s::kubernetes::group_version;
use crate::object::{Object, Problem, ProblemKind, View};

/// The `CustomResourceDefinition`s of one group and kind.
#[derive(Default)]
struct Defined<'a> {
    names: Vec<&'a str>,
    /// The versions they serve.
    served: Vec<&'a str>,
}

/// Takes out of `objects` those whose version the cluster's CRDs do not serve, with a problem
/// for each in `problems`; returns them.
pub fn reject_unserved(objects: &mut Vec<Object>, problems: &mut Vec<Problem>) -> Vec<Object> {
    let mut defined: BTreeMap<(&str, &str), Defined<'_>> = BTreeMap::new();
    for o in objects.iter() {
        if let View::Crd(c) = &o.view {
            let entry = defined.entry((&c.group, &c.kind)).or_default();
            entry.names.push(&o.id.name);
            entry.served.extend(c.served.iter().map(String::as_str));
        }
    }
    if defined.is_empty() {
        return Vec::new();
    }
    let mut unserved = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let Some((group, version)) = group_version(&o.id.api_version) else {
            continue;
        };
        let Some(crds) = defined.get(&(group, o.id.kind.as_str())) else {
            continue;
        };
        if crds.served.contains(&version) {
            continue;
        }
        let mut versions = crds.served.clone();
        versions.sort_unstable();
        versions.dedup();
        let serves = if versions.is_empty() {
            "serves no version of it".to_string()
        } else {
            format!("serves it in {} only", versions.join(", "))
        };
        let mut names = crds.names.clone();
        names.sort_unstable();
        names.dedup();
        problems.push(Problem {
            kind: ProblemKind::Invalid,
            span: o.value_span("/apiVersion"),
            origin: o.origin.as_deref().cloned(),
            message: format!(
                "{} has `apiVersion: {}`, which no API serves: the CustomResourceDefinition `{}` in the input {serves} (kubectl: `no matches for kind \"{}\" in version \"{}\"`); it is not counted",
                o.id,
                o.id.api_version,
                names.join("`, `"),
                o.id.kind,
                o.id.api_version
            ),
            object: Some(std::sync::Arc::clone(&o.id)),
            pointer: o.pointer_to("/apiVersion"),
            help: Some(
                "Use a version the CustomResourceDefinition serves, or mark this one `served: true` in it.".into(),
            ),
        });
        unserved.push(i);
    }
    let mut out = Vec::with_capacity(unserved.len());
    for i in unserved.into_iter().rev() {
        out.push(objects.remove(i));
    }
    out.reverse();
    out
}
