//! Index stage: all objects -> the cross-object facts rules share, built once per run over every
//! input (a policy in another folder counts). Ordered maps keep output deterministic.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::config::{Profile, Settings, ValueSource};
use crate::object::{Object, View};
use crate::selector;
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

/// Label key Cilium uses for a pod's namespace.
const CILIUM_NAMESPACE_KEY: &str = "io.kubernetes.pod.namespace";

/// A set of pods sharing one label set: a workload's template, or the selector standing in
/// when the input holds no matching workload.
pub struct PodSet<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub workload: Option<&'a Object>,
    /// The first policy that isolates these pods for ingress, if any.
    pub isolated_by: Option<&'a Object>,
}

/// The `NetworkPolicies` and Cilium policies that may select pods in one namespace (its own and
/// every clusterwide one), in order, indexed so that finding the first one that isolates a set
/// of pods looks only at policies that can select them.
#[derive(Debug)]
pub struct Policies<'a> {
    pub all: Vec<&'a Object>,
    /// Positions in `all` of `NetworkPolicies` whose podSelector requires a `key=value` label,
    /// by the first such pair: only pods with that label can be selected.
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Positions of the other policies that may isolate for ingress, checked for every pod set.
    always: Vec<usize>,
}

impl<'a> Policies<'a> {
    /// The first policy (in `all` order) that isolates pods with `labels` for ingress.
    #[must_use]
    pub fn first_isolating(
        &self,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Option<&'a Object> {
        let mut candidates = self.always.clone();
        for (k, v) in labels {
            if let Some(found) = self.by_label.get(&(k.as_str(), v.as_str())) {
                candidates.extend(found);
            }
        }
        candidates.sort_unstable();
        candidates
            .into_iter()
            .map(|i| self.all[i])
            .find(|p| isolates_quietly(p, ns, labels))
    }
}

/// The policies that may select pods in namespace `ns`.
#[must_use]
pub fn policies_in<'a>(objects: &'a [Object], index: &Index, ns: &Namespace) -> Policies<'a> {
    let all: Vec<&Object> = ns
        .policies
        .iter()
        .chain(&index.cluster_policies)
        .map(|&i| &objects[i])
        .collect();
    let mut by_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut always = Vec::new();
    for (i, p) in all.iter().enumerate() {
        match &p.view {
            View::NetworkPolicy(np) => {
                let spec = np.spec.as_ref();
                if non_ingress_types(spec).is_some() {
                    continue; // never isolates for ingress
                }
                let first = spec
                    .and_then(|s| s.pod_selector.as_ref())
                    .and_then(|sel| sel.match_labels.as_ref())
                    .and_then(|m| m.iter().next());
                match first {
                    Some((k, v)) => by_label.entry((k, v)).or_default().push(i),
                    None => always.push(i),
                }
            }
            _ => always.push(i),
        }
    }
    Policies {
        all,
        by_label,
        always,
    }
}

/// The pods a Service selector reaches in namespace `ns_name`, one set per workload template
/// whose labels include every selector pair (found through the label index, not a scan), or the
/// selector's own labels when no workload matches; each with the first policy isolating it.
#[must_use]
pub fn pod_sets<'a>(
    objects: &'a [Object],
    ns: &Namespace,
    ns_name: &str,
    policies: &Policies<'a>,
    sel: &'a BTreeMap<String, String>,
) -> Vec<PodSet<'a>> {
    let candidates = sel
        .iter()
        .map(|(k, v)| {
            ns.workloads_by_label
                .get(&(k.clone(), v.clone()))
                .map_or(&[][..], Vec::as_slice)
        })
        .min_by_key(|l| l.len())
        .unwrap_or_default();
    let mut sets: Vec<(&'a BTreeMap<String, String>, Option<&'a Object>)> = candidates
        .iter()
        .map(|&i| &objects[i])
        .filter_map(|w| match &w.view {
            View::Workload { labels, .. } if sel.iter().all(|(k, v)| labels.get(k) == Some(v)) => {
                Some((labels, Some(w)))
            }
            _ => None,
        })
        .collect();
    if sets.is_empty() {
        sets.push((sel, None));
    }
    sets.into_iter()
        .map(|(labels, workload)| {
            let isolated_by = policies.first_isolating(ns_name, labels);
            PodSet {
                labels,
                workload,
                isolated_by,
            }
        })
        .collect()
}

/// `isolates` without building the explanation: the hot path of EXT003 and the inventory.
fn isolates_quietly(policy: &Object, ns: &str, labels: &BTreeMap<String, String>) -> bool {
    match &policy.view {
        View::NetworkPolicy(np) => {
            let spec = np.spec.as_ref();
            non_ingress_types(spec).is_none()
                && spec
                    .and_then(|s| s.pod_selector.as_ref())
                    .is_none_or(|sel| selector::matches(sel, labels))
        }
        View::Cilium { .. } => isolates(policy, ns, labels).is_ok(),
        _ => false,
    }
}

/// The policy's `policyTypes` when they leave Ingress out. policyTypes defaults to [Ingress]
/// (+ Egress when egress rules exist), so a policy without policyTypes always applies to
/// ingress. <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
fn non_ingress_types(
    spec: Option<&k8s_openapi::api::networking::v1::NetworkPolicySpec>,
) -> Option<&Vec<String>> {
    spec.and_then(|s| s.policy_types.as_ref())
        .filter(|t| !t.is_empty() && !t.iter().any(|t| t == "Ingress"))
}

/// Whether `policy` isolates pods with `labels` in namespace `ns` for ingress; if not, why not.
pub fn isolates(
    policy: &Object,
    ns: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), String> {
    match &policy.view {
        View::NetworkPolicy(np) => {
            let spec = np.spec.as_ref();
            if let Some(types) = non_ingress_types(spec) {
                return Err(format!(
                    "policyTypes [{}] does not include Ingress",
                    types.join(", ")
                ));
            }
            let default = LabelSelector::default();
            let sel = spec
                .and_then(|s| s.pod_selector.as_ref())
                .unwrap_or(&default);
            match selector::first_mismatch(sel, labels) {
                None => Ok(()),
                Some(m) => Err(format!(
                    "podSelector `{}` does not select them (`{m}` fails)",
                    selector::describe(sel)
                )),
            }
        }
        View::Cilium {
            cluster_wide,
            rules,
        } => {
            let mut with_ns = labels.clone();
            with_ns.insert(CILIUM_NAMESPACE_KEY.into(), ns.to_string());
            let mut why = Vec::new();
            for rule in rules {
                let sel = cilium_selector(&rule.selector, *cluster_wide);
                if let Some(m) = selector::first_mismatch(&sel, &with_ns) {
                    why.push(format!(
                        "endpointSelector `{}` does not select them (`{m}` fails)",
                        selector::describe(&rule.selector)
                    ));
                } else if !rule.has_ingress {
                    why.push("has no ingress or ingressDeny rules".into());
                } else if rule.default_deny_ingress == Some(false) {
                    why.push("sets enableDefaultDeny.ingress: false".into());
                } else {
                    return Ok(());
                }
            }
            if why.is_empty() {
                why.push("selects no endpoints (no endpointSelector)".into());
            }
            why.dedup();
            Err(why.join("; "))
        }
        _ => Err("not a policy".into()),
    }
}

/// Whether a policy can select pods in namespace `ns` at all: namespaced policies in theirs, a
/// clusterwide Cilium policy unless its namespace key excludes `ns` in every rule.
#[must_use]
pub fn applies_in(policy: &Object, ns: &str) -> bool {
    let View::Cilium {
        cluster_wide: true,
        rules,
    } = &policy.view
    else {
        return true;
    };
    let only_ns: BTreeMap<String, String> =
        [(CILIUM_NAMESPACE_KEY.to_string(), ns.to_string())].into();
    rules.iter().any(|r| {
        let sel = cilium_selector(&r.selector, true);
        let ns_only = LabelSelector {
            match_labels: sel.match_labels.map(|m| {
                m.into_iter()
                    .filter(|(k, _)| k == CILIUM_NAMESPACE_KEY)
                    .collect()
            }),
            match_expressions: sel.match_expressions.map(|es| {
                es.into_iter()
                    .filter(|e| e.key == CILIUM_NAMESPACE_KEY)
                    .collect()
            }),
        };
        selector::matches(&ns_only, &only_ns)
    })
}

/// Cilium label keys may carry a source prefix (`k8s:app`); the namespace key only restricts
/// clusterwide policies (a namespaced policy is already confined to its namespace).
fn cilium_selector(sel: &LabelSelector, cluster_wide: bool) -> LabelSelector {
    let strip = |k: &str| {
        k.strip_prefix("k8s:")
            .or_else(|| k.strip_prefix("any:"))
            .unwrap_or(k)
            .to_string()
    };
    let keep = |k: &str| cluster_wide || k != CILIUM_NAMESPACE_KEY;
    LabelSelector {
        match_labels: sel.match_labels.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (strip(k), v.clone()))
                .filter(|(k, _)| keep(k))
                .collect()
        }),
        match_expressions: sel.match_expressions.as_ref().map(|es| {
            es.iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.key = strip(&e.key);
                    e
                })
                .filter(|e| keep(&e.key))
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{ClassifyOptions, classify};
    use crate::source::FileId;
    use crate::yaml::{BuildLimits, parse};

    fn objects(text: &str) -> Vec<Object> {
        let (docs, _) = parse(text, BuildLimits { max_depth: 64 });
        let opts = ClassifyOptions {
            default_namespace: "shop".into(),
            alias_budget: 10_000,
        };
        docs.iter()
            .flat_map(|d| classify(FileId(0), d, &opts).objects)
            .collect()
    }

    #[test]
    fn first_isolating_policy_is_the_first_in_order_that_selects_the_pods() {
        let policy = |name: &str, spec: &str| {
            format!(
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}}}\nspec: {spec}\n"
            )
        };
        let text = [
            policy(
                "egress-only",
                "{podSelector: {matchLabels: {app: b}}, policyTypes: [Egress]}",
            ),
            policy("web", "{podSelector: {matchLabels: {app: a, tier: web}}}"),
            policy(
                "by-expression",
                "{podSelector: {matchExpressions: [{key: app, operator: In, values: [c]}]}}",
            ),
            policy("everything", "{podSelector: {}}"),
            policy("web-too", "{podSelector: {matchLabels: {app: a}}}"),
        ]
        .concat();
        let objects = objects(&text);
        let index = build(&objects);
        let policies = policies_in(&objects, &index, &index.namespaces["shop"]);
        let first = |pairs: &[(&str, &str)]| {
            let labels: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect();
            policies
                .first_isolating("shop", &labels)
                .map(|p| p.id.name.clone())
        };
        assert_eq!(
            first(&[("app", "a"), ("tier", "web")]).as_deref(),
            Some("web")
        );
        assert_eq!(first(&[("app", "a")]).as_deref(), Some("everything"));
        assert_eq!(first(&[("app", "b")]).as_deref(), Some("everything"));
        assert_eq!(first(&[("app", "c")]).as_deref(), Some("by-expression"));
        let without_catch_all: Vec<Object> = objects
            .into_iter()
            .filter(|o| o.id.name != "everything")
            .collect();
        let index = build(&without_catch_all);
        let policies = policies_in(&without_catch_all, &index, &index.namespaces["shop"]);
        let labels = |app: &str| BTreeMap::from([("app".to_string(), app.to_string())]);
        let name = |app: &str| {
            policies
                .first_isolating("shop", &labels(app))
                .map(|p| p.id.name.clone())
        };
        assert_eq!(name("a").as_deref(), Some("web-too"));
        assert_eq!(
            name("b"),
            None,
            "an egress-only policy does not isolate for ingress"
        );
    }
}
