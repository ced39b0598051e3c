//! EXT003 service-without-network-policy: a Service whose pods no `NetworkPolicy` isolates for
//! ingress. Semantics and links: `rules/EXT003-service-without-network-policy.md`.

use std::collections::BTreeMap;

use super::{At, Check, Draft, Rule, RuleContext};
use crate::cluster::index::{Explanation, PodSet};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::workload::Which;
use crate::object::{Object, View};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT003",
        name: "service-without-network-policy",
        since: "0.1.0",
        summary: "Service whose pods no NetworkPolicy isolates for ingress, or whose policies let in every source on every port",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT003-service-without-network-policy.md"),
        security_severity: "5.0",
        tags: &["security", "kubernetes", "networking", "network-policy"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
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
            let open: Vec<&PodSet<'_>> = pods
                .iter()
                .filter(|p| p.isolated_by.is_some() && p.open_to_all().is_some())
                .collect();
            if uncovered.is_empty() && open.is_empty() {
                continue;
            }
            let mut f = if uncovered.is_empty() {
                opened(obj, ns_name, sel, &open, pods.len(), cx.scope)
            } else {
                let explained = cx.index.explain(ns_name, uncovered[0], NOTE_POLICIES);
                finding(
                    obj,
                    ns_name,
                    sel,
                    &uncovered,
                    &explained,
                    pods.len(),
                    cx.scope,
                )
            };
            // Where isolated pods are still open to every source, on some ports or all.
            let mut said = Vec::new();
            for set in pods.iter().filter(|p| p.isolated_by.is_some()) {
                for (p, open) in &set.opened_by {
                    let note = format!(
                        "{} `{}` admits every source on {} ({})",
                        p.id.kind_label(),
                        p.id.qualified_name(),
                        open.ports_text(),
                        open.how.as_deref().unwrap_or("an ingress rule")
                    );
                    if !said.contains(&note) {
                        said.push(note);
                    }
                }
            }
            f.notes.extend(said);
            // The workloads standing in by their selector may be in the input but rejected.
            if pods.iter().all(|p| p.workload.is_none()) {
                let mut rejected: Vec<String> = cx
                    .problems
                    .iter()
                    .filter_map(|p| p.object.as_deref())
                    .filter(|o| {
                        WORKLOADS.contains(&o.kind.as_str())
                            && o.namespace.as_deref() == Some(ns_name)
                    })
                    .map(|o| format!("{} `{}`", o.kind, o.qualified_name()))
                    .collect();
                rejected.sort();
                rejected.dedup();
                if !rejected.is_empty() {
                    f.notes.push(format!(
                        "workloads in namespace `{ns_name}` that the API server rejects (EXT900) are not counted, and may be these pods: {}",
                        rejected.join(", ")
                    ));
                }
            }
            // Where the namespace a Service or policy lands in was not written.
            if obj.namespace_defaulted {
                f.notes.push(format!(
                    "the Service sets no namespace, so it is in `{ns_name}` (`namespace:` in the config or `-n` names another; `kubectl apply -n` would too)"
                ));
            }
            if let Some(first) = uncovered.first() {
                let others = cx.index.elsewhere(ns_name, first, 3);
                if !others.is_empty() {
                    let names: Vec<String> = others
                        .iter()
                        .map(|p| {
                            format!(
                                "{} `{}`{}",
                                p.id.kind_label(),
                                p.id.qualified_name(),
                                if p.namespace_defaulted {
                                    " (it sets no namespace)"
                                } else {
                                    ""
                                }
                            )
                        })
                        .collect();
                    f.notes.push(format!(
                        "{} these labels, but a policy applies only in its own namespace: {}",
                        if others.len() == 1 {
                            "a policy in another namespace selects"
                        } else {
                            "policies in other namespaces select"
                        },
                        names.join(", ")
                    ));
                }
            }
            // Policies the API server rejects are not in the index; say they were seen.
            let mut rejected: Vec<String> = cx
                .problems
                .iter()
                .filter_map(|p| p.object.as_deref())
                .filter(|o| {
                    // Network policies of every kind, not PodSecurityPolicy or a scheduler's Policy.
                    o.kind.ends_with("NetworkPolicy")
                        && o.namespace.as_deref().is_none_or(|n| n == ns_name)
                })
                .map(|o| format!("{} `{}`", o.kind_label(), o.qualified_name()))
                .collect();
            rejected.sort();
            rejected.dedup();
            if !rejected.is_empty() {
                f.notes.push(format!(
                    "not counted because the API server rejects them (EXT900): {}",
                    rejected.join(", ")
                ));
            }
            out.push(f);
        }
    }
}

/// The pods a finding is about: the workloads (and pods) or, when none is in the input, the
/// labels standing in for them.
fn who(sel: &BTreeMap<String, String>, sets: &[&PodSet<'_>], total: usize, scope: &str) -> String {
    if sets.iter().all(|p| p.workload.is_none()) {
        let sel_text = sel
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        return format!(
            "pods labelled `{sel_text}` (no workload in {scope} matches; the selector stands in for them)"
        );
    }
    let names = names_once(sets);
    let workloads = sets.iter().filter(|p| p.pod.is_none()).count();
    let of = if total > sets.len() && workloads == sets.len() {
        format!(" ({} of the {total} workloads it selects)", sets.len())
    } else {
        String::new()
    };
    format!("{}{of}", names.join(", "))
}

/// The finding for pods that policies isolate, but whose ingress rules let in every source on
/// every port: isolated, and restricted in nothing.
fn opened(
    obj: &Object,
    ns: &str,
    sel: &BTreeMap<String, String>,
    open: &[&PodSet<'_>],
    total: usize,
    scope: &str,
) -> Finding {
    let mut by: Vec<&Object> = open
        .iter()
        .filter_map(|p| p.open_to_all().map(|(o, _)| *o))
        .collect();
    by.dedup_by(|a, b| a.id == b.id);
    let policies: Vec<String> = by
        .iter()
        .map(|o| format!("{} `{}`", o.id.kind_label(), o.id.qualified_name()))
        .collect();
    let who = who(sel, open, total, scope);
    let mut f = Draft {
        object: obj,
        path: "/spec/selector",
        at: At::Key,
        label: "selects pods open to every source",
        message: format!(
            "Service `{}` exposes {who}, which {} {} to every source on every port",
            obj.id.qualified_name(),
            policies.join(" and "),
            if policies.len() == 1 { "opens" } else { "open" }
        )
        .into(),
        help: &format!(
            "Restrict the ingress rules that apply in namespace `{ns}` to the sources that need these pods (a podSelector, a namespaceSelector or an ipBlock narrower than 0.0.0.0/0 and ::/0). A rule open to every source on some ports only is not reported here; the inventory lists those ports as open to all."
        ),
    }
    .finding(&RULE.meta);
    for o in by {
        f.related.push(Label::new(
            o.key_span("/spec/ingress"),
            format!(
                "{} {} admits every source on every port",
                o.id.kind_label(),
                o.id.qualified_name()
            ),
        ));
    }
    f
}

/// Kinds that run pods, for the note on rejected workloads.
const WORKLOADS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "Pod",
    "PodTemplate",
];

/// How many policies the note explains before summarising the rest.
const NOTE_POLICIES: usize = 8;

/// `Deployment ns/a, StatefulSet ns/b (pods b-1, b-2)`: each workload once, with its pods
/// when only some of the pods it runs are meant, and a count when the input holds several
/// objects of that name (overlays, rendered variants).
fn names_once(sets: &[&PodSet<'_>]) -> Vec<String> {
    let mut counts: Vec<(&Object, usize, Vec<&Which>)> = Vec::new();
    for set in sets {
        let Some(w) = set.workload else { continue };
        let i = counts
            .iter()
            .position(|(n, ..)| n.id == w.id)
            .unwrap_or_else(|| {
                counts.push((w, 0, Vec::new()));
                counts.len() - 1
            });
        counts[i].1 += 1;
        counts[i].2.extend(set.pod.as_ref());
    }
    counts
        .into_iter()
        .map(|(w, c, pods)| {
            let of = if w.id.kind == "Pod" {
                ""
            } else {
                "the pods of "
            };
            format!("{of}{}", described(w, c, &pods))
        })
        .collect()
}

/// One workload and, when only some of the pods it runs are meant, those pods.
fn described(w: &Object, c: usize, pods: &[&Which]) -> String {
    let runs = match &w.view {
        View::Workload(wl) => wl.pods().len(),
        _ => 0,
    };
    if pods.is_empty() {
        return if c > 1 {
            format!("{} ({c} copies)", w.id)
        } else {
            w.id.to_string()
        };
    }
    let mut names = Vec::new();
    let mut indexes = Vec::new();
    for p in pods {
        match p {
            Which::Pod(n) => names.push(n.as_str()),
            Which::CompletionIndex(i) => indexes.push(i.to_string()),
        }
    }
    names.dedup();
    indexes.dedup();
    let listed = names.len() + indexes.len();
    if listed >= runs && runs > 1 {
        return w.id.to_string();
    }
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            one.to_string()
        } else {
            many.to_string()
        }
    };
    let which = if names.is_empty() {
        format!(
            "{} {}",
            plural(
                indexes.len(),
                "pod of completion index",
                "pods of completion indexes"
            ),
            indexes.join(", ")
        )
    } else {
        format!(
            "{} {}",
            plural(names.len(), "pod", "pods"),
            names.join(", ")
        )
    };
    format!("{} ({which})", w.id)
}

fn finding(
    obj: &Object,
    ns: &str,
    sel: &BTreeMap<String, String>,
    uncovered: &[&PodSet<'_>],
    policies: &Explanation<'_>,
    total: usize,
    scope: &str,
) -> Finding {
    let who = who(sel, uncovered, total, scope);
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
            "Run these pods on the pod network (without `hostNetwork: true`) behind a NetworkPolicy, or restrict ingress to the nodes with host firewall rules.".to_string()
        } else {
            format!(
                "Add a NetworkPolicy in namespace `{ns}` whose podSelector matches these pods and whose policyTypes include Ingress (or leave policyTypes out)."
            )
        },
    }
    .finding(&RULE.meta);
    for p in uncovered {
        if let Some(w) = p.workload
            && let View::Workload(workload) = &w.view
        {
            let label = if w.id.kind == "Pod" {
                format!("{}, not isolated", w.id)
            } else {
                format!("pods of {}, not isolated", w.id)
            };
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
        let runs = if w.id.kind == "Pod" {
            format!("{} runs", w.id)
        } else {
            format!("the pods of {} run", w.id)
        };
        f.notes.push(format!(
            "{runs} with `hostNetwork: true`; NetworkPolicy does not govern host-network pods (the common plugins ignore them when matching selectors), so no policy can isolate them"
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
    f.notes.push(why_not(ns, policies, scope));
    f
}

/// The note: each policy that applies in the namespace (each name once), and why it did not
/// count.
fn why_not(ns: &str, explained: &Explanation<'_>, scope: &str) -> String {
    let Explanation { policies, applying } = explained;
    if policies.is_empty() {
        return format!(
            "no NetworkPolicy (Kubernetes, Cilium or Calico) in {scope} applies in namespace `{ns}`, so its pods accept ingress from anywhere"
        );
    }
    let mut why: Vec<String> = policies
        .iter()
        .filter_map(|(p, verdict)| {
            verdict
                .as_ref()
                .err()
                .map(|r| format!("{} `{}`: {r}", p.id.kind_label(), p.id.qualified_name()))
        })
        .collect();
    if *applying > policies.len() {
        why.push(format!("and {} more", applying - policies.len()));
    }
    format!(
        "policies that apply in namespace `{ns}` and why none counts: {}",
        why.join("; ")
    )
}
