//! EXT003 service-without-network-policy: a Service whose pods no `NetworkPolicy` isolates for
//! ingress. Semantics and links: `rules/EXT003-service-without-network-policy.md`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{At, Rule, RuleContext, RuleMeta};
use crate::finding::{Finding, Label, Severity};
use crate::index::Namespace;
use crate::object::{Object, View};
use crate::selector;

pub(crate) static META: RuleMeta = RuleMeta {
    code: "EXT003",
    name: "service-without-network-policy",
    summary: "Service whose pods no NetworkPolicy isolates for ingress",
    default_severity: Severity::Warning,
    docs: include_str!("../../rules/EXT003-service-without-network-policy.md"),
    security_severity: "5.0",
    tags: &["security", "kubernetes", "networking", "network-policy"],
};

pub struct ServiceWithoutNetworkPolicy;

/// Label key Cilium uses for a pod's namespace.
const CILIUM_NAMESPACE_KEY: &str = "io.kubernetes.pod.namespace";

impl Rule for ServiceWithoutNetworkPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ns_name, ns) in &cx.index.namespaces {
            let policies: Vec<&Object> = ns
                .policies
                .iter()
                .chain(&cx.index.cluster_policies)
                .map(|&i| &cx.objects[i])
                .collect();
            for &si in &ns.services {
                let obj = &cx.objects[si];
                let View::Service(svc) = &obj.view else {
                    continue;
                };
                let Some(spec) = &svc.spec else { continue };
                let Some(sel) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
                    continue;
                };
                if spec.type_.as_deref() == Some("ExternalName") {
                    continue;
                }
                let pods = pods_of(cx, ns, sel);
                let uncovered: Vec<&Pods<'_>> = pods
                    .iter()
                    .filter(|p| {
                        !policies
                            .iter()
                            .any(|pol| isolates(pol, ns_name, &p.labels).is_ok())
                    })
                    .collect();
                if uncovered.is_empty() {
                    continue;
                }
                out.push(finding(
                    obj,
                    ns_name,
                    sel,
                    &uncovered,
                    &policies,
                    pods.len(),
                ));
            }
        }
    }
}

/// A set of pods sharing one label set: a workload's template, or the selector standing in
/// when the input holds no matching workload.
struct Pods<'a> {
    labels: BTreeMap<String, String>,
    workload: Option<&'a Object>,
}

fn pods_of<'a>(
    cx: &RuleContext<'a>,
    ns: &Namespace,
    sel: &BTreeMap<String, String>,
) -> Vec<Pods<'a>> {
    let candidates = sel
        .iter()
        .map(|(k, v)| {
            ns.workloads_by_label
                .get(&(k.clone(), v.clone()))
                .map_or(&[][..], Vec::as_slice)
        })
        .min_by_key(|l| l.len())
        .unwrap_or_default();
    let found: Vec<Pods<'a>> = candidates
        .iter()
        .map(|&i| &cx.objects[i])
        .filter_map(|w| match &w.view {
            View::Workload { labels, .. } if sel.iter().all(|(k, v)| labels.get(k) == Some(v)) => {
                Some(Pods {
                    labels: labels.clone(),
                    workload: Some(w),
                })
            }
            _ => None,
        })
        .collect();
    if found.is_empty() {
        vec![Pods {
            labels: sel.clone(),
            workload: None,
        }]
    } else {
        found
    }
}

/// Whether `policy` isolates pods with `labels` in namespace `ns` for ingress; if not, why not.
fn isolates(policy: &Object, ns: &str, labels: &BTreeMap<String, String>) -> Result<(), String> {
    match &policy.view {
        View::NetworkPolicy(np) => {
            let spec = np.spec.as_ref();
            // policyTypes defaults to [Ingress] (+ Egress when egress rules exist), so a policy
            // without policyTypes always applies to ingress.
            // https://kubernetes.io/docs/concepts/services-networking/network-policies/
            let types = spec
                .and_then(|s| s.policy_types.as_ref())
                .filter(|t| !t.is_empty());
            if let Some(types) = types
                && !types.iter().any(|t| t == "Ingress")
            {
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

fn finding(
    obj: &Object,
    ns: &str,
    sel: &BTreeMap<String, String>,
    uncovered: &[&Pods<'_>],
    policies: &[&Object],
    total: usize,
) -> Finding {
    let sel_text = sel
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let who = if uncovered.iter().all(|p| p.workload.is_none()) {
        format!(
            "pods labelled `{sel_text}` (no workload in the input matches; the selector stands in for them)"
        )
    } else {
        let names: Vec<String> = uncovered
            .iter()
            .filter_map(|p| p.workload.map(|w| w.id.to_string()))
            .collect();
        let of = if total > uncovered.len() {
            format!(" ({} of {total} selected workloads)", uncovered.len())
        } else {
            String::new()
        };
        format!("the pods of {}{of}", names.join(", "))
    };
    let mut f = META.finding(
        obj,
        "/spec/selector",
        At::Key,
        "selects pods no NetworkPolicy isolates",
        format!("Service `{}` exposes {who}, which no NetworkPolicy isolates for ingress", obj.id.qualified_name()),
        &format!("Add a NetworkPolicy in namespace `{ns}` whose podSelector matches these pods and whose policyTypes include Ingress (or leave policyTypes out)."),
    );
    for p in uncovered {
        if let Some(w) = p.workload
            && let View::Workload { pointer, .. } = &w.view
        {
            f.related.push(Label::new(
                w.key_span(&format!("{pointer}/labels")),
                format!("{} pods, not isolated", w.id),
            ));
        }
    }
    let labels = &uncovered[0].labels;
    if policies.is_empty() {
        f.notes.push(format!("there is no NetworkPolicy in namespace `{ns}`, so its pods accept ingress from anywhere"));
    } else {
        let mut why = Vec::new();
        for p in policies {
            if let Err(reason) = isolates(p, ns, labels) {
                why.push(format!(
                    "{} `{}`: {reason}",
                    p.id.kind,
                    p.id.qualified_name()
                ));
            }
        }
        f.notes.push(format!(
            "policies that apply in namespace `{ns}` and why none counts: {}",
            why.join("; ")
        ));
    }
    f
}
