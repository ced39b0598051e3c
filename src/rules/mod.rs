//! Check stage: the rule registry. Each rule is one file here plus one Markdown doc under
//! `rules/`; its `RuleMeta` is the single source for `--explain`, `--list-rules`, SARIF rule
//! metadata, JSON and the README rule table.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::config::Settings;
use crate::finding::{Finding, Label, Severity};
use crate::index::{Index, ProfileDecision};
use crate::object::{Object, Problem};
use crate::source::Span;

mod conflicting_external_ip;
mod external_ip_not_allowed;
mod external_ips_in_cloud;
mod ignored_external_ips;
mod invalid_external_ip;
mod invalid_manifest;
mod service_without_network_policy;
pub(crate) mod unused_suppression;

/// What users, docs and SARIF know about a rule.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub default_severity: Severity,
    /// The rule's Markdown documentation (`rules/<CODE>-<name>.md`).
    pub docs: &'static str,
    /// GitHub code scanning's `security-severity` (0.0 to 10.0).
    pub security_severity: &'static str,
    pub tags: &'static [&'static str],
}

impl RuleMeta {
    /// The doc file name under `rules/`.
    #[must_use]
    pub fn doc_file(&self) -> String {
        format!("{}-{}.md", self.code, self.name)
    }

    /// Starts a finding about `object` at `path` below it, pointing at the key or the value.
    #[must_use]
    pub fn finding(
        &'static self,
        object: &Object,
        path: &str,
        at: At,
        label: &str,
        message: String,
        help: &str,
    ) -> Finding {
        let span = match at {
            At::Key => object.key_span(path),
            At::Value => object.value_span(path),
        };
        Finding {
            rule: self,
            severity: self.default_severity,
            object: Some(Arc::clone(&object.id)),
            pointer: object.pointer_to(path),
            primary: Label::new(span, label),
            related: Vec::new(),
            message,
            help: help.to_string(),
            notes: Vec::new(),
            suppressed: None,
            origin: object.origin.clone(),
        }
    }

    /// A finding that is not about one object's field (EXT900 on a broken document).
    #[must_use]
    pub fn finding_at(
        &'static self,
        span: Span,
        label: &str,
        message: String,
        help: &str,
    ) -> Finding {
        Finding {
            rule: self,
            severity: self.default_severity,
            object: None,
            pointer: String::new(),
            primary: Label::new(span, label),
            related: Vec::new(),
            message,
            help: help.to_string(),
            notes: Vec::new(),
            suppressed: None,
            origin: None,
        }
    }
}

/// Which span of a mapping entry a finding points at.
#[derive(Debug, Clone, Copy)]
pub enum At {
    Key,
    Value,
}

/// What a rule may read.
pub struct RuleContext<'a> {
    pub objects: &'a [Object],
    pub index: &'a Index,
    pub settings: &'a Settings,
    pub problems: &'a [Problem],
    pub profile: &'a ProfileDecision,
    /// The config file's id, when one was read (for related labels on its entries).
    pub config_file: Option<crate::source::FileId>,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>);
}

/// Every rule, sorted by code.
pub static ALL: &[&dyn Rule] = &[
    &external_ips_in_cloud::ExternalIpsInCloud,
    &external_ip_not_allowed::ExternalIpNotAllowed,
    &service_without_network_policy::ServiceWithoutNetworkPolicy,
    &invalid_external_ip::InvalidExternalIp,
    &conflicting_external_ip::ConflictingExternalIp,
    &ignored_external_ips::IgnoredExternalIps,
    &invalid_manifest::InvalidManifest,
    &unused_suppression::UnusedSuppression,
];

/// Finds a rule by code (`EXT002`, any case) or name (`external-ip-not-allowed`).
#[must_use]
pub fn find(code_or_name: &str) -> Option<&'static RuleMeta> {
    ALL.iter()
        .map(|r| r.meta())
        .find(|m| m.code.eq_ignore_ascii_case(code_or_name) || m.name == code_or_name)
}

pub(crate) use unused_suppression::META as EXT901;

/// Every decoded Service with its spec and its externalIPs (empty when unset).
fn services<'a>(
    cx: &RuleContext<'a>,
) -> impl Iterator<
    Item = (
        &'a Object,
        &'a k8s_openapi::api::core::v1::ServiceSpec,
        &'a [String],
    ),
> {
    cx.objects.iter().filter_map(|obj| match &obj.view {
        crate::object::View::Service(svc) => {
            let spec = svc.spec.as_ref()?;
            Some((obj, spec, spec.external_ips.as_deref().unwrap_or_default()))
        }
        _ => None,
    })
}

/// Whether a rule runs in this configuration.
fn rule_enabled(cx: &RuleContext<'_>, code: &str) -> bool {
    cx.settings
        .rules
        .get(code)
        .is_some_and(|(sev, _)| sev.is_some())
}

/// The README rule table, generated from the registry (a test keeps README in step).
#[must_use]
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| code | name | default severity | what it flags |\n| --- | --- | --- | --- |\n",
    );
    for r in ALL {
        let m = r.meta();
        let _ = writeln!(
            out,
            "| {} | [`{}`](rules/{}) | {} | {} |",
            m.code,
            m.name,
            m.doc_file(),
            m.default_severity,
            m.summary
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        let codes: Vec<_> = ALL.iter().map(|r| r.meta().code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        let mut names: Vec<_> = ALL.iter().map(|r| r.meta().name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn rules_are_found_by_code_or_name() {
        assert_eq!(
            find("ext002").map(|m| m.name),
            Some("external-ip-not-allowed")
        );
        assert_eq!(find("ignored-external-ips").map(|m| m.code), Some("EXT006"));
        assert!(find("EXT999").is_none());
    }
}
