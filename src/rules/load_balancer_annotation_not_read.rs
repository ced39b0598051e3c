//! EXT012 load-balancer-annotation-not-read: an address annotation no controller of the
//! cluster reads: another implementation's, or an older key beside the newer one.

use super::{At, Draft, Rule, RuleContext};
use crate::finding::{Finding, Message, RuleMeta, Severity};
use crate::implementation::Implementation;
use crate::object::claims::Source;

pub static META: RuleMeta = RuleMeta {
    code: "EXT012",
    name: "load-balancer-annotation-not-read",
    summary: "load-balancer address annotation that no controller of the cluster reads: another implementation's, or an older key beside the newer one",
    default_severity: Severity::Warning,
    docs: include_str!("../../rules/EXT012-load-balancer-annotation-not-read.md"),
    security_severity: "2.0",
    tags: &["kubernetes", "networking", "correctness"],
};

pub struct LoadBalancerAnnotationNotRead;

impl Rule for LoadBalancerAnnotationNotRead {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let mut seen: Vec<(&crate::object::Object, &str)> = Vec::new();
        for claim in cx.claims {
            let Source::Annotation(a) = claim.source else {
                continue;
            };
            let obj = claim.object;
            if seen
                .iter()
                .any(|(o, k)| std::ptr::eq(*o, obj) && *k == a.key)
            {
                continue;
            }
            let mut message = Message::from(format!(
                "Service `{}` has annotation `{}`, which no controller of the cluster reads: ",
                obj.id.qualified_name(),
                a.key
            ));
            if let Some(newer) = a.superseded_by.filter(|k| obj.annotations.contains_key(*k)) {
                message.push_str(&format!(
                    "`{newer}` is set too, and {} reads only that one",
                    a.implementation
                ));
            } else if let Some(i) = cx.lb.implementation
                && Implementation::of_annotation(a.implementation) != Some(i)
            {
                message.push_str(&format!(
                    "it is {}'s, and the cluster's load balancer is {} (",
                    a.implementation,
                    i.name()
                ));
                message.append(&cx.lb.reason);
                message.push_str(")");
            } else {
                continue;
            }
            seen.push((obj, a.key));
            let path = format!(
                "/metadata/annotations/{}",
                crate::yaml::pointer::escape(a.key)
            );
            out.push(
                Draft {
                    object: obj,
                    path: &path,
                    at: At::Key,
                    label: "not read",
                    message,
                    help: "Remove the annotation, or use the annotation of the implementation that runs in the cluster (set `load-balancer:` in the config if it was detected wrongly).",
                }
                .finding(&META),
            );
        }
    }
}
