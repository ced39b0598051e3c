//! `--format gitlab`: a GitLab Code Quality report (a JSON array of issues, the Code Climate
//! subset GitLab reads: `description`, `check_name`, `fingerprint`, `severity`,
//! `location.path`, `location.lines.begin`), for `artifacts: reports: codequality`.
//!
//! The fingerprint is the one SARIF, `--diff-base` and baselines use, so a merge request's
//! widget shows a finding as unchanged when only lines moved. GitLab needs it unique within a
//! report: a second finding with the same fingerprint gets `-2`, `-3` after it.

use std::io::{self, Write};

use serde::Serialize;

use super::{Options, active, ci_locate};
use crate::finding::Severity;
use crate::report::Report;

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: String,
    description: String,
    categories: [&'static str; 1],
    severity: &'static str,
    fingerprint: String,
    location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
}

#[derive(Serialize)]
struct Content {
    body: String,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

/// Code Climate's scale has five steps; a linter's three map to the middle ones, as other
/// linters map theirs: nothing here is a `blocker` the pipeline could not decide otherwise.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Note => "info",
    }
}

pub fn render(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    // How often each fingerprint was written so far.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    out.write_all(b"[")?;
    for (i, f) in active(report).enumerate() {
        let l = ci_locate(report, opts, f.primary.span, f.origin.as_ref());
        let file = &report.files[f.primary.span.file];
        let base = f.fingerprint(&file.name);
        let repeats = seen.entry(base.clone()).or_default();
        *repeats += 1;
        let fingerprint = if *repeats == 1 {
            base
        } else {
            format!("{base}-{repeats}")
        };
        let description = format!(
            "{}{}",
            super::text(report, &f.message),
            super::cluster_note(report, f)
        );
        // The help and notes, shown when the issue is opened.
        let mut body = f.help.clone();
        for n in &f.notes {
            body.push_str("\n\n");
            body.push_str(n);
        }
        let issue = Issue {
            kind: "issue",
            check_name: format!("{} {}", f.rule.code, f.rule.name),
            description,
            // The manifest and suppression checks (EXT9xx) are about the input, not exposure.
            categories: [if f.rule.code.starts_with("EXT9") {
                "Bug Risk"
            } else {
                "Security"
            }],
            severity: severity(f.severity),
            fingerprint,
            location: Location {
                path: l.path.replace('\\', "/"),
                lines: Lines {
                    begin: l.start.line,
                    end: l.end.line,
                },
            },
            content: (!body.is_empty()).then_some(Content { body }),
        };
        out.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *out, &issue)?;
    }
    out.write_all(b"\n]\n")
}
