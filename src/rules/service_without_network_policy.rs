//! EXT003 service-without-network-policy: a Service whose pods no `NetworkPolicy` isolates for
//! ingress. Semantics and links: `rules/EXT003-service-without-network-policy.md`.

use std::collections::BTreeMap;

use super::{At, Draft, Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::index::PodSet;
use crate::object::{Object, View};
use crate::policy::Isolation;

pub static META: RuleMeta = RuleMeta {
    code: "EXT003",
    name: "service-without-network-policy",
    summary: "Service whose pods no NetworkPolicy isolates for ingress",
    default_severity: Severity::Warning,
    docs: include_str!("../../rules/EXT003-service-without-network-policy.md"),
    security_severity: "5.0",
    tags: &["security", "kubernetes", "networking", "network-policy"],
};

pub struct ServiceWithoutNetworkPolicy;

impl Rule for ServiceWithoutNetworkPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ns_name, ns) in cx.index.namespaces() {
            for &obj in &ns.services {
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
                let pods = cx.index.coverage(ns_name, sel);
                let uncovered: Vec<&PodSet<'_>> =
                    pods.iter().filter(|p| p.isolated_by.is_none()).collect();
                if uncovered.is_empty() {
                    continue;
                }
                let explained = cx.index.explain(ns_name, uncovered[0]);
                out.push(finding(
                    obj,
                    ns_name,
                    sel,
                    &uncovered,
                    &explained,
                    pods.len(),
                ));
            }
        }
    }
}

/// How many policies the note explains before summarising the rest.
const NOTE_POLICIES: usize = 8;

/// `Deployment ns/a, StatefulSet ns/b (pods b-1, b-2)`: each workload once, with the pods
/// when only some pods of it are meant, and a count when the input holds several objects of
/// that name (overlays, rendered variants).
fn names_once(sets: &[&PodSet<'_>], all: usize) -> Vec<String> {
    let mut counts: Vec<(String, usize, Vec<String>)> = Vec::new();
    for set in sets {
        let Some(w) = set.workload else { continue };
        let name = w.id.to_string();
        let i = counts
            .iter()
            .position(|(n, ..)| *n == name)
            .unwrap_or_else(|| {
                counts.push((name, 0, Vec::new()));
                counts.len() - 1
            });
        counts[i].1 += 1;
        counts[i].2.extend(set.pod.clone());
    }
    counts
        .into_iter()
        .map(|(n, c, pods)| {
            if !pods.is_empty() && sets.len() < all {
                format!(
                    "{n} (pod{} {})",
                    if pods.len() == 1 { "" } else { "s" },
                    pods.join(", ")
                )
            } else if c > 1 && pods.is_empty() {
                format!("{n} ({c} copies)")
            } else {
                n
            }
        })
        .collect()
}

fn finding(
    obj: &Object,
    ns: &str,
    sel: &BTreeMap<String, String>,
    uncovered: &[&PodSet<'_>],
    policies: &[(&Object, Result<Isolation, String>)],
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
        let names = names_once(uncovered, total);
        let workloads = uncovered.iter().filter(|p| p.pod.is_none()).count();
        let of = if total > uncovered.len() && workloads == uncovered.len() {
            format!(" ({} of {total} selected workloads)", uncovered.len())
        } else {
            String::new()
        };
        format!("the pods of {}{of}", names.join(", "))
    };
    let host = uncovered.iter().all(|p| p.host_network);
    let isolates = if host {
        "which run with hostNetwork, where no NetworkPolicy isolates them"
    } else {
        "which no NetworkPolicy isolates for ingress"
    };
    let mut f = Draft {
        object: obj,
        path: "/spec/selector",
        at: At::Key,
        label: "selects pods no NetworkPolicy isolates",
        message: format!(
            "Service `{}` exposes {who}, {isolates}",
            obj.id.qualified_name()
        )
        .into(),
        help: &if host {
            "Do not expose host-network pods through a Service's externalIPs; run them on the pod network behind a NetworkPolicy, or restrict the nodes' ingress with host firewall rules.".to_string()
        } else {
            format!(
                "Add a NetworkPolicy in namespace `{ns}` whose podSelector matches these pods and whose policyTypes include Ingress (or leave policyTypes out)."
            )
        },
    }
    .finding(&META);
    for p in uncovered {
        if let Some(w) = p.workload
            && let View::Workload(workload) = &w.view
        {
            let label = format!("{} pods, not isolated", w.id);
            let span = w.key_span(&format!("{}/labels", workload.pointer));
            if !f.related.iter().any(|l| l.span == span) {
                f.related.push(Label::new(span, label));
            }
        }
    }
    if let Some(w) = uncovered
        .iter()
        .find(|p| p.host_network)
        .and_then(|p| p.workload)
    {
        f.notes.push(format!(
            "{} runs its pods with `hostNetwork: true`; NetworkPolicy does not govern host-network pods (the common plugins ignore them when matching selectors), so no policy can isolate them",
            w.id
        ));
    }
    if let Some(k) = uncovered
        .iter()
        .find_map(|p| p.selection_assumed.as_deref())
    {
        f.notes.push(format!(
            "the selector's `{k}` is a label a controller sets to a value no manifest shows; it was assumed to match"
        ));
    }
    f.notes.push(why_not(ns, policies));
    f
}

/// The note: each policy that applies in the namespace (each name once), and why it did not
/// count.
fn why_not(ns: &str, policies: &[(&Object, Result<Isolation, String>)]) -> String {
    if policies.is_empty() {
        return format!(
            "no NetworkPolicy (Kubernetes, Cilium or Calico) in the input applies in namespace `{ns}`, so its pods accept ingress from anywhere"
        );
    }
    let mut why: Vec<String> = policies
        .iter()
        .take(NOTE_POLICIES)
        .filter_map(|(p, verdict)| {
            verdict
                .as_ref()
                .err()
                .map(|r| format!("{} `{}`: {r}", p.id.kind, p.id.qualified_name()))
        })
        .collect();
    if policies.len() > NOTE_POLICIES {
        why.push(format!("and {} more", policies.len() - NOTE_POLICIES));
    }
    format!(
        "policies that apply in namespace `{ns}` and why none counts: {}",
        why.join("; ")
    )
}
