//! EXT005 conflicting-external-ip: two objects claiming one address where only one of them can
//! have it: the same address, port and protocol (whichever kube-proxy programs last receives the
//! traffic, CVE-2020-8554), or one address two Services ask an allocator for without the
//! sharing key that lets them share it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{At, Draft, Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::Object;
use crate::object::claims::{Claim, Class, Reading, Source};

pub static META: RuleMeta = RuleMeta {
    code: "EXT005",
    name: "conflicting-external-ip",
    summary: "two or more Services (or Gateways) claim the same address for the same port and protocol, or ask for one address without a shared sharing key",
    default_severity: Severity::Error,
    docs: include_str!("../../rules/EXT005-conflicting-external-ip.md"),
    security_severity: "8.8",
    tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
};

pub struct ConflictingExternalIp;

/// Earlier allocated claims on one address compared with each new one, at most.
const COMPARED: usize = 16;

impl Rule for ConflictingExternalIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        // The first claim is the one of the smallest object identity, so the result does not
        // depend on the order files were given in.
        let mut claims: Vec<(&Claim<'_>, IpAddr)> = cx
            .claims
            .iter()
            .filter(|c| c.inert.is_none())
            .filter_map(|c| match c.reading(cx.kubernetes) {
                Reading::Accepted { ip, .. } => Some((c, ip)),
                Reading::Rejected { .. } => None,
            })
            .collect();
        claims.sort_by(|a, b| {
            (&a.0.object.id, a.0.object.span).cmp(&(&b.0.object.id, b.0.object.span))
        });
        let mut on_port: BTreeMap<(IpAddr, i32, &str), &Claim<'_>> = BTreeMap::new();
        let mut allocated: BTreeMap<IpAddr, Vec<&Claim<'_>>> = BTreeMap::new();
        let mut reported: Vec<(&Object, IpAddr)> = Vec::new();
        for &(claim, ip) in &claims {
            let obj = claim.object;
            let mut clash: Option<(&Claim<'_>, String)> = None;
            let mut shared = Vec::new();
            for (port, proto) in &claim.ports {
                match on_port.get(&(ip, *port, proto.as_str())) {
                    Some(&other) if other.object.id != obj.id => {
                        shared.push(format!("{port}/{proto}"));
                        clash.get_or_insert((other, String::new()));
                    }
                    Some(_) => {}
                    None => {
                        on_port.insert((ip, *port, proto.as_str()), claim);
                    }
                }
            }
            if let Some((_, why)) = &mut clash {
                *why = format!("on {}", shared.join(", "));
            } else if claim.source.class() == Class::Allocated {
                let earlier = allocated.entry(ip).or_default();
                clash = earlier
                    .iter()
                    .filter(|o| o.object.id != obj.id)
                    .find_map(|o| unshareable(o, claim).map(|why| (*o, why)));
                if earlier.len() < COMPARED {
                    earlier.push(claim);
                }
            }
            let Some((other, why)) = clash else { continue };
            if reported
                .iter()
                .any(|(o, i)| std::ptr::eq(*o, obj) && *i == ip)
            {
                continue;
            }
            reported.push((obj, ip));
            let theirs = if other.source == claim.source {
                String::new()
            } else {
                format!(" as its {}", other.source.noun())
            };
            let mut f = Draft {
                object: obj,
                path: &claim.path,
                at: At::Value,
                label: "claimed twice",
                message: format!(
                    "{} `{}` claims {} `{}` {why}, which {} `{}` already claims{theirs}",
                    obj.id.kind,
                    obj.id.qualified_name(),
                    claim.source.noun(),
                    claim.entry,
                    other.object.id.kind,
                    other.object.id.qualified_name(),
                )
                .into(),
                help: "Give each Service its own address, merge the Services, or give both the same sharing key if the implementation may share the address; remove claims on addresses you do not own.",
            }
            .finding(&META);
            f.related.push(Label::new(
                other.object.value_span(&other.path),
                format!("first claimed here as `{}`", other.entry),
            ));
            out.push(f);
        }
    }
}

/// Why an allocator cannot give the address of `first` to `later` as well (their ports differ),
/// if it cannot. Only MetalLB and Cilium are known to refuse a second Service without a shared
/// key; an address asked for only through `spec.loadBalancerIP` by Services without any key
/// depends on an implementation the manifests do not name, and is not a conflict.
fn unshareable(first: &Claim<'_>, later: &Claim<'_>) -> Option<String> {
    let (a, b) = (&first.sharing, &later.sharing);
    let implementation = |c: &Claim<'_>| match c.source {
        Source::Annotation(x) => Some(x.implementation),
        _ => None,
    };
    let keyed = |c: &Claim<'_>| c.sharing.metallb.is_some() || c.sharing.cilium.is_some();
    let known = [implementation(first), implementation(later)]
        .into_iter()
        .flatten()
        .any(|i| i == "MetalLB" || i == "Cilium");
    if first.source.class() != Class::Allocated || !(known || keyed(first) || keyed(later)) {
        return None;
    }
    if let (Some(x), Some(y)) = (&a.metallb, &b.metallb)
        && x == y
    {
        return (a.local_selector != b.local_selector).then(|| {
            format!(
                "with the same `metallb.io/allow-shared-ip` key `{x}`, but MetalLB shares an address only between Services that both use `externalTrafficPolicy: Cluster` or select the same pods"
            )
        });
    }
    if let (Some(x), Some(y)) = (&a.cilium, &b.cilium)
        && x == y
    {
        let port_numbers = |c: &Claim<'_>| c.ports.iter().map(|p| p.0).collect::<Vec<_>>();
        let common = port_numbers(first)
            .into_iter()
            .find(|p| port_numbers(later).contains(p));
        let ns = |c: &Claim<'_>| c.object.id.namespace.clone().unwrap_or_default();
        let admits = |s: &crate::object::claims::Sharing, other: &str| {
            s.cilium_cross_namespace
                .iter()
                .any(|n| n == "*" || n == other)
        };
        return if let Some(p) = common {
            Some(format!(
                "with the same `lbipam.cilium.io/sharing-key` `{x}`, but both use port {p}, and Cilium tells ports apart by number only"
            ))
        } else if ns(first) != ns(later) && !(admits(a, &ns(later)) && admits(b, &ns(first))) {
            Some(format!(
                "with the same `lbipam.cilium.io/sharing-key` `{x}`, but from another namespace, which neither `lbipam.cilium.io/sharing-cross-namespace` admits"
            ))
        } else if a.local_selector.is_some() != b.local_selector.is_some()
            || a.local_selector
                .as_ref()
                .is_some_and(|s| s.is_empty() || Some(s) != b.local_selector.as_ref())
        {
            Some(format!(
                "with the same `lbipam.cilium.io/sharing-key` `{x}`, but Cilium shares an address only between Services with the same `externalTrafficPolicy` (and, for Local, the same selector)"
            ))
        } else {
            None
        };
    }
    Some(
        "without the same sharing key (`metallb.io/allow-shared-ip`, `lbipam.cilium.io/sharing-key`) on both, so the load-balancer implementation gives the address to one of them only"
            .into(),
    )
}
