//! EXT005 conflicting-external-ip: two Services claiming the same external address, port and
//! protocol; whichever kube-proxy programs last receives the traffic (CVE-2020-8554).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{At, Draft, Rule, RuleContext, invalid_external_ip, services};
use crate::address::{self, Verdict};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::Object;

pub static META: RuleMeta = RuleMeta {
    code: "EXT005",
    name: "conflicting-external-ip",
    summary: "two or more Services claim the same external IP for the same port and protocol",
    default_severity: Severity::Error,
    docs: include_str!("../../rules/EXT005-conflicting-external-ip.md"),
    security_severity: "8.8",
    tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
};

pub struct ConflictingExternalIp;

impl Rule for ConflictingExternalIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let invalid_reported = cx.enabled.contains(&invalid_external_ip::META);
        // The first claim is the one of the smallest object identity, so the result does not
        // depend on the order files were given in.
        let mut svcs: Vec<_> = services(cx).collect();
        svcs.sort_by(|a, b| (&a.0.id, a.0.span).cmp(&(&b.0.id, b.0.span)));
        let mut first: BTreeMap<(IpAddr, i32, String), (&Object, usize, &str)> = BTreeMap::new();
        for (obj, spec, ips) in svcs {
            // kube-proxy programs no rules for headless and ExternalName Services
            // (`ShouldSkipService`), so their addresses intercept nothing (that is EXT006's).
            if spec.cluster_ip.as_deref() == Some("None")
                || spec.type_.as_deref() == Some("ExternalName")
            {
                continue;
            }
            let ports: Vec<(i32, String)> = spec
                .ports
                .iter()
                .flatten()
                .map(|p| (p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
                .collect();
            for (i, entry) in ips.iter().enumerate() {
                let ip = match address::classify(entry) {
                    Verdict::Valid(ip) => ip,
                    Verdict::Invalid {
                        legacy: Some(ip), ..
                    } if !invalid_reported => ip,
                    Verdict::Invalid { .. } => continue,
                };
                let mut clashes: Vec<(String, &Object, usize, &str)> = Vec::new();
                for (port, proto) in &ports {
                    let key = (ip, *port, proto.clone());
                    match first.get(&key) {
                        Some(&(other, j, other_entry)) if other.id != obj.id => {
                            clashes.push((format!("{port}/{proto}"), other, j, other_entry));
                        }
                        Some(_) => {}
                        None => {
                            first.insert(key, (obj, i, entry));
                        }
                    }
                }
                let Some(&(_, other, j, other_entry)) = clashes.first() else {
                    continue;
                };
                let ports = clashes
                    .iter()
                    .map(|c| c.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut f = Draft {
                    object: obj,
                    path: &format!("/spec/externalIPs/{i}"),
                    at: At::Value,
                    label: "claimed twice",
                    message: format!(
                        "Service `{}` claims external IP `{entry}` on {ports}, which Service `{}` already claims",
                        obj.id.qualified_name(),
                        other.id.qualified_name()
                    )
                    .into(),
                    help: "Give each Service its own address, or merge the Services; remove claims on addresses you do not own.",
                }
                .finding(&META);
                f.related.push(Label::new(
                    other.value_span(&format!("/spec/externalIPs/{j}")),
                    format!("first claimed here as `{other_entry}`"),
                ));
                out.push(f);
            }
        }
    }
}
