//! Openness: where a policy's ingress rules admit every source, on which ports. A policy can
//! isolate pods and still open them to everyone; exposure is about that.

use k8s_openapi::api::networking::v1::NetworkPolicySpec;

/// Where a policy's ingress rules let in traffic from anywhere: every source, in the cluster or
/// outside it. A rule restricts sources when it names pods, namespaces, endpoints or address
/// blocks smaller than a whole address family; otherwise it is open, on the ports it lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Openness {
    /// Some rule admits every source on every port.
    pub all_ports: bool,
    /// The ports (`443/TCP`) rules admit every source on, when not all.
    pub ports: Vec<String>,
    /// How the widest open rule is written, for messages: ``ingress rule 1 (`from` empty)``.
    pub how: Option<String>,
}

impl Openness {
    /// Whether any rule is open to every source.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.all_ports || !self.ports.is_empty()
    }

    /// Adds an open rule: on every port when `ports` is empty.
    pub fn open(&mut self, ports: Vec<String>, how: String) {
        if ports.is_empty() {
            if !self.all_ports {
                self.how = Some(how);
            }
            self.all_ports = true;
        } else {
            if self.how.is_none() {
                self.how = Some(how);
            }
            for p in ports {
                if !self.ports.contains(&p) {
                    self.ports.push(p);
                }
            }
        }
    }

    /// `every port`, or the ports.
    #[must_use]
    pub fn ports_text(&self) -> String {
        if self.all_ports {
            "every port".into()
        } else {
            self.ports.join(", ")
        }
    }
}

/// Whether a CIDR spans a whole address family (`0.0.0.0/0`, `::/0`): as open as no source at
/// all, for traffic from outside the cluster.
#[must_use]
pub fn spans_a_family(cidr: &str) -> bool {
    cidr.trim()
        .rsplit_once('/')
        .is_some_and(|(_, len)| len.trim() == "0")
}

/// Where a `NetworkPolicy`'s ingress rules let in every source: a rule with no `from` (or an
/// empty one), or with an `ipBlock` spanning a whole address family, on its `ports` (every port
/// when it lists none).
/// <https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/#NetworkPolicySpec>
pub(super) fn kubernetes(spec: Option<&NetworkPolicySpec>) -> Openness {
    let mut out = Openness::default();
    for (i, rule) in spec
        .and_then(|s| s.ingress.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let peers = rule.from.as_deref().unwrap_or_default();
        let how = if peers.is_empty() {
            Some(format!("ingress rule {} has no `from`", i + 1))
        } else {
            peers
                .iter()
                .filter_map(|p| p.ip_block.as_ref())
                .find(|b| spans_a_family(&b.cidr))
                .map(|b| {
                    // Addresses left out of the whole family still leave it open to the internet.
                    let except = b.except.as_deref().unwrap_or_default();
                    let but = if except.is_empty() {
                        String::new()
                    } else {
                        format!(" except {}", except.join(", "))
                    };
                    format!("ingress rule {} admits `ipBlock` `{}`{but}", i + 1, b.cidr)
                })
        };
        let Some(how) = how else { continue };
        let ports: Vec<String> = rule
            .ports
            .iter()
            .flatten()
            .map(|p| {
                use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
                let proto = p.protocol.as_deref().unwrap_or("TCP");
                match (&p.port, p.end_port) {
                    (Some(IntOrString::Int(n)), Some(end)) => format!("{n}-{end}/{proto}"),
                    (Some(IntOrString::Int(n)), None) => format!("{n}/{proto}"),
                    (Some(IntOrString::String(name)), _) => format!("{name}/{proto}"),
                    (None, _) => format!("every {proto} port"),
                }
            })
            .collect();
        // Every port of every protocol, written out, is every port.
        let whole = |proto: &str| {
            ports
                .iter()
                .any(|p| *p == format!("every {proto} port") || *p == format!("1-65535/{proto}"))
        };
        let ports = if ["TCP", "UDP", "SCTP"].iter().all(|p| whole(p)) {
            Vec::new()
        } else {
            ports
        };
        out.open(ports, how);
    }
    out
}
