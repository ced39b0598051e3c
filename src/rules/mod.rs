//! Check stage: the rule registry. Each rule is one file here plus one Markdown doc under
//! `rules/`; its `RuleMeta` is the single source for `--explain`, `--list-rules`, SARIF rule
//! metadata, JSON and the README rule table.
//!
//! A rule reads a narrow `RuleContext` (objects, the index, problems, the profile decision, the
//! allowlist, which rules run) and pushes findings; it never prints, reads files or flags.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use crate::cluster::index::Index;
use crate::cluster::profile::ProfileDecision;
use crate::config::AllowEntry;
use crate::finding::{Finding, Label, Message, ObjectRef, RuleMeta, Severity};
use crate::k8s::kubernetes::Target;
use crate::object::claims::{Claim, History};
use crate::object::{Object, Problem, ProblemKind};
use crate::source::FileId;

mod address_outside_load_balancer_pools;
mod conflicting_external_ip;
mod deprecated_external_ips;
mod deprecated_load_balancer_annotation;
mod deprecated_load_balancer_ip;
mod duplicate_key;
mod duplicate_values_key;
mod external_ip_in_load_balancer_pool;
mod external_ip_not_allowed;
mod external_ips_in_cloud;
mod ignored_external_ips;
mod invalid_external_ip;
mod invalid_manifest;
mod load_balancer_annotation_not_read;
mod load_balancer_ip_with_annotation;
pub mod migrate;
mod non_standard_external_ip;
mod render_failed;
mod service_without_network_policy;
mod unused_suppression;

/// EXT901's metadata: the suppression stage reports its findings.
pub static EXT901: &RuleMeta = &unused_suppression::RULE.meta;

/// A rule: its metadata (the one source of its docs, SARIF metadata and table row) and what it
/// checks. One declaration per rule file: `pub static RULE: Rule = Rule { meta, check }`.
pub struct Rule {
    pub meta: RuleMeta,
    pub check: Check,
}

/// How a rule finds what it reports.
pub enum Check {
    /// Reads one cluster's facts.
    Cluster(fn(&RuleContext<'_>, &mut Vec<Finding>)),
    /// Reports the loader's problems of one kind, one finding each, at the problem's span.
    Problems {
        kind: ProblemKind,
        /// The text under the span.
        label: &'static str,
        message: fn(&Problem) -> String,
        help: fn(&Problem) -> String,
        /// Whether the finding is about the problem's object (its identity and pointer), or
        /// about the document.
        names_object: bool,
    },
    /// Reported by the suppression stage, which knows what each suppression did.
    Suppressions,
}

/// Every rule, sorted by code: one line per rule.
pub static ALL: &[&Rule] = &[
    &external_ips_in_cloud::RULE,
    &external_ip_not_allowed::RULE,
    &service_without_network_policy::RULE,
    &invalid_external_ip::RULE,
    &conflicting_external_ip::RULE,
    &ignored_external_ips::RULE,
    &deprecated_external_ips::RULE,
    &non_standard_external_ip::RULE,
    &deprecated_load_balancer_ip::RULE,
    &external_ip_in_load_balancer_pool::RULE,
    &address_outside_load_balancer_pools::RULE,
    &load_balancer_annotation_not_read::RULE,
    &deprecated_load_balancer_annotation::RULE,
    &load_balancer_ip_with_annotation::RULE,
    &invalid_manifest::RULE,
    &unused_suppression::RULE,
    &duplicate_key::RULE,
    &render_failed::RULE,
    &duplicate_values_key::RULE,
];

/// Every rule's metadata, in `ALL` order: what settings and docs are given.
pub static CATALOG: LazyLock<Vec<&'static RuleMeta>> =
    LazyLock::new(|| ALL.iter().map(|r| &r.meta).collect());

/// Finds a rule by code (`EXT002`, any case) or name (`external-ip-not-allowed`).
#[must_use]
pub fn find(code_or_name: &str) -> Option<&'static RuleMeta> {
    CATALOG.iter().copied().find(|m| m.is(code_or_name))
}

/// The rules that run, with their effective severity, in code order.
#[derive(Debug, Clone, Default)]
pub struct Enabled {
    rules: Vec<(&'static RuleMeta, Severity)>,
    /// Rules whose severity the user set: a rule's own choice of severity for a finding (EXT007
    /// is an error once kube-proxy no longer programs externalIPs) gives way to it.
    configured: Vec<&'static str>,
}

impl Enabled {
    #[must_use]
    pub fn new(rules: Vec<(&'static RuleMeta, Severity)>, configured: Vec<&'static str>) -> Self {
        Enabled { rules, configured }
    }

    /// Whether `rule` runs.
    #[must_use]
    pub fn contains(&self, rule: &RuleMeta) -> bool {
        self.severity(rule).is_some()
    }

    /// The severity `rule` runs at, if it runs.
    #[must_use]
    pub fn severity(&self, rule: &RuleMeta) -> Option<Severity> {
        self.rules
            .iter()
            .find(|(m, _)| m.code == rule.code)
            .map(|&(_, s)| s)
    }

    #[must_use]
    pub fn as_slice(&self) -> &[(&'static RuleMeta, Severity)] {
        &self.rules
    }
}

/// What a rule may read.
pub struct RuleContext<'a> {
    pub objects: &'a [Object],
    /// Every address the objects ask for.
    pub claims: &'a [Claim<'a>],
    /// The claims that take effect, by address (`claims::by_address`).
    pub by_address: &'a std::collections::HashMap<std::net::IpAddr, Vec<usize>>,
    /// Objects the API server refuses for an address it rejects (EXT004): they exist nowhere,
    /// so no other rule reports on them or counts them (`refused_objects`).
    pub refused: &'a std::collections::HashSet<usize>,
    /// The Kubernetes version and gates the cluster runs.
    pub kubernetes: &'a Target,
    pub index: &'a Index<'a>,
    pub problems: &'a [Problem],
    pub profile: &'a ProfileDecision,
    pub allow: &'a [AllowEntry],
    /// The config file's id, when one was read (allowlist entries point into it).
    pub config_file: Option<FileId>,
    pub enabled: &'a Enabled,
    /// Where the objects come from, for messages: "the input", or "cluster" and its name when the run
    /// checks several clusters.
    pub scope: &'a str,
    /// The cluster's name.
    pub cluster: &'a str,
    /// Which claims are older than the run (EXT005).
    pub history: &'a History,
    /// The cluster's load-balancer implementation.
    pub lb: &'a crate::cluster::lb::LbDecision,
}

/// Runs every enabled rule. Each finding gets its rule's configured severity, unless the rule
/// chose another one for it and the user set none.
#[must_use]
pub fn check(cx: &RuleContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in ALL {
        let meta = &rule.meta;
        let Some(severity) = cx.enabled.severity(meta) else {
            continue;
        };
        let configured = cx.enabled.configured.contains(&meta.code);
        let from = findings.len();
        match &rule.check {
            Check::Cluster(check) => check(cx, &mut findings),
            Check::Problems {
                kind,
                label,
                message,
                help,
                names_object,
            } => {
                for p in cx.problems.iter().filter(|p| p.kind == *kind) {
                    let mut f =
                        Finding::new(meta, Label::new(p.span, *label), message(p).into(), help(p));
                    if *names_object {
                        f.object.clone_from(&p.object);
                        f.pointer.clone_from(&p.pointer);
                    }
                    f.origin.clone_from(&p.origin);
                    findings.push(f);
                }
            }
            Check::Suppressions => {}
        }
        for f in &mut findings[from..] {
            if configured || f.severity == meta.default_severity {
                f.severity = severity;
            }
        }
    }
    // An object the API server refuses is EXT004's (and EXT900's) alone.
    if !cx.refused.is_empty() {
        let refused: Vec<&ObjectRef> = cx
            .objects
            .iter()
            .filter(|o| cx.is_refused(o))
            .map(|o| &*o.id)
            .collect();
        findings.retain(|f| {
            matches!(f.rule.code, "EXT004" | "EXT900" | "EXT901" | "EXT902")
                || f.object.as_deref().is_none_or(|o| !refused.contains(&o))
        });
    }
    findings
}

/// The objects the API server refuses because of an address it rejects: a Service whose
/// `externalIPs` hold an entry EXT004 reports (the other address fields are not validated by
/// the API server), each as its address (see `RuleContext::is_refused`).
#[must_use]
pub fn refused_objects(claims: &[Claim<'_>], target: &Target) -> std::collections::HashSet<usize> {
    claims
        .iter()
        .filter(|c| c.source == crate::object::claims::Source::ExternalIps)
        .filter(|c| {
            matches!(
                c.reading(target),
                crate::object::claims::Reading::Rejected { .. }
            )
        })
        .map(|c| std::ptr::from_ref(c.object) as usize)
        .collect()
}

impl RuleContext<'_> {
    /// Whether the API server refuses `obj` (see `refused_objects`).
    #[must_use]
    pub fn is_refused(&self, obj: &Object) -> bool {
        self.refused.contains(&(std::ptr::from_ref(obj) as usize))
    }
}

/// Which span of a mapping entry a finding points at.
#[derive(Debug, Clone, Copy)]
pub enum At {
    Key,
    Value,
}

/// A finding about one field of an object, with every part named.
pub(crate) struct Draft<'a> {
    pub object: &'a Object,
    /// Pointer below the object: `/spec/externalIPs/0`.
    pub path: &'a str,
    pub at: At,
    /// The short text under the span.
    pub label: &'a str,
    pub message: Message,
    pub help: &'a str,
}

impl Draft<'_> {
    pub fn finding(self, rule: &'static RuleMeta) -> Finding {
        let span = match self.at {
            At::Key => self.object.key_span(self.path),
            At::Value => self.object.value_span(self.path),
        };
        let mut f = Finding::new(
            rule,
            Label::new(span, self.label),
            self.message,
            self.help.to_string(),
        );
        f.object = Some(Arc::clone(&self.object.id));
        f.pointer = self.object.pointer_to(self.path);
        f.origin = self.object.origin.as_deref().cloned();
        f
    }
}

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

/// The README rule table, generated from the registry (a test keeps README in step).
#[must_use]
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| code | name | default severity | what it flags |\n| --- | --- | --- | --- |\n",
    );
    for m in CATALOG.iter() {
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
        let codes: Vec<_> = CATALOG.iter().map(|m| m.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        let mut names: Vec<_> = CATALOG.iter().map(|m| m.name).collect();
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
