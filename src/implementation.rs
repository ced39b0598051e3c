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
