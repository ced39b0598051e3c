//! Render stage: `&Report` -> bytes on a `Write`. Renderers decide nothing about exit codes and
//! never read files: every span resolves against `Report::files`.

pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod inventory;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod runbook;
pub mod sarif;
pub mod short;

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::finding::{Finding, Message, Severity};
use crate::report::Report;
use crate::source::{Origin, Position, Span};

/// Where the rule docs are published; `--explain` prints the same text offline.
pub const DOCS_BASE: &str = "https://github.com/extip-lint/extip-lint/blob/main/rules/";
pub const HOMEPAGE: &str = "https://github.com/extip-lint/extip-lint";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Short,
    Json,
    Sarif,
    Github,
    Gitlab,
    Junit,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub color: bool,
    /// Columns the human format wraps at.
    pub width: usize,
    /// Where the CI formats (SARIF, GitHub, GitLab) place files; `None`: as named.
    pub base: Option<Base>,
    /// The SARIF report written in the same run, which `--format github` points to for what
    /// it cannot show.
    pub sarif_file: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: false,
            width: 100,
            base: None,
            sarif_file: None,
        }
    }
}

/// The repository root that code scanning, annotations and Code Quality resolve paths against,
/// and the working directory the files were named from. Both absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub root: std::path::PathBuf,
    pub cwd: std::path::PathBuf,
}

impl Base {
    /// `name` (a file as reports name it: relative to the working directory, or absolute)
    /// relative to the root, `/`-separated; `None` when it is not below the root.
    #[must_use]
    pub fn relative(&self, name: &str) -> Option<String> {
        use std::path::Component;
        let mut parts: Vec<std::ffi::OsString> = Vec::new();
        for c in self.cwd.join(name).components() {
            match c {
                Component::ParentDir => {
                    parts.pop();
                }
                Component::Normal(p) => parts.push(p.to_os_string()),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        let mut root: Vec<std::ffi::OsString> = Vec::new();
        for c in self.root.components() {
            if let Component::Normal(p) = c {
                root.push(p.to_os_string());
            }
        }
        let rest = parts.strip_prefix(root.as_slice())?;
        if rest.is_empty() {
            return None;
        }
        Some(
            rest.iter()
                // Parts of `name`, already text (escaped where it was not UTF-8).
                .map(|p| p.to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    /// `file://` URI of the root, ending in `/`, for SARIF's `originalUriBaseIds`.
    #[must_use]
    pub fn root_uri(&self) -> String {
        let mut path = crate::source::path_text(&self.root);
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        format!("file://{}", sarif::uri(&path))
    }
}

/// A located span for the CI formats: its path relative to the repository root when `opts`
/// has one and the file is below it, else as reports name it. Rendered output and unnamed
/// standard input keep their labels.
#[must_use]
pub fn ci_locate(report: &Report, opts: &Options, span: Span, origin: Option<&Origin>) -> Location {
    let mut l = locate(report, span, origin);
    let file = &report.files[span.file];
    if let Some(base) = &opts.base
        && !file.virtual_file
        && file.name != crate::source::STDIN_NAME
        && let Some(relative) = base.relative(&l.path)
    {
        l.path = relative;
    }
    l
}

/// Writes the report in `format`.
pub fn render(
    report: &Report,
    format: Format,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Renderers write many small pieces; buffer them here, behind one dynamic call per flush.
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    let out: &mut dyn Write = &mut buffered;
    match format {
        Format::Human => human::render(report, opts, out),
        Format::Short => short::render(report, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, opts, out),
        Format::Github => github::render(report, opts, out),
        Format::Gitlab => gitlab::render(report, opts, out),
        Format::Junit => junit::render(report, out),
    }?;
    buffered.flush()
}

/// Text from the input (object names, addresses, keys) shown on a terminal or in a one-line
/// format: control characters are written as escapes (`\n`, `\u{1b}`), so a name can neither
/// break a line apart nor send terminal escape sequences.
#[must_use]
pub fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// A span resolved for people: path, start and end (1-based lines, code-point columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub start: Position,
    pub end: Position,
    /// Byte offsets in the file as stored on disk (a BOM counted).
    pub byte_start: usize,
    pub byte_end: usize,
    /// `helm: chart/templates/x.yaml` when the object was rendered from a template and the
    /// path above is the rendered file.
    pub rendered_from: Option<String>,
}

/// Resolves a span. An object rendered from a template that could not be mapped to its source
/// (`srcmap`) says where it was rendered from.
#[must_use]
pub fn locate(report: &Report, span: Span, origin: Option<&Origin>) -> Location {
    let file = &report.files[span.file];
    Location {
        path: file.name.clone(),
        start: file.position(span.start),
        end: file.position(span.end),
        byte_start: file.stored_offset(span.start),
        byte_end: file.stored_offset(span.end),
        rendered_from: origin.map(|o| format!("{}: {}", o.tool, o.path)),
    }
}

/// A message with each place it refers to written as `path:line:col`.
#[must_use]
pub fn text<'a>(report: &Report, message: &'a Message) -> std::borrow::Cow<'a, str> {
    message.render(|span| {
        let l = locate(report, span, None);
        format!("{}:{}:{}", l.path, l.start.line, l.start.column)
    })
}

/// ` (cluster prod)` after a finding's message when the run has several clusters, else nothing.
#[must_use]
pub fn cluster_note(report: &Report, f: &Finding) -> String {
    match &f.cluster {
        Some(c) if report.multi_cluster() => format!(" (cluster {})", one_line(c)),
        _ => String::new(),
    }
}

/// Findings that count (not suppressed).
pub fn active(report: &Report) -> impl Iterator<Item = &Finding> {
    report.findings.iter().filter(|f| f.suppressed.is_none())
}

/// `2 errors, 1 warning, 0 notes (3 suppressed)`.
#[must_use]
pub fn totals(report: &Report) -> String {
    let (e, w, n, sup) = counts(report);
    let mut out = format!(
        "{}, {}, {}",
        plural(e, "error"),
        plural(w, "warning"),
        plural(n, "note")
    );
    if sup > 0 {
        let _ = write!(out, " ({sup} suppressed)");
    }
    out
}

/// The severity `rule` ran at in this run.
#[must_use]
pub fn severity_of(report: &Report, rule: &crate::finding::RuleMeta) -> Severity {
    report
        .rules
        .iter()
        .find(|(r, _)| r.code == rule.code)
        .map_or(rule.default_severity, |(_, s)| *s)
}

/// Counts of unsuppressed findings by severity, and suppressed ones.
#[must_use]
pub fn counts(report: &Report) -> (usize, usize, usize, usize) {
    let mut c = (0, 0, 0, 0);
    for f in &report.findings {
        match (f.suppressed.is_some(), f.severity) {
            (true, _) => c.3 += 1,
            (false, Severity::Error) => c.0 += 1,
            (false, Severity::Warning) => c.1 += 1,
            (false, Severity::Note) => c.2 += 1,
        }
    }
    c
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A fix for people (`fix (--fix): ` and its title), or why it is not offered.
#[must_use]
pub fn fix_line(fix: &crate::finding::Fix) -> String {
    use crate::finding::Safety;
    match (&fix.refused, fix.safety) {
        (Some(why), _) => format!("fix not offered ({}): {why}", fix.title),
        (None, Safety::Safe) => format!("fix (--fix): {}", fix.title),
        (None, Safety::Unsafe) => {
            format!(
                "fix (--fix --unsafe-fixes, changes behaviour): {}",
                fix.title
            )
        }
    }
}

/// `2 documents not Kubernetes objects`.
fn not_objects(n: usize) -> String {
    let what = if n == 1 {
        "a Kubernetes object"
    } else {
        "Kubernetes objects"
    };
    format!("{} not {what}", plural(n, "document"))
}

/// `3 files (unrendered Helm templates)`: a count of skipped files with the reason.
fn skipped(n: usize, why: &str) -> String {
    format!("{} ({why})", plural(n, "file"))
}

/// Why a run found no object, for the error: what was read and what was skipped.
#[must_use]
pub fn empty_reason(report: &Report) -> String {
    let s = &report.stats;
    let mut parts = vec![if s.files == 0 {
        "no manifest file found".to_string()
    } else {
        format!(
            "{} read, {} in {}",
            plural(s.files, "file"),
            plural(s.documents, "document"),
            if s.files == 1 { "it" } else { "them" }
        )
    }];
    if s.other_documents > 0 {
        parts.push(not_objects(s.other_documents));
    }
    for (why, n) in &s.skipped {
        parts.push(format!("skipped {}", skipped(*n, why)));
    }
    parts.join("; ")
}

/// A cluster's Kubernetes decision in JSON and SARIF: the version, every gate's state, and why.
#[must_use]
pub fn kubernetes_json(
    report: &Report,
    k: &crate::cluster::profile::KubernetesDecision,
) -> serde_json::Value {
    let gates: serde_json::Map<String, serde_json::Value> = crate::k8s::kubernetes::Gate::ALL
        .iter()
        .map(|g| {
            (
                g.name().to_string(),
                serde_json::Value::Bool(k.target.gate(*g).on),
            )
        })
        .collect();
    serde_json::json!({
        "version": k.target.version.to_string(),
        "featureGates": gates,
        "reason": text(report, &k.reason),
    })
}

/// The run summary for standard error: files, documents, objects by kind, skipped files,
/// profile, findings by severity, and the time the whole run took (`elapsed`).
#[must_use]
pub fn summary(report: &Report, elapsed: std::time::Duration) -> String {
    let s = &report.stats;
    let mut out = String::new();
    let kinds = kinds_line(&s.objects_by_kind);
    let _ = write!(
        out,
        "checked {}, {}, {}",
        plural(s.files, "file"),
        plural(s.documents, "document"),
        plural(s.objects(), "object")
    );
    if !kinds.is_empty() {
        let _ = write!(out, " ({kinds})");
    }
    if s.context_files > 0 {
        let _ = write!(
            out,
            "; {} read as context only",
            plural(s.context_files, "file")
        );
    }
    if s.other_documents > 0 {
        let _ = write!(out, "; {}, ignored", not_objects(s.other_documents));
    }
    let _ = writeln!(out);
    if !s.skipped.is_empty() {
        let skipped: Vec<String> = s.skipped.iter().map(|(why, n)| skipped(*n, why)).collect();
        let _ = writeln!(out, "skipped: {}", skipped.join(", "));
    }
    if !s.namespace_defaulted.is_empty() {
        let placed: Vec<String> = s
            .namespace_defaulted
            .iter()
            .map(|(ns, n)| format!("{} in `{}`", plural(*n, "object"), one_line(ns)))
            .collect();
        let _ = writeln!(
            out,
            "no namespace set: {} (placed as `kubectl apply` without `-n` places them; `namespace:` in the config or `-n` names another)",
            placed.join(", ")
        );
    }
    if let [only] = report.clusters.as_slice() {
        let _ = writeln!(
            out,
            "profile: {} ({})",
            only.profile.profile.as_str(),
            text(report, &only.profile.reason)
        );
        let _ = writeln!(
            out,
            "kubernetes: {} ({})",
            only.kubernetes.target.version,
            text(report, &only.kubernetes.reason)
        );
        let _ = writeln!(
            out,
            "load balancer: {} ({})",
            only.lb.implementation.map_or("none found", |i| i.name()),
            text(report, &only.lb.reason)
        );
    } else {
        let _ = writeln!(out, "{} clusters:", report.clusters.len());
        // Every cluster with findings; of the others, the first few (a GitOps repository
        // has a cluster per release, and a hundred quiet lines hide the ones that matter).
        let quiet_shown = 20;
        let mut quiet_left_out = 0;
        for (i, c) in report.clusters.iter().enumerate() {
            let n = report
                .findings
                .iter()
                .filter(|f| f.suppressed.is_none() && f.cluster.as_ref() == Some(&c.name))
                .count();
            if n == 0 && i >= quiet_shown {
                quiet_left_out += 1;
                continue;
            }
            // A reason is worth a line per cluster when something decided it; the defaults
            // and an auto profile that found nothing are said in a word.
            let profile = if c.profile.decided_by.is_some()
                || c.profile.requested != crate::config::Profile::Auto
            {
                text(report, &c.profile.reason).into_owned()
            } else {
                "auto".into()
            };
            let kubernetes = text(report, &c.kubernetes.reason);
            let kubernetes = if kubernetes.starts_with("default") {
                "default"
            } else {
                &kubernetes
            };
            let _ = writeln!(
                out,
                "  {}: {}, {}, profile {} ({profile}), kubernetes {} ({kubernetes}), load balancer {}",
                one_line(&c.name),
                plural(c.files, "file"),
                plural(n, "finding"),
                c.profile.profile.as_str(),
                c.kubernetes.target.version,
                c.lb.implementation.map_or("none found", |i| i.name())
            );
        }
        if quiet_left_out > 0 {
            let _ = writeln!(
                out,
                "  and {quiet_left_out} more {} without findings (JSON and SARIF list every cluster)",
                if quiet_left_out == 1 {
                    "cluster"
                } else {
                    "clusters"
                }
            );
        }
    }
    if let Some(f) = &report.filtered {
        let _ = writeln!(
            out,
            "{} already there {} left out",
            plural(f.left_out, "finding"),
            f.label
        );
        if f.stale > 0 {
            let _ = writeln!(
                out,
                "{} baseline entr{} nothing now; rewrite the baseline with --write-baseline to drop {}",
                f.stale,
                if f.stale == 1 {
                    "y matches"
                } else {
                    "ies match"
                },
                if f.stale == 1 { "it" } else { "them" }
            );
        }
    }
    if !s.unrendered.is_empty() {
        const SHOWN: usize = 10;
        let _ = writeln!(
            out,
            "not checked: {} could not be rendered offline (--strict-render makes this an error):",
            if s.unrendered.len() == 1 {
                "1 chart, kustomization or release".to_string()
            } else {
                format!("{} charts, kustomizations or releases", s.unrendered.len())
            },
        );
        for (name, why) in s.unrendered.iter().take(SHOWN) {
            let _ = writeln!(out, "  {}: {}", one_line(name), one_line(why));
        }
        if s.unrendered.len() > SHOWN {
            let _ = writeln!(out, "  and {} more", s.unrendered.len() - SHOWN);
        }
    }
    out.push_str(&totals(report));
    let _ = write!(out, " in {:.2}s", elapsed.as_secs_f64());
    let by_rule = by_rule(report);
    if !by_rule.is_empty() {
        let rules: Vec<String> = by_rule
            .iter()
            .map(|(rule, n)| format!("{} {n}", rule.code))
            .collect();
        let _ = write!(out, " ({})", rules.join(", "));
    }
    let _ = writeln!(out);
    if let Some((rule, _)) = by_rule.first() {
        let _ = writeln!(
            out,
            "what a rule checks and how to fix it: extip-lint --explain {}",
            rule.code
        );
    }
    out
}

/// Kinds the rules read come first (Services, Gateways, policies, pools), then the most
/// numerous others, at most eight in all; the rest are counted.
fn kinds_line(kinds: &std::collections::BTreeMap<String, usize>) -> String {
    const READ: [&str; 4] = ["Service", "Gateway", "NetworkPolicy", "IPAddressPool"];
    const MAX: usize = 8;
    let mut order: Vec<(&String, &usize)> = kinds.iter().collect();
    order.sort_by_key(|(k, n)| {
        (
            READ.iter().position(|r| r == k).unwrap_or(READ.len()),
            std::cmp::Reverse(**n),
        )
    });
    let mut parts: Vec<String> = order
        .iter()
        .take(MAX)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if order.len() > MAX {
        let rest: usize = order[MAX..].iter().map(|(_, n)| **n).sum();
        parts.push(format!("{rest} more of {} other kinds", order.len() - MAX));
    }
    parts.join(", ")
}

/// `--statistics`: a line per rule with findings, most first: count, code, name, severity
/// (the rule's severity in this run), in aligned columns.
pub fn statistics(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rows = by_rule(report);
    let count = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let name = rows.iter().map(|(m, _)| m.name.len()).max().unwrap_or(0);
    for (m, n) in rows {
        let severity = severity_of(report, m);
        writeln!(
            out,
            "{n:>count$}  {}  {:<name$}  {severity}",
            m.code, m.name
        )?;
    }
    Ok(())
}

/// Unsuppressed findings per rule, most first (then by code).
#[must_use]
pub fn by_rule(report: &Report) -> Vec<(&'static crate::finding::RuleMeta, usize)> {
    let mut counts: Vec<(&'static crate::finding::RuleMeta, usize)> = Vec::new();
    for f in report.findings.iter().filter(|f| f.suppressed.is_none()) {
        match counts.iter_mut().find(|(r, _)| r.code == f.rule.code) {
            Some((_, n)) => *n += 1,
            None => counts.push((f.rule, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.code.cmp(b.0.code)));
    counts
}
