//! The runbook inventory (`--inventory`): one row per address a Service or Gateway claims, from
//! every source (`object::claims`), with the facts an outage investigation or a migration
//! starts from. Reads the claims and the index like a rule, but produces rows, not findings.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::cluster::index::{Index, PodSet};
use crate::cluster::profile::ProfileDecision;
use crate::config::{AllowEntry, Profile};
use crate::k8s::kubernetes::Target;
use crate::object::claims::{Claim, Reading, Source};
use crate::object::workload::Which;
use crate::object::{Object, View};
use crate::source::Span;

/// One inventory row. In JSON the keys are camelCase, as in the report JSON (`allowedBy`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub cluster: String,
    pub address: String,
    /// The field or annotation: `spec.externalIPs`, `metallb.io/loadBalancerIPs`, ...
    pub source: &'static str,
    pub kind: String,
    pub service: String,
    pub ports: String,
    /// The allowlist entry that admits the address, or `none`.
    pub allowed_by: String,
    pub profile_verdict: String,
    /// What the target Kubernetes version does with the field.
    pub kubernetes: String,
    /// For externalIPs and `loadBalancerIP`: what to move the address to, for the cluster's
    /// load-balancer implementation.
    pub migration: String,
    pub network_policy: String,
    pub owner: String,
    /// The route that brings the address to the nodes, from `inventory.route-keys`.
    pub route: String,
    /// The firewall entry that lets traffic to the address in, from `inventory.firewall-keys`.
    pub firewall: String,
    #[serde(skip)]
    pub span: Span,
    /// The claiming object: its namespace and name apart, and where it starts.
    #[serde(skip)]
    pub namespace: Option<String>,
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub object_span: Span,
    /// The pointer of the address's node from the document root, as findings carry it.
    #[serde(skip)]
    pub pointer: String,
    /// The address as its reader takes it, when it is taken: what the runbook's commands use.
    #[serde(skip)]
    pub ip: Option<IpAddr>,
    /// The ports and protocols the address is claimed on.
    #[serde(skip)]
    pub port_list: Vec<(i32, String)>,
    /// The pods the Service reaches and the policies over them, for the exposure map.
    #[serde(skip)]
    pub reach: Arc<Reach>,
    /// `file:line`, filled in by the renderer.
    pub location: String,
}

/// What one cluster's inventory is built from.
pub struct Inputs<'a> {
    pub claims: &'a [Claim<'a>],
    pub index: &'a Index<'a>,
    pub allow: &'a [AllowEntry],
    pub owner_keys: &'a [String],
    pub route_keys: &'a [String],
    pub firewall_keys: &'a [String],
    pub profile: &'a ProfileDecision,
    pub kubernetes: &'a Target,
    pub lb: &'a crate::cluster::lb::LbDecision,
    pub cluster: &'a str,
}

/// What a Service's selector reaches: each set of pods, with the policies over it.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub pods: Vec<PodReach>,
}

/// One set of pods a Service selects.
#[derive(Debug, Clone)]
pub struct PodReach {
    /// `Deployment shop/web` and where it starts; `None` when no workload of the input matches
    /// and the selector stands in.
    pub workload: Option<(String, Span)>,
    /// The selector, `key=value` comma-separated, when no workload stands for the pods.
    pub selector: String,
    /// `hostNetwork: true`: no NetworkPolicy governs these pods.
    pub host_network: bool,
    /// The first policy that isolates the pods for ingress.
    pub isolated_by: Option<(String, Span)>,
    /// Isolating policies that still let every source in on every port.
    pub open_to_all: Vec<(String, Span)>,
}

/// The first label (or, failing that, annotation) among `keys` that `obj` sets.
fn first_of(obj: &Object, keys: &[String]) -> String {
    keys.iter()
        .find_map(|k| obj.labels.get(k).or_else(|| obj.annotations.get(k)))
        .cloned()
        .unwrap_or_default()
}

/// Builds the rows in input order.
#[must_use]
pub fn rows(i: &Inputs<'_>) -> Vec<Row> {
    let mut out = Vec::new();
    let mut last: Option<(&Object, String, Arc<Reach>)> = None;
    for claim in i.claims {
        let obj = claim.object;
        // Coverage once per object, not per address.
        let (coverage, reach) = match &last {
            Some((o, c, r)) if std::ptr::eq(*o, obj) => (c.clone(), Arc::clone(r)),
            _ => {
                let (c, r) = coverage(i.index, obj);
                let r = Arc::new(r);
                last = Some((obj, c.clone(), Arc::clone(&r)));
                (c, r)
            }
        };
        let reading = claim.reading(i.kubernetes);
        let allowed_by = match &reading {
            Reading::Accepted { ip, .. } => i
                .allow
                .iter()
                .find(|a| a.net.contains(ip))
                .map_or_else(|| "none".to_string(), |a| a.net.to_string()),
            Reading::Rejected { .. } => "none".to_string(),
        };
        let profile_verdict = match (&claim.inert, &reading) {
            (_, Reading::Rejected { by, .. }) => format!("rejected by {by}"),
            (Some(why), _) => format!("ignored: {why}"),
            _ if claim.source == Source::ExternalIps && i.profile.profile == Profile::Cloud => {
                "flagged: externalIPs in a cloud profile".to_string()
            }
            (
                _,
                Reading::Accepted {
                    warning: Some(w), ..
                },
            ) => {
                format!("non-standard form: write {}", w.canonical)
            }
            _ => "ok".to_string(),
        };
        let kubernetes = match claim.source {
            Source::ExternalIps if claim.inert.is_none() => i.kubernetes.external_ips().words(),
            Source::LoadBalancerIp => "spec.loadBalancerIP is deprecated since 1.24".to_string(),
            _ => String::new(),
        };
        let migration = match claim.source {
            Source::ExternalIps | Source::LoadBalancerIp => {
                crate::rules::migrate::target(i.lb.implementation)
            }
            _ => String::new(),
        };
        let ports = claim
            .ports
            .iter()
            .map(|(p, proto)| format!("{p}/{proto}"))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Row {
            cluster: i.cluster.to_string(),
            address: claim.entry.clone(),
            source: claim.source.name(),
            kind: obj.id.kind.clone(),
            service: obj.id.qualified_name(),
            ports,
            allowed_by,
            profile_verdict,
            kubernetes,
            migration,
            network_policy: coverage,
            owner: first_of(obj, i.owner_keys),
            route: first_of(obj, i.route_keys),
            firewall: first_of(obj, i.firewall_keys),
            span: obj.value_span(&claim.path),
            namespace: obj.id.namespace.clone(),
            name: obj.id.name.clone(),
            object_span: obj.span,
            pointer: obj.pointer_to(&claim.path),
            ip: match &reading {
                Reading::Accepted { ip, .. } if claim.inert.is_none() => Some(*ip),
                _ => None,
            },
            port_list: claim.ports.clone(),
            reach,
            location: String::new(),
        });
    }
    out
}

/// NetworkPolicy coverage in words, and what the selector reaches.
fn coverage(index: &Index<'_>, svc: &Object) -> (String, Reach) {
    let View::Service(s) = &svc.view else {
        return (String::new(), Reach::default());
    };
    let Some(sel) = s
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return ("n/a (no selector)".into(), Reach::default());
    };
    let Some(ns_name) = svc.id.namespace.as_deref() else {
        return (String::new(), Reach::default());
    };
    let sets = index.coverage(ns_name, sel);
    let reach = Reach {
        pods: sets.iter().map(|p| pod_reach(p, sel)).collect(),
    };
    (words(&sets), reach)
}

/// One pod set for the exposure map.
fn pod_reach(p: &PodSet<'_>, sel: &std::collections::BTreeMap<String, String>) -> PodReach {
    let named = |o: &Object| {
        (
            format!("{} {}", o.id.kind_label(), o.id.qualified_name()),
            o.span,
        )
    };
    let mut workload = p.workload.map(named);
    if let (Some((text, _)), Some(which)) = (&mut workload, &p.pod) {
        match which {
            Which::Pod(name) => {
                let _ = write!(text, " (pod {name})");
            }
            Which::CompletionIndex(n) => {
                let _ = write!(text, " (completion index {n})");
            }
        }
    }
    PodReach {
        workload,
        selector: sel
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        host_network: p.host_network,
        isolated_by: p.isolated_by.as_ref().map(|(o, _)| named(o)),
        open_to_all: p
            .opened_by
            .iter()
            .filter(|(_, o)| o.all_ports)
            .map(|(o, _)| named(o))
            .collect(),
    }
}

/// The coverage of a Service's pod sets in words: `not covered`, `open to all by ...`,
/// `restricted by ...`.
fn words(sets: &[PodSet<'_>]) -> String {
    let name = |o: &Object| format!("{} {}", o.id.kind_label(), o.id.qualified_name());
    let mut by: Vec<String> = sets
        .iter()
        .filter_map(|p| p.isolated_by.as_ref().map(|(o, _)| name(o)))
        .collect();
    by.sort();
    by.dedup();
    let mut open_all: Vec<String> = sets
        .iter()
        .filter_map(|p| p.open_to_all().map(|(o, _)| name(o)))
        .collect();
    open_all.sort();
    open_all.dedup();
    let mut open_ports: Vec<String> = sets
        .iter()
        .flat_map(|p| &p.opened_by)
        .filter(|(_, o)| !o.all_ports)
        .flat_map(|(_, o)| o.ports.iter().cloned())
        .collect();
    open_ports.sort();
    open_ports.dedup();
    if sets.iter().any(|p| p.host_network) {
        "not covered (hostNetwork)".into()
    } else if by.is_empty() {
        "not covered".into()
    } else if !open_all.is_empty() {
        format!("open to all by {}", open_all.join(", "))
    } else {
        let mut text = format!("restricted by {}", by.join(", "));
        if sets.iter().any(|p| p.isolated_by.is_none()) {
            text.push_str("; some pods not covered");
        }
        if !open_ports.is_empty() {
            let _ = write!(text, " (open to all on {})", open_ports.join(", "));
        }
        text
    }
}
