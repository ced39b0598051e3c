//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning.
//!
//! Repository-relative URIs under `%SRCROOT%`, full regions in Unicode code points, rule
//! metadata from each rule's `RuleMeta`, and `partialFingerprints` built from the rule, the
//! object's identity and the field path (never from line numbers), so an alert survives edits
//! above it. Built with `serde_json` directly: the document is small and the schema test
//! (tests/render.rs) checks it against the official schema.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::{DOCS_BASE, HOMEPAGE, Options, ci_locate};
use crate::finding::{Finding, Severity};
use crate::report::Report;

/// GitHub code scanning rejects a run with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// ... and a result with more locations than this (related locations are kept to it too).
pub const MAX_LOCATIONS: usize = 1_000;

/// Which findings a SARIF run holds, and what it leaves out to stay within code scanning's
/// limits. Decided once, so the file and the note on standard error say the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Indices into `Report::findings`, in report order.
    pub kept: Vec<usize>,
    /// Results left out: errors, warnings, notes (unsuppressed), and suppressed ones.
    pub left_out: [usize; 4],
    /// Results whose related locations were cut to `MAX_LOCATIONS`.
    pub related_cut: usize,
}

impl Selection {
    /// Unsuppressed errors, then warnings, then notes, then suppressed findings, each in report
    /// order, up to `max`.
    #[must_use]
    pub fn of(report: &Report, max: usize) -> Selection {
        let rank = |f: &Finding| match (f.suppressed.is_some(), f.severity) {
            (false, Severity::Error) => 0,
            (false, Severity::Warning) => 1,
            (false, Severity::Note) => 2,
            (true, _) => 3,
        };
        let mut order: Vec<usize> = (0..report.findings.len()).collect();
        order.sort_by_key(|&i| rank(&report.findings[i]));
        let mut left_out = [0; 4];
        for &i in order.iter().skip(max) {
            left_out[rank(&report.findings[i])] += 1;
        }
        order.truncate(max);
        order.sort_unstable();
        let related_cut = order
            .iter()
            .filter(|&&i| report.findings[i].related.len() > MAX_LOCATIONS)
            .count();
        Selection {
            kept: order,
            left_out,
            related_cut,
        }
    }

    /// The note a run that left something out carries, and prints on standard error.
    #[must_use]
    pub fn note(&self, total: usize) -> Option<String> {
        let out: usize = self.left_out.iter().sum();
        let mut parts = Vec::new();
        if out > 0 {
            let names = ["error", "warning", "note", "suppressed finding"];
            let what: Vec<String> = self
                .left_out
                .iter()
                .zip(names)
                .filter(|(n, _)| **n > 0)
                .map(|(n, name)| super::plural(*n, name))
                .collect();
            parts.push(format!(
                "the SARIF report holds {} of {total} results: GitHub code scanning rejects a run of more than {MAX_RESULTS}, so {} {} left out (errors are kept first, then warnings, then notes); `--format json` holds them all",
                self.kept.len(),
                what.join(", "),
                if out == 1 { "is" } else { "are" },
            ));
        }
        if self.related_cut > 0 {
            parts.push(format!(
                "{} kept only {MAX_LOCATIONS} related locations (the most code scanning accepts)",
                super::plural(self.related_cut, "SARIF result")
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Percent-encodes what a URI reference may not hold; keeps `/`. A `\xff` escape in a path
/// (a byte of the file name that is not UTF-8, see `source::path_text`) is that byte again.
pub(super) fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escaped = (b == b'\\' && bytes.get(i + 1) == Some(&b'x'))
            .then(|| path.get(i + 2..i + 4))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(byte) = escaped {
            let _ = write!(out, "%{byte:02X}");
            i += 4;
            continue;
        }
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        i += 1;
    }
    out
}

/// FNV-1a, 64 bits: stable across platforms and releases, unlike `DefaultHasher`.
// The log is serialized straight into the output: results one at a time, so a report with
// many findings never exists as one JSON tree in memory. serde_json writes fields in the order
// declared; they are declared in alphabetical order, as in the rest of the document.

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    column_kind: &'static str,
    invocations: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<Value>,
    properties: Value,
    results: Results<'a>,
    tool: Value,
}

struct Results<'a> {
    report: &'a Report,
    opts: &'a Options,
    kept: &'a [usize],
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.kept
                .iter()
                .map(|&i| result(self.report, self.opts, &self.report.findings[i])),
        )
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<serde_json::Value>,
    level: &'static str,
    locations: [Location; 1],
    message: Text<String>,
    partial_fingerprints: Fingerprints,
    properties: ResultProperties<'a>,
    related_locations: Vec<Related<'a>>,
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression<'a>; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    logical_locations: Vec<Logical>,
    physical_location: Physical,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// A file's location: relative to `%SRCROOT%` (the repository root) when it is below it, an
/// absolute `file://` URI otherwise.
fn artifact(path: &str) -> Artifact {
    if path.starts_with('/') {
        Artifact {
            uri: format!("file://{}", uri(path)),
            uri_base_id: None,
        }
    } else {
        Artifact {
            uri: uri(path),
            uri_base_id: Some("%SRCROOT%"),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    end_column: usize,
    end_line: usize,
    start_column: usize,
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Related<'a> {
    id: usize,
    message: Text<&'a str>,
    physical_location: Physical,
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "extipLint/v1")]
    v1: String,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    /// Where rendered output (which is no file in the repository) holds the finding:
    /// `helm template charts/web:18:5`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rendered: Vec<String>,
}

#[derive(Serialize)]
struct Suppression<'a> {
    justification: &'a str,
    kind: &'static str,
}

fn physical(
    report: &Report,
    opts: &Options,
    f: &Finding,
    span: crate::source::Span,
    origin: bool,
) -> Physical {
    let l = ci_locate(
        report,
        opts,
        span,
        if origin { f.origin.as_ref() } else { None },
    );
    // Helm output on unnamed standard input is no file anyone can open; its `# Source:`
    // template is (the line within it is not known).
    if origin
        && report.files[span.file].name == crate::source::STDIN_NAME
        && let Some(o) = &f.origin
    {
        return Physical {
            artifact_location: artifact(&o.path),
            region: Region {
                end_column: 1,
                end_line: 1,
                start_column: 1,
                start_line: 1,
            },
        };
    }
    Physical {
        artifact_location: artifact(&l.path),
        region: Region {
            end_column: l.end.column,
            end_line: l.end.line,
            start_column: l.start.column,
            start_line: l.start.line,
        },
    }
}

/// A SARIF `fix`: the edits by file, each a deleted region and the text inserted there.
fn sarif_fix(report: &Report, opts: &Options, fix: &crate::finding::Fix) -> serde_json::Value {
    let mut by_file: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for e in &fix.edits {
        let l = ci_locate(report, opts, e.span, None);
        let replacement = json!({
            "deletedRegion": {
                "startLine": l.start.line, "startColumn": l.start.column,
                "endLine": l.end.line, "endColumn": l.end.column,
            },
            "insertedContent": {"text": e.text},
        });
        match by_file.iter_mut().find(|(p, _)| *p == l.path) {
            Some((_, list)) => list.push(replacement),
            None => by_file.push((l.path, vec![replacement])),
        }
    }
    json!({
        "description": {"text": fix.title},
        "artifactChanges": by_file.into_iter().map(|(path, replacements)| json!({
            "artifactLocation": artifact(&path),
            "replacements": replacements,
        })).collect::<Vec<_>>(),
    })
}

/// One SARIF result.
fn result<'a>(report: &'a Report, opts: &Options, f: &'a Finding) -> SarifResult<'a> {
    let file = &report.files[f.primary.span.file];
    let mut message = format!("{}\n{}", super::text(report, &f.message), f.help);
    for n in &f.notes {
        message.push_str("\nnote: ");
        message.push_str(n);
    }
    SarifResult {
        fixes: f
            .fixes
            .iter()
            .filter(|x| x.refused.is_none() && !x.edits.is_empty())
            .map(|x| sarif_fix(report, opts, x))
            .collect(),
        level: level(f.severity),
        locations: [Location {
            logical_locations: f
                .object
                .iter()
                .map(|o| Logical {
                    fully_qualified_name: format!("{}/{}", o.kind, o.qualified_name()),
                    kind: "object",
                })
                .collect(),
            physical_location: physical(report, opts, f, f.primary.span, true),
        }],
        message: Text { text: message },
        partial_fingerprints: Fingerprints {
            v1: f.fingerprint(&file.name),
        },
        properties: ResultProperties {
            cluster: f.cluster.as_deref(),
            rendered: f
                .related
                .iter()
                .map(|l| l.span)
                .filter(|s| report.files[s.file].virtual_file)
                .chain(
                    (file.name == crate::source::STDIN_NAME && f.origin.is_some())
                        .then_some(f.primary.span),
                )
                .map(|span| {
                    let at = super::locate(report, span, None);
                    format!("{}:{}:{}", at.path, at.start.line, at.start.column)
                })
                .collect(),
        },
        related_locations: f
            .related
            .iter()
            .filter(|l| !report.files[l.span.file].virtual_file)
            .take(MAX_LOCATIONS)
            .enumerate()
            .map(|(i, l)| Related {
                id: i + 1,
                message: Text { text: &l.text },
                physical_location: physical(report, opts, f, l.span, false),
            })
            .collect(),
        rule_id: f.rule.code,
        rule_index: report.rules.iter().position(|(m, _)| m.code == f.rule.code),
        suppressions: f.suppressed.as_ref().map(|s| {
            [Suppression {
                justification: s.reason.as_deref().unwrap_or_default(),
                kind: "inSource",
            }]
        }),
    }
}

pub fn render(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let selection = Selection::of(report, MAX_RESULTS);
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|(m, sev)| {
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": format!("{}: {}", m.name, m.summary)},
                "help": {"text": m.docs, "markdown": m.docs},
                "helpUri": format!("{DOCS_BASE}{}", m.doc_file()),
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {
                    "tags": m.tags,
                    "security-severity": m.security_severity,
                    "precision": "very-high",
                },
            })
        })
        .collect();
    let left_out = selection.note(report.findings.len());
    let notifications: Vec<Value> = report
        .notices
        .iter()
        .map(|n| json!({"level": "note", "message": {"text": super::text(report, n)}}))
        .chain(
            left_out
                .iter()
                .map(|n| json!({"level": "warning", "message": {"text": n}})),
        )
        .chain(
            report
                .errors
                .iter()
                .map(|e| json!({"level": "error", "message": {"text": e.to_string()}})),
        )
        .collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            column_kind: "unicodeCodePoints",
            invocations: json!([{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }]),
            original_uri_base_ids: opts.base.as_ref().map(|b| {
                json!({"%SRCROOT%": {
                    "uri": b.root_uri(),
                    "description": {"text": "The repository root."},
                }})
            }),
            properties: json!({
                "results": {
                    "total": report.findings.len(),
                    "kept": selection.kept.len(),
                    "leftOut": {
                        "error": selection.left_out[0],
                        "warning": selection.left_out[1],
                        "note": selection.left_out[2],
                        "suppressed": selection.left_out[3],
                    },
                    "relatedLocationsCut": selection.related_cut,
                },
                "profile": report.profile().map(|p| p.profile.as_str()),
                "profileReason": report.profile().map(|p| super::text(report, &p.reason)),
                "clusters": report.clusters.iter().map(|c| json!({
                    "name": &*c.name,
                    "profile": c.profile.profile.as_str(),
                    "profileReason": super::text(report, &c.profile.reason),
                    "kubernetes": super::kubernetes_json(report, &c.kubernetes),
                    "loadBalancer": c.lb.implementation.map(crate::k8s::implementation::Implementation::key),
                })).collect::<Vec<_>>(),
            }),
            results: Results {
                report,
                opts,
                kept: &selection.kept,
            },
            tool: json!({"driver": {
                "name": "extip-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": HOMEPAGE,
                "rules": rules,
            }}),
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Code scanning rejects a rule with more than 20 tags.
    #[test]
    fn every_rule_has_at_most_20_tags() {
        for m in crate::rules::CATALOG.iter() {
            assert!(m.tags.len() <= 20, "{}", m.code);
        }
    }

    #[test]
    fn uris_are_percent_encoded_but_keep_slashes() {
        assert_eq!(uri("a dir/ü.yaml"), "a%20dir/%C3%BC.yaml");
        assert_eq!(
            uri("caf\\xe9.yaml"),
            "caf%E9.yaml",
            "a byte escaped in the name"
        );
    }

    /// Code scanning matches alerts across runs by fingerprint: a change of hash or of how the
    /// parts are joined would reopen every user's alerts, so the values are pinned.
    #[test]
    fn fingerprints_are_pinned_across_releases() {
        use crate::finding::fnv1a;
        assert_eq!(fnv1a(&[]), "cbf29ce484222325", "FNV-1a 64 offset basis");
        assert_eq!(
            fnv1a(&["EXT002", "Service/shop/web", "/spec/externalIPs/1"]),
            "3b7af493b766e163"
        );
        // Parts are separated, so moving a character between them changes the fingerprint.
        assert_eq!(fnv1a(&["a", "bc"]), "401801fc84f3ca79");
        assert_eq!(fnv1a(&["ab", "c"]), "ad22872f536e4705");
    }
}
