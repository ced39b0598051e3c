//! Load-balancer implementations and their address pools, as the manifests declare them:
//! MetalLB `IPAddressPool`, Cilium `CiliumLoadBalancerIPPool`, Calico `IPPool` with
//! `allowedUses: [LoadBalancer]`, and kube-vip's `kubevip` ConfigMap in `kube-system`. Pools are
//! read leniently (as the controllers read them), since only their ranges matter here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::yaml::{NodeId, NodeKind, Tree};

pub use crate::k8s::implementation::Implementation;

/// One range of a pool, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub first: IpAddr,
    pub last: IpAddr,
}

impl Range {
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.first, self.last, ip) {
            (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(x)) => a <= x && x <= b,
            (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(x)) => a <= x && x <= b,
            _ => false,
        }
    }

    /// The range without its first and last address, when that leaves any (a CIDR larger
    /// than /31 or /127).
    fn without_ends(self) -> Range {
        match (self.first, self.last) {
            (IpAddr::V4(a), IpAddr::V4(b)) if u32::from(b).saturating_sub(u32::from(a)) >= 3 => {
                Range {
                    first: IpAddr::V4((u32::from(a) + 1).into()),
                    last: IpAddr::V4((u32::from(b) - 1).into()),
                }
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if u128::from(b).saturating_sub(u128::from(a)) >= 3 => {
                Range {
                    first: IpAddr::V6((u128::from(a) + 1).into()),
                    last: IpAddr::V6((u128::from(b) - 1).into()),
                }
            }
            _ => self,
        }
    }

    fn of_net(net: IpNet) -> Range {
        Range {
            first: net.network(),
            last: net.broadcast(),
        }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Ok(net) = IpNet::new(self.first, prefix_for(self.first, self.last))
            && net.network() == self.first
            && net.broadcast() == self.last
        {
            return write!(f, "{net}");
        }
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// The prefix length whose network spans `first..=last`, if one does (else anything).
fn prefix_for(first: IpAddr, last: IpAddr) -> u8 {
    let (a, b, bits) = match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return 0,
    };
    let span = (a ^ b).checked_add(1).unwrap_or(0);
    let host = if span == 0 {
        bits
    } else {
        span.trailing_zeros()
    };
    u8::try_from(bits - host.min(bits)).unwrap_or(0)
}

/// A pool of addresses a load-balancer implementation allocates from.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressPool {
    pub implementation: Implementation,
    pub ranges: Vec<Range>,
    /// MetalLB `autoAssign: false`: addresses are given only to Services that ask for them.
    pub auto_assign: bool,
    /// MetalLB's configuration before 0.13: pools in the `config` ConfigMap of
    /// `metallb-system`, which only releases before 0.13 read.
    pub legacy: bool,
    /// Entries that are no range (a placeholder like `AUTOMATIC_REPLACE` a kustomize
    /// replacement fills in, a typo), each with its pointer below the object: the API server
    /// or the controller refuses the pool, and what it holds is not known.
    pub unreadable: Vec<(String, String)>,
    /// Cilium `disabled: true`: no new address is allocated from the pool.
    pub disabled: bool,
    /// MetalLB `avoidBuggyIPs`: IPv4 addresses ending in `.0` or `.255` are never allocated.
    pub avoid_buggy_ips: bool,
    /// Cilium `serviceSelector`: only the Services it selects take addresses from the pool.
    pub service_selector: Option<LabelSelector>,
}

/// The implementation whose pools an object of this kind declares, if it is a pool kind.
#[must_use]
pub fn pool_kind(
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> Option<Implementation> {
    match (api_version.split('/').next().unwrap_or_default(), kind) {
        ("metallb.io", "IPAddressPool") => Some(Implementation::MetalLb),
        ("cilium.io", "CiliumLoadBalancerIPPool") => Some(Implementation::Cilium),
        ("projectcalico.org" | "crd.projectcalico.org", "IPPool") => Some(Implementation::Calico),
        ("v1", "ConfigMap") if name == "kubevip" && namespace == Some("kube-system") => {
            Some(Implementation::KubeVip)
        }
        ("v1", "ConfigMap") if name == "config" && namespace == Some("metallb-system") => {
            Some(Implementation::MetalLb)
        }
        _ => None,
    }
}

impl AddressPool {
    /// Whether the pool can allocate `ip` (to some Service): in a range, the pool enabled, and
    /// not an address the implementation skips.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.disabled {
            return false;
        }
        if self.avoid_buggy_ips
            && let IpAddr::V4(v4) = ip
            && matches!(v4.octets()[3], 0 | 255)
        {
            return false;
        }
        self.ranges.iter().any(|r| r.contains(ip))
    }

    /// Whether a Service with `labels`, named `namespace/name`, may take addresses from the
    /// pool. Cilium's service selector also sees `io.kubernetes.service.namespace` and
    /// `io.kubernetes.service.name`.
    #[must_use]
    pub fn serves(&self, labels: &BTreeMap<String, String>, namespace: &str, name: &str) -> bool {
        let Some(sel) = &self.service_selector else {
            return true;
        };
        let mut all = labels.clone();
        all.insert("io.kubernetes.service.namespace".into(), namespace.into());
        all.insert("io.kubernetes.service.name".into(), name.into());
        crate::k8s::selector::matches(sel, &crate::k8s::selector::PodLabels::known(all))
    }

    /// How the pool's ranges read in messages, with what keeps addresses out of them.
    #[must_use]
    pub fn describe(&self) -> String {
        let ranges: Vec<String> = self.ranges.iter().map(ToString::to_string).collect();
        let mut text = ranges.join(", ");
        if self.disabled {
            text.push_str("; disabled");
        }
        if self.avoid_buggy_ips {
            text.push_str("; avoidBuggyIPs: no .0 or .255");
        }
        if let Some(sel) = &self.service_selector {
            let _ = write!(
                text,
                "; only for Services selected by {}",
                crate::k8s::selector::describe(sel)
            );
        }
        text
    }
}

/// A range as pools write them: a CIDR (host bits masked, as the controllers do), one address,
/// or `first-last`.
fn range(text: &str) -> Option<Range> {
    let text = text.trim();
    if let Some((a, b)) = text.split_once('-') {
        let (first, last) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return Some(Range { first, last });
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Range {
            first: ip,
            last: ip,
        });
    }
    text.parse::<IpNet>().ok().map(|n| Range::of_net(n.trunc()))
}

/// Each entry as a range, or among the unreadable ones.
fn read_all(
    entries: impl Iterator<Item = (String, String)>,
) -> (Vec<Range>, Vec<(String, String)>) {
    let mut ranges = Vec::new();
    let mut unreadable = Vec::new();
    for (text, path) in entries {
        match range(&text) {
            Some(r) => ranges.push(r),
            None => unreadable.push((text, path)),
        }
    }
    (ranges, unreadable)
}

/// The pool an object declares, if it is a pool: by API group and kind, with the tree of its
/// document.
#[must_use]
pub fn pool(
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    tree: &Tree,
    node: NodeId,
) -> Option<AddressPool> {
    let group = api_version.split('/').next().unwrap_or_default();
    let strings = |path: &[&str]| -> Vec<String> {
        let (n, _, depth) = tree.lookup(node, path);
        if depth < path.len() {
            return Vec::new();
        }
        match &tree.node(tree.resolve(n)).kind {
            NodeKind::Seq { .. } => tree
                .items(n)
                .iter()
                .filter_map(|&i| tree.scalar(i).map(str::to_string))
                .collect(),
            _ => tree.scalar(n).map(str::to_string).into_iter().collect(),
        }
    };
    let scalar = |n: NodeId, key: &str| tree.get(n, key).and_then(|(_, v)| tree.scalar(v));
    // A scalar setting below the object, as written.
    let flag = |path: &[&str]| {
        let (n, _, depth) = tree.lookup(node, path);
        (depth == path.len()).then(|| tree.scalar(n)).flatten()
    };
    match (group, kind) {
        ("metallb.io", "IPAddressPool") => {
            let (n, _, depth) = tree.lookup(node, &["spec", "autoAssign"]);
            let (ranges, unreadable) = read_all(
                strings(&["spec", "addresses"])
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (s, format!("/spec/addresses/{i}"))),
            );
            Some(AddressPool {
                implementation: Implementation::MetalLb,
                ranges,
                auto_assign: !(depth == 2 && tree.scalar(n) == Some("false")),
                legacy: false,
                unreadable,
                disabled: false,
                avoid_buggy_ips: flag(&["spec", "avoidBuggyIPs"]) == Some("true"),
                service_selector: None,
            })
        }
        ("cilium.io", "CiliumLoadBalancerIPPool") => {
            let mut entries = Vec::new();
            for key in ["blocks", "cidrs"] {
                let (n, _, depth) = tree.lookup(node, &["spec", key]);
                if depth < 2 {
                    continue;
                }
                for (i, &b) in tree.items(n).iter().enumerate() {
                    if let Some(c) = scalar(b, "cidr") {
                        entries.push((c.to_string(), format!("/spec/{key}/{i}/cidr")));
                    } else if let Some(start) = scalar(b, "start") {
                        let stop = scalar(b, "stop").unwrap_or(start);
                        entries.push((format!("{start}-{stop}"), format!("/spec/{key}/{i}/start")));
                    }
                }
            }
            // Which readable entries are CIDRs, in the order `read_all` keeps them.
            let cidrs: Vec<bool> = entries
                .iter()
                .filter(|(t, _)| range(t).is_some())
                .map(|(_, path)| path.ends_with("/cidr"))
                .collect();
            let (mut ranges, unreadable) = read_all(entries.into_iter());
            // `allowFirstLastIPs: "No"` reserves each CIDR's first and last address, except
            // in /31, /32, /127 and /128, which would have none left.
            if flag(&["spec", "allowFirstLastIPs"]) == Some("No") {
                for (r, cidr) in ranges.iter_mut().zip(&cidrs) {
                    if *cidr {
                        *r = r.without_ends();
                    }
                }
            }
            let (sel, _, depth) = tree.lookup(node, &["spec", "serviceSelector"]);
            let service_selector = (depth == 2)
                .then(|| crate::yaml::decode::decode::<LabelSelector>(tree, sel, 10_000).ok())
                .flatten()
                .map(|d| d.value);
            Some(AddressPool {
                implementation: Implementation::Cilium,
                ranges,
                auto_assign: true,
                legacy: false,
                unreadable,
                disabled: flag(&["spec", "disabled"]) == Some("true"),
                avoid_buggy_ips: false,
                service_selector,
            })
        }
        ("projectcalico.org" | "crd.projectcalico.org", "IPPool")
            if strings(&["spec", "allowedUses"])
                .iter()
                .any(|u| u == "LoadBalancer") =>
        {
            let (ranges, unreadable) = read_all(
                strings(&["spec", "cidr"])
                    .into_iter()
                    .map(|s| (s, "/spec/cidr".to_string())),
            );
            Some(AddressPool {
                implementation: Implementation::Calico,
                ranges,
                auto_assign: true,
                legacy: false,
                unreadable,
                disabled: false,
                avoid_buggy_ips: false,
                service_selector: None,
            })
        }
        ("v1", "ConfigMap") if name == "kubevip" && namespace == Some("kube-system") => {
            let (data, _, depth) = tree.lookup(node, &["data"]);
            if depth < 1 {
                return None;
            }
            let entries: Vec<(String, String)> = tree
                .pairs(data)
                .filter_map(|(k, v)| {
                    let key = tree.key_string(k)?;
                    let value = tree.scalar(v)?.to_string();
                    (key.starts_with("cidr-") || key.starts_with("range-")).then_some((key, value))
                })
                .flat_map(|(key, v)| {
                    let path = format!("/data/{}", crate::yaml::pointer::escape(&key));
                    v.split(',')
                        .map(|e| (e.to_string(), path.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            let (ranges, unreadable) = read_all(entries.into_iter());
            Some(AddressPool {
                implementation: Implementation::KubeVip,
                ranges,
                auto_assign: true,
                legacy: false,
                unreadable,
                disabled: false,
                avoid_buggy_ips: false,
                service_selector: None,
            })
        }
        ("v1", "ConfigMap") if name == "config" && namespace == Some("metallb-system") => {
            legacy_metallb(tree, node)
        }
        _ => None,
    }
}

/// MetalLB's configuration before 0.13: a YAML document in the `config` key of the `config`
/// ConfigMap of `metallb-system`, with `address-pools` (each `addresses` and `auto-assign`).
/// One pool stands for all of them (rules ask whether any pool holds an address).
fn legacy_metallb(tree: &Tree, node: NodeId) -> Option<AddressPool> {
    let (n, _, depth) = tree.lookup(node, &["data", "config"]);
    let text = (depth == 2).then(|| tree.scalar(n)).flatten()?;
    if !text.contains("address-pools") {
        return None;
    }
    let (docs, _) = crate::yaml::parse(text, crate::yaml::BuildLimits { max_depth: 64 });
    let doc = docs.first()?;
    let t = &doc.tree;
    let (pools, _, depth) = t.lookup(doc.root, &["address-pools"]);
    if depth < 1 {
        return None;
    }
    let mut entries = Vec::new();
    let mut auto_assign = true;
    for &p in t.items(pools) {
        if t.get(p, "auto-assign").and_then(|(_, v)| t.scalar(v)) == Some("false") {
            auto_assign = false;
        }
        let (a, _, d) = t.lookup(p, &["addresses"]);
        if d == 1 {
            // The entries are inside the ConfigMap's string: they point at the string.
            for &e in t.items(a) {
                if let Some(text) = t.scalar(e) {
                    entries.push((text.to_string(), "/data/config".to_string()));
                }
            }
        }
    }
    let (ranges, unreadable) = read_all(entries.into_iter());
    Some(AddressPool {
        implementation: Implementation::MetalLb,
        ranges,
        auto_assign,
        legacy: true,
        unreadable,
        disabled: false,
        avoid_buggy_ips: false,
        service_selector: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_the_controllers_read_them() {
        let r = range("192.0.2.5/24").expect("cidr");
        assert_eq!(r.to_string(), "192.0.2.0/24");
        let r = range("192.0.2.10 - 192.0.2.20").expect("range");
        assert!(r.contains("192.0.2.15".parse().expect("ip")));
        assert!(!r.contains("192.0.2.21".parse().expect("ip")));
        assert_eq!(r.to_string(), "192.0.2.10-192.0.2.20");
        assert_eq!(
            range("2001:db8::1").expect("one").to_string(),
            "2001:db8::1/128"
        );
        assert!(range("nope").is_none());
    }
}
