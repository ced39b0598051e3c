//! Policy semantics: which pods a policy isolates for ingress, and why a policy does not count.
//!
//! Reads policy views (built by `object`), never objects or the index.
//!
//! - Kubernetes `NetworkPolicy`: a pod selected by a policy whose `policyTypes` include Ingress
//!   is isolated for ingress; `policyTypes` defaults to `[Ingress]` (+ Egress when egress rules
//!   exist). <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
//! - Cilium: an endpoint selected by a rule with ingress (or ingressDeny) rules is in default
//!   deny for ingress, unless the rule sets `enableDefaultDeny.ingress: false`.
//! - Calico: a pod selected by an enforced policy (`NetworkPolicy`, `GlobalNetworkPolicy`; not
//!   staged, not `doNotTrack` or `preDNAT`) whose types include Ingress, in a tier that denies
//!   what it does not decide (`default`, or a `Tier` without `defaultAction: Pass`), is isolated.
//!   `types` defaults to Ingress unless the policy has egress rules and no ingress rules.
//! - AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy: never isolate (no
//!   implicit isolation), and their ingress peers are pods and namespaces only, so they cannot
//!   restrict traffic from outside the cluster; they are explained, not counted.
//! - A host-network pod is isolated by none of them: the plugins ignore host-network pods when
//!   matching pod selectors.
//!   <https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-and-hostnetwork-pods>

mod openness;
mod validation;

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::k8s::calico;
use crate::k8s::selector::{self, Fit, PodLabels};

pub use openness::{Openness, spans_a_family};
pub use validation::rejected_parts;

/// A Cilium rule's view: which endpoints it selects and whether it enforces on ingress.
#[derive(Debug, Clone)]
pub struct CiliumRule {
    pub pointer: String,
    pub selector: LabelSelector,
    pub has_ingress: bool,
    pub default_deny_ingress: Option<bool>,
    /// Its ingress rules open to every source (`fromEntities: [world]` or `[all]`, a `/0`
    /// CIDR, or ports with no source).
    pub open: Openness,
}

/// A Calico `NetworkPolicy` or `GlobalNetworkPolicy`.
#[derive(Debug, Clone)]
pub struct CalicoPolicy {
    /// `GlobalNetworkPolicy` (selects pods in every namespace).
    pub global: bool,
    pub selector: calico::Selector,
    /// A `GlobalNetworkPolicy`'s `namespaceSelector`.
    pub namespace_selector: Option<calico::Selector>,
    /// Not evaluated (service accounts' labels are not in manifests); assumed to select.
    pub service_account_selector: Option<calico::Selector>,
    /// Its effective `types` include Ingress.
    pub ingress: bool,
    /// The written (or defaulted) types, for messages.
    pub types: Vec<String>,
    /// `types` was not written: Calico chose it from the rules.
    pub types_defaulted: bool,
    pub tier: String,
    pub order: Option<f64>,
    /// `doNotTrack` or `preDNAT` (the field set): applies to host endpoints only.
    pub host_only: Option<&'static str>,
    /// Its `Allow` ingress rules open to every source (no source, or a `/0` net), up to the
    /// first `Deny` rule that shuts every source out.
    pub open: Openness,
}

/// What an AdminNetworkPolicy-family policy selects: namespaces, or pods in namespaces.
#[derive(Debug, Clone)]
pub enum Subject {
    Namespaces(LabelSelector),
    Pods {
        namespaces: LabelSelector,
        pods: LabelSelector,
    },
}

/// `AdminNetworkPolicy`, `BaselineAdminNetworkPolicy` (`v1alpha1`) or `ClusterNetworkPolicy`
/// (`v1alpha2`, tier Admin or Baseline).
#[derive(Debug, Clone)]
pub struct ClusterPolicy {
    /// `Admin` or `Baseline`.
    pub tier: &'static str,
    pub priority: Option<i64>,
    pub subject: Subject,
    /// Each ingress rule: its action and whom it names, described.
    pub ingress: Vec<(String, String)>,
}

/// A policy the coverage rules evaluate.
#[derive(Debug, Clone)]
pub enum Policy {
    /// `networking.k8s.io/v1` `NetworkPolicy` (its metadata is kept on the object).
    Kubernetes(Box<NetworkPolicy>),
    /// `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy` (`cluster_wide`).
    Cilium {
        cluster_wide: bool,
        rules: Vec<CiliumRule>,
    },
    Calico(Box<CalicoPolicy>),
    /// The AdminNetworkPolicy family: explained, never isolating.
    Cluster(Box<ClusterPolicy>),
    /// A policy kind that is recognised but not evaluated (Antrea, Istio, a Calico staged
    /// policy, any other `*Policy` of a networking group): the reason it is not.
    Unevaluated(&'static str),
}

/// The pods a policy is asked about, with what policies look at besides their labels.
#[derive(Debug, Clone, Copy)]
pub struct Pods<'a> {
    pub namespace: &'a str,
    pub labels: &'a PodLabels,
    /// The namespace's labels (from its `Namespace` object, plus the name labels the API server
    /// and Calico add).
    pub namespace_labels: &'a BTreeMap<String, String>,
    pub service_account: &'a str,
    /// Calico tiers whose `defaultAction` is `Pass`.
    pub passing_tiers: &'a [String],
}

/// How an index can find the policies that may isolate a pod set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach<'a> {
    /// Never isolates anything for ingress.
    Never,
    /// Selects only pods with this `key=value` label.
    Label(&'a str, &'a str),
    /// Must be checked for every pod set.
    Any,
}

/// Why a policy isolates the pods: for certain, or if a label no manifest shows has the value
/// asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    Certain,
    Assumed(String),
}

impl From<Fit> for Result<Isolation, String> {
    fn from(f: Fit) -> Self {
        match f {
            Fit::Yes => Ok(Isolation::Certain),
            Fit::Assumed(k) => Ok(Isolation::Assumed(k)),
            Fit::No(m) => Err(m),
        }
    }
}

/// Label key Cilium uses for a pod's namespace.
const CILIUM_NAMESPACE_KEY: &str = "io.kubernetes.pod.namespace";

impl Policy {
    /// Which pods this policy can select, as far as an index needs to know.
    #[must_use]
    pub fn reach(&self) -> Reach<'_> {
        match self {
            Policy::Kubernetes(np) => {
                let spec = np.spec.as_ref();
                if non_ingress_types(spec).is_some() {
                    return Reach::Never;
                }
                spec.and_then(|s| s.pod_selector.as_ref())
                    .and_then(|sel| sel.match_labels.as_ref())
                    .and_then(|m| m.iter().next())
                    .map_or(Reach::Any, |(k, v)| Reach::Label(k, v))
            }
            Policy::Calico(c) if !c.ingress || c.host_only.is_some() => Reach::Never,
            Policy::Cilium { .. } | Policy::Calico(_) => Reach::Any,
            Policy::Cluster(_) | Policy::Unevaluated(_) => Reach::Never,
        }
    }

    /// Whether this policy isolates `pods` for ingress; if not, why not.
    pub fn isolates(&self, pods: &Pods<'_>) -> Result<Isolation, String> {
        match self {
            Policy::Kubernetes(np) => {
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
                match selector::fit(sel, pods.labels) {
                    Fit::No(m) => Err(format!(
                        "{} does not select them (`{m}` fails)",
                        named("podSelector", &selector::describe(sel))
                    )),
                    f => f.into(),
                }
            }
            Policy::Cilium {
                cluster_wide,
                rules,
            } => {
                let with_ns = cilium_labels(pods);
                let mut why = Vec::new();
                for rule in rules {
                    let sel = cilium_selector(&rule.selector, *cluster_wide);
                    match selector::fit(&sel, &with_ns) {
                        Fit::No(m) => why.push(format!(
                            "{} does not select them (`{m}` fails)",
                            named("endpointSelector", &selector::describe(&rule.selector))
                        )),
                        _ if !rule.has_ingress => {
                            why.push("has no ingress or ingressDeny rules".into());
                        }
                        _ if rule.default_deny_ingress == Some(false) => {
                            why.push("sets enableDefaultDeny.ingress: false".into());
                        }
                        f => return f.into(),
                    }
                }
                if why.is_empty() {
                    why.push("selects no endpoints (no endpointSelector)".into());
                }
                why.dedup();
                Err(why.join("; "))
            }
            Policy::Calico(c) => c.isolates(pods),
            Policy::Cluster(c) => Err(c.explain(pods).map_or_else(
                || "its subject does not select them".to_string(),
                |rules| {
                    format!(
                        "selects them, but it isolates nothing and names only pods and namespaces, so it cannot restrict traffic from outside the cluster (in-cluster ingress: {rules})"
                    )
                },
            )),
            Policy::Unevaluated(why) => Err((*why).to_string()),
        }
    }

    /// Whether the policy selects every pod it can reach (an empty pod or endpoint selector):
    /// such a policy says nothing about particular pods.
    #[must_use]
    pub fn selects_every_pod(&self) -> bool {
        let empty = |s: &LabelSelector| {
            s.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
                && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
        };
        match self {
            Policy::Kubernetes(np) => np
                .spec
                .as_ref()
                .and_then(|s| s.pod_selector.as_ref())
                .is_none_or(empty),
            Policy::Cilium { rules, .. } => rules.iter().any(|r| empty(&r.selector)),
            Policy::Calico(c) => {
                c.selector.describe() == "all()" || c.selector.describe().is_empty()
            }
            Policy::Cluster(_) | Policy::Unevaluated(_) => true,
        }
    }

    /// Where the ingress rules that apply to `pods` (already isolated by this policy) let in
    /// every source.
    #[must_use]
    pub fn openness(&self, pods: &Pods<'_>) -> Openness {
        match self {
            Policy::Kubernetes(np) => openness::kubernetes(np.spec.as_ref()),
            Policy::Cilium {
                cluster_wide,
                rules,
            } => {
                let labels = cilium_labels(pods);
                let mut out = Openness::default();
                for rule in rules {
                    let sel = cilium_selector(&rule.selector, *cluster_wide);
                    if selector::fit(&sel, &labels).selects() {
                        if rule.open.all_ports {
                            out.open(Vec::new(), rule.open.how.clone().unwrap_or_default());
                        } else if !rule.open.ports.is_empty() {
                            out.open(
                                rule.open.ports.clone(),
                                rule.open.how.clone().unwrap_or_default(),
                            );
                        }
                    }
                }
                out
            }
            Policy::Calico(c) => c.open.clone(),
            Policy::Cluster(_) | Policy::Unevaluated(_) => Openness::default(),
        }
    }

    /// Whether this policy can select pods in namespace `ns` at all: namespaced policies in
    /// theirs, a clusterwide Cilium policy unless its namespace key excludes `ns` in every rule,
    /// a Calico `GlobalNetworkPolicy` or an AdminNetworkPolicy unless its namespace selector
    /// leaves `ns` out.
    #[must_use]
    pub fn applies_in(&self, ns: &str, ns_labels: &BTreeMap<String, String>) -> bool {
        let ns_pod = PodLabels::known(ns_labels.clone());
        match self {
            Policy::Cilium {
                cluster_wide: true,
                rules,
            } => {
                let only_ns =
                    PodLabels::known([(CILIUM_NAMESPACE_KEY.to_string(), ns.to_string())].into());
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
            Policy::Calico(c) => c
                .namespace_selector
                .as_ref()
                .is_none_or(|s| s.fit(&calico_namespace_labels(ns, ns_labels)).selects()),
            Policy::Cluster(c) => match &c.subject {
                Subject::Namespaces(s) | Subject::Pods { namespaces: s, .. } => {
                    selector::matches(s, &ns_pod)
                }
            },
            _ => true,
        }
    }
}

/// The labels Cilium gives an endpoint besides the pod's own.
fn cilium_labels(pods: &Pods<'_>) -> PodLabels {
    let mut with_ns = pods.labels.clone();
    with_ns
        .known
        .insert(CILIUM_NAMESPACE_KEY.into(), pods.namespace.to_string());
    with_ns.known.insert(
        "io.cilium.k8s.policy.serviceaccount".into(),
        pods.service_account.to_string(),
    );
    with_ns
        .known
        .insert("io.cilium.k8s.policy.cluster".into(), "default".into());
    for (k, v) in pods.namespace_labels {
        with_ns
            .known
            .insert(format!("io.cilium.k8s.namespace.labels.{k}"), v.clone());
    }
    with_ns
}

/// A namespace's labels as Calico's namespace selectors see them: its own, and
/// `projectcalico.org/name`.
fn calico_namespace_labels(ns: &str, labels: &BTreeMap<String, String>) -> PodLabels {
    let mut l = PodLabels::known(labels.clone());
    l.known
        .insert("projectcalico.org/name".into(), ns.to_string());
    l
}

impl CalicoPolicy {
    fn isolates(&self, pods: &Pods<'_>) -> Result<Isolation, String> {
        if let Some(field) = self.host_only {
            return Err(format!(
                "sets `{field}: true`, which applies to host endpoints only, not to pods"
            ));
        }
        if !self.ingress {
            let how = if self.types_defaulted {
                " (not written: Calico takes them from the rules, which are egress only)"
            } else {
                ""
            };
            return Err(format!(
                "types [{}]{how} do not include Ingress",
                self.types.join(", ")
            ));
        }
        if pods.passing_tiers.contains(&self.tier) {
            return Err(format!(
                "its tier `{}` passes what it does not decide (`defaultAction: Pass`), so it isolates nothing",
                self.tier
            ));
        }
        if let Some(ns_sel) = &self.namespace_selector {
            let ns = calico_namespace_labels(pods.namespace, pods.namespace_labels);
            if let Fit::No(_) = ns_sel.fit(&ns) {
                return Err(format!(
                    "namespaceSelector `{}` does not select namespace `{}`",
                    ns_sel.describe(),
                    pods.namespace
                ));
            }
        }
        // The labels Calico gives a pod's workload endpoint besides the pod's own.
        let mut labels = pods.labels.clone();
        labels.known.extend([
            (
                "projectcalico.org/namespace".to_string(),
                pods.namespace.to_string(),
            ),
            (
                "projectcalico.org/orchestrator".to_string(),
                "k8s".to_string(),
            ),
        ]);
        if !pods.service_account.is_empty() && pods.service_account.len() < 63 {
            labels.known.insert(
                "projectcalico.org/serviceaccount".into(),
                pods.service_account.to_string(),
            );
        }
        match self.selector.fit(&labels) {
            Fit::No(_) => Err(format!(
                "{} does not select them",
                named("selector", &self.selector.describe())
            )),
            f => {
                if let Some(sa) = &self.service_account_selector {
                    return Ok(Isolation::Assumed(format!(
                        "serviceAccountSelector `{}` (service accounts' labels are not evaluated)",
                        sa.describe()
                    )));
                }
                f.into()
            }
        }
    }
}

impl ClusterPolicy {
    /// The in-cluster ingress rules, when the subject selects `pods`.
    fn explain(&self, pods: &Pods<'_>) -> Option<String> {
        let ns = PodLabels::known(pods.namespace_labels.clone());
        let selected = match &self.subject {
            Subject::Namespaces(s) => selector::matches(s, &ns),
            Subject::Pods {
                namespaces,
                pods: p,
            } => selector::matches(namespaces, &ns) && selector::matches(p, pods.labels),
        };
        if !selected {
            return None;
        }
        Some(if self.ingress.is_empty() {
            "none".into()
        } else {
            self.ingress
                .iter()
                .map(|(action, from)| format!("{action} {from}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

/// Every label selector of a `NetworkPolicy`, with its pointer below the object. The API server
/// validates each and rejects the whole policy if one is invalid.
#[must_use]
pub fn selectors(np: &NetworkPolicy) -> Vec<(String, &LabelSelector)> {
    let mut out = Vec::new();
    let Some(spec) = &np.spec else { return out };
    if let Some(s) = &spec.pod_selector {
        out.push(("/spec/podSelector".to_string(), s));
    }
    let ingress = spec
        .ingress
        .iter()
        .flatten()
        .map(|r| r.from.as_deref().unwrap_or_default());
    let egress = spec
        .egress
        .iter()
        .flatten()
        .map(|r| r.to.as_deref().unwrap_or_default());
    for (dir, peers_key, rules) in [
        ("ingress", "from", ingress.collect::<Vec<_>>()),
        ("egress", "to", egress.collect()),
    ] {
        for (i, peers) in rules.iter().enumerate() {
            for (j, peer) in peers.iter().enumerate() {
                if let Some(s) = &peer.pod_selector {
                    out.push((format!("/spec/{dir}/{i}/{peers_key}/{j}/podSelector"), s));
                }
                if let Some(s) = &peer.namespace_selector {
                    out.push((
                        format!("/spec/{dir}/{i}/{peers_key}/{j}/namespaceSelector"),
                        s,
                    ));
                }
            }
        }
    }
    out
}

/// Calico's `types` when none are written: Ingress, unless there are egress rules and no
/// ingress rules (then Egress); both when there are both.
#[must_use]
pub fn calico_default_types(ingress_rules: usize, egress_rules: usize) -> Vec<String> {
    match (ingress_rules, egress_rules) {
        (_, 0) => vec!["Ingress".into()],
        (0, _) => vec!["Egress".into()],
        _ => vec!["Ingress".into(), "Egress".into()],
    }
}

/// The policy's `policyTypes` when they leave Ingress out. policyTypes defaults to [Ingress]
/// (+ Egress when egress rules exist), so a policy without policyTypes always applies to
/// ingress.
fn non_ingress_types(spec: Option<&NetworkPolicySpec>) -> Option<&Vec<String>> {
    spec.and_then(|s| s.policy_types.as_ref())
        .filter(|t| !t.is_empty() && !t.iter().any(|t| t == "Ingress"))
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

/// A selector in a reason: with its text when that is short, else by its field alone (the
/// requirement that fails is named after it, and the policy is a click away).
fn named(field: &str, text: &str) -> String {
    if text.chars().count() <= 48 {
        format!("{field} `{text}`")
    } else {
        format!("its {field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calico(selector: &str) -> CalicoPolicy {
        CalicoPolicy {
            global: true,
            selector: calico::Selector::parse(selector).expect("valid"),
            namespace_selector: None,
            service_account_selector: None,
            ingress: true,
            types: vec!["Ingress".into()],
            tier: "default".into(),
            order: None,
            host_only: None,
            types_defaulted: false,
            open: Openness::default(),
        }
    }

    fn pods<'a>(
        labels: &'a PodLabels,
        ns: &'a BTreeMap<String, String>,
        pass: &'a [String],
    ) -> Pods<'a> {
        Pods {
            namespace: "shop",
            labels,
            namespace_labels: ns,
            service_account: "web",
            passing_tiers: pass,
        }
    }

    #[test]
    fn calico_types_default_to_ingress_unless_there_are_only_egress_rules() {
        assert_eq!(calico_default_types(0, 0), ["Ingress"]);
        assert_eq!(calico_default_types(2, 0), ["Ingress"]);
        assert_eq!(calico_default_types(0, 1), ["Egress"]);
        assert_eq!(calico_default_types(1, 1), ["Ingress", "Egress"]);
    }

    #[test]
    fn calico_policies_see_the_labels_calico_adds() {
        let labels = PodLabels::known([("app".to_string(), "web".to_string())].into());
        let ns = BTreeMap::new();
        let p = calico(
            "projectcalico.org/namespace == 'shop' && projectcalico.org/serviceaccount == 'web'",
        );
        assert_eq!(p.isolates(&pods(&labels, &ns, &[])), Ok(Isolation::Certain));
        let pass = ["security".to_string()];
        let mut tiered = calico("all()");
        tiered.tier = "security".into();
        assert!(tiered.isolates(&pods(&labels, &ns, &pass)).is_err());
    }
}
