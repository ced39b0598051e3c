//! What the API server's validation refuses in a `NetworkPolicy`'s peers and ports, beyond
//! what decoding and selector validation catch.

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Where the API server's validation of a `NetworkPolicy` rejects a peer or a port
/// (`ValidateNetworkPolicyPeer`, `ValidateIPBlock`, `ValidateNetworkPolicyPort` in
/// pkg/apis/networking/validation): each as the JSON pointer of the value, its field path as the
/// API server writes it, and the API server's reason. A policy with any of them does not exist.
#[must_use]
pub fn rejected_parts(np: &NetworkPolicy) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Some(spec) = &np.spec else { return out };
    let ingress = spec.ingress.iter().flatten().map(|r| {
        (
            r.from.as_deref().unwrap_or_default(),
            r.ports.as_deref().unwrap_or_default(),
        )
    });
    let egress = spec.egress.iter().flatten().map(|r| {
        (
            r.to.as_deref().unwrap_or_default(),
            r.ports.as_deref().unwrap_or_default(),
        )
    });
    for (dir, peers_key, rules) in [
        ("ingress", "from", ingress.collect::<Vec<_>>()),
        ("egress", "to", egress.collect()),
    ] {
        for (i, (peers, ports)) in rules.iter().enumerate() {
            for (j, peer) in peers.iter().enumerate() {
                // The JSON pointer below the peer, and the same place as the API server names it.
                let at = |rest: &str, field: &str| {
                    (
                        format!("/spec/{dir}/{i}/{peers_key}/{j}{rest}"),
                        format!("spec.{dir}[{i}].{peers_key}[{j}]{field}"),
                    )
                };
                let mut reject = |(pointer, field): (String, String), why: &str| {
                    out.push((pointer, field, why.to_string()));
                };
                let selectors = peer.pod_selector.is_some() || peer.namespace_selector.is_some();
                let Some(block) = &peer.ip_block else {
                    if !selectors {
                        reject(at("", ""), "must specify a peer");
                    }
                    continue;
                };
                if selectors {
                    reject(at("", ""), "may not specify both ipBlock and another peer");
                }
                let Ok(cidr) = block.cidr.parse::<IpNet>() else {
                    reject(at("/ipBlock/cidr", ".ipBlock.cidr"), "must be a valid CIDR");
                    continue;
                };
                let cidr = cidr.trunc();
                for (k, e) in block.except.iter().flatten().enumerate() {
                    let place = at(
                        &format!("/ipBlock/except/{k}"),
                        &format!(".ipBlock.except[{k}]"),
                    );
                    match e.parse::<IpNet>() {
                        Err(_) => reject(place, "must be a valid CIDR"),
                        Ok(e)
                            if !cidr.contains(&e.trunc().network())
                                || cidr.prefix_len() >= e.prefix_len() =>
                        {
                            reject(place, "must be a strict subset of `cidr`");
                        }
                        Ok(_) => {}
                    }
                }
            }
            for (j, port) in ports.iter().enumerate() {
                let at = |key: &str| {
                    (
                        format!("/spec/{dir}/{i}/ports/{j}/{key}"),
                        format!("spec.{dir}[{i}].ports[{j}].{key}"),
                    )
                };
                if let Some(p) = &port.protocol
                    && !matches!(p.as_str(), "TCP" | "UDP" | "SCTP")
                {
                    out.push((
                        at("protocol").0,
                        at("protocol").1,
                        "supported values: \"SCTP\", \"TCP\", \"UDP\"".into(),
                    ));
                }
                let why = match (&port.port, port.end_port) {
                    (Some(IntOrString::Int(n)), _) if !(1..=65535).contains(n) => {
                        Some(("port", "must be between 1 and 65535, inclusive"))
                    }
                    (Some(IntOrString::Int(n)), Some(end)) if end < *n => {
                        Some(("endPort", "must be greater than or equal to `port`"))
                    }
                    (Some(IntOrString::Int(_)), Some(end)) if !(1..=65535).contains(&end) => {
                        Some(("endPort", "must be between 1 and 65535, inclusive"))
                    }
                    (Some(IntOrString::String(_)), Some(_)) => {
                        Some(("endPort", "may not be specified when `port` is non-numeric"))
                    }
                    (Some(IntOrString::String(name)), None) if !valid_port_name(name) => Some((
                        "port",
                        "must be a valid port name (at most 15 lower-case letters, digits and '-', with a letter, no '-' at either end or twice in a row)",
                    )),
                    (None, Some(_)) => Some((
                        "endPort",
                        "may not be specified when `port` is not specified",
                    )),
                    _ => None,
                };
                if let Some((key, why)) = why {
                    let (pointer, field) = at(key);
                    out.push((pointer, field, why.into()));
                }
            }
        }
    }
    out
}

/// An IANA service name, as a named port must be (`IsValidPortName`).
fn valid_port_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}
