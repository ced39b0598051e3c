//! The load-balancer implementations extip-lint knows: names, config keys and the annotation
//! each reads fixed addresses from. Vocabulary shared by the config, the objects and the rules.

/// A load-balancer implementation that allocates addresses to Services (or Gateways).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Implementation {
    MetalLb,
    Cilium,
    KubeVip,
    Calico,
    Gateway,
    /// No controller: `type: LoadBalancer` with a class nothing implements, the address written
    /// to the status by hand (the 1.36 blog's "easiest (but also worst)" option).
    Manual,
}

impl Implementation {
    pub const ALL: [Implementation; 6] = [
        Implementation::MetalLb,
        Implementation::Cilium,
        Implementation::KubeVip,
        Implementation::Calico,
        Implementation::Gateway,
        Implementation::Manual,
    ];

    /// The name people use, as in messages: `MetalLB`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Implementation::MetalLb => "MetalLB",
            Implementation::Cilium => "Cilium",
            Implementation::KubeVip => "kube-vip",
            Implementation::Calico => "Calico",
            Implementation::Gateway => "Gateway API",
            Implementation::Manual => "manual",
        }
    }

    /// The config value: `metallb`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Implementation::MetalLb => "metallb",
            Implementation::Cilium => "cilium",
            Implementation::KubeVip => "kube-vip",
            Implementation::Calico => "calico",
            Implementation::Gateway => "gateway",
            Implementation::Manual => "manual",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Implementation> {
        Implementation::ALL.into_iter().find(|i| i.key() == s)
    }

    /// Which implementation an address annotation's `implementation` name is.
    #[must_use]
    pub fn of_annotation(name: &str) -> Option<Implementation> {
        Implementation::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The annotation that requests fixed addresses, and how it lists them.
    #[must_use]
    pub fn address_annotation(self) -> Option<(&'static str, bool)> {
        match self {
            Implementation::MetalLb => Some(("metallb.io/loadBalancerIPs", false)),
            Implementation::Cilium => Some(("lbipam.cilium.io/ips", false)),
            Implementation::KubeVip => Some(("kube-vip.io/loadbalancerIPs", false)),
            // A JSON list in a string.
            Implementation::Calico => Some(("projectcalico.org/loadBalancerIPs", true)),
            Implementation::Gateway | Implementation::Manual => None,
        }
    }

    /// Whether the implementation allocates for a `LoadBalancer` Service of this
    /// `loadBalancerClass`: its controllers skip Services of another class (MetalLB serves only
    /// Services without a class unless started with `--lb-class`).
    #[must_use]
    pub fn serves_class(self, class: Option<&str>) -> bool {
        let Some(class) = class.filter(|c| !c.is_empty()) else {
            return true;
        };
        match self {
            Implementation::MetalLb => false,
            Implementation::Cilium => class.starts_with("io.cilium/"),
            Implementation::KubeVip => class == "kube-vip.io/kube-vip-class",
            Implementation::Calico => class == "calico",
            Implementation::Gateway | Implementation::Manual => true,
        }
    }
}

/// How an implementation lists addresses in its annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Comma-separated, each entry trimmed.
    Comma,
    /// A JSON array of strings.
    Json,
}

/// How an implementation parses one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// Go's `net.ParseIP`: no leading zeros; IPv4-mapped is the IPv4 address.
    GoNet,
    /// Go's `netip.ParseAddr`: no leading zeros; IPv4-mapped stays an IPv6 address.
    GoNetip,
}

/// A load-balancer implementation's address annotation on Services.
#[derive(Debug, PartialEq, Eq)]
pub struct AddressAnnotation {
    pub key: &'static str,
    pub implementation: &'static str,
    pub list: List,
    pub parser: Parser,
    /// The newer key that wins when both are set.
    pub superseded_by: Option<&'static str>,
    /// What the implementation does with an entry it cannot parse.
    pub on_error: &'static str,
}

/// Every address annotation extip-lint reads.
pub static ADDRESS_ANNOTATIONS: &[AddressAnnotation] = &[
    AddressAnnotation {
        key: "metallb.io/loadBalancerIPs",
        implementation: "MetalLB",
        list: List::Comma,
        parser: Parser::GoNet,
        superseded_by: None,
        on_error: "MetalLB rejects the whole annotation and allocates no address",
    },
    AddressAnnotation {
        key: "metallb.universe.tf/loadBalancerIPs",
        implementation: "MetalLB",
        list: List::Comma,
        parser: Parser::GoNet,
        superseded_by: Some("metallb.io/loadBalancerIPs"),
        on_error: "MetalLB rejects the whole annotation and allocates no address",
    },
    AddressAnnotation {
        key: "lbipam.cilium.io/ips",
        implementation: "Cilium",
        list: List::Comma,
        parser: Parser::GoNetip,
        superseded_by: None,
        on_error: "Cilium LB IPAM skips the entry",
    },
    AddressAnnotation {
        key: "io.cilium/lb-ipam-ips",
        implementation: "Cilium",
        list: List::Comma,
        parser: Parser::GoNetip,
        superseded_by: Some("lbipam.cilium.io/ips"),
        on_error: "Cilium LB IPAM skips the entry",
    },
    AddressAnnotation {
        key: "kube-vip.io/loadbalancerIPs",
        implementation: "kube-vip",
        list: List::Comma,
        parser: Parser::GoNetip,
        superseded_by: None,
        on_error: "the kube-vip cloud provider rejects the annotation",
    },
    AddressAnnotation {
        key: "projectcalico.org/loadBalancerIPs",
        implementation: "Calico",
        list: List::Json,
        parser: Parser::GoNet,
        superseded_by: None,
        on_error: "Calico ignores the annotation",
    },
];
