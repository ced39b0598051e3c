//! Addresses as the API server reads them, and CIDRs as allowlists are written.
//!
//! Service validation (`ValidateNonSpecialIP` in k8s.io/kubernetes) rejects entries that are not
//! an IP, and unspecified, loopback, link-local unicast and link-local multicast addresses.
//! Strict IP validation (KEP-4858) also rejects forms Go's legacy parser accepted and
//! reinterpreted: IPv4 octets with leading zeros, and IPv4-mapped IPv6 addresses.
//! See <https://kubernetes.io/docs/concepts/services-networking/service/#external-ips>.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// What the API server makes of one externalIPs entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A plain address; IPv4-mapped forms never get here.
    Valid(IpAddr),
    /// Rejected. `legacy` is what clusters without strict validation read it as, if anything.
    Invalid {
        reason: String,
        legacy: Option<IpAddr>,
    },
}

/// Classifies one entry.
#[must_use]
pub fn classify(entry: &str) -> Verdict {
    let Ok(ip) = entry.parse::<IpAddr>() else {
        if let Some(v4) = legacy_v4(entry) {
            return legacy_form(v4, "has leading zeros");
        }
        let reason = if entry.contains('/') && entry.parse::<ipnet::IpNet>().is_ok() {
            "is a CIDR, but externalIPs takes single addresses"
        } else {
            "is not an IP address"
        };
        return Verdict::Invalid {
            reason: reason.into(),
            legacy: None,
        };
    };
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        return legacy_form(v4, "is an IPv4-mapped IPv6 address");
    }
    match special(ip) {
        Some(reason) => Verdict::Invalid {
            reason,
            legacy: None,
        },
        None => Verdict::Valid(ip),
    }
}

/// A form strict validation rejects but older clusters read as `v4`; rejected outright when
/// `v4` itself is special.
fn legacy_form(v4: Ipv4Addr, form: &str) -> Verdict {
    match special(IpAddr::V4(v4)) {
        Some(reason) => Verdict::Invalid {
            reason,
            legacy: None,
        },
        None => Verdict::Invalid {
            reason: format!(
                "{form}, which strict IP validation rejects; older clusters read it as `{v4}`"
            ),
            legacy: Some(IpAddr::V4(v4)),
        },
    }
}

/// The special ranges the API server refuses for externalIPs (Go's `net.IP` predicates).
fn special(ip: IpAddr) -> Option<String> {
    let what = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() {
                "the unspecified address"
            } else if v4.is_loopback() {
                "a loopback address (127.0.0.0/8)"
            } else if o[0] == 169 && o[1] == 254 {
                "a link-local address (169.254.0.0/16, which holds the cloud metadata endpoint 169.254.169.254)"
            } else if o[0] == 224 && o[1] == 0 && o[2] == 0 {
                "a link-local multicast address (224.0.0.0/24)"
            } else {
                return None;
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_unspecified() {
                "the unspecified address"
            } else if v6.is_loopback() {
                "the loopback address"
            } else if s[0] & 0xffc0 == 0xfe80 {
                "a link-local address (fe80::/10)"
            } else if s[0] & 0xff0f == 0xff02 {
                "a link-local multicast address (ff02::/16)"
            } else {
                return None;
            }
        }
    };
    Some(format!("is {what}, rejected by the API server"))
}

/// Go's pre-1.17 parser: dotted quad whose octets may carry leading zeros, read as decimal.
fn legacy_v4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// The address an entry stands for when compared with allowlists and other Services: the
/// valid address, or what older clusters read an invalid-but-accepted entry as.
#[must_use]
pub fn effective(entry: &str) -> Option<IpAddr> {
    match classify(entry) {
        Verdict::Valid(ip) => Some(ip),
        Verdict::Invalid { legacy, .. } => legacy,
    }
}

/// Parses a CIDR or a single address. Returns the network and whether host bits were set.
pub fn parse_cidr(text: &str) -> Result<(IpNet, bool), String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok((IpNet::from(ip), false));
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| format!("`{text}` is not a valid CIDR or IP address"))?;
    let trunc = net.trunc();
    Ok((trunc, trunc != net))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> String {
        match classify(s) {
            Verdict::Invalid { reason, .. } => reason,
            Verdict::Valid(ip) => format!("valid {ip}"),
        }
    }

    #[test]
    fn host_bits_are_truncated_and_flagged() {
        let (net, host) = parse_cidr("192.0.2.1/24").expect("valid");
        assert_eq!((net.to_string().as_str(), host), ("192.0.2.0/24", true));
    }

    #[test]
    fn single_address_is_a_host_network() {
        let (net, host) = parse_cidr("2001:db8::1").expect("valid");
        assert_eq!((net.to_string().as_str(), host), ("2001:db8::1/128", false));
    }

    #[test]
    fn prefix_too_long_is_rejected() {
        assert!(parse_cidr("192.0.2.0/33").is_err());
    }

    #[test]
    fn ordinary_addresses_are_valid() {
        assert_eq!(reason("198.51.100.7"), "valid 198.51.100.7");
        assert_eq!(reason("2001:db8::7"), "valid 2001:db8::7");
    }

    #[test]
    fn special_ranges_are_rejected() {
        for s in [
            "0.0.0.0",
            "::",
            "127.1.2.3",
            "::1",
            "169.254.169.254",
            "fe80::1",
            "224.0.0.251",
            "ff02::1",
        ] {
            assert!(
                reason(s).contains("rejected by the API server"),
                "{s}: {}",
                reason(s)
            );
        }
        assert!(classify("224.0.1.1") == Verdict::Valid("224.0.1.1".parse().expect("ip")));
    }

    #[test]
    fn legacy_forms_are_rejected_with_their_old_reading() {
        assert_eq!(
            classify("192.0.2.010"),
            Verdict::Invalid {
                reason: "has leading zeros, which strict IP validation rejects; older clusters read it as `192.0.2.10`".into(),
                legacy: Some("192.0.2.10".parse().expect("ip")),
            }
        );
        assert_eq!(
            effective("::ffff:192.0.2.1"),
            Some("192.0.2.1".parse().expect("ip"))
        );
        assert!(reason("::ffff:127.0.0.1").contains("loopback"));
    }

    #[test]
    fn cidrs_and_garbage_are_not_addresses() {
        assert!(reason("192.0.2.0/28").contains("CIDR"));
        assert_eq!(reason("example.com"), "is not an IP address");
        assert_eq!(reason(" 192.0.2.1"), "is not an IP address");
    }
}
