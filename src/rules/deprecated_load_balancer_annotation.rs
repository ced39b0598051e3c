//! EXT013 deprecated-load-balancer-annotation: an implementation's annotation under its older
//! prefix (`metallb.universe.tf/`, `io.cilium/lb-ipam-`), still read but deprecated; the fix
//! renames the key.

use super::{At, Check, Draft, Rule, RuleContext, services};
use crate::finding::{Change, Finding, Fix, RuleMeta, Safety, Severity};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT013",
        name: "deprecated-load-balancer-annotation",
        since: "0.1.0",
        summary: "load-balancer annotation under its deprecated prefix (metallb.universe.tf/, io.cilium/lb-ipam-)",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT013-deprecated-load-balancer-annotation.md"),
        security_severity: "1.0",
        tags: &["kubernetes", "networking", "deprecation"],
    },
    check: Check::Cluster(check),
};

/// Older key prefix, newer one, and who deprecated it.
const RENAMED: &[(&str, &str, &str)] = &[
    ("metallb.universe.tf/", "metallb.io/", "MetalLB 0.14.9"),
    ("io.cilium/lb-ipam-", "lbipam.cilium.io/", "Cilium 1.15"),
];

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    // A MetalLB release older than the one that reads the new prefix turns the rename into
    // a change of behaviour: the Service loses its pool selection and address sharing.
    let metallb =
        crate::cluster::lb::metallb_release(cx.objects).filter(|r| r.version < (0, 14, 9));
    for (obj, _, _) in services(cx) {
        for key in obj.annotations.keys() {
            let Some((old, new, by)) = RENAMED.iter().find(|(old, ..)| key.starts_with(old)) else {
                continue;
            };
            let newer = format!("{new}{}", &key[old.len()..]);
            let path = format!(
                "/metadata/annotations/{}",
                crate::yaml::pointer::escape(key)
            );
            let mut f = Draft {
                object: obj,
                path: &path,
                at: At::Key,
                label: "deprecated prefix",
                message: format!(
                    "Service `{}` has annotation `{key}`, whose prefix {by} deprecated for `{newer}`",
                    obj.id.qualified_name()
                )
                .into(),
                help: &format!("Rename it to `{newer}`."),
            }
            .finding(&RULE.meta);
            // Renaming is the same request, unless the newer key is there too (then the
            // older one is not read, EXT012).
            if !obj.annotations.contains_key(&newer) {
                let older = metallb.as_ref().filter(|_| *old == "metallb.universe.tf/");
                f.fixes.push(Fix {
                    title: match older {
                        Some(r) => format!(
                            "Rename to `{newer}` (changes behaviour: the input runs {}, which reads only `{old}` keys; upgrade MetalLB to 0.14.9 first)",
                            r.seen
                        ),
                        None => format!("Rename to `{newer}`"),
                    },
                    safety: if older.is_some() {
                        Safety::Unsafe
                    } else {
                        Safety::Safe
                    },
                    changes: vec![Change::Key {
                        span: obj.key_span(&path),
                        key: newer,
                    }],
                    edits: Vec::new(),
                    refused: None,
                });
            }
            out.push(f);
        }
    }
}
