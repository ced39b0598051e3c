//! EXT008 non-standard-external-ip: requested addresses the target cluster accepts, but not in
//! their standard form: leading zeros and IPv4-mapped IPv6 where strict IP validation is off,
//! and IPv6 not in RFC 5952 canonical form. The message quotes the API server's warning for the
//! target version.

use super::{At, Check, Draft, Rule, RuleContext};
use crate::finding::{Change, Finding, Fix, RuleMeta, Safety, Severity};
use crate::object::claims::{Reading, Source};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT008",
        name: "non-standard-external-ip",
        since: "0.1.0",
        summary: "requested address accepted in a non-standard form: leading zeros or IPv4-mapped (before strict validation), IPv6 not in RFC 5952 form",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT008-non-standard-external-ip.md"),
        security_severity: "3.0",
        tags: &["kubernetes", "networking", "correctness"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    for claim in cx.claims {
        let Reading::Accepted {
            warning: Some(w), ..
        } = claim.reading(cx.kubernetes)
        else {
            continue;
        };
        let obj = claim.object;
        let said = w
            .text
            .as_ref()
            .map_or_else(String::new, |t| format!(" (`{t}`)"));
        let later = w
            .later
            .as_ref()
            .map_or_else(String::new, |l| format!("; {l}"));
        let span = obj.value_span(&claim.path);
        let change = match claim.source {
            Source::Annotation(_) => Change::Within {
                span,
                old: claim.entry.clone(),
                new: w.canonical.clone(),
            },
            _ => Change::Value {
                span,
                value: w.canonical.clone(),
            },
        };
        let mut f = Draft {
            object: obj,
            path: &claim.path,
            at: At::Value,
            label: "non-standard form",
            message: format!(
                "{} `{}` has {} `{}`, not in standard form: {}{said}{later}",
                obj.id.kind,
                obj.id.qualified_name(),
                claim.source.noun(),
                claim.entry,
                w.accepted
            )
            .into(),
            help: &format!("Write `{}`.", w.canonical),
        }
        .finding(&RULE.meta);
        f.fixes.push(Fix {
            title: format!("Write `{}`", w.canonical),
            safety: Safety::Safe,
            changes: vec![change],
            edits: Vec::new(),
            refused: None,
        });
        out.push(f);
    }
}
