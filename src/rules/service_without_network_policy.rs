//! EXT003 service-without-network-policy: a Service whose pods no `NetworkPolicy` isolates for
//! ingress. Semantics and links: `rules/EXT003-service-without-network-policy.md`.

use std::collections::BTreeMap;

use super::{At, Rule, RuleContext, RuleMeta};
use crate::finding::{Finding, Label, Severity};
use crate::index::{PodSet, isolates, pod_sets, policies_in};
use crate::object::{Object, View};

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

impl Rule for ServiceWithoutNetworkPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ns_name, ns) in &cx.index.namespaces {
            let policies = policies_in(cx.objects, cx.index, ns);
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
                let pods = pod_sets(cx.objects, ns, ns_name, &policies, sel);
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
                    &policies,
                    pods.len(),
                ));
            }
        }
    }
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
