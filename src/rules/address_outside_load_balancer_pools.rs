//! EXT011 address-outside-load-balancer-pools: a load-balancer address a Service asks its
//! implementation for that none of the implementation's pools in the input holds.

use super::{At, Check, Draft, Rule, RuleContext};
use crate::cluster::lb;
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::k8s::implementation::Implementation;
use crate::object::View;
use crate::object::claims::{Reading, Source};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT011",
        name: "address-outside-load-balancer-pools",
        since: "0.1.0",
        summary: "requested load-balancer address that no pool of the cluster's implementation holds, so it is never assigned",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT011-address-outside-load-balancer-pools.md"),
        security_severity: "3.0",
        tags: &["kubernetes", "networking", "correctness"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    // kube-vip takes a requested address as it is, pool or not.
    let Some(implementation) = cx
        .lb
        .implementation
        .filter(|i| *i != Implementation::KubeVip)
    else {
        return;
    };
    let pools: Vec<_> = lb::pools(cx.objects, Some(implementation)).collect();
    if pools.is_empty() {
        return;
    }
    // A pool of the implementation that cannot be read (its EXT900 says so) may hold any
    // address: no verdict rather than "never assigned".
    let unreadable = cx
        .problems
        .iter()
        .filter_map(|p| p.object.as_deref())
        .any(|o| {
            crate::object::pools::pool_kind(
                &o.api_version,
                &o.kind,
                &o.name,
                o.namespace.as_deref(),
            ) == Some(implementation)
        });
    if unreadable {
        return;
    }
    for claim in cx.claims {
        if claim.inert.is_some() || !lb::requested(claim) {
            continue;
        }
        // An annotation of another implementation is EXT012's.
        if let Source::Annotation(a) = claim.source
            && Implementation::of_annotation(a.implementation) != Some(implementation)
        {
            continue;
        }
        if claim.source == Source::GatewayAddress && implementation != Implementation::Gateway {
            continue;
        }
        // A Service of another class is not this implementation's to allocate for.
        if let View::Service(svc) = &claim.object.view
            && !implementation.serves_class(
                svc.spec
                    .as_ref()
                    .and_then(|s| s.load_balancer_class.as_deref()),
            )
        {
            continue;
        }
        let Reading::Accepted { ip, .. } = claim.reading(cx.kubernetes) else {
            continue;
        };
        let obj = claim.object;
        let serves = |p: &crate::object::pools::AddressPool| {
            !matches!(obj.view, View::Service(_))
                || p.serves(
                    &obj.labels,
                    obj.id.namespace.as_deref().unwrap_or_default(),
                    &obj.id.name,
                )
        };
        if pools.iter().any(|(_, p)| p.contains(ip) && serves(p)) {
            continue;
        }
        let list = pools
            .iter()
            .map(|(o, p)| format!("`{}` ({})", o.id.qualified_name(), p.describe()))
            .collect::<Vec<_>>()
            .join("; ");
        let mut f = Draft {
            object: obj,
            path: &claim.path,
            at: At::Value,
            label: "in no pool",
            message: format!(
                "{} `{}` asks {} for `{}` ({}), which none of its pools holds ({list}): the address is never assigned and the Service waits for one",
                obj.id.kind,
                obj.id.qualified_name(),
                implementation.name(),
                claim.entry,
                claim.source.name()
            )
            .into(),
            help: "Request an address one of the pools holds, or add a pool that holds this one (EXT007's fix writes one only this Service can take).",
        }
        .finding(&RULE.meta);
        for (o, _) in pools.iter().take(4) {
            f.related.push(Label::new(
                o.value_span("/spec"),
                format!("{} pool", implementation.name()),
            ));
        }
        out.push(f);
    }
}
