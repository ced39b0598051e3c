//! EXT002 external-ip-not-allowed: externalIPs entries outside the allowlisted CIDRs.

use super::{At, Draft, Rule, RuleContext, invalid_external_ip, services};
use crate::address;
use crate::config::ValueSource;
use crate::finding::{Finding, Label, Message, RuleMeta, Severity};
use crate::source::Span;

pub static META: RuleMeta = RuleMeta {
    code: "EXT002",
    name: "external-ip-not-allowed",
    summary: "externalIPs entry that no allowlisted CIDR contains",
    default_severity: Severity::Error,
    docs: include_str!("../../rules/EXT002-external-ip-not-allowed.md"),
    security_severity: "8.1",
    tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
};

pub struct ExternalIpNotAllowed;

impl Rule for ExternalIpNotAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let invalid_reported = cx.enabled.contains(&invalid_external_ip::META);
        let allow = cx.allow;
        let mut described = Message::default();
        for (i, a) in allow.iter().enumerate() {
            if i > 0 {
                described.push_str("; ");
            }
            described.push_str(&format!("{} from ", a.net));
            described.append(&a.source.message(cx.config_file));
        }
        for (obj, _, ips) in services(cx) {
            for (i, entry) in ips.iter().enumerate() {
                let ip = match address::classify(entry) {
                    address::Verdict::Valid(ip) => ip,
                    address::Verdict::Invalid {
                        legacy: Some(ip), ..
                    } if !invalid_reported => ip,
                    address::Verdict::Invalid { .. } => continue,
                };
                if allow.iter().any(|a| a.net.contains(&ip)) {
                    continue;
                }
                let name = obj.id.qualified_name();
                let (message, help) = if allow.is_empty() {
                    (
                        Message::from(format!(
                            "Service `{name}` uses external IP `{entry}`, but no allowlist is declared, so no address is allowed"
                        )),
                        "Declare the addresses your network routes to the nodes under `external-ips.allow` in .extip-lint.yaml (or pass `--allow-cidr`), or remove the entry.",
                    )
                } else {
                    let mut m = Message::from(format!(
                        "Service `{name}` uses external IP `{entry}`, which no allowlist entry contains (allowlist: "
                    ));
                    m.append(&described);
                    m.push_str(")");
                    (
                        m,
                        "Use an address from the allowlist, or add this one to `external-ips.allow` if your organisation owns and routes it.",
                    )
                };
                let mut f = Draft {
                    object: obj,
                    path: &format!("/spec/externalIPs/{i}"),
                    at: At::Value,
                    label: "not in the allowlist",
                    message,
                    help,
                }
                .finding(&META);
                if let Some(file) = cx.config_file {
                    for a in allow {
                        if let ValueSource::File { start, end } = a.source {
                            f.related
                                .push(Label::new(Span::new(file, start, end), "allowlist entry"));
                        }
                    }
                }
                out.push(f);
            }
        }
    }
}
