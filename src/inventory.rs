//! The runbook inventory (`--inventory`): one row per external address a Service claims
//! (externalIPs, `loadBalancerIP`, `status.loadBalancer.ingress`), with the facts an outage
//! investigation starts from. Reads the index like a rule, but produces rows, not findings.

use std::net::IpAddr;

use serde::Serialize;

use crate::address;
use crate::config::{AllowEntry, Profile};
use crate::index::Index;
use crate::object::{Object, View};
use crate::profile::ProfileDecision;
use crate::source::Span;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub cluster: String,
    pub address: String,
    /// `externalIPs`, `loadBalancerIP` or `status.loadBalancer.ingress`.
    pub source: &'static str,
    pub service: String,
    pub ports: String,
    /// The allowlist entry that admits the address, or `none`.
    pub allowed_by: String,
    pub profile_verdict: String,
    pub network_policy: String,
    pub owner: String,
    #[serde(skip)]
    pub span: Span,
    /// `file:line`, filled in by the renderer.
    pub location: String,
}

/// Builds the rows in input order.
#[must_use]
pub fn rows(
    objects: &[Object],
    index: &Index<'_>,
    allow: &[AllowEntry],
    owner_keys: &[String],
    profile: &ProfileDecision,
    cluster: &str,
) -> Vec<Row> {
    let mut out = Vec::new();
    for obj in objects {
        let View::Service(svc) = &obj.view else {
            continue;
        };
        let Some(spec) = &svc.spec else { continue };
        let mut addresses: Vec<(String, &'static str, String)> = Vec::new();
        for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
            addresses.push((ip.clone(), "externalIPs", format!("/spec/externalIPs/{i}")));
        }
        if let Some(ip) = spec.load_balancer_ip.as_ref().filter(|s| !s.is_empty()) {
            addresses.push((ip.clone(), "loadBalancerIP", "/spec/loadBalancerIP".into()));
        }
        let ingress = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|l| l.ingress.as_ref());
        for (i, ing) in ingress.into_iter().flatten().enumerate() {
            if let Some(ip) = &ing.ip {
                addresses.push((
                    ip.clone(),
                    "status.loadBalancer.ingress",
                    format!("/status/loadBalancer/ingress/{i}/ip"),
                ));
            }
        }
        if addresses.is_empty() {
            continue;
        }
        let ports = spec
            .ports
            .iter()
            .flatten()
            .map(|p| format!("{}/{}", p.port, p.protocol.as_deref().unwrap_or("TCP")))
            .collect::<Vec<_>>()
            .join(" ");
        let coverage = coverage(index, obj);
        let owner = owner_keys
            .iter()
            .find_map(|k| obj.labels.get(k).or_else(|| obj.annotations.get(k)))
            .cloned()
            .unwrap_or_default();
        for (addr, source, path) in addresses {
            let ip: Option<IpAddr> = address::effective(&addr);
            let allowed_by = ip
                .and_then(|ip| allow.iter().find(|a| a.net.contains(&ip)))
                .map_or_else(|| "none".to_string(), |a| a.net.to_string());
            let profile_verdict = match (source, profile.profile) {
                ("externalIPs", Profile::Cloud) => {
                    "flagged: externalIPs in a cloud profile".to_string()
                }
                _ if ip.is_none()
                    || matches!(address::classify(&addr), address::Verdict::Invalid { .. }) =>
                {
                    "rejected by the API server".to_string()
                }
                _ => "ok".to_string(),
            };
            out.push(Row {
                cluster: cluster.to_string(),
                address: addr,
                source,
                service: obj.id.qualified_name(),
                ports: ports.clone(),
                allowed_by,
                profile_verdict,
                network_policy: coverage.clone(),
                owner: owner.clone(),
                span: obj.value_span(&path),
                location: String::new(),
            });
        }
    }
    out
}

fn coverage(index: &Index<'_>, svc: &Object) -> String {
    let View::Service(s) = &svc.view else {
        return String::new();
    };
    let Some(sel) = s
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return "n/a (no selector)".into();
    };
    let Some(ns_name) = svc.id.namespace.as_deref() else {
        return String::new();
    };
    let sets = index.coverage(ns_name, sel);
    let mut by: Vec<String> = sets
        .iter()
        .filter_map(|p| {
            p.isolated_by
                .as_ref()
                .map(|(o, _)| format!("{} {}", o.id.kind, o.id.qualified_name()))
        })
        .collect();
    by.sort();
    by.dedup();
    if sets.iter().any(|p| p.host_network) {
        "not covered (hostNetwork)".into()
    } else if sets.iter().any(|p| p.isolated_by.is_none()) {
        if by.is_empty() {
            "not covered".into()
        } else {
            format!("partly covered by {}", by.join(", "))
        }
    } else {
        format!("covered by {}", by.join(", "))
    }
}
