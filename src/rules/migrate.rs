//! The way off `externalIPs` (and `loadBalancerIP`) for the cluster's load-balancer
//! implementation: the same Service as `type: LoadBalancer` with the implementation's address
//! annotation holding the same addresses, and the pool to add when no pool in the input holds
//! them. One place, used by EXT007's and EXT009's fixes and the inventory's migration column.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::finding::{Change, Fix, Safety};
use crate::implementation::Implementation;
use crate::lb;
use crate::object::{Object, View};

use super::RuleContext;

/// The replacement for one implementation, in words: `MetalLB: metallb.io/loadBalancerIPs`.
#[must_use]
pub fn target(implementation: Option<Implementation>) -> String {
    match implementation {
        Some(i) => match i.address_annotation() {
            Some((key, _)) => format!("{}: type LoadBalancer, {key}", i.name()),
            None if i == Implementation::Gateway => "Gateway API: spec.addresses".into(),
            None => "manual: type LoadBalancer with an unimplemented loadBalancerClass".into(),
        },
        None => "no load-balancer implementation found (set `load-balancer:`)".into(),
    }
}

/// Why an implementation cannot take `addresses` in one annotation, if it cannot.
fn too_many(i: Implementation, addresses: &[IpAddr]) -> Option<String> {
    let v4 = addresses.iter().filter(|a| a.is_ipv4()).count();
    let v6 = addresses.len() - v4;
    matches!(i, Implementation::MetalLb | Implementation::Calico)
        .then_some(())
        .filter(|()| v4 > 1 || v6 > 1)
        .map(|()| {
            format!(
                "{} gives a Service at most one IPv4 and one IPv6 address; split the Service into one per address",
                i.name()
            )
        })
}

/// The fix that turns `obj` into a `LoadBalancer` Service asking the cluster's implementation
/// for `addresses`, removing the field at `field` (`/spec/externalIPs`, `/spec/loadBalancerIP`).
#[must_use]
pub fn to_load_balancer(
    cx: &RuleContext<'_>,
    obj: &Object,
    field: &str,
    addresses: &[IpAddr],
) -> Option<Fix> {
    let View::Service(svc) = &obj.view else {
        return None;
    };
    let spec = svc.spec.as_ref()?;
    let implementation = cx.lb.implementation?;
    let (key, json) = implementation.address_annotation()?;
    let title = format!(
        "Make it a LoadBalancer Service that asks {} for {} with `{key}`",
        implementation.name(),
        addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let refuse = |why: String| {
        Some(Fix {
            title: title.clone(),
            safety: Safety::Unsafe,
            changes: Vec::new(),
            edits: Vec::new(),
            refused: Some(why),
        })
    };
    if let Some(why) = too_many(implementation, addresses) {
        return refuse(why);
    }
    if obj.annotations.contains_key(key) {
        return refuse(format!(
            "the Service already has `{key}`; merge the addresses by hand"
        ));
    }
    if field != "/spec/loadBalancerIP"
        && spec
            .load_balancer_ip
            .as_deref()
            .is_some_and(|s| !s.is_empty())
    {
        return refuse(
            "the Service also sets `spec.loadBalancerIP`; move it first (EXT009)".into(),
        );
    }
    let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    let value = if json {
        format!("'{}'", serde_json::to_string(&list).unwrap_or_default())
    } else {
        list.join(",")
    };
    let mut changes = Vec::new();
    match spec.type_.as_deref() {
        Some("LoadBalancer") => {}
        Some(_) => changes.push(Change::Value {
            span: obj.value_span("/spec/type"),
            value: "LoadBalancer".into(),
        }),
        None => changes.push(Change::Add {
            mapping: obj.value_span("/spec"),
            key: "type".into(),
            value: "LoadBalancer".into(),
        }),
    }
    changes.push(Change::Remove {
        key: obj.key_span(field),
        value: obj.value_span(field),
    });
    if obj.has("/metadata/annotations") {
        changes.push(Change::Add {
            mapping: obj.value_span("/metadata/annotations"),
            key: key.into(),
            value,
        });
    } else if obj.has("/metadata") {
        changes.push(Change::Add {
            mapping: obj.value_span("/metadata"),
            key: "annotations".into(),
            value: format!("{{{key}: {value}}}"),
        });
    } else {
        return refuse("the Service has no `metadata` to annotate".into());
    }
    if let Some(pool) = pool_document(cx, obj, implementation, addresses) {
        changes.push(Change::Document {
            file: obj.file,
            text: pool,
        });
    }
    Some(Fix {
        title,
        safety: Safety::Unsafe,
        changes,
        edits: Vec::new(),
        refused: None,
    })
}

/// The pool to add when no pool of the implementation in the input holds every address: one
/// that only this Service can have (MetalLB `autoAssign: false`, Cilium's service selector).
fn pool_document(
    cx: &RuleContext<'_>,
    obj: &Object,
    implementation: Implementation,
    addresses: &[IpAddr],
) -> Option<String> {
    let pools: Vec<_> = lb::pools(cx.objects, Some(implementation)).collect();
    if addresses
        .iter()
        .all(|a| pools.iter().any(|(_, p)| p.contains(*a)))
    {
        return None;
    }
    let name = format!("{}-{}", obj.id.name, "external-ips");
    let host = |a: &IpAddr| match a {
        IpAddr::V4(_) => format!("{a}/32"),
        IpAddr::V6(_) => format!("{a}/128"),
    };
    let ns = obj.id.namespace.as_deref().unwrap_or("default");
    match implementation {
        Implementation::MetalLb => Some(format!(
            "# Addresses only this Service gets: it asks for them, and autoAssign is off.\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: {name}\n  namespace: metallb-system\nspec:\n  addresses:\n{}  autoAssign: false\n",
            addresses.iter().fold(String::new(), |mut out, a| {
                let _ = writeln!(out, "    - {}", host(a));
                out
            })
        )),
        Implementation::Cilium => Some(format!(
            "# Addresses only this Service gets: the selector names it.\napiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: {ns}-{name}\nspec:\n  blocks:\n{}  serviceSelector:\n    matchLabels:\n      io.kubernetes.service.namespace: {ns}\n      io.kubernetes.service.name: {}\n",
            addresses.iter().fold(String::new(), |mut out, a| {
                let _ = writeln!(out, "    - cidr: {}", host(a));
                out
            }),
            obj.id.name
        )),
        _ => None,
    }
}
