//! EXT002 external-ip-not-allowed: externalIPs entries outside the allowlisted CIDRs.

use super::{At, Check, Draft, Rule, RuleContext};
use crate::config::ValueSource;
use crate::finding::{Finding, Label, Message, RuleMeta, Severity};
use crate::object::claims::{Reading, Source};
use crate::source::Span;

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT002",
        name: "external-ip-not-allowed",
        since: "0.1.0",
        summary: "externalIPs entry (or, with an allowlist, any requested address) that no allowlisted CIDR contains",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT002-external-ip-not-allowed.md"),
        security_severity: "8.1",
        tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let allow = cx.allow;
    // The allowlist said briefly, for each family: its size and source, and the entries of
    // the address's family when there are few (`--print-config` lists them all).
    let described = |v4: bool| {
        let family: Vec<&str> = allow
            .iter()
            .filter(|a| a.net.addr().is_ipv4() == v4)
            .map(|a| a.text.as_str())
            .collect();
        // Every entry when the family's are all of them and few, else the count.
        let whole = !family.is_empty() && family.len() <= 3 && family.len() == allow.len();
        let mut m = Message::from(if whole {
            format!("allowlist: {} from ", family.join(", "))
        } else {
            format!("allowlist: {} entries from ", allow.len())
        });
        // Each source once: the config file's first entry, each flag.
        let mut sources: Vec<&ValueSource> = Vec::new();
        for a in allow {
            let same = |b: &&ValueSource| {
                matches!(
                    (b, &a.source),
                    (ValueSource::File { .. }, ValueSource::File { .. })
                ) || **b == a.source
            };
            if !sources.iter().any(same) {
                sources.push(&a.source);
            }
        }
        for (i, source) in sources.iter().enumerate() {
            if i > 0 {
                m.push_str(" and ");
            }
            m.append(&source.message(cx.config_file));
        }
        let name = if v4 { "IPv4" } else { "IPv6" };
        match family.len() {
            _ if whole => {}
            0 => m.push_str(&format!(", none of them {name}")),
            n if n <= 3 => m.push_str(&format!("; {name}: {}", family.join(", "))),
            n => m.push_str(&format!(", {n} of them {name}")),
        }
        m
    };
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
                "{name} uses {noun} `{entry}`, which no allowlist entry contains ("
            ));
            m.append(&described(ip.is_ipv4()));
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
        .finding(&RULE.meta);
        // The entries of the address's family, or where the allowlist starts when they
        // are many.
        if let Some(file) = cx.config_file {
            let family: Vec<_> = allow
                .iter()
                .filter(|a| a.net.addr().is_ipv4() == ip.is_ipv4())
                .collect();
            let shown: Vec<_> = if family.len() <= 3 {
                family
                    .iter()
                    .map(|a| (a, format!("allowlist entry `{}`", a.text)))
                    .collect()
            } else {
                family
                    .first()
                    .map(|a| (a, format!("allowlist ({} entries)", allow.len())))
                    .into_iter()
                    .collect()
            };
            for (a, text) in shown {
                if let ValueSource::File { start, end } = a.source {
                    f.related
                        .push(Label::new(Span::new(file, start, end), text));
                }
            }
        }
        out.push(f);
    }
}
