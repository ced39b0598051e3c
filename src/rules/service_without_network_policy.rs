//! EXT003 service-without-network-policy: a Service whose pods no `NetworkPolicy` isolates for
//! ingress. Semantics and links: `rules/EXT003-service-without-network-policy.md`.

use std::collections::BTreeMap;

use super::{At, Draft, Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::index::PodSet;
use crate::object::{Object, View};

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
            let explained = cx.index.policies_applying(ns_name);
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
                out.push(finding(
                    obj,
                    ns_name,
                    sel,
                    &uncovered,
                    explained,
                    pods.len(),
                ));
            }
        }
    }
}

/// How many policies the note explains before summarising the rest.
const NOTE_POLICIES: usize = 8;

/// `Deployment ns/a, Deployment ns/b (2 copies)`: each name once, with a count when the input
/// holds several objects of that name (overlays, rendered variants).
fn names_once<'a>(objects: impl Iterator<Item = &'a Object>) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for o in objects {
        let name = o.id.to_string();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .into_iter()
        .map(|(n, c)| {
            if c == 1 {
                n
            } else {
                format!("{n} ({c} copies)")
            }
        })
        .collect()
}

fn finding(
    obj: &Object,
    ns: &str,
    sel: &BTreeMap<String, String>,
    uncovered: &[&PodSet<'_>],
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
        let names = names_once(uncovered.iter().filter_map(|p| p.workload));
        let of = if total > uncovered.len() {
            format!(" ({} of {total} selected workloads)", uncovered.len())
        } else {
            String::new()
        };
        format!("the pods of {}{of}", names.join(", "))
    };
    let mut f = Draft {
        object: obj,
        path: "/spec/selector",
        at: At::Key,
        label: "selects pods no NetworkPolicy isolates",
        message: format!(
            "Service `{}` exposes {who}, which no NetworkPolicy isolates for ingress",
            obj.id.qualified_name()
        )
        .into(),
        help: &format!(
            "Add a NetworkPolicy in namespace `{ns}` whose podSelector matches these pods and whose policyTypes include Ingress (or leave policyTypes out)."
        ),
    }
    .finding(&META);
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
    f.notes.push(why_not(ns, uncovered[0].labels, policies));
    f
}

/// The note: each policy that applies in the namespace (`policies`, each name once), and why it
/// did not count.
fn why_not(ns: &str, labels: &BTreeMap<String, String>, policies: &[&Object]) -> String {
    if policies.is_empty() {
        return format!(
            "there is no Kubernetes or Cilium NetworkPolicy in namespace `{ns}`, so its pods accept ingress from anywhere"
        );
    }
    let mut why: Vec<String> = policies
        .iter()
        .take(NOTE_POLICIES)
        .filter_map(|p| {
            let View::Policy(policy) = &p.view else {
                return None;
            };
            policy
                .isolates(ns, labels)
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
