//! EXT004 invalid-external-ip: externalIPs entries the API server rejects.

use super::{At, Draft, Rule, RuleContext, services};
use crate::address::{Verdict, classify};
use crate::finding::{Finding, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "EXT004",
    name: "invalid-external-ip",
    summary: "externalIPs entry the API server rejects: not an address, a CIDR, a special range, or a non-canonical form",
    default_severity: Severity::Error,
    docs: include_str!("../../rules/EXT004-invalid-external-ip.md"),
    security_severity: "5.3",
    tags: &["security", "kubernetes", "networking", "correctness"],
};

pub struct InvalidExternalIp;

impl Rule for InvalidExternalIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (obj, _, ips) in services(cx) {
            for (i, entry) in ips.iter().enumerate() {
                if let Verdict::Invalid { reason, legacy } = classify(entry) {
                    let help = match legacy {
                        Some(ip) => format!("Write the address in canonical form: `{ip}`."),
                        None => "Use a single routable unicast address.".to_string(),
                    };
                    out.push(
                        Draft {
                            object: obj,
                            path: &format!("/spec/externalIPs/{i}"),
                            at: At::Value,
                            label: "rejected address",
                            message: format!(
                                "Service `{}` has external IP `{entry}`, which {reason}",
                                obj.id.qualified_name()
                            )
                            .into(),
                            help: &help,
                        }
                        .finding(&META),
                    );
                }
            }
        }
    }
}
