//! EXT004 invalid-external-ip: requested addresses the target cluster refuses: the API server
//! for Service and Gateway fields it validates, the load-balancer implementation for its
//! annotations.

use super::{At, Check, Draft, Rule, RuleContext};
use crate::finding::{Finding, RuleMeta, Severity};
use crate::object::claims::{Reading, Source};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT004",
        name: "invalid-external-ip",
        since: "0.1.0",
        summary: "requested address the target cluster rejects: not an address, a CIDR, a special range, or (from 1.36) a non-standard form",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT004-invalid-external-ip.md"),
        security_severity: "5.3",
        tags: &["security", "kubernetes", "networking", "correctness"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    for claim in cx.claims {
        // The API server validates its fields whatever the Service's type; an
        // implementation reads only the addresses it is asked for.
        let validated = matches!(claim.source, Source::ExternalIps | Source::StatusIngress);
        if claim.inert.is_some() && !validated {
            continue;
        }
        let Reading::Rejected {
            by,
            error,
            verbatim,
            why,
        } = claim.reading(cx.kubernetes)
        else {
            continue;
        };
        let obj = claim.object;
        // `which Kubernetes 1.37 rejects (why): `error``, or `which MetalLB rejects: error; why`.
        let reason = match (verbatim, why) {
            (true, Some(w)) => format!(" ({w}): `{error}`"),
            (true, None) => format!(": `{error}`"),
            (false, Some(w)) => format!(": {error}; {w}"),
            (false, None) => format!(": {error}"),
        };
        let help = match address_hint(&claim.entry) {
            Some(h) => h,
            None => "Use a single routable unicast address.".to_string(),
        };
        out.push(
            Draft {
                object: obj,
                path: &claim.path,
                at: At::Value,
                label: "rejected address",
                message: format!(
                    "{} `{}` has {} `{}`, which {by} rejects{reason}",
                    obj.id.kind,
                    obj.id.qualified_name(),
                    claim.source.noun(),
                    claim.entry
                )
                .into(),
                help: &help,
            }
            .finding(&RULE.meta),
        );
    }
}

/// The fix for a rejected entry, when there is an obvious one.
fn address_hint(entry: &str) -> Option<String> {
    if let Some(p) = crate::k8s::address::parse(entry)
        && p.form != crate::k8s::address::Form::Standard
    {
        return Some(format!(
            "Write the address in standard form: `{}`.",
            p.canonical()
        ));
    }
    if crate::k8s::address::is_cidr(entry) {
        return Some(
            "List each address on its own; for a range, use a LoadBalancer Service whose implementation allocates from a pool.".into(),
        );
    }
    let trimmed = entry.trim();
    (trimmed != entry && crate::k8s::address::parse(trimmed).is_some())
        .then(|| format!("Remove the spaces: `{trimmed}`."))
}
