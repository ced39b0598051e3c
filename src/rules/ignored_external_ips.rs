//! EXT006 ignored-external-ips: externalIPs on Services where they have no effect.

use super::{At, Check, Draft, Rule, RuleContext, services};
use crate::finding::{Finding, RuleMeta, Severity};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT006",
        name: "ignored-external-ips",
        since: "0.1.0",
        summary: "externalIPs on a headless or ExternalName Service, where Kubernetes ignores them",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT006-ignored-external-ips.md"),
        security_severity: "2.0",
        tags: &["kubernetes", "networking", "correctness"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    for (obj, spec, ips) in services(cx) {
        if ips.is_empty() {
            continue;
        }
        let why = if spec.type_.as_deref() == Some("ExternalName") {
            "an ExternalName Service, which is only a DNS alias"
        } else if spec.cluster_ip.as_deref() == Some("None") {
            "a headless Service (`clusterIP: None`), which kube-proxy does not program"
        } else {
            continue;
        };
        out.push(
            Draft {
                object: obj,
                path: "/spec/externalIPs",
                at: At::Key,
                label: "has no effect here",
                message: format!(
                    "Service `{}` sets externalIPs, but it is {why}, so the addresses are ignored",
                    obj.id.qualified_name()
                )
                .into(),
                help: "Remove `externalIPs`, or give the Service a cluster IP and a type that routes them.",
            }
            .finding(&RULE.meta),
        );
    }
}
