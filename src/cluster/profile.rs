//! The decisions for one cluster: the profile requested (config or flag), or for `auto` the
//! index's cloud evidence; and the Kubernetes version and gates in force, with where they came
//! from. Decisions keep places as spans; renderers say where.

use crate::cluster::index::CloudEvidence;
use crate::config::Profile;
use crate::finding::Message;
use crate::k8s::kubernetes::Target;
use crate::source::Span;

/// The profile in force and why.
#[derive(Debug, Clone)]
pub struct ProfileDecision {
    pub profile: Profile,
    pub requested: Profile,
    /// Why, for people: `auto: Service x has annotation y at <place>`, `set by <place>`.
    pub reason: Message,
    /// Where the deciding evidence is, for `auto`.
    pub evidence: Option<Span>,
    /// The deciding object, for `auto`: `Service shop/web`.
    pub decided_by: Option<String>,
}

/// Why a file's cloud signals do not decide a cluster's profile, if they do not: the file is
/// a vendored, example, documentation or provider-specific copy of someone else's manifests (a repository
/// that keeps the AWS variant of an upstream chart under `vendor/` is not itself on AWS).
#[must_use]
pub fn set_aside(path: &str) -> Option<&'static str> {
    let parts: Vec<String> = path
        .split(['/', '\\'])
        .map(str::to_ascii_lowercase)
        .collect();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    for (i, d) in dirs.iter().enumerate() {
        match d.as_str() {
            "vendor" | "vendored" | "third_party" | "third-party" | "thirdparty" | "upstream" => {
                return Some("a vendored copy");
            }
            "examples" | "example" | "samples" | "sample" => return Some("an example"),
            "docs" | "doc" | "documentation" => return Some("documentation"),
            "provider" | "providers" | "cloud" | "clouds"
                if dirs.get(i + 1).is_some_and(|p| {
                    matches!(
                        p.as_str(),
                        "aws" | "eks" | "gcp" | "gce" | "gke" | "google" | "azure" | "aks"
                    )
                }) =>
            {
                return Some("a provider-specific variant");
            }
            _ => {}
        }
    }
    None
}

/// Decides the profile. `set_by` says where an explicit profile came from (`None`: the
/// default). For `auto`, the cloud signals in `evidence` decide, except those in files
/// `set_aside` keeps out (`name` gives a span's file name).
#[must_use]
pub fn decide(
    requested: Profile,
    set_by: Option<Message>,
    evidence: &[CloudEvidence],
    name: &dyn Fn(Span) -> String,
    scope: &str,
) -> ProfileDecision {
    const OVERRIDE: &str = "; set `profile:` in the config or pass `--profile` to decide yourself";
    match requested {
        Profile::Auto => {
            let (aside, deciding): (Vec<&CloudEvidence>, Vec<&CloudEvidence>) = evidence
                .iter()
                .partition(|e| set_aside(&name(e.span)).is_some());
            if let Some(e) = deciding.first() {
                let mut reason = Message::from(format!("auto: {} at ", e.what));
                reason.push_place(e.span);
                if deciding.len() > 1 {
                    reason.push_str(&format!(
                        " and {} more cloud signal{}",
                        deciding.len() - 1,
                        if deciding.len() == 2 { "" } else { "s" }
                    ));
                }
                reason.push_str(OVERRIDE);
                ProfileDecision {
                    profile: Profile::Cloud,
                    requested,
                    reason,
                    evidence: Some(e.span),
                    decided_by: Some(e.object.clone()),
                }
            } else {
                let mut reason = Message::from(format!(
                    "auto: no cloud load-balancer annotation or cloud API group in {scope}"
                ));
                if let Some(e) = aside.first() {
                    let file = name(e.span);
                    reason = Message::from(format!(
                        "auto: cloud signals only in vendored, example or provider-specific files, which do not decide for the rest: {} in {} ({}){}",
                        e.what,
                        file,
                        set_aside(&file).unwrap_or_default(),
                        if aside.len() > 1 {
                            format!(" and {} more", aside.len() - 1)
                        } else {
                            String::new()
                        }
                    ));
                    reason.push_str(OVERRIDE);
                }
                ProfileDecision {
                    profile: Profile::OnPrem,
                    requested,
                    reason,
                    evidence: None,
                    decided_by: None,
                }
            }
        }
        p => ProfileDecision {
            profile: p,
            requested: p,
            reason: match set_by {
                None => Message::from("default"),
                Some(by) => {
                    let mut m = Message::from("set by ");
                    m.append(&by);
                    m
                }
            },
            evidence: None,
            decided_by: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::set_aside;

    #[test]
    fn vendored_example_and_provider_copies_are_set_aside() {
        assert!(set_aside("vendor/ingress-nginx/deploy.yaml").is_some());
        assert!(set_aside("deploy/static/provider/aws/deploy.yaml").is_some());
        assert!(set_aside("charts/contour/examples/render/contour.yaml").is_some());
        assert_eq!(set_aside("docs/aws/nlb.yaml"), Some("documentation"));
        assert_eq!(set_aside("clusters/aws/prod/svc.yaml"), None);
        assert!(set_aside("third_party/x.yaml").is_some());
        assert!(set_aside("apps/web/service.yaml").is_none());
        assert!(set_aside("providers/onprem/service.yaml").is_none());
        assert!(set_aside("examples.yaml").is_none(), "a file, not a folder");
    }
}

/// The Kubernetes version and gates a cluster is checked against, and why.
#[derive(Debug, Clone)]
pub struct KubernetesDecision {
    pub target: Target,
    /// `default: the newest release extip-lint knows`, `set by <place>`, and the gates set.
    pub reason: Message,
}

/// The decision for a target whose version came from `version_set_by` (`None`: the default)
/// and whose gates came from the places given.
#[must_use]
pub fn kubernetes(
    target: Target,
    version_set_by: Option<Message>,
    gates_set_by: Vec<Message>,
) -> KubernetesDecision {
    let mut reason = match version_set_by {
        None => Message::from("default: the newest release extip-lint knows"),
        Some(by) => {
            let mut m = Message::from("set by ");
            m.append(&by);
            m
        }
    };
    for (i, ((gate, on), by)) in target.gates.iter().zip(gates_set_by).enumerate() {
        reason.push_str(if i == 0 { "; feature gates " } else { ", " });
        reason.push_str(&format!("{}={on} from ", gate.name()));
        reason.append(&by);
    }
    KubernetesDecision { target, reason }
}
