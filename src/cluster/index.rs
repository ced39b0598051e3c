//! Index stage: one cluster's objects -> the cross-object facts rules share, built once over
//! every input of the cluster (a policy in another folder counts). Ordered maps keep output
//! deterministic.
//!
//! Coverage is one concept in one place: which pods a Service selects (with the labels their
//! controllers add) and which policy, if any, isolates each set of them for ingress. EXT003 and
//! the inventory both ask `coverage`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::k8s::policy::{Isolation, Openness, Pods, Policy, Reach};
use crate::k8s::selector::{self, Fit, PodLabels};
use crate::object::workload::{Which, Workload, is_controller_label};
use crate::object::{Object, View};
use crate::source::Span;

/// A sign of a managed cloud in the input: where it is and what it is.
#[derive(Debug, Clone)]
pub struct CloudEvidence {
    pub span: Span,
    /// `Service shop/web has annotation ...`.
    pub what: String,
    /// The object, briefly: `Service shop/web`.
    pub object: String,
}

/// Objects of one namespace.
#[derive(Debug, Default)]
pub struct Namespace<'a> {
    pub services: Vec<&'a Object>,
    workloads: Vec<&'a Object>,
    /// Workloads by template label `key=value`, to find a Service's pods without a full scan.
    workloads_by_label: BTreeMap<(&'a str, &'a str), Vec<&'a Object>>,
    /// Indices of this namespace's own policies.
    own_policies: Vec<usize>,
    policies: Policies<'a>,
    /// The policies that apply in this namespace, each identity once, in input order: what an
    /// explanation lists.
    applying: Vec<&'a Object>,
    /// The namespace's labels: its `Namespace` object's, and the name labels Kubernetes adds.
    labels: BTreeMap<String, String>,
    /// Clusterwide policies whose namespace selector leaves this namespace out only because
    /// the input has no `Namespace` object for it (its labels are unknown).
    excluded_unknown: Vec<&'a Object>,
}

#[derive(Debug)]
pub struct Index<'a> {
    namespaces: BTreeMap<&'a str, Namespace<'a>>,
    cloud_evidence: Vec<CloudEvidence>,
    /// Calico tiers whose `defaultAction` is `Pass`.
    passing_tiers: Vec<String>,
}

/// A set of pods sharing one label set: a workload's template (or one StatefulSet pod), or the
/// selector standing in when the input holds no matching workload.
#[derive(Debug)]
pub struct PodSet<'a> {
    pub labels: PodLabels,
    pub workload: Option<&'a Object>,
    /// Which pod the set is, when it is one of several its workload runs.
    pub pod: Option<Which>,
    /// `hostNetwork: true`: no policy isolates these pods.
    pub host_network: bool,
    /// A label whose value no manifest shows was assumed to match the Service's selector.
    pub selection_assumed: Option<String>,
    /// The first policy that isolates these pods for ingress, if any, and whether that was
    /// assumed.
    pub isolated_by: Option<(&'a Object, Isolation)>,
    /// The isolating policies whose ingress rules still let in every source, with where.
    pub opened_by: Vec<(&'a Object, Openness)>,
    service_account: String,
}

/// The policies that may select pods in one namespace (its own and every clusterwide one), in
/// order, indexed so that finding the first one that isolates a set of pods looks only at
/// policies that can select them.
#[derive(Debug, Default)]
struct Policies<'a> {
    all: Vec<&'a Object>,
    /// Positions in `all` of policies that select only pods with a `key=value` label, by label.
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// The same positions by key alone, for labels whose value is not known.
    by_key: HashMap<&'a str, Vec<usize>>,
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
    let mut namespace_labels: BTreeMap<&str, &BTreeMap<String, String>> = BTreeMap::new();
    let mut passing_tiers = Vec::new();
    let mut cloud = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        cloud.extend(cloud_evidence(obj));
        match &obj.view {
            View::Namespace(labels) => {
                namespace_labels.insert(&obj.id.name, labels);
                namespaces.entry(&obj.id.name).or_default();
            }
            View::CalicoTier { pass: true } => passing_tiers.push(obj.id.name.clone()),
            _ => {}
        }
        let Some(ns) = obj.id.namespace.as_deref() else {
            if matches!(obj.view, View::Policy(_)) {
                cluster_policies.push(i);
            }
            continue;
        };
        let entry = namespaces.entry(ns).or_default();
        match &obj.view {
            View::Service(_) => entry.services.push(obj),
            View::Policy(_) => entry.own_policies.push(i),
            View::Workload(w) => {
                entry.workloads.push(obj);
                for (k, v) in &w.labels {
                    entry
                        .workloads_by_label
                        .entry((k, v))
                        .or_default()
                        .push(obj);
                }
            }
            _ => {}
        }
    }
    for (name, ns) in &mut namespaces {
        // The API server labels every namespace with its name; Calico adds its own.
        ns.labels = namespace_labels
            .get(name)
            .map(|l| (*l).clone())
            .unwrap_or_default();
        ns.labels
            .insert("kubernetes.io/metadata.name".into(), (*name).to_string());
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
            .filter(|p| {
                policy(p).is_some_and(|p| p.applies_in(name, &ns.labels)) && seen.insert(&p.id)
            })
            .collect();
        if !namespace_labels.contains_key(name) {
            ns.excluded_unknown = cluster_policies
                .iter()
                .map(|&i| &objects[i])
                .filter(|p| !seen.contains(&p.id))
                .filter(|p| {
                    policy(p).is_some_and(|p| {
                        let by_labels = match p {
                            Policy::Calico(c) => c.namespace_selector.is_some(),
                            Policy::Cluster(_) => true,
                            _ => false,
                        };
                        by_labels && !p.applies_in(name, &ns.labels)
                    })
                })
                .collect();
        }
        ns.policies = Policies::new(all);
    }
    Index {
        namespaces,
        cloud_evidence: cloud,
        passing_tiers,
    }
}

impl<'a> Index<'a> {
    /// Every sign of a managed cloud in the input, in input order.
    #[must_use]
    pub fn cloud_evidence(&self) -> &[CloudEvidence] {
        &self.cloud_evidence
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

    /// What the first `limit` policies that apply in `ns` make of a set of pods: isolated (for
    /// certain or assumed), or why not; and how many apply in all. Only those are evaluated,
    /// so a note costs the same however many policies the namespace has.
    #[must_use]
    pub fn explain(&self, ns: &str, set: &PodSet<'_>, limit: usize) -> Explanation<'a> {
        let Some(n) = self.namespaces.get(ns) else {
            return Explanation {
                policies: Vec::new(),
                applying: 0,
            };
        };
        let pods = self.pods(ns, n, set);
        let explained = n
            .applying
            .iter()
            .map(|&p| {
                let verdict =
                    policy(p).map_or_else(|| Err("not a policy".into()), |pol| pol.isolates(&pods));
                let verdict = match verdict {
                    Ok(_) if set.host_network => Err(
                        "selects them, but NetworkPolicy does not govern host-network pods".into(),
                    ),
                    v => v,
                };
                (p, verdict)
            })
            .chain(n.excluded_unknown.iter().map(|&p| {
                (
                    p,
                    Err(format!(
                        "its namespace selector does not select namespace `{ns}` by the labels the input shows, but there is no Namespace manifest for `{ns}` in the input, so only its name label is known"
                    )),
                )
            }))
            .take(limit)
            .collect();
        Explanation {
            policies: explained,
            applying: n.applying.len() + n.excluded_unknown.len(),
        }
    }

    /// Policies of other namespaces that select these pods' labels by name (not every pod):
    /// applied in the wrong namespace, or without `kubectl -n`, they protect nothing here.
    #[must_use]
    pub fn elsewhere(&self, ns: &str, set: &PodSet<'_>, limit: usize) -> Vec<&'a Object> {
        let mut out = Vec::new();
        for (other, n) in &self.namespaces {
            if *other == ns {
                continue;
            }
            // The namespace's own policies that can select these labels, through its index:
            // a scan of every policy of every namespace for every Service would be quadratic.
            let pods = self.pods(other, n, set);
            for i in n.policies.candidates(&pods) {
                let p = n.policies.all[i];
                if p.id.namespace.as_deref() != Some(*other) {
                    continue;
                }
                let Some(pol) = policy(p) else { continue };
                if pol.selects_every_pod() {
                    continue;
                }
                if pol.isolates(&pods).is_ok() {
                    out.push(p);
                    if out.len() >= limit {
                        return out;
                    }
                }
            }
        }
        out
    }

    fn pods<'b>(&'b self, ns: &'b str, n: &'b Namespace<'_>, set: &'b PodSet<'_>) -> Pods<'b> {
        Pods {
            namespace: ns,
            labels: &set.labels,
            namespace_labels: &n.labels,
            service_account: &set.service_account,
            passing_tiers: &self.passing_tiers,
        }
    }

    /// The pods a Service selector reaches in namespace `ns`: each pod set of each workload
    /// whose pods (with the labels their controllers add) the selector selects, found through
    /// the label index rather than a scan; or the selector's own labels standing in when no
    /// workload matches. Each comes with the first policy that isolates it.
    #[must_use]
    pub fn coverage(&self, ns: &str, selector_map: &BTreeMap<String, String>) -> Vec<PodSet<'a>> {
        let sel = LabelSelector {
            match_labels: Some(selector_map.clone()),
            match_expressions: None,
        };
        let Some(n) = self.namespaces.get(ns) else {
            return vec![stand_in(selector_map)];
        };
        // A selector on template labels finds its workloads through the index; one only on
        // controller labels (`statefulset.kubernetes.io/pod-name`) looks at every workload.
        let candidates: &[&Object] = selector_map
            .iter()
            .filter(|(k, _)| !is_controller_label(k))
            .map(|(k, v)| {
                n.workloads_by_label
                    .get(&(k.as_str(), v.as_str()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|l| l.len())
            .unwrap_or(&n.workloads);
        let mut sets = Vec::new();
        for &w in candidates {
            let View::Workload(workload) = &w.view else {
                continue;
            };
            for mut pods in workload.pods() {
                // The Service's values for labels the manifests do not show hold for the pods
                // it selects, in the policy checks below too.
                let Some(pinned) = workload.pin(&mut pods, selector_map) else {
                    continue;
                };
                let selection_assumed = match selector::fit(&sel, &pods.labels) {
                    Fit::No(_) => continue,
                    Fit::Yes => pinned,
                    Fit::Assumed(k) => Some(k),
                };
                sets.push(pod_set(
                    pods.labels,
                    Some(w),
                    workload,
                    pods.which,
                    selection_assumed,
                ));
            }
        }
        if sets.is_empty() {
            sets.push(stand_in(selector_map));
        }
        for set in &mut sets {
            if !set.host_network {
                let (first, opened) = n.policies.isolating(&self.pods(ns, n, set));
                set.isolated_by = first;
                set.opened_by = opened;
            }
        }
        sets
    }
}

impl<'a> PodSet<'a> {
    /// The first isolating policy that lets in every source on every port, if any: then the
    /// isolation restricts nothing.
    #[must_use]
    pub fn open_to_all(&self) -> Option<&(&'a Object, Openness)> {
        self.opened_by.iter().find(|(_, o)| o.all_ports)
    }
}

fn pod_set<'a>(
    labels: PodLabels,
    workload: Option<&'a Object>,
    w: &Workload,
    pod: Option<Which>,
    selection_assumed: Option<String>,
) -> PodSet<'a> {
    PodSet {
        labels,
        workload,
        pod,
        host_network: w.host_network,
        selection_assumed,
        isolated_by: None,
        opened_by: Vec::new(),
        service_account: w.service_account.clone(),
    }
}

fn stand_in(selector: &BTreeMap<String, String>) -> PodSet<'static> {
    PodSet {
        labels: PodLabels::known(selector.clone()),
        workload: None,
        pod: None,
        host_network: false,
        selection_assumed: None,
        isolated_by: None,
        opened_by: Vec::new(),
        service_account: "default".into(),
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
        let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut always = Vec::new();
        for (i, p) in all.iter().enumerate() {
            match policy(p).map(Policy::reach) {
                Some(Reach::Never) | None => {}
                Some(Reach::Label(k, v)) => {
                    by_label.entry((k, v)).or_default().push(i);
                    by_key.entry(k).or_default().push(i);
                }
                Some(Reach::Any) => always.push(i),
            }
        }
        Policies {
            all,
            by_label,
            by_key,
            always,
        }
    }

    /// The positions in `all`, in order, of the policies that may isolate `pods` for ingress:
    /// those whose selector needs a label the pods have (or may have), and those the index
    /// cannot narrow down.
    fn candidates(&self, pods: &Pods<'_>) -> Vec<usize> {
        let mut candidates = self.always.clone();
        for (k, v) in &pods.labels.known {
            if let Some(found) = self.by_label.get(&(k.as_str(), v.as_str())) {
                candidates.extend(found);
            }
        }
        for k in &pods.labels.unknown {
            if let Some(found) = self.by_key.get(k.as_str()) {
                candidates.extend(found);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// The first policy (in `all` order) that isolates `pods` for ingress.
    #[cfg(test)]
    fn first_isolating(&self, pods: &Pods<'_>) -> Option<(&'a Object, Isolation)> {
        self.isolating(pods).0
    }

    /// The first policy (in `all` order) that isolates `pods` for ingress, and every isolating
    /// policy whose ingress rules let in every source: traffic any of them allows is allowed.
    #[allow(clippy::type_complexity)]
    fn isolating(
        &self,
        pods: &Pods<'_>,
    ) -> (Option<(&'a Object, Isolation)>, Vec<(&'a Object, Openness)>) {
        let mut first = None;
        let mut opened = Vec::new();
        for i in self.candidates(pods) {
            let p = self.all[i];
            let Some(pol) = policy(p) else { continue };
            let Ok(how) = pol.isolates(pods) else {
                continue;
            };
            let open = pol.openness(pods);
            if open.is_open() {
                opened.push((p, open));
            }
            first.get_or_insert((p, how));
        }
        (first, opened)
    }
}

fn cloud_evidence(obj: &Object) -> Option<CloudEvidence> {
    let group = obj.id.api_version.split('/').next().unwrap_or_default();
    if obj.id.api_version.contains('/') && CLOUD_API_GROUPS.contains(&group) {
        return Some(CloudEvidence {
            span: obj.value_span("/apiVersion"),
            what: format!("{} uses API group `{group}`", obj.id),
            object: obj.id.to_string(),
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
        object: obj.id.to_string(),
    })
}

/// What `Index::explain` found: the verdicts of the first policies that apply in a namespace,
/// and how many apply in all.
pub struct Explanation<'a> {
    pub policies: Vec<(&'a Object, Result<Isolation, String>)>,
    pub applying: usize,
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
            kubernetes: crate::k8s::kubernetes::Target::default(),
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
            let ns = &index.namespaces["shop"];
            let pods = Pods {
                namespace: "shop",
                labels: &PodLabels::known(l),
                namespace_labels: &ns.labels,
                service_account: "default",
                passing_tiers: &[],
            };
            ns.policies
                .first_isolating(&pods)
                .map(|(p, _)| p.id.name.clone())
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
