//! Address claims: every address a Service or Gateway asks for, whatever field or annotation
//! asks for it, with what the reader of that field (the API server, MetalLB, Cilium) makes
//! of it for a target Kubernetes version. EXT002, EXT004, EXT005, EXT008 and the inventory all
//! read claims, so a new address source is one entry here.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Service, ServiceSpec};

use super::{Object, View};
use crate::k8s::address::{self, Form, NOT_AN_IP};
use crate::k8s::implementation::{ADDRESS_ANNOTATIONS, AddressAnnotation, List, Parser};
use crate::k8s::kubernetes::{Gate, GateSetting, IpWording, Target};
use crate::yaml::pointer::escape;

/// Where a claim comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    ExternalIps,
    LoadBalancerIp,
    /// A load-balancer implementation's annotation.
    Annotation(&'static AddressAnnotation),
    /// A Gateway's `spec.addresses` entry of type `IPAddress`.
    GatewayAddress,
    /// `status.loadBalancer.ingress[].ip`: the address a load balancer was given.
    StatusIngress,
}

/// Whether two claims on one address conflict only when they share a port (kube-proxy routes
/// each address and port on its own), or also when an address allocator would have to give the
/// address to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Routed,
    Allocated,
}

impl Source {
    /// The source's name in the inventory and in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Source::ExternalIps => "spec.externalIPs",
            Source::LoadBalancerIp => "spec.loadBalancerIP",
            Source::Annotation(a) => a.key,
            Source::GatewayAddress => "spec.addresses",
            Source::StatusIngress => "status.loadBalancer.ingress",
        }
    }

    /// The claim in a sentence: `external IP`, `load-balancer IP`, ...
    #[must_use]
    pub fn noun(self) -> String {
        match self {
            Source::ExternalIps => "external IP".into(),
            Source::LoadBalancerIp => "load-balancer IP (`spec.loadBalancerIP`)".into(),
            Source::Annotation(a) => format!("{} address (`{}`)", a.implementation, a.key),
            Source::GatewayAddress => "address (`spec.addresses`)".into(),
            Source::StatusIngress => "load-balancer status address".into(),
        }
    }

    #[must_use]
    pub fn class(self) -> Class {
        match self {
            Source::ExternalIps => Class::Routed,
            _ => Class::Allocated,
        }
    }
}

/// Keys two Services share an allocated address with, and what the allocators compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sharing {
    /// `metallb.io/allow-shared-ip` (or the older `metallb.universe.tf/` key).
    pub metallb: Option<String>,
    /// `lbipam.cilium.io/sharing-key` (or `io.cilium/lb-ipam-sharing-key`).
    pub cilium: Option<String>,
    /// `lbipam.cilium.io/sharing-cross-namespace`: namespaces (or `*`) it may share with.
    pub cilium_cross_namespace: Vec<String>,
    /// `externalTrafficPolicy: Local`, with the selector (`Cluster` otherwise).
    pub local_selector: Option<BTreeMap<String, String>>,
}

/// One address asked for by one object.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub object: &'a Object,
    pub source: Source,
    /// The address as written (an annotation entry trimmed as its implementation trims it).
    pub entry: String,
    /// Pointer below the object of the node to point at.
    pub path: String,
    /// The API field path for messages: `spec.externalIPs[0]`.
    pub field: String,
    /// `(port, protocol)` the address is claimed on.
    pub ports: Vec<(i32, String)>,
    /// Why the address takes no effect, if it does not (a headless Service, a `ClusterIP`
    /// Service's load-balancer IP, a superseded annotation).
    pub inert: Option<String>,
    /// The annotation's list itself is unreadable (not a JSON array), so its one entry is the
    /// whole value.
    pub list_error: Option<String>,
    pub sharing: Sharing,
}

/// Which claims are older than the run: the ones that exist at `--diff-base` or are in the
/// baseline. Only then is one claim of a conflict older than another.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Where the claims were seen, as a phrase: ``at `HEAD` ``; `None` without history.
    pub label: Option<String>,
    /// `Claim::key` of each older claim.
    pub keys: HashSet<String>,
}

impl Claim<'_> {
    /// The claim's identity across runs: its cluster, object and field, not its line.
    #[must_use]
    pub fn key(&self, cluster: &str) -> String {
        claim_key(
            &crate::finding::identity(Some(cluster), Some(&self.object.id), ""),
            &self.object.pointer_to(&self.path),
        )
    }
}

/// The claims that take effect, by the address they ask for (written in a form `IpAddr`
/// reads), each as its index in `claims`.
#[must_use]
pub fn by_address(claims: &[Claim<'_>]) -> std::collections::HashMap<std::net::IpAddr, Vec<usize>> {
    let mut out: std::collections::HashMap<std::net::IpAddr, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, c) in claims.iter().enumerate() {
        if c.inert.is_none()
            && let Ok(a) = c.entry.parse()
        {
            out.entry(a).or_default().push(i);
        }
    }
    out
}

/// A claim's key from a finding's identity and pointer (as baselines record them).
#[must_use]
pub fn claim_key(identity: &str, pointer: &str) -> String {
    format!("{identity}|{pointer}")
}

/// What the field's reader makes of a claim in a target version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Refused: `by` (the API server, MetalLB) says `error`, verbatim when `verbatim`; `why`
    /// explains it for people.
    Rejected {
        by: String,
        error: String,
        verbatim: bool,
        why: Option<String>,
    },
    /// Taken as `ip`; `warning` is what is said about a non-standard form, and `canonical` the
    /// form to write instead.
    Accepted {
        ip: IpAddr,
        warning: Option<Warning>,
    },
}

/// A non-standard form that is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Who accepts it and how: `Kubernetes 1.35 accepts it with a warning`.
    pub accepted: String,
    /// The API server's warning for this version, verbatim, when it warns.
    pub text: Option<String>,
    /// What a later release does with it, when that differs.
    pub later: Option<String>,
    pub canonical: String,
}

impl Claim<'_> {
    /// What the field's reader makes of the claim in `target`.
    #[must_use]
    pub fn reading(&self, target: &Target) -> Reading {
        let entry = self.entry.as_str();
        if let (Some(e), Source::Annotation(a)) = (&self.list_error, self.source) {
            return Reading::Rejected {
                by: a.implementation.into(),
                error: e.clone(),
                verbatim: false,
                why: Some(a.on_error.into()),
            };
        }
        let Some(parsed) = address::parse(entry) else {
            return self.unparsable();
        };
        let strict = target.gate(Gate::StrictIPCIDRValidation);
        let version = target.version;
        let api = |by: String, error: &str, why: Option<String>| Reading::Rejected {
            by,
            error: format!("{}: Invalid value: \"{entry}\": {error}", self.field),
            verbatim: true,
            why,
        };
        match self.source {
            Source::ExternalIps | Source::StatusIngress => {
                if strict.on
                    && let Some(e) = address::strict_error(parsed.form)
                {
                    let why = match strict.setting {
                        GateSetting::Set => "`StrictIPCIDRValidation` is on in the config",
                        _ => "strict IP validation is on by default from 1.36",
                    };
                    return api(format!("Kubernetes {version}"), e, Some(why.into()));
                }
                if self.source == Source::ExternalIps
                    && let Some(e) = address::special(parsed.ip, entry)
                {
                    return api("the API server".into(), &e, None);
                }
                self.accepted(&parsed, target, true)
            }
            // The API server stores the field as written, but the implementations that read it
            // (MetalLB, Cilium, kube-vip: Go's parsers) refuse leading zeros.
            Source::LoadBalancerIp if parsed.form == Form::LeadingZeros => Reading::Rejected {
                by: "every load-balancer implementation".into(),
                error: "Go's address parser refuses leading zeros".into(),
                verbatim: false,
                why: Some("the API server stores the field without validating it".into()),
            },
            Source::LoadBalancerIp => self.accepted(&parsed, target, true),
            Source::Annotation(a) => {
                if parsed.form == Form::LeadingZeros {
                    return Reading::Rejected {
                        by: a.implementation.into(),
                        error: "Go's address parser refuses leading zeros".into(),
                        verbatim: false,
                        why: Some(a.on_error.into()),
                    };
                }
                self.accepted(&parsed, target, false)
            }
            Source::GatewayAddress => self.accepted(&parsed, target, false),
        }
    }

    fn unparsable(&self) -> Reading {
        let entry = &self.entry;
        let why = address::is_cidr(entry)
            .then(|| "it is a CIDR; the field takes single addresses".to_string());
        match self.source {
            Source::ExternalIps | Source::StatusIngress => Reading::Rejected {
                by: "the API server".into(),
                error: format!("{}: Invalid value: \"{entry}\": {NOT_AN_IP}", self.field),
                verbatim: true,
                why,
            },
            Source::LoadBalancerIp => Reading::Rejected {
                by: "every load-balancer implementation".into(),
                error: why.unwrap_or_else(|| "it is not an IP address".into()),
                verbatim: false,
                why: Some("the API server stores the field without validating it".into()),
            },
            Source::Annotation(a) => Reading::Rejected {
                by: a.implementation.into(),
                error: why.unwrap_or_else(|| "it is not an IP address".into()),
                verbatim: false,
                why: Some(a.on_error.into()),
            },
            Source::GatewayAddress => Reading::Rejected {
                by: "the API server".into(),
                error: why.unwrap_or_else(|| {
                    "the Gateway CRD takes an IPv4 or IPv6 address (`format: ipv4`, `format: ipv6`) for type IPAddress".into()
                }),
                verbatim: false,
                why: None,
            },
        }
    }

    /// An accepted address, with what is said about its form. `api` is true for the Service
    /// fields the API server warns about.
    fn accepted(&self, parsed: &address::Parsed, target: &Target, api: bool) -> Reading {
        let canonical = parsed.canonical();
        let entry = &self.entry;
        let field = &self.field;
        let warning = match parsed.form {
            Form::Standard => None,
            form if api => {
                let wording = target.ip_wording();
                let text = match (form, wording) {
                    (Form::NonCanonical, Some(IpWording::Accepted)) => Some(format!(
                        "{field}: IPv6 address \"{entry}\" is not in RFC 5952 canonical format (\"{canonical}\"), which may cause controller apply-loops"
                    )),
                    (Form::NonCanonical, Some(_)) => Some(format!(
                        "{field}: IPv6 address \"{entry}\" should be in RFC 5952 canonical format (\"{canonical}\")"
                    )),
                    (Form::LeadingZeros, Some(IpWording::Accepted)) => Some(format!(
                        "{field}: IP address was accepted, but will be invalid in a future Kubernetes release: ParseAddr(\"{entry}\"): IPv4 field has octet with leading zero"
                    )),
                    // Before 1.27 nothing was said, and 1.27 to 1.32 said nothing about
                    // IPv4-mapped addresses.
                    (_, None | Some(IpWording::Accepted)) => None,
                    (_, Some(IpWording::Future)) => Some(format!(
                        "{field}: non-standard IP address \"{entry}\" will be considered invalid in a future Kubernetes release: use \"{canonical}\""
                    )),
                    (_, Some(IpWording::Invalid)) => Some(format!(
                        "{field}: non-standard IP address \"{entry}\" is invalid: use \"{canonical}\""
                    )),
                };
                let version = target.version;
                let accepted = if text.is_some() {
                    format!("Kubernetes {version} accepts it with a warning")
                } else {
                    format!("Kubernetes {version} accepts it without a warning")
                };
                let rejected_later = !matches!(form, Form::NonCanonical)
                    && self.source != Source::LoadBalancerIp
                    && !target.gate(Gate::StrictIPCIDRValidation).on;
                Some(Warning {
                    accepted,
                    text,
                    later: rejected_later.then(|| {
                        "with strict IP validation (on by default from 1.36) the API server rejects it"
                            .into()
                    }),
                    canonical,
                })
            }
            form => {
                let accepted = match (self.source, form) {
                    (Source::Annotation(a), Form::Ipv4Mapped) if a.parser == Parser::GoNet => {
                        format!("{} reads it as `{canonical}`", a.implementation)
                    }
                    (Source::Annotation(a), Form::Ipv4Mapped) => format!(
                        "{} reads it as an IPv6 address, not as `{canonical}`",
                        a.implementation
                    ),
                    (Source::Annotation(a), _) => format!("{} accepts it", a.implementation),
                    (_, Form::LeadingZeros) => {
                        "the Gateway CRD accepts it, but a Gateway implementation written in Go refuses leading zeros".into()
                    }
                    _ => "the Gateway CRD accepts it".into(),
                };
                Some(Warning {
                    accepted,
                    text: None,
                    later: None,
                    canonical,
                })
            }
        };
        Reading::Accepted {
            ip: parsed.ip,
            warning,
        }
    }
}

/// Every claim of every Service and Gateway, in input order.
#[must_use]
pub fn collect(objects: &[Object]) -> Vec<Claim<'_>> {
    let mut out = Vec::new();
    for obj in objects {
        match &obj.view {
            View::Service(svc) => service(obj, svc, &mut out),
            View::Gateway(g) => gateway(obj, g, &mut out),
            _ => {}
        }
    }
    out
}

/// kube-proxy programs no rules for headless and `ExternalName` Services (`ShouldSkipService`).
fn skipped_by_kube_proxy(spec: &ServiceSpec) -> Option<&'static str> {
    if spec.type_.as_deref() == Some("ExternalName") {
        Some("an ExternalName Service, which kube-proxy does not program")
    } else if spec.cluster_ip.as_deref() == Some("None") {
        Some("a headless Service, which kube-proxy does not program")
    } else {
        None
    }
}

fn service<'a>(obj: &'a Object, svc: &Service, out: &mut Vec<Claim<'a>>) {
    let Some(spec) = &svc.spec else { return };
    let ports: Vec<(i32, String)> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| (p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
        .collect();
    let sharing = sharing(&obj.annotations, spec);
    let load_balancer = spec.type_.as_deref() == Some("LoadBalancer");
    let not_lb = (!load_balancer).then(|| {
        format!(
            "a {} Service, which gets no load-balancer address",
            spec.type_.as_deref().unwrap_or("ClusterIP")
        )
    });
    let claim = |source, entry: &str, path: String, field: String, inert: Option<String>| Claim {
        object: obj,
        source,
        entry: entry.to_string(),
        path,
        field,
        ports: ports.clone(),
        inert,
        list_error: None,
        sharing: sharing.clone(),
    };
    let skipped = skipped_by_kube_proxy(spec).map(String::from);
    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        out.push(claim(
            Source::ExternalIps,
            ip,
            format!("/spec/externalIPs/{i}"),
            format!("spec.externalIPs[{i}]"),
            skipped.clone(),
        ));
    }
    if let Some(ip) = spec.load_balancer_ip.as_deref().filter(|s| !s.is_empty()) {
        out.push(claim(
            Source::LoadBalancerIp,
            ip,
            "/spec/loadBalancerIP".into(),
            "spec.loadBalancerIP".into(),
            not_lb.clone(),
        ));
    }
    annotation_claims(
        &obj.annotations,
        "/metadata/annotations",
        "metadata.annotations",
        not_lb.as_ref(),
        &|source, entry, path, field, inert| claim(source, entry, path, field, inert),
        out,
    );
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref());
    for (i, ing) in ingress.into_iter().flatten().enumerate() {
        if let Some(ip) = ing.ip.as_deref().filter(|s| !s.is_empty()) {
            out.push(claim(
                Source::StatusIngress,
                ip,
                format!("/status/loadBalancer/ingress/{i}/ip"),
                format!("status.loadBalancer.ingress[{i}].ip"),
                not_lb.clone(),
            ));
        }
    }
}

/// Makes a claim of one object: source, entry, path, field, why it takes no effect.
type MakeClaim<'a, 'f> = dyn Fn(Source, &str, String, String, Option<String>) -> Claim<'a> + 'f;

/// The claims of the implementations' address annotations in `annotations` (a Service's own,
/// or those a Gateway's `spec.infrastructure.annotations` puts on the Service made for it), at
/// `path` and `field` below the object. `not_lb`: why the addresses take no effect, if they
/// do not.
fn annotation_claims<'a>(
    annotations: &BTreeMap<String, String>,
    path: &str,
    field: &str,
    not_lb: Option<&String>,
    claim: &MakeClaim<'a, '_>,
    out: &mut Vec<Claim<'a>>,
) {
    for a in ADDRESS_ANNOTATIONS {
        let Some(value) = annotations.get(a.key) else {
            continue;
        };
        let path = format!("{path}/{}", escape(a.key));
        let field = format!("{field}[{}]", a.key);
        let inert = a
            .superseded_by
            .filter(|k| annotations.contains_key(*k))
            .map(|k| format!("`{k}` is set too, and {} reads that one", a.implementation))
            .or_else(|| not_lb.cloned());
        let from = out.len();
        let (entries, list_error) = match a.list {
            List::Comma => (
                value.split(',').map(|e| e.trim().to_string()).collect(),
                None,
            ),
            List::Json => match serde_json::from_str::<Vec<String>>(value) {
                Ok(v) => (v, None),
                Err(_) => (
                    vec![value.clone()],
                    Some("Calico reads the annotation as a JSON list of addresses, like `[\"192.0.2.10\"]`".into()),
                ),
            },
        };
        for e in entries {
            let mut c = claim(
                Source::Annotation(a),
                &e,
                path.clone(),
                field.clone(),
                inert.clone(),
            );
            c.list_error.clone_from(&list_error);
            out.push(c);
        }
        // MetalLB and the kube-vip cloud provider refuse the whole list for one bad entry.
        let all_or_nothing = a.implementation != "Cilium";
        let target = Target::default();
        let bad = out[from..].iter().find_map(|c| match c.reading(&target) {
            Reading::Rejected { .. } => Some(c.entry.clone()),
            Reading::Accepted { .. } => None,
        });
        if all_or_nothing && let Some(bad) = bad {
            for c in &mut out[from..] {
                let accepted = matches!(c.reading(&target), Reading::Accepted { .. });
                if accepted && c.inert.is_none() {
                    c.inert = Some(format!(
                        "{} refuses the whole annotation for its entry `{bad}`",
                        a.implementation
                    ));
                }
            }
        }
    }
}

fn sharing(annotations: &BTreeMap<String, String>, spec: &ServiceSpec) -> Sharing {
    let first = |keys: &[&str]| keys.iter().find_map(|k| annotations.get(*k)).cloned();
    Sharing {
        metallb: first(&[
            "metallb.io/allow-shared-ip",
            "metallb.universe.tf/allow-shared-ip",
        ]),
        cilium: first(&[
            "lbipam.cilium.io/sharing-key",
            "io.cilium/lb-ipam-sharing-key",
        ]),
        cilium_cross_namespace: first(&[
            "lbipam.cilium.io/sharing-cross-namespace",
            "io.cilium/lb-ipam-sharing-cross-namespace",
        ])
        .map(|v| v.split(',').map(String::from).collect())
        .unwrap_or_default(),
        local_selector: (spec.external_traffic_policy.as_deref() == Some("Local"))
            .then(|| spec.selector.clone().unwrap_or_default()),
    }
}

fn gateway<'a>(obj: &'a Object, g: &super::gateway::Gateway, out: &mut Vec<Claim<'a>>) {
    // Listeners for several hostnames share a port: the Service it becomes has it once.
    let mut ports: Vec<(i32, String)> = Vec::new();
    for (port, protocol) in &g.listeners {
        let proto = if protocol == "UDP" { "UDP" } else { "TCP" };
        let port = (*port, proto.to_string());
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    let annotations = &g.infrastructure_annotations;
    let mut sharing = sharing(annotations, &ServiceSpec::default());
    sharing.local_selector = None;
    // Envoy Gateway and Istio put these on the LoadBalancer Service they make for the Gateway,
    // where MetalLB, Cilium or kube-vip read them.
    let claim = |source, entry: &str, path: String, field: String, inert: Option<String>| Claim {
        object: obj,
        source,
        entry: entry.to_string(),
        path,
        field,
        ports: ports.clone(),
        inert,
        list_error: None,
        sharing: sharing.clone(),
    };
    annotation_claims(
        annotations,
        "/spec/infrastructure/annotations",
        "spec.infrastructure.annotations",
        None,
        &claim,
        out,
    );
    for (i, a) in g.addresses.iter().enumerate() {
        if a.type_.as_deref().is_some_and(|t| t != "IPAddress") {
            continue;
        }
        let Some(value) = a.value.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        out.push(Claim {
            object: obj,
            source: Source::GatewayAddress,
            entry: value.to_string(),
            path: format!("/spec/addresses/{i}/value"),
            field: format!("spec.addresses[{i}].value"),
            ports: ports.clone(),
            inert: None,
            list_error: None,
            sharing: sharing.clone(),
        });
    }
}
