//! The load-balancer implementation of one cluster: the one config names, or for `auto` the
//! strongest evidence in the input: its address pools first, then its CRDs and controllers,
//! then the `loadBalancerClass` and annotations Services use, then Gateway API objects. The
//! decision keeps the evidence as a span, and the cluster's pools.

use crate::finding::Message;
use crate::k8s::implementation::ADDRESS_ANNOTATIONS;
use crate::object::claims::{Claim, Source};
use crate::object::pools::Implementation;
use crate::object::{Object, View};
use crate::source::Span;

/// The implementation in force and why.
#[derive(Debug, Clone)]
pub struct LbDecision {
    pub implementation: Option<Implementation>,
    /// `auto: IPAddressPool metallb-system/prod at <place>`, `set by <place>`, or why none.
    pub reason: Message,
    pub evidence: Option<Span>,
}

/// How strong a piece of evidence is: lower wins.
fn rank(e: &Evidence) -> u8 {
    match e.what {
        What::Pool => 0,
        What::Crd | What::Controller => 1,
        What::Class => 2,
        What::Annotation => 3,
        What::Gateway => 4,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Pool,
    Crd,
    Controller,
    Class,
    Annotation,
    Gateway,
}

struct Evidence {
    implementation: Implementation,
    what: What,
    text: String,
    span: Span,
}

/// The implementation `loadBalancerClass` names, for the classes implementations ship.
#[must_use]
pub fn of_class(class: &str) -> Option<Implementation> {
    if class.starts_with("io.cilium/") {
        Some(Implementation::Cilium)
    } else if class == "kube-vip.io/kube-vip-class" {
        Some(Implementation::KubeVip)
    } else if class == "calico" {
        Some(Implementation::Calico)
    } else {
        None
    }
}

fn evidence(obj: &Object) -> Option<Evidence> {
    let at = |path: &str| obj.key_span(path);
    let group = obj.id.api_version.split('/').next().unwrap_or_default();
    let found = |implementation, what, text: String, span| {
        Some(Evidence {
            implementation,
            what,
            text,
            span,
        })
    };
    match &obj.view {
        View::AddressPool(p) => {
            return found(
                p.implementation,
                What::Pool,
                obj.id.to_string(),
                obj.value_span("/apiVersion"),
            );
        }
        View::Gateway(_) => {
            return found(
                Implementation::Gateway,
                What::Gateway,
                obj.id.to_string(),
                obj.value_span("/apiVersion"),
            );
        }
        _ => {}
    }
    if obj.id.kind == "CustomResourceDefinition" {
        let implementation = match obj.id.name.as_str() {
            "ipaddresspools.metallb.io" => Implementation::MetalLb,
            "ciliumloadbalancerippools.cilium.io" => Implementation::Cilium,
            _ => return None,
        };
        return found(
            implementation,
            What::Crd,
            format!("CRD {}", obj.id.name),
            obj.value_span("/apiVersion"),
        );
    }
    if group == "gateway.networking.k8s.io" && obj.id.kind == "GatewayClass" {
        return found(
            Implementation::Gateway,
            What::Gateway,
            obj.id.to_string(),
            obj.value_span("/apiVersion"),
        );
    }
    // A controller by what it runs (its image), not by what it is called: a demo app named
    // `kube-vip-demo` is no kube-vip.
    if let View::Workload(w) = &obj.view {
        for image in &w.images {
            let repo = image.split(['@', ':']).next().unwrap_or_default();
            let implementation =
                if repo.ends_with("metallb/controller") || repo.ends_with("metallb/speaker") {
                    Implementation::MetalLb
                } else if repo.ends_with("kube-vip/kube-vip")
                    || repo.ends_with("plndr/kube-vip")
                    || repo.ends_with("kube-vip/kube-vip-cloud-provider")
                {
                    Implementation::KubeVip
                } else {
                    continue;
                };
            return found(
                implementation,
                What::Controller,
                format!("{} (image `{image}`)", obj.id),
                obj.value_span("/apiVersion"),
            );
        }
    }
    if let View::Service(svc) = &obj.view {
        if let Some(class) = svc
            .spec
            .as_ref()
            .and_then(|s| s.load_balancer_class.as_deref())
            && let Some(i) = of_class(class)
        {
            return found(
                i,
                What::Class,
                format!("{} has `loadBalancerClass: {class}`", obj.id),
                at("/spec/loadBalancerClass"),
            );
        }
        for a in ADDRESS_ANNOTATIONS {
            if obj.annotations.contains_key(a.key)
                && let Some(i) = Implementation::of_annotation(a.implementation)
            {
                let path = format!(
                    "/metadata/annotations/{}",
                    crate::yaml::pointer::escape(a.key)
                );
                return found(
                    i,
                    What::Annotation,
                    format!("{} has annotation `{}`", obj.id, a.key),
                    at(&path),
                );
            }
        }
        for key in obj.annotations.keys() {
            let i = if key.starts_with("metallb.io/") || key.starts_with("metallb.universe.tf/") {
                Implementation::MetalLb
            } else if key.starts_with("lbipam.cilium.io/") {
                Implementation::Cilium
            } else {
                continue;
            };
            let path = format!(
                "/metadata/annotations/{}",
                crate::yaml::pointer::escape(key)
            );
            return found(
                i,
                What::Annotation,
                format!("{} has annotation `{key}`", obj.id),
                at(&path),
            );
        }
    }
    None
}

/// Decides the implementation. `requested` is the config's choice (`None`: `auto`), with where
/// it was set.
#[must_use]
pub fn decide(
    requested: Option<(Implementation, Message)>,
    objects: &[Object],
    scope: &str,
) -> LbDecision {
    if let Some((i, by)) = requested {
        let mut reason = Message::from("set by ");
        reason.append(&by);
        return LbDecision {
            implementation: Some(i),
            reason,
            evidence: None,
        };
    }
    // The strongest evidence; between equals, the first by file (file ids follow the sorted
    // file names) and position, so the order of the paths given never matters.
    let mut found: Vec<Evidence> = objects.iter().filter_map(evidence).collect();
    found.sort_by_key(|e| (rank(e), e.span.file, e.span.start));
    match found.first() {
        Some(e) => {
            let mut reason = Message::from(format!("auto: {} at ", e.text));
            reason.push_place(e.span);
            // As strong evidence of another implementation makes the choice a guess: say so.
            let rival = found
                .iter()
                .find(|o| rank(o) == rank(e) && o.implementation != e.implementation);
            if let Some(o) = rival {
                reason.push_str(&format!("; {} at ", o.text));
                reason.push_place(o.span);
                reason.push_str(&format!(
                    " is as strong a sign of {}: set `load-balancer` in the config to choose",
                    o.implementation.name()
                ));
            }
            LbDecision {
                implementation: Some(e.implementation),
                reason,
                evidence: Some(e.span),
            }
        }
        None => LbDecision {
            implementation: None,
            reason: Message::from(format!(
                "auto: no load-balancer pool, controller, class or annotation in {scope}"
            )),
            evidence: None,
        },
    }
}

/// What the input shows of the release of MetalLB the cluster runs: a version from a controller
/// or speaker image tag (`quay.io/metallb/controller:v0.13.7`), or that its configuration is the
/// `config` ConfigMap that only releases before 0.13 read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `(major, minor, patch)`; `(0, 12, u32::MAX)` for "before 0.13".
    pub version: (u32, u32, u32),
    /// `MetalLB 0.13.7 (image of Deployment metallb-system/controller)`.
    pub seen: String,
}

/// The MetalLB release the input shows, the oldest when it shows several.
#[must_use]
pub fn metallb_release(objects: &[Object]) -> Option<Release> {
    let mut found: Vec<Release> = Vec::new();
    for obj in objects {
        match &obj.view {
            View::AddressPool(p) if p.legacy => found.push(Release {
                version: (0, 12, u32::MAX),
                seen: format!(
                    "MetalLB before 0.13 (the `address-pools` configuration in ConfigMap {})",
                    obj.id.qualified_name()
                ),
            }),
            View::Workload(w) => {
                for image in &w.images {
                    let Some((repo, tag)) = image.rsplit_once(':') else {
                        continue;
                    };
                    if !(repo.ends_with("metallb/controller") || repo.ends_with("metallb/speaker"))
                    {
                        continue;
                    }
                    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
                    let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
                    if let (Some(a), Some(b), Some(c)) = (next(), next(), next()) {
                        found.push(Release {
                            version: (a, b, c),
                            seen: format!("MetalLB {a}.{b}.{c} (image of {})", obj.id),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    found
        .into_iter()
        .min_by(|a, b| a.version.cmp(&b.version).then(a.seen.cmp(&b.seen)))
}

/// The pools of `implementation` among `objects`.
pub fn pools(
    objects: &[Object],
    implementation: Option<Implementation>,
) -> impl Iterator<Item = (&Object, &crate::object::pools::AddressPool)> {
    objects.iter().filter_map(move |o| match &o.view {
        View::AddressPool(p) if Some(p.implementation) == implementation => Some((o, &**p)),
        _ => None,
    })
}

/// Whether a claim is one the implementation allocates (not an externalIP or a status).
#[must_use]
pub fn requested(claim: &Claim<'_>) -> bool {
    matches!(
        claim.source,
        Source::LoadBalancerIp | Source::Annotation(_) | Source::GatewayAddress
    )
}
