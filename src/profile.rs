//! The decisions for one cluster: the profile requested (config or flag), or for `auto` the
//! index's cloud evidence; and the Kubernetes version and gates in force, with where they came
//! from. Decisions keep places as spans; renderers say where.

use crate::config::Profile;
use crate::finding::Message;
use crate::index::CloudEvidence;
use crate::kubernetes::Target;
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

/// Decides the profile. `set_by` says where an explicit profile came from (`None`: the
/// default).
#[must_use]
pub fn decide(
    requested: Profile,
    set_by: Option<Message>,
    evidence: Option<&CloudEvidence>,
    scope: &str,
) -> ProfileDecision {
    match requested {
        Profile::Auto => match evidence {
            Some(e) => {
                let mut reason = Message::from(format!("auto: {} at ", e.what));
                reason.push_place(e.span);
                ProfileDecision {
                    profile: Profile::Cloud,
                    requested,
                    reason,
                    evidence: Some(e.span),
                    decided_by: Some(e.object.clone()),
                }
            }
            None => ProfileDecision {
                profile: Profile::OnPrem,
                requested,
                reason: Message::from(format!(
                    "auto: no cloud load-balancer annotation or cloud API group in {scope}"
                )),
                evidence: None,
                decided_by: None,
            },
        },
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
