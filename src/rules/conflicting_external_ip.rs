//! EXT005 conflicting-external-ip: two objects claiming one address where only one of them can
//! have it: the same address, port and protocol (whichever kube-proxy programs last receives the
//! traffic, CVE-2020-8554), or one address two Services ask an allocator for without the
//! sharing key that lets them share it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{At, Check, Draft, Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::Object;
use crate::object::claims::{Claim, Class, Reading, Source};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT005",
        name: "conflicting-external-ip",
        since: "0.1.0",
        summary: "two or more Services (or Gateways) claim the same address for the same port and protocol, or ask for one address without a shared sharing key",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT005-conflicting-external-ip.md"),
        security_severity: "8.8",
        tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
    },
    check: Check::Cluster(check),
};

/// Earlier allocated claims on one address compared with each new one, at most.
const COMPARED: usize = 16;

/// Other claims a finding points at, at most.
const PARTNERS: usize = 8;

/// One claim in conflict: why, and with whom.
#[derive(Default)]
struct Conflict {
    /// `on 443/TCP, 80/TCP`, or why the address cannot be shared.
    ports: Vec<String>,
    why: Option<String>,
    /// An older claim it conflicts with (history says so).
    older: Option<usize>,
    /// Other claims it conflicts with, older ones first.
    partners: Vec<usize>,
    /// Reported: it is not older than every claim it conflicts with.
    reported: bool,
}

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    // In order of object identity, so the result does not depend on the order of files.
    let mut claims: Vec<(&Claim<'_>, IpAddr, bool)> = cx
        .claims
        .iter()
        .filter(|c| c.inert.is_none() && !cx.is_refused(c.object))
        .filter_map(|c| match c.reading(cx.kubernetes) {
            Reading::Accepted { ip, .. } => {
                Some((c, ip, cx.history.keys.contains(&c.key(cx.cluster))))
            }
            Reading::Rejected { .. } => None,
        })
        .collect();
    claims
        .sort_by(|a, b| (&a.0.object.id, a.0.object.span).cmp(&(&b.0.object.id, b.0.object.span)));
    let mut conflicts: BTreeMap<usize, Conflict> = BTreeMap::new();
    // Claims on one address, port and protocol: each object once.
    let mut on_port: BTreeMap<(IpAddr, i32, &str), Vec<usize>> = BTreeMap::new();
    for (i, (claim, ip, _)) in claims.iter().enumerate() {
        for (port, proto) in &claim.ports {
            let group = on_port.entry((*ip, *port, proto.as_str())).or_default();
            if !group
                .iter()
                .any(|&j| claims[j].0.object.id == claim.object.id)
            {
                group.push(i);
            }
        }
    }
    for ((_, port, proto), group) in &on_port {
        if group.len() < 2 {
            continue;
        }
        // Older claims first: a sample of the others that holds an older one if any.
        let mut ordered = group.clone();
        ordered.sort_by_key(|&j| !claims[j].2);
        for &i in group {
            let others: Vec<usize> = ordered
                .iter()
                .copied()
                .filter(|&j| j != i)
                .take(PARTNERS)
                .collect();
            let c = conflicts.entry(i).or_default();
            c.ports.push(format!("{port}/{proto}"));
            relate(c, i, &others, &claims);
        }
    }
    // Allocated addresses two Services cannot share, on different ports.
    let mut allocated: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (i, (claim, ip, _)) in claims.iter().enumerate() {
        if claim.source.class() != Class::Allocated {
            continue;
        }
        let earlier = allocated.entry(*ip).or_default();
        for &j in earlier.iter() {
            let other = claims[j].0;
            if other.object.id == claim.object.id || shares_a_port(other, claim) {
                continue;
            }
            if let Some(why) = unshareable(other, claim) {
                for (a, b) in [(i, j), (j, i)] {
                    let c = conflicts.entry(a).or_default();
                    c.why.get_or_insert_with(|| why.clone());
                    relate(c, a, &[b], &claims);
                }
            }
        }
        if earlier.len() < COMPARED {
            earlier.push(i);
        }
    }
    let mut reported: Vec<(&Object, IpAddr)> = Vec::new();
    for (i, c) in &conflicts {
        let (claim, ip, _) = claims[*i];
        let obj = claim.object;
        if !c.reported
            || reported
                .iter()
                .any(|(o, a)| std::ptr::eq(*o, obj) && *a == ip)
        {
            continue;
        }
        reported.push((obj, ip));
        out.push(finding(cx, &claims, *i, c));
    }
}

/// Records that claim `i` conflicts with `others`: older ones come first, and `i` is reported
/// unless it is older and every other is newer.
fn relate(c: &mut Conflict, i: usize, others: &[usize], claims: &[(&Claim<'_>, IpAddr, bool)]) {
    let old = |j: usize| claims[j].2;
    for &j in others {
        if old(j) && !old(i) && c.older.is_none() {
            c.older = Some(j);
        }
        c.reported |= !old(i) || old(j);
        if !c.partners.contains(&j) && c.partners.len() < PARTNERS {
            c.partners.push(j);
        }
    }
    c.partners.sort_by_key(|&j| !old(j));
}

fn shares_a_port(a: &Claim<'_>, b: &Claim<'_>) -> bool {
    a.ports.iter().any(|p| b.ports.contains(p))
}

fn finding(
    cx: &RuleContext<'_>,
    claims: &[(&Claim<'_>, IpAddr, bool)],
    i: usize,
    c: &Conflict,
) -> Finding {
    let (claim, _, _) = claims[i];
    let obj = claim.object;
    let named = |j: usize| {
        let o = claims[j].0.object;
        format!("{} `{}`", o.id.kind, o.id.qualified_name())
    };
    // On shared ports the ports say it all; otherwise why the address cannot be shared.
    let (on, why) = if c.ports.is_empty() {
        (
            String::new(),
            format!(", {}", c.why.clone().unwrap_or_default()),
        )
    } else {
        (format!(" on {}", c.ports.join(", ")), String::new())
    };
    let what = format!("{} `{}`", claim.source.noun(), claim.entry);
    let label = cx.history.label.as_deref().unwrap_or("before");
    let message = if let Some(j) = c.older {
        format!(
            "{} `{}` claims {what}{on}, which {} already claimed {label}{why}",
            obj.id.kind,
            obj.id.qualified_name(),
            named(j),
        )
    } else {
        let mut others: Vec<String> = c.partners.iter().take(3).map(|&j| named(j)).collect();
        if c.partners.len() > 3 {
            others.push(format!("{} more", c.partners.len() - 3));
        }
        let others = match others.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        let verb = if c.partners.len() == 1 { "does" } else { "do" };
        format!(
            "{} `{}` claims {what}{on}, as {verb} {others}{why}",
            obj.id.kind,
            obj.id.qualified_name(),
        )
    };
    let mut f = Draft {
        object: obj,
        path: &claim.path,
        at: At::Value,
        label: "claimed more than once",
        message: message.into(),
        help: "Give each Service its own address, merge the Services, or give both the same sharing key if the implementation may share the address; remove claims on addresses you do not own.",
    }
    .finding(&RULE.meta);
    for &j in &c.partners {
        let (other, _, old) = claims[j];
        let spelled = if other.entry == claim.entry {
            String::new()
        } else {
            format!(" as `{}`", other.entry)
        };
        let text = if old && cx.history.label.is_some() {
            format!("claimed {label}{spelled}")
        } else {
            format!("also claimed here{spelled}")
        };
        f.related
            .push(Label::new(other.object.value_span(&other.path), text));
    }
    f
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
            let refusing = if admits(a, &ns(later)) { later } else { first };
            let other_ns = if std::ptr::eq(refusing, first) {
                ns(later)
            } else {
                ns(first)
            };
            Some(format!(
                "with the same `lbipam.cilium.io/sharing-key` `{x}`, but across namespaces, and {} `{}` does not admit namespace `{other_ns}` in `lbipam.cilium.io/sharing-cross-namespace`",
                refusing.object.id.kind,
                refusing.object.id.qualified_name()
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
    let uses = |name: &str, key: fn(&crate::object::claims::Sharing) -> &Option<String>| {
        [first, later]
            .iter()
            .any(|c| implementation(c) == Some(name) || key(&c.sharing).is_some())
    };
    let mut keys = Vec::new();
    let mut who = Vec::new();
    for (name, key, field) in [
        (
            "MetalLB",
            (|s: &crate::object::claims::Sharing| &s.metallb) as fn(&_) -> &_,
            "metallb.io/allow-shared-ip",
        ),
        ("Cilium", |s| &s.cilium, "lbipam.cilium.io/sharing-key"),
    ] {
        if !uses(name, key) {
            continue;
        }
        who.push(name);
        keys.push(match (key(a), key(b)) {
            (Some(x), Some(y)) => format!("`{field}` differs (`{x}`, `{y}`)"),
            _ => format!("not both carry `{field}`"),
        });
    }
    Some(format!(
        "on other ports, but {}, so {} gives the address to one of them only",
        keys.join(" and "),
        who.join(" or ")
    ))
}
