//! EXT009 deprecated-load-balancer-ip: `spec.loadBalancerIP`, deprecated since Kubernetes 1.24
//! in favour of each implementation's own annotation.

use super::{At, Check, Draft, Rule, RuleContext, services};
use crate::finding::{Change as Edit, Finding, Fix, RuleMeta, Safety, Severity};
use crate::k8s::kubernetes::Change as Milestone;

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT009",
        name: "deprecated-load-balancer-ip",
        since: "0.1.0",
        summary: "Service sets spec.loadBalancerIP, deprecated since Kubernetes 1.24 in favour of implementation-specific annotations",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT009-deprecated-load-balancer-ip.md"),
        security_severity: "2.0",
        tags: &["kubernetes", "networking", "deprecation"],
    },
    check: Check::Cluster(check),
};

/// The annotation each implementation reads instead.
pub const REPLACEMENTS: &str = "MetalLB `metallb.io/loadBalancerIPs`, Cilium `lbipam.cilium.io/ips`, kube-vip `kube-vip.io/loadbalancerIPs`, Calico `projectcalico.org/loadBalancerIPs` (a JSON list), GKE `networking.gke.io/load-balancer-ip-addresses`, AKS `service.beta.kubernetes.io/azure-load-balancer-ipv4`";

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let Some(since) = cx.kubernetes.since(Milestone::LoadBalancerIpDeprecated) else {
        return;
    };
    for (obj, spec, _) in services(cx) {
        let Some(ip) = spec.load_balancer_ip.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let mut f =
            Draft {
                object: obj,
                path: "/spec/loadBalancerIP",
                at: At::Key,
                label: "deprecated",
                message: format!(
                    "Service `{}` sets `spec.loadBalancerIP`, deprecated since Kubernetes {}: its meaning varies across implementations and it has no dual-stack form",
                    obj.id.qualified_name(),
                    since.since
                )
                .into(),
                help: &super::migrate::advice(
                    cx.lb.implementation,
                    &format!(
                        "Request the address with your load-balancer implementation's annotation instead: {REPLACEMENTS}."
                    ),
                ),
            }
            .finding(&RULE.meta);
        if spec.type_.as_deref() != Some("LoadBalancer") {
            // Nothing reads it on this type: removing it changes nothing.
            f.fixes.push(Fix {
                title: "Remove `spec.loadBalancerIP`, which only LoadBalancer Services use".into(),
                safety: Safety::Safe,
                changes: vec![Edit::Remove {
                    key: obj.key_span("/spec/loadBalancerIP"),
                    value: obj.value_span("/spec/loadBalancerIP"),
                }],
                edits: Vec::new(),
                refused: None,
            });
        } else if let Some(p) = crate::k8s::address::parse(ip) {
            f.fixes.extend(super::migrate::to_load_balancer(
                cx,
                obj,
                "/spec/loadBalancerIP",
                &[p.ip],
            ));
        }
        out.push(f);
    }
}
