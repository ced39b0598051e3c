//! EXT014 load-balancer-ip-with-annotation: MetalLB's address annotation together with
//! `spec.loadBalancerIP`, which MetalLB refuses.

use super::{At, Check, Draft, Rule, RuleContext, services};
use crate::finding::{Change, Finding, Fix, RuleMeta, Safety, Severity};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT014",
        name: "load-balancer-ip-with-annotation",
        since: "0.1.0",
        summary: "MetalLB's metallb.io/loadBalancerIPs together with spec.loadBalancerIP, which MetalLB refuses",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT014-load-balancer-ip-with-annotation.md"),
        security_severity: "2.0",
        tags: &["kubernetes", "networking", "correctness"],
    },
    check: Check::Cluster(check),
};

/// MetalLB's error, verbatim (`controller/service.go`, v0.16.1).
const METALLB_ERROR: &str =
    "service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP";

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    for (obj, spec, _) in services(cx) {
        let Some(ip) = spec.load_balancer_ip.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        // MetalLB reads the newer key if present, else the older one.
        let Some(value) = [
            "metallb.io/loadBalancerIPs",
            "metallb.universe.tf/loadBalancerIPs",
        ]
        .iter()
        .find_map(|k| obj.annotations.get(*k)) else {
            continue;
        };
        let mut f = Draft {
            object: obj,
            path: "/spec/loadBalancerIP",
            at: At::Key,
            label: "with a MetalLB annotation",
            message: format!(
                "Service `{}` sets both `spec.loadBalancerIP` and MetalLB's address annotation, which MetalLB refuses (`{METALLB_ERROR}`): the Service gets no address",
                obj.id.qualified_name()
            )
            .into(),
            help: "Keep the annotation and remove `spec.loadBalancerIP` (deprecated since 1.24).",
        }
        .finding(&RULE.meta);
        // Dropping the field keeps the request when the annotation already names its address.
        if value.split(',').any(|e| e.trim() == ip) {
            f.fixes.push(Fix {
                title: "Remove `spec.loadBalancerIP`".into(),
                safety: Safety::Unsafe,
                changes: vec![Change::Remove {
                    key: obj.key_span("/spec/loadBalancerIP"),
                    value: obj.value_span("/spec/loadBalancerIP"),
                }],
                edits: Vec::new(),
                refused: None,
            });
        }
        out.push(f);
    }
}
