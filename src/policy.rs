//! Policy semantics: which pods a policy isolates for ingress, and why a policy does not count.
//!
//! Reads policy views (built by `object`), never objects or the index. Kubernetes
//! `NetworkPolicy`: a pod selected by a policy whose `policyTypes` include Ingress is isolated
//! for ingress; `policyTypes` defaults to `[Ingress]` (+ Egress when egress rules exist).
//! <https://kubernetes.io/docs/concepts/services-networking/network-policies/>. Cilium: an
//! endpoint selected by a rule with ingress (or ingressDeny) rules is in default-deny for
//! ingress, unless the rule sets `enableDefaultDeny.ingress: false`.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::selector;

/// A Cilium rule's view: which endpoints it selects and whether it enforces on ingress.
#[derive(Debug, Clone)]
pub struct CiliumRule {
    pub pointer: String,
    pub selector: LabelSelector,
    pub has_ingress: bool,
    pub default_deny_ingress: Option<bool>,
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
            Policy::Cilium { .. } => Reach::Any,
        }
    }

    /// Whether this policy isolates pods with `labels` in namespace `ns` for ingress, without
    /// building the explanation: the hot path of EXT003 and the inventory.
    #[must_use]
    pub fn isolates_quietly(&self, ns: &str, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Policy::Kubernetes(np) => {
                let spec = np.spec.as_ref();
                non_ingress_types(spec).is_none()
                    && spec
                        .and_then(|s| s.pod_selector.as_ref())
                        .is_none_or(|sel| selector::matches(sel, labels))
            }
            Policy::Cilium { .. } => self.isolates(ns, labels).is_ok(),
        }
    }

    /// Whether this policy isolates pods with `labels` in namespace `ns` for ingress; if not,
    /// why not.
    pub fn isolates(&self, ns: &str, labels: &BTreeMap<String, String>) -> Result<(), String> {
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
                match selector::first_mismatch(sel, labels) {
                    None => Ok(()),
                    Some(m) => Err(format!(
                        "podSelector `{}` does not select them (`{m}` fails)",
                        selector::describe(sel)
                    )),
                }
            }
            Policy::Cilium {
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
        }
    }

    /// Whether this policy can select pods in namespace `ns` at all: namespaced policies in
    /// theirs, a clusterwide Cilium policy unless its namespace key excludes `ns` in every rule.
    #[must_use]
    pub fn applies_in(&self, ns: &str) -> bool {
        let Policy::Cilium {
            cluster_wide: true,
            rules,
        } = self
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

/// Label key Cilium uses for a pod's namespace.
const CILIUM_NAMESPACE_KEY: &str = "io.kubernetes.pod.namespace";

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
