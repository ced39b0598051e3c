//! Index stage: all objects -> the cross-object facts rules share, built once per run over every
//! input (a policy in another folder counts). Ordered maps keep output deterministic.

use std::collections::BTreeMap;

use crate::config::{Profile, Settings, ValueSource};
use crate::object::{Object, View};
use crate::source::Span;

/// Objects of one namespace, as indices into the run's object list.
#[derive(Debug, Default)]
pub struct Namespace {
    pub services: Vec<usize>,
    /// `NetworkPolicies` and `CiliumNetworkPolicies`.
    pub policies: Vec<usize>,
    pub workloads: Vec<usize>,
    /// Workloads by template label `key=value`, to find a Service's pods without a full scan.
    pub workloads_by_label: BTreeMap<(String, String), Vec<usize>>,
}

#[derive(Debug, Default)]
pub struct Index {
    pub namespaces: BTreeMap<String, Namespace>,
    /// `CiliumClusterwideNetworkPolicies`, which may select pods in any namespace.
    pub cluster_policies: Vec<usize>,
    /// The first sign of a managed cloud in the input, and what it was.
    pub cloud_evidence: Option<(Span, String)>,
}

/// The profile in force and why.
#[derive(Debug, Clone)]
pub struct ProfileDecision {
    pub profile: Profile,
    pub requested: Profile,
    pub reason: String,
    /// Where the deciding evidence is, for `auto`.
    pub evidence: Option<Span>,
}

const CLOUD_ANNOTATION_PREFIXES: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-",
    "service.beta.kubernetes.io/azure-",
    "cloud.google.com/",
    "networking.gke.io/",
];

const CLOUD_API_GROUPS: &[&str] = &["elbv2.k8s.aws", "networking.gke.io", "cloud.google.com"];

/// Builds the index.
#[must_use]
pub fn build(objects: &[Object]) -> Index {
    let mut index = Index::default();
    for (i, obj) in objects.iter().enumerate() {
        if index.cloud_evidence.is_none() {
            index.cloud_evidence = cloud_evidence(obj);
        }
        let Some(ns) = obj.id.namespace.as_deref() else {
            if matches!(
                obj.view,
                View::Cilium {
                    cluster_wide: true,
                    ..
                }
            ) {
                index.cluster_policies.push(i);
            }
            continue;
        };
        let entry = index.namespaces.entry(ns.to_string()).or_default();
        match &obj.view {
            View::Service(_) => entry.services.push(i),
            View::NetworkPolicy(_) | View::Cilium { .. } => entry.policies.push(i),
            View::Workload { labels, .. } => {
                entry.workloads.push(i);
                for (k, v) in labels {
                    entry
                        .workloads_by_label
                        .entry((k.clone(), v.clone()))
                        .or_default()
                        .push(i);
                }
            }
            View::Other => {}
        }
    }
    index
}

fn cloud_evidence(obj: &Object) -> Option<(Span, String)> {
    let group = obj.id.api_version.split('/').next().unwrap_or_default();
    if obj.id.api_version.contains('/') && CLOUD_API_GROUPS.contains(&group) {
        return Some((
            obj.value_span("/apiVersion"),
            format!("{} uses API group `{group}`", obj.id),
        ));
    }
    let key = obj
        .annotations
        .keys()
        .find(|k| CLOUD_ANNOTATION_PREFIXES.iter().any(|p| k.starts_with(p)))?;
    Some((
        obj.key_span(&format!(
            "/metadata/annotations/{}",
            crate::object::escape(key)
        )),
        format!("{} has annotation `{key}`", obj.id),
    ))
}

/// Resolves the profile: explicit, or `auto` from the evidence in the input.
#[must_use]
pub fn decide_profile(
    settings: &Settings,
    index: &Index,
    describe_span: impl Fn(Span) -> String,
) -> ProfileDecision {
    let (requested, source) = &settings.profile;
    match requested {
        Profile::Auto => match &index.cloud_evidence {
            Some((span, what)) => ProfileDecision {
                profile: Profile::Cloud,
                requested: Profile::Auto,
                reason: format!("auto: {what} at {}", describe_span(*span)),
                evidence: Some(*span),
            },
            None => ProfileDecision {
                profile: Profile::OnPrem,
                requested: Profile::Auto,
                reason: "auto: no cloud load-balancer annotation or cloud API group in the input"
                    .into(),
                evidence: None,
            },
        },
        p => ProfileDecision {
            profile: *p,
            requested: *p,
            reason: match source {
                ValueSource::Default => "default".into(),
                s => format!("set by {}", settings.describe(s)),
            },
            evidence: None,
        },
    }
}
