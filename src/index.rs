//! Index stage: one cluster's objects -> the cross-object facts rules share, built once over
//! every input (a policy in another folder counts). Ordered maps keep output deterministic.
//!
//! Coverage is one concept in one place: which pods a Service selects and which policy, if
//! any, isolates each set of them for ingress. EXT003 and the inventory both ask `coverage`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::object::{Object, View};
use crate::policy::{Policy, Reach};
use crate::source::Span;

/// A sign of a managed cloud in the input: where it is and what it is.
#[derive(Debug, Clone)]
pub struct CloudEvidence {
    pub span: Span,
    /// `Service shop/web has annotation ...`.
    pub what: String,
}

/// Objects of one namespace.
#[derive(Debug, Default)]
pub struct Namespace<'a> {
    pub services: Vec<&'a Object>,
    /// Workloads by template label `key=value`, to find a Service's pods without a full scan.
    workloads_by_label: BTreeMap<(&'a str, &'a str), Vec<&'a Object>>,
    /// Indices of this namespace's `NetworkPolicies` and `CiliumNetworkPolicies`.
    own_policies: Vec<usize>,
    policies: Policies<'a>,
    /// The policies that apply in this namespace, each identity once, in input order: what an
    /// explanation lists.
    applying: Vec<&'a Object>,
}

#[derive(Debug)]
pub struct Index<'a> {
    namespaces: BTreeMap<&'a str, Namespace<'a>>,
    cloud_evidence: Option<CloudEvidence>,
}

/// A set of pods sharing one label set: a workload's template, or the selector standing in
/// when the input holds no matching workload.
pub struct PodSet<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub workload: Option<&'a Object>,
    /// The first policy that isolates these pods for ingress, if any.
    pub isolated_by: Option<&'a Object>,
}

/// The policies that may select pods in one namespace (its own and every clusterwide one), in
/// order, indexed so that finding the first one that isolates a set of pods looks only at
/// policies that can select them.
#[derive(Debug, Default)]
struct Policies<'a> {
    all: Vec<&'a Object>,
    /// Positions in `all` of policies that select only pods with a `key=value` label.
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Positions of the other policies that may isolate for ingress, checked for every pod set.
    always: Vec<usize>,
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
pub fn build(objects: &[Object]) -> Index<'_> {
    let mut namespaces: BTreeMap<&str, Namespace<'_>> = BTreeMap::new();
    let mut cluster_policies = Vec::new();
    let mut cloud = None;
    for (i, obj) in objects.iter().enumerate() {
        if cloud.is_none() {
            cloud = cloud_evidence(obj);
        }
        let Some(ns) = obj.id.namespace.as_deref() else {
            if matches!(
                obj.view,
                View::Policy(Policy::Cilium {
                    cluster_wide: true,
                    ..
                })
            ) {
                cluster_policies.push(i);
            }
            continue;
        };
        let entry = namespaces.entry(ns).or_default();
        match &obj.view {
            View::Service(_) => entry.services.push(obj),
            View::Policy(_) => entry.own_policies.push(i),
            View::Workload { labels, .. } => {
                for (k, v) in labels {
                    entry
                        .workloads_by_label
                        .entry((k, v))
                        .or_default()
                        .push(obj);
                }
            }
            View::Other => {}
        }
    }
    for (name, ns) in &mut namespaces {
        let all: Vec<&Object> = ns
            .own_policies
            .iter()
            .chain(&cluster_policies)
            .map(|&i| &objects[i])
            .collect();
        let mut seen = BTreeSet::new();
        ns.applying = all
            .iter()
            .copied()
            .filter(|p| policy(p).is_some_and(|p| p.applies_in(name)) && seen.insert(&p.id))
            .collect();
        ns.policies = Policies::new(all);
    }
    Index {
        namespaces,
        cloud_evidence: cloud,
    }
}

impl<'a> Index<'a> {
    /// The first sign of a managed cloud in the input, if any.
    #[must_use]
    pub fn cloud_evidence(&self) -> Option<&CloudEvidence> {
        self.cloud_evidence.as_ref()
    }

    /// Namespaces in name order, with their Services in input order.
    pub fn namespaces(&self) -> impl Iterator<Item = (&'a str, &Namespace<'a>)> {
        self.namespaces.iter().map(|(n, ns)| (*n, ns))
    }

    /// The policies that apply in namespace `ns`, each identity once, in input order.
    #[must_use]
    pub fn policies_applying(&self, ns: &str) -> &[&'a Object] {
        self.namespaces.get(ns).map_or(&[], |n| &n.applying)
    }

    /// The pods a Service selector reaches in namespace `ns`: one set per workload template
    /// whose labels include every selector pair (found through the label index, not a scan),
    /// or the selector's own labels when no workload matches; each with the first policy that
    /// isolates it.
    #[must_use]
    pub fn coverage(&self, ns: &str, selector: &'a BTreeMap<String, String>) -> Vec<PodSet<'a>> {
        let Some(n) = self.namespaces.get(ns) else {
            return vec![PodSet {
                labels: selector,
                workload: None,
                isolated_by: None,
            }];
        };
        let candidates = selector
            .iter()
            .map(|(k, v)| {
                n.workloads_by_label
                    .get(&(k.as_str(), v.as_str()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|l| l.len())
            .unwrap_or_default();
        let mut sets: Vec<(&'a BTreeMap<String, String>, Option<&'a Object>)> = candidates
            .iter()
            .filter_map(|w| match &w.view {
                View::Workload { labels, .. }
                    if selector.iter().all(|(k, v)| labels.get(k) == Some(v)) =>
                {
                    Some((labels, Some(*w)))
                }
                _ => None,
            })
            .collect();
        if sets.is_empty() {
            sets.push((selector, None));
        }
        sets.into_iter()
            .map(|(labels, workload)| PodSet {
                labels,
                workload,
                isolated_by: n.policies.first_isolating(ns, labels),
            })
            .collect()
    }
}

fn policy(obj: &Object) -> Option<&Policy> {
    match &obj.view {
        View::Policy(p) => Some(p),
        _ => None,
    }
}

impl<'a> Policies<'a> {
    fn new(all: Vec<&'a Object>) -> Self {
        let mut by_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut always = Vec::new();
        for (i, p) in all.iter().enumerate() {
            match policy(p).map(Policy::reach) {
                Some(Reach::Never) | None => {}
                Some(Reach::Label(k, v)) => by_label.entry((k, v)).or_default().push(i),
                Some(Reach::Any) => always.push(i),
            }
        }
        Policies {
            all,
            by_label,
            always,
        }
    }

    /// The first policy (in `all` order) that isolates pods with `labels` for ingress.
    fn first_isolating(&self, ns: &str, labels: &BTreeMap<String, String>) -> Option<&'a Object> {
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
            .find(|p| policy(p).is_some_and(|pol| pol.isolates_quietly(ns, labels)))
    }
}

fn cloud_evidence(obj: &Object) -> Option<CloudEvidence> {
    let group = obj.id.api_version.split('/').next().unwrap_or_default();
    if obj.id.api_version.contains('/') && CLOUD_API_GROUPS.contains(&group) {
        return Some(CloudEvidence {
            span: obj.value_span("/apiVersion"),
            what: format!("{} uses API group `{group}`", obj.id),
        });
    }
    let key = obj
        .annotations
        .keys()
        .find(|k| CLOUD_ANNOTATION_PREFIXES.iter().any(|p| k.starts_with(p)))?;
    Some(CloudEvidence {
        span: obj.key_span(&format!(
            "/metadata/annotations/{}",
            crate::yaml::pointer::escape(key)
        )),
        what: format!("{} has annotation `{key}`", obj.id),
    })
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
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let first = |objects: &[Object], pairs: &[(&str, &str)]| {
            let index = build(objects);
            let l = labels(pairs);
            index.namespaces["shop"]
                .policies
                .first_isolating("shop", &l)
                .map(|p| p.id.name.clone())
        };
        let all = objects(&text);
        assert_eq!(
            first(&all, &[("app", "a"), ("tier", "web")]).as_deref(),
            Some("web")
        );
        assert_eq!(first(&all, &[("app", "a")]).as_deref(), Some("everything"));
        assert_eq!(first(&all, &[("app", "b")]).as_deref(), Some("everything"));
        assert_eq!(
            first(&all, &[("app", "c")]).as_deref(),
            Some("by-expression")
        );
        let without_catch_all: Vec<Object> = all
            .into_iter()
            .filter(|o| o.id.name != "everything")
            .collect();
        assert_eq!(
            first(&without_catch_all, &[("app", "a")]).as_deref(),
            Some("web-too")
        );
        assert_eq!(
            first(&without_catch_all, &[("app", "b")]),
            None,
            "an egress-only policy does not isolate for ingress"
        );
    }
}
