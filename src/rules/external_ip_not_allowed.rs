//! EXT002 external-ip-not-allowed: externalIPs entries outside the allowlisted CIDRs.

use super::{At, Draft, Rule, RuleContext};
use crate::config::ValueSource;
use crate::finding::{Finding, Label, Message, RuleMeta, Severity};
use crate::object::claims::{Reading, Source};
use crate::source::Span;

pub static META: RuleMeta = RuleMeta {
    code: "EXT002",
    name: "external-ip-not-allowed",
    summary: "externalIPs entry (or, with an allowlist, any requested address) that no allowlisted CIDR contains",
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
        let allow = cx.allow;
        let mut described = Message::default();
        for (i, a) in allow.iter().enumerate() {
            if i > 0 {
                described.push_str("; ");
            }
            described.push_str(&format!("{} from ", a.net));
            described.append(&a.source.message(cx.config_file));
        }
        for claim in cx.claims {
            // An externalIPs entry counts even where kube-proxy ignores it: the address is
            // still written down, and captures traffic once the Service changes type.
            if claim.inert.is_some() && claim.source != Source::ExternalIps {
                continue;
            }
            // Without an allowlist only externalIPs are reported: nothing else stops a Service
            // from claiming any address. Load-balancer addresses come from the
            // implementation's pools; an allowlist, once declared, holds them too.
            if allow.is_empty() && claim.source != Source::ExternalIps {
                continue;
            }
            let Reading::Accepted { ip, .. } = claim.reading(cx.kubernetes) else {
                continue;
            };
            if allow.iter().any(|a| a.net.contains(&ip)) {
                continue;
            }
            let obj = claim.object;
            let entry = &claim.entry;
            let noun = claim.source.noun();
            let name = format!("{} `{}`", obj.id.kind, obj.id.qualified_name());
            let (message, help) = if allow.is_empty() {
                (
                    Message::from(format!(
                        "{name} uses {noun} `{entry}`, but no allowlist is declared, so no address is allowed"
                    )),
                    "Declare the addresses your network routes to the nodes under `external-ips.allow` in .extip-lint.yaml (or pass `--allow-cidr`), or remove the entry.",
                )
            } else {
                let mut m = Message::from(format!(
                    "{name} uses {noun} `{entry}`, which no allowlist entry contains (allowlist: "
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
                path: &claim.path,
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
