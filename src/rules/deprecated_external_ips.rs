//! EXT007 deprecated-external-ips: a Service whose externalIPs kube-proxy would program, in a
//! Kubernetes version that deprecates them (KEP-5707): a warning while kube-proxy still programs
//! them, an error once it does not.

use super::{At, Check, Draft, Rule, RuleContext, services};
use crate::finding::{Finding, RuleMeta, Severity};
use crate::object::claims::{Reading, Source};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT007",
        name: "deprecated-external-ips",
        since: "0.1.0",
        summary: "Service sets spec.externalIPs, deprecated from Kubernetes 1.36; an error where kube-proxy no longer programs them",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT007-deprecated-external-ips.md"),
        security_severity: "4.0",
        tags: &["kubernetes", "networking", "deprecation", "CVE-2020-8554"],
    },
    check: Check::Cluster(check),
};

/// The API server's warning, verbatim (`pkg/api/service/warnings.go`, Kubernetes 1.36).
pub const API_WARNING: &str =
    "spec.externalIPs is deprecated and may no longer be implemented in some clusters";

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let fate = cx.kubernetes.external_ips();
    if fate.deprecated_since.is_none() && fate.programmed {
        return;
    }
    for (obj, spec, ips) in services(cx) {
        // Headless and ExternalName Services get the "is ignored" warnings instead (EXT006).
        let headless = spec.type_.as_deref().unwrap_or("ClusterIP") == "ClusterIP"
            && spec.cluster_ip.as_deref() == Some("None");
        if ips.is_empty() || headless || spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let name = obj.id.qualified_name();
        let message = match (fate.programmed, fate.deprecated_since) {
            (true, Some(since)) => format!(
                "Service `{name}` sets externalIPs, deprecated since Kubernetes {since}: the API server warns on every create and update (`{API_WARNING}`); {}",
                fate.kube_proxy()
            ),
            _ => format!(
                "Service `{name}` sets externalIPs, but {}: the Service is accepted and these addresses get no traffic",
                fate.kube_proxy()
            ),
        };
        let mut f = Draft {
            object: obj,
            path: "/spec/externalIPs",
            at: At::Key,
            label: if fate.programmed {
                "deprecated"
            } else {
                "not programmed by kube-proxy"
            },
            message: message.into(),
            help: &super::migrate::advice(
                cx.lb.implementation,
                "Move the address to a `type: LoadBalancer` Service (with your load-balancer implementation's address annotation) or to a Gateway's `spec.addresses`.",
            ),
        }
        .finding(&RULE.meta);
        if !fate.programmed {
            f.severity = Severity::Error;
        }
        let readings: Vec<Reading> = cx
            .claims
            .iter()
            .filter(|c| std::ptr::eq(c.object, obj) && c.source == Source::ExternalIps)
            .map(|c| c.reading(cx.kubernetes))
            .collect();
        let addresses: Vec<std::net::IpAddr> = readings
            .iter()
            .filter_map(|r| match r {
                Reading::Accepted { ip, .. } => Some(*ip),
                Reading::Rejected { .. } => None,
            })
            .collect();
        if let Some(mut fix) =
            super::migrate::to_load_balancer(cx, obj, "/spec/externalIPs", &addresses)
        {
            // Every address moves, or none: a rejected entry is fixed first (EXT004).
            if addresses.len() < readings.len() {
                fix.changes.clear();
                fix.refused = Some("some entries are rejected (EXT004); fix them first".into());
            }
            f.fixes.push(fix);
        }
        if f.fixes.is_empty() {
            f.notes.push(format!(
                "the replacement for this cluster: {}",
                super::migrate::target(cx.lb.implementation)
            ));
        }
        out.push(f);
    }
}
