//! A run's findings and the config's problems as diagnostics, by file: every file with a
//! finding, open or not. Each carries its rule's code with a link to the rule's docs, the
//! severity, the related places (other claims, policies considered, allowlist entries) and the
//! `deprecated` tag for rules about deprecated fields.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag,
    Location, NumberOrString, Uri,
};

use super::text::{self, Units};
use super::workspace::ConfigState;
use crate::finding::{Finding, Severity};
use crate::render::{self, DOCS_BASE};
use crate::report::Report;
use crate::source::{SourceFile, Span};

/// The `source` of every diagnostic.
pub const SOURCE: &str = "extip-lint";

/// Diagnostics by file path (absolute).
pub type ByFile = BTreeMap<PathBuf, Vec<Diagnostic>>;

/// The file a span is in, when it is a file on disk an editor can open.
#[must_use]
pub fn file_of(report: &Report, span: Span) -> Option<&SourceFile> {
    let file = report.files.get(span.file.index())?;
    (!file.virtual_file && file.path.is_some()).then_some(file)
}

/// The diagnostics of every unsuppressed finding of `report`, by file.
#[must_use]
pub fn of_report(report: &Report, units: Units, uri: &dyn Fn(&Path) -> Option<Uri>) -> ByFile {
    let mut out = ByFile::new();
    for f in render::active(report) {
        let Some(file) = file_of(report, f.primary.span) else {
            continue;
        };
        let Some(path) = &file.path else { continue };
        out.entry(path.clone())
            .or_default()
            .push(diagnostic(report, f, units, uri));
    }
    out
}

/// One finding as a diagnostic.
#[must_use]
pub fn diagnostic(
    report: &Report,
    f: &Finding,
    units: Units,
    uri: &dyn Fn(&Path) -> Option<Uri>,
) -> Diagnostic {
    let span = f.primary.span;
    let file = &report.files[span.file];
    let related: Vec<DiagnosticRelatedInformation> = f
        .related
        .iter()
        .filter_map(|l| {
            let file = file_of(report, l.span)?;
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: uri(file.path.as_ref()?)?,
                    range: text::range(file, l.span.start, l.span.end, units),
                },
                message: l.text.clone(),
            })
        })
        .collect();
    let mut message = render::text(report, &f.message).into_owned();
    message.push_str(&render::cluster_note(report, f));
    Diagnostic {
        range: text::range(file, span.start, span.end, units),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.rule.code.to_string())),
        code_description: Uri::from_str(&format!("{DOCS_BASE}{}", f.rule.doc_file()))
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: f
            .rule
            .tags
            .contains(&"deprecation")
            .then(|| vec![DiagnosticTag::DEPRECATED]),
        data: None,
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Note => DiagnosticSeverity::INFORMATION,
    }
}

/// The config's problems as diagnostics in the config file.
pub fn add_config(out: &mut ByFile, config: &ConfigState, units: Units) {
    let Some(path) = &config.path else { return };
    if config.problems.is_empty() {
        return;
    }
    let starts = text::line_starts(&config.text);
    let list = out.entry(path.clone()).or_default();
    for p in &config.problems {
        list.push(Diagnostic {
            range: lsp_types::Range {
                start: text::position(&config.text, &starts, p.start, units),
                end: text::position(&config.text, &starts, p.end, units),
            },
            severity: Some(if p.error {
                DiagnosticSeverity::ERROR
            } else {
                DiagnosticSeverity::WARNING
            }),
            source: Some(SOURCE.to_string()),
            message: p.message.clone(),
            ..Diagnostic::default()
        });
    }
}
