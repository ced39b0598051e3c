//! EXT012 load-balancer-annotation-not-read: an address annotation no controller of the
//! cluster reads: another implementation's, or an older key beside the newer one.

use super::{At, Check, Draft, Rule, RuleContext};
use crate::finding::{Change, Finding, Fix, Message, RuleMeta, Safety, Severity};
use crate::k8s::implementation::Implementation;
use crate::object::claims::Source;

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT012",
        name: "load-balancer-annotation-not-read",
        since: "0.1.0",
        summary: "load-balancer address annotation that no controller of the cluster reads: another implementation's, or an older key beside the newer one",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT012-load-balancer-annotation-not-read.md"),
        security_severity: "2.0",
        tags: &["kubernetes", "networking", "correctness"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
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
        let gateway = obj.id.kind == "Gateway";
        let mut fix = None;
        let mut message = Message::from(format!(
            "{} `{}` has {}annotation `{}`, which no controller of the cluster reads: ",
            obj.id.kind,
            obj.id.qualified_name(),
            if gateway { "infrastructure " } else { "" },
            a.key
        ));
        if let Some(newer) = a.superseded_by.filter(|k| obj.annotations.contains_key(*k)) {
            message.push_str(&format!(
                "`{newer}` is set too, and {} reads only that one",
                a.implementation
            ));
            let path = claim.path.clone();
            fix = Some(Fix {
                title: format!(
                    "Remove `{}`, which {} does not read",
                    a.key, a.implementation
                ),
                safety: Safety::Safe,
                changes: vec![Change::Remove {
                    key: obj.key_span(&path),
                    value: obj.value_span(&path),
                }],
                edits: Vec::new(),
                refused: None,
            });
        } else if let Some(i) = cx.lb.implementation
            && Implementation::of_annotation(a.implementation) != Some(i)
            // A Gateway's infrastructure annotations go to the Service its implementation
            // makes, whose address another controller allocates.
            && !(gateway && i == Implementation::Gateway)
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
        let path = claim.path.clone();
        let help = if fix.is_some() {
            "Remove the older key; the newer one is the one in force."
        } else {
            "Remove the annotation, or use the annotation of the implementation that runs in the cluster (set `load-balancer:` in the config if it was detected wrongly)."
        };
        let mut f = Draft {
            object: obj,
            path: &path,
            at: At::Key,
            label: "not read",
            message,
            help,
        }
        .finding(&RULE.meta);
        f.fixes.extend(fix);
        out.push(f);
    }
}
