//! EXT010 external-ip-in-load-balancer-pool: an externalIPs entry inside a load-balancer
//! implementation's address pool, which the implementation may give to another Service.

use super::{At, Check, Draft, Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::View;
use crate::object::claims::{Reading, Source};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT010",
        name: "external-ip-in-load-balancer-pool",
        since: "0.1.0",
        summary: "externalIPs entry inside a load-balancer pool, which the implementation may give to another Service",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT010-external-ip-in-load-balancer-pool.md"),
        security_severity: "7.0",
        tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let pools: Vec<_> = cx
        .objects
        .iter()
        .filter_map(|o| match &o.view {
            View::AddressPool(p) if p.auto_assign => Some((o, p)),
            _ => None,
        })
        .collect();
    if pools.is_empty() {
        return;
    }
    for claim in cx.claims {
        if claim.source != Source::ExternalIps || claim.inert.is_some() {
            continue;
        }
        let Reading::Accepted { ip, .. } = claim.reading(cx.kubernetes) else {
            continue;
        };
        let Some((pool, p)) = pools.iter().find(|(_, p)| p.contains(ip)) else {
            continue;
        };
        let obj = claim.object;
        let range = p
            .ranges
            .iter()
            .find(|r| r.contains(ip))
            .map(ToString::to_string);
        let mut f = Draft {
            object: obj,
            path: &claim.path,
            at: At::Value,
            label: "inside a load-balancer pool",
            message: format!(
                "Service `{}` uses external IP `{}`, which is in {} pool `{}` ({}): {} may give it to another LoadBalancer Service, and both then receive its traffic",
                obj.id.qualified_name(),
                claim.entry,
                p.implementation.name(),
                pool.id.qualified_name(),
                range.unwrap_or_default(),
                p.implementation.name()
            )
            .into(),
            help: "Ask the implementation for the address instead (a LoadBalancer Service with its annotation, see EXT007's fix), or take the address out of the pool.",
        }
        .finding(&RULE.meta);
        f.related.push(Label::new(
            pool.value_span("/spec"),
            format!("{} pool", p.implementation.name()),
        ));
        out.push(f);
    }
}
