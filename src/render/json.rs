//! `--format json`: a versioned document (`"version": 1`, schema in README).

use std::io::{self, Write};

use serde_json::{Value, json};

use super::locate;
use crate::finding::{Finding, SuppressionKind};
use crate::report::Report;

pub const VERSION: u32 = 1;

fn location(report: &Report, f: &Finding, span: crate::source::Span, origin: bool) -> Value {
    let l = locate(report, span, if origin { f.origin.as_ref() } else { None });
    json!({
        "path": l.path,
        "start": {"line": l.start.line, "column": l.start.column, "byte": l.byte_start},
        "end": {"line": l.end.line, "column": l.end.column, "byte": l.byte_end},
        "renderedFrom": l.rendered_from,
    })
}

/// One finding's JSON value.
fn finding(report: &Report, f: &Finding) -> Value {
    let mut loc = location(report, f, f.primary.span, true);
    loc["label"] = json!(f.primary.text);
    json!({
        "code": f.rule.code,
        "name": f.rule.name,
        "severity": f.severity.as_str(),
        "message": super::text(report, &f.message),
        "help": f.help,
        "notes": f.notes,
        "fixes": f.fixes.iter().map(|x| json!({
            "title": x.title,
            "safe": x.safety == crate::finding::Safety::Safe,
            "refused": x.refused,
            "edits": x.edits.iter().map(|e| {
                let l = super::locate(report, e.span, None);
                json!({
                    "path": l.path,
                    "start": {"line": l.start.line, "column": l.start.column, "byte": l.byte_start},
                    "end": {"line": l.end.line, "column": l.end.column, "byte": l.byte_end},
                    "text": e.text,
                })
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "location": loc,
        "object": f.object.as_ref().map(|o| json!({
            "apiVersion": o.api_version,
            "kind": o.kind,
            "namespace": o.namespace,
            "name": o.name,
        })),
        "pointer": f.pointer,
        "cluster": f.cluster.as_deref(),
        "related": f.related.iter().map(|r| {
            let mut v = location(report, f, r.span, false);
            v["label"] = json!(r.text);
            v
        }).collect::<Vec<_>>(),
        "suppressed": f.suppressed.as_ref().map(|s| json!({
            "kind": match s.kind { SuppressionKind::Comment => "comment", SuppressionKind::Annotation => "annotation" },
            "reason": s.reason,
        })),
    })
}

/// The findings, serialized one at a time: a report with many findings never exists as one
/// JSON tree in memory.
struct Findings<'a>(&'a Report);

impl serde::Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.findings.iter().map(|f| finding(self.0, f)))
    }
}

/// The document; fields in alphabetical order, as `serde_json` writes a map's keys.
#[derive(serde::Serialize)]
struct Document<'a> {
    clusters: Value,
    errors: Vec<String>,
    findings: Findings<'a>,
    notices: Vec<String>,
    profile: Value,
    summary: Value,
    tool: Value,
    version: u32,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (errors, warnings, notes, suppressed) = super::counts(report);
    let s = &report.stats;
    let doc = Document {
        version: VERSION,
        tool: json!({"name": "extip-lint", "version": env!("CARGO_PKG_VERSION")}),
        profile: json!(report.profile().map(|p| json!({"name": p.profile.as_str(), "reason": super::text(report, &p.reason)}))),
        clusters: json!(report.clusters.iter().map(|c| json!({
            "name": &*c.name,
            "files": c.files,
            "profile": {"name": c.profile.profile.as_str(), "reason": super::text(report, &c.profile.reason)},
            "kubernetes": super::kubernetes_json(report, &c.kubernetes),
            "loadBalancer": {"name": c.lb.implementation.map(crate::k8s::implementation::Implementation::key), "reason": super::text(report, &c.lb.reason)},
        })).collect::<Vec<_>>()),
        findings: Findings(report),
        notices: report.notices.iter().map(|n| super::text(report, n).into_owned()).collect(),
        errors: report.errors.iter().map(ToString::to_string).collect(),
        summary: json!({
            "files": s.files,
            "documents": s.documents,
            "objects": s.objects(),
            "objectsByKind": s.objects_by_kind,
            "otherDocuments": s.other_documents,
            "skipped": s.skipped,
            "errors": errors,
            "warnings": warnings,
            "notes": notes,
            "suppressed": suppressed,
            "preExisting": report.filtered.as_ref().map(|f| f.left_out),
            "staleBaselineEntries": report.filtered.as_ref().map(|f| f.stale),
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
