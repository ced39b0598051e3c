//! The way off `externalIPs` (and `loadBalancerIP`) for the cluster's load-balancer
//! implementation: the same Service as `type: LoadBalancer` with the implementation's address
//! annotation holding the same addresses, and the pool to add when no pool in the input holds
//! them. One place, used by EXT007's and EXT009's fixes and the inventory's migration column.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::cluster::lb;
use crate::finding::{Change, Fix, Safety};
use crate::k8s::implementation::ADDRESS_ANNOTATIONS;
use crate::k8s::implementation::Implementation;
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

/// How to request an address from the cluster's implementation, for a rule's help; `generic`
/// when the implementation is not known.
#[must_use]
pub fn advice(implementation: Option<Implementation>, generic: &str) -> String {
    match implementation {
        Some(Implementation::Gateway) => {
            "Request the address in a Gateway's `spec.addresses` instead.".into()
        }
        Some(Implementation::Manual) => "Use a `type: LoadBalancer` Service with a `loadBalancerClass` no controller implements, and write the address to its status.".into(),
        Some(i) => match i.address_annotation() {
            Some((key, json)) => format!(
                "Request the address from {} instead: a `type: LoadBalancer` Service with annotation `{key}`{}.",
                i.name(),
                if json { " (a JSON list)" } else { "" }
            ),
            None => generic.into(),
        },
        None => generic.into(),
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
    let listed = addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    // A Service that already is `type: LoadBalancer` only changes where it asks.
    let title = if spec.type_.as_deref() == Some("LoadBalancer") {
        format!(
            "Ask {} for {listed} with `{key}` instead of `{}`",
            implementation.name(),
            field.trim_start_matches('/').replace('/', ".")
        )
    } else {
        format!(
            "Make it a LoadBalancer Service that asks {} for {listed} with `{key}`",
            implementation.name()
        )
    };
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
    // Another object asking for the same address: migrated alone, or both migrated without a
    // sharing key (and with two pools holding it), the implementation would give it to one.
    if let Some((other, address)) = addresses.iter().find_map(|a| {
        let others = cx.by_address.get(a)?;
        let c = others
            .iter()
            .map(|&i| &cx.claims[i])
            .find(|c| !std::ptr::eq(c.object, obj))?;
        Some((c.object, *a))
    }) {
        return refuse(format!(
            "{} `{}` asks for `{address}` too; migrate the objects that share it together, by hand, with the implementation's sharing key",
            other.id.kind,
            other.id.qualified_name()
        ));
    }
    // Any address annotation of the implementation, the superseded key too: merging lists is
    // for people.
    if let Some(a) = ADDRESS_ANNOTATIONS.iter().find(|a| {
        Implementation::of_annotation(a.implementation) == Some(implementation)
            && obj.annotations.contains_key(a.key)
    }) {
        return refuse(format!(
            "the Service already has `{}`; merge the addresses by hand",
            a.key
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
    // Quoted when a flow mapping or a YAML reader could take `,` or `:` for syntax.
    let value = if json {
        format!("'{}'", serde_json::to_string(&list).unwrap_or_default())
    } else if list.iter().any(|a| a.contains(':')) || list.len() > 1 {
        format!("\"{}\"", list.join(","))
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

/// The pool to add when the input declares the implementation's pools and none holds some of
/// the addresses: one with only those addresses (pools must not overlap), that only this
/// Service can have (MetalLB `autoAssign: false`, Cilium's service selector), in the API
/// version the input's pools use. Pools kept elsewhere are not second-guessed: without any in
/// the input, nothing is added.
fn pool_document(
    cx: &RuleContext<'_>,
    obj: &Object,
    implementation: Implementation,
    addresses: &[IpAddr],
) -> Option<String> {
    let pools: Vec<_> = lb::pools(cx.objects, Some(implementation)).collect();
    let first = &pools.first()?.0.id;
    let api_version = first.api_version.clone();
    let pool_ns = first.namespace.as_deref().unwrap_or("metallb-system");
    let addresses: Vec<IpAddr> = addresses
        .iter()
        .copied()
        .filter(|a| !pools.iter().any(|(_, p)| p.contains(*a)))
        .collect();
    if addresses.is_empty() {
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
            "# Addresses only this Service gets: it asks for them, and autoAssign is off.\napiVersion: {api_version}\nkind: IPAddressPool\nmetadata:\n  name: {name}\n  namespace: {pool_ns}\nspec:\n  addresses:\n{}  autoAssign: false\n",
            addresses.iter().fold(String::new(), |mut out, a| {
                let _ = writeln!(out, "    - {}", host(a));
                out
            })
        )),
        Implementation::Cilium => Some(format!(
            "# Addresses only this Service gets: the selector names it.\napiVersion: {api_version}\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: {ns}-{name}\nspec:\n  blocks:\n{}  serviceSelector:\n    matchLabels:\n      io.kubernetes.service.namespace: {ns}\n      io.kubernetes.service.name: {}\n",
            addresses.iter().fold(String::new(), |mut out, a| {
                let _ = writeln!(out, "    - cidr: {}", host(a));
                out
            }),
            obj.id.name
        )),
        _ => None,
    }
}
