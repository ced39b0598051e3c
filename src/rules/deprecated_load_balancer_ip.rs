//! EXT009 deprecated-load-balancer-ip: `spec.loadBalancerIP`, deprecated since Kubernetes 1.24
//! in favour of each implementation's own annotation.

use super::{At, Draft, Rule, RuleContext, services};
use crate::finding::{Finding, RuleMeta, Severity};
use crate::kubernetes::Change;

pub static META: RuleMeta = RuleMeta {
    code: "EXT009",
    name: "deprecated-load-balancer-ip",
    summary: "Service sets spec.loadBalancerIP, deprecated since Kubernetes 1.24 in favour of implementation-specific annotations",
    default_severity: Severity::Warning,
    docs: include_str!("../../rules/EXT009-deprecated-load-balancer-ip.md"),
    security_severity: "2.0",
    tags: &["kubernetes", "networking", "deprecation"],
};

/// The annotation each implementation reads instead.
pub const REPLACEMENTS: &str = "MetalLB `metallb.io/loadBalancerIPs`, Cilium `lbipam.cilium.io/ips`, kube-vip `kube-vip.io/loadbalancerIPs`, Calico `projectcalico.org/loadBalancerIPs` (a JSON list), GKE `networking.gke.io/load-balancer-ip-addresses`, AKS `service.beta.kubernetes.io/azure-load-balancer-ipv4`";

pub struct DeprecatedLoadBalancerIp;

impl Rule for DeprecatedLoadBalancerIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let Some(since) = cx.kubernetes.since(Change::LoadBalancerIpDeprecated) else {
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
                        "Service `{}` sets `spec.loadBalancerIP`, deprecated since Kubernetes {}: the field is under-specified, its meaning varies across implementations, and it may not support dual-stack",
                        obj.id.qualified_name(),
                        since.since
                    )
                    .into(),
                    help: &format!(
                        "Request the address with your load-balancer implementation's annotation instead: {REPLACEMENTS}."
                    ),
                }
                .finding(&META);
            if let Some(p) = crate::address::parse(ip) {
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
}
