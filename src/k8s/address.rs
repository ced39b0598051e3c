//! Addresses as Kubernetes reads them, and CIDRs as allowlists are written.
//!
//! The API server reads Service IP fields with Go's pre-1.17 parser (`ParseIPSloppy` in
//! k8s.io/utils): decimal octets may carry leading zeros, IPv6 groups may too, and an
//! IPv4-mapped IPv6 address is the IPv4 address. Strict IP validation (KEP-4858) compares that
//! reading with Go's `netip.ParseAddr`, which Rust's parser matches: a form only the legacy
//! parser accepts is `LeadingZeros`, an IPv4-mapped one is `Ipv4Mapped`. Which of those a
//! cluster rejects or warns about depends on its version (`kubernetes::Target`); this module
//! only reads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// What the legacy parser makes of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The address the cluster uses: an IPv4-mapped value is its IPv4 address.
    pub ip: IpAddr,
    pub form: Form,
}

/// How a value differs from the address's standard text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As `netip` writes it.
    Standard,
    /// Only the legacy parser reads it: leading zeros in an IPv4 octet or an IPv6 group of more
    /// than four digits (API server: "must not have leading 0s").
    LeadingZeros,
    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`).
    Ipv4Mapped,
    /// IPv6 not in RFC 5952 canonical form (upper case, uncompressed zeros).
    NonCanonical,
}

impl Parsed {
    /// The standard text of the address, as the API server suggests it (`ip.String()`).
    #[must_use]
    pub fn canonical(&self) -> String {
        self.ip.to_string()
    }
}

/// Reads `text` as the API server does. `None`: not an IP address at all.
#[must_use]
pub fn parse(text: &str) -> Option<Parsed> {
    let ip = sloppy(text)?;
    let form = match text.parse::<IpAddr>() {
        Err(_) => Form::LeadingZeros,
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => Form::Ipv4Mapped,
        Ok(IpAddr::V6(v6)) if v6.to_string() != text => Form::NonCanonical,
        Ok(_) => Form::Standard,
    };
    Some(Parsed { ip, form })
}

/// Go's legacy `net.ParseIP`: IPv4 at the first `.`, IPv6 at the first `:`.
fn sloppy(s: &str) -> Option<IpAddr> {
    let first = s.bytes().find(|&b| b == b'.' || b == b':')?;
    if first == b'.' {
        return sloppy_v4(s).map(|o| IpAddr::V4(Ipv4Addr::from(o)));
    }
    let v6 = Ipv6Addr::from(sloppy_v6(s)?);
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// Go's `dtoi`/`xtoi`: the number at the start of `s` in `radix`, and how many digits it has;
/// `None` without digits or past 0xFFFFFF.
fn number(s: &[u8], radix: u32) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        let Some(d) = char::from(s[i]).to_digit(radix) else {
            break;
        };
        n = n * radix + d;
        if n >= 0x00FF_FFFF {
            return None;
        }
        i += 1;
    }
    (i > 0).then_some((n, i))
}

fn sloppy_v4(s: &str) -> Option<[u8; 4]> {
    let mut s = s.as_bytes();
    let mut out = [0u8; 4];
    for (i, o) in out.iter_mut().enumerate() {
        if i > 0 {
            s = s.strip_prefix(b".")?;
        }
        let (n, c) = number(s, 10)?;
        *o = u8::try_from(n).ok()?;
        s = &s[c..];
    }
    s.is_empty().then_some(out)
}

fn sloppy_v6(text: &str) -> Option<[u8; 16]> {
    let mut ip = [0u8; 16];
    let mut s = text.as_bytes();
    let mut ellipsis = None;
    if let Some(rest) = s.strip_prefix(b"::") {
        ellipsis = Some(0);
        s = rest;
        if s.is_empty() {
            return Some(ip);
        }
    }
    let mut i = 0;
    while i < 16 {
        let (n, c) = number(s, 16)?;
        if c < s.len() && s[c] == b'.' {
            // An embedded IPv4 address ends the text.
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return None;
            }
            let v4 = sloppy_v4(std::str::from_utf8(s).ok()?)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = &[];
            i += 4;
            break;
        }
        let n = u16::try_from(n).ok()?;
        ip[i..i + 2].copy_from_slice(&n.to_be_bytes());
        i += 2;
        s = &s[c..];
        if s.is_empty() {
            break;
        }
        s = s.strip_prefix(b":")?;
        if s.is_empty() {
            return None;
        }
        if let Some(rest) = s.strip_prefix(b":") {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = rest;
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        ip.copy_within(e..i, e + n);
        ip[e..e + n].fill(0);
    } else if ellipsis.is_some() {
        // "::" must stand for at least one group.
        return None;
    }
    Some(ip)
}

/// The API server's error for a value the legacy parser cannot read.
pub const NOT_AN_IP: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// The API server's errors for the forms strict validation rejects.
#[must_use]
pub fn strict_error(form: Form) -> Option<&'static str> {
    match form {
        Form::LeadingZeros => Some("must not have leading 0s"),
        Form::Ipv4Mapped => Some("must not be an IPv4-mapped IPv6 address"),
        Form::Standard | Form::NonCanonical => None,
    }
}

/// The API server's error for an externalIPs entry in a range it refuses
/// (`ValidateEndpointIP`): unspecified, loopback, link-local unicast and link-local multicast.
/// Private, documentation and global multicast ranges are accepted.
#[must_use]
pub fn special(ip: IpAddr, text: &str) -> Option<String> {
    let (unspecified, loopback, link_local, multicast) = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (
                v4.is_unspecified(),
                v4.is_loopback(),
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (
                v6.is_unspecified(),
                v6.is_loopback(),
                s[0] & 0xffc0 == 0xfe80,
                s[0] & 0xff0f == 0xff02,
            )
        }
    };
    if unspecified {
        Some(format!("may not be unspecified ({text})"))
    } else if loopback {
        Some("may not be in the loopback range (127.0.0.0/8, ::1/128)".into())
    } else if link_local {
        Some("may not be in the link-local range (169.254.0.0/16, fe80::/10)".into())
    } else if multicast {
        Some("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)".into())
    } else {
        None
    }
}

/// Whether `text` is a CIDR (people write one where a single address belongs).
#[must_use]
pub fn is_cidr(text: &str) -> bool {
    text.contains('/') && text.parse::<IpNet>().is_ok()
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

    fn read(s: &str) -> Option<(String, Form)> {
        parse(s).map(|p| (p.canonical(), p.form))
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
    fn standard_forms() {
        assert_eq!(
            read("198.51.100.7"),
            Some(("198.51.100.7".into(), Form::Standard))
        );
        assert_eq!(
            read("2001:db8::7"),
            Some(("2001:db8::7".into(), Form::Standard))
        );
        assert_eq!(read("::"), Some(("::".into(), Form::Standard)));
    }

    #[test]
    fn leading_zeros_are_decimal_as_in_the_legacy_parser() {
        // k8s.io/utils net tests: 127.010.020.030 is 127.10.20.30, not octal.
        assert_eq!(
            read("127.010.020.030"),
            Some(("127.10.20.30".into(), Form::LeadingZeros))
        );
        assert_eq!(
            read("192.0.2.0000000001"),
            Some(("192.0.2.1".into(), Form::LeadingZeros))
        );
        assert_eq!(
            read("0:0:0:0:000000:ffff:127.1.2.3"),
            Some(("127.1.2.3".into(), Form::LeadingZeros))
        );
        assert_eq!(
            read("::ffff:127.001.002.003"),
            Some(("127.1.2.3".into(), Form::LeadingZeros))
        );
    }

    #[test]
    fn ipv4_mapped_addresses_are_the_ipv4_address() {
        assert_eq!(
            read("::ffff:192.0.2.1"),
            Some(("192.0.2.1".into(), Form::Ipv4Mapped))
        );
        assert_eq!(
            read("::ffff:7f01:0203"),
            Some(("127.1.2.3".into(), Form::Ipv4Mapped))
        );
    }

    #[test]
    fn non_canonical_ipv6() {
        assert_eq!(
            read("2001:DB8::1"),
            Some(("2001:db8::1".into(), Form::NonCanonical))
        );
        assert_eq!(
            read("2001:db8:0:0::2"),
            Some(("2001:db8::2".into(), Form::NonCanonical))
        );
        assert_eq!(read("::0001"), Some(("::1".into(), Form::NonCanonical)));
    }

    #[test]
    fn what_the_legacy_parser_refuses() {
        for s in [
            "",
            "example.com",
            " 192.0.2.1",
            "192.0.2.1 ",
            "192.0.2",
            "192.0.2.256",
            "1.2.3.4.5",
            "fe80::1%eth0",
            "192.0.2.0/28",
            "1:2:3:4:5:6:7:8::",
            ":1::2",
            "1::2::3",
            "::1:",
            "1:2:3:4:5:6:7:8:9",
            "::1.2.3",
            "1.2.3.4::",
            "12345:db8::1",
        ] {
            assert_eq!(read(s), None, "{s:?}");
        }
    }

    #[test]
    fn special_ranges_echo_the_api_server() {
        let sp = |s: &str| special(parse(s).expect("ip").ip, s);
        assert_eq!(
            sp("0.0.0.0").as_deref(),
            Some("may not be unspecified (0.0.0.0)")
        );
        for s in ["127.1.2.3", "::1", "::ffff:127.0.0.1", "127.000.000.001"] {
            assert!(sp(s).expect(s).contains("loopback"), "{s}");
        }
        for s in ["169.254.169.254", "fe80::1"] {
            assert!(sp(s).expect(s).contains("link-local range"), "{s}");
        }
        for s in ["224.0.0.251", "ff02::1"] {
            assert!(sp(s).expect(s).contains("multicast"), "{s}");
        }
        for s in ["224.0.1.1", "10.0.0.1", "192.0.2.1", "2001:db8::1"] {
            assert_eq!(sp(s), None, "{s}");
        }
    }

    #[test]
    fn cidrs_are_told_apart() {
        assert!(is_cidr("192.0.2.0/28"));
        assert!(!is_cidr("192.0.2.0"));
    }
}
