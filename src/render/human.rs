//! `--format human`: miette code frames, grouped by file in position order, then the summary.
//!
//! miette's own `SourceCode` for strings rescans from byte 0 on every report; `Indexed` uses the
//! file's line index, so rendering cost per finding does not grow with the file size.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{Options, locate};
use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::source::SourceFile;

/// A source file with a line index, for miette.
struct Indexed<'a> {
    file: &'a SourceFile,
    /// The file's text as shown (see `printable`).
    text: &'a str,
}

/// A file's text as shown in code frames: control characters other than tab and line breaks
/// become `?` (C1 controls, two bytes in UTF-8, become `¿`), byte for byte, so spans still fit
/// and the input cannot send escape sequences to the terminal.
fn printable(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            c if !hidden(c) => c,
            c if c.len_utf8() == 1 => '?',
            _ => '¿',
        })
        .collect::<String>()
        .into()
}

impl SourceCode for Indexed<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let file = self.file;
        let text = self.text;
        let starts = file.line_starts();
        let start = span.offset();
        let end = (start + span.len()).min(text.len());
        if start > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = starts.partition_point(|&s| s <= start).saturating_sub(1);
        let last = starts
            .partition_point(|&s| s <= end.saturating_sub(usize::from(end > start)))
            .saturating_sub(1);
        let from_line = first.saturating_sub(before);
        let to_line = (last + after).min(starts.len() - 1);
        let from = starts[from_line];
        let to = starts.get(to_line + 1).copied().unwrap_or(text.len());
        // miette heads the frame with the primary label's line and this column: the
        // label's own (code points, 0-based), as short and JSON output say it. Only the header
        // reads it; the lines are laid out from the text.
        let column = file.position(start).column - 1;
        Ok(Box::new(MietteSpanContents::new_named(
            super::one_line(&file.name).into_owned(),
            &text.as_bytes()[from..to],
            (from, to - from).into(),
            from_line,
            column,
            to_line - from_line + 1,
        )))
    }
}

struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: Indexed<'a>,
    labels: Vec<LabeledSpan>,
    help: String,
    headline: String,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline)
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn labeled(text: &str, start: usize, end: usize, primary: bool) -> LabeledSpan {
    let span: SourceSpan = (start, end - start).into();
    if primary {
        LabeledSpan::new_primary_with_span(Some(text.to_string()), span)
    } else {
        LabeledSpan::new_with_span(Some(text.to_string()), span)
    }
}

/// EXT003 findings of one namespace where no policy applies at all: one decision, drawn once.
enum Grouped {
    /// The first: the headline names every Service; `places` are the others'.
    Head {
        ns: String,
        services: Vec<String>,
        places: Vec<String>,
    },
    /// The others, not drawn.
    Member,
}

/// The namespaces (per cluster) with at least three EXT003 findings that say no policy applies
/// there, by the position of each finding among the active ones. SARIF and JSON keep one
/// result per Service; this is for reading.
fn unprotected_namespaces(report: &Report) -> std::collections::HashMap<usize, Grouped> {
    const AT_LEAST: usize = 3;
    let mut by_ns: std::collections::BTreeMap<(Option<&str>, &str), Vec<usize>> =
        std::collections::BTreeMap::new();
    let active: Vec<&Finding> = super::active(report).collect();
    for (i, f) in active.iter().enumerate() {
        let none_applies = f
            .notes
            .iter()
            .any(|n| n.starts_with("no NetworkPolicy (Kubernetes, Cilium or Calico) in"));
        if f.rule.code != "EXT003" || !none_applies {
            continue;
        }
        let Some(ns) = f.object.as_ref().and_then(|o| o.namespace.as_deref()) else {
            continue;
        };
        by_ns.entry((f.cluster.as_deref(), ns)).or_default().push(i);
    }
    let mut out = std::collections::HashMap::new();
    for ((_, ns), members) in by_ns {
        if members.len() < AT_LEAST {
            continue;
        }
        let services = members
            .iter()
            .filter_map(|&i| active[i].object.as_ref().map(|o| o.name.clone()))
            .collect();
        let places = members[1..]
            .iter()
            .map(|&i| {
                let l = locate(report, active[i].primary.span, active[i].origin.as_ref());
                format!("{}:{}", super::one_line(&l.path), l.start.line)
            })
            .collect();
        out.insert(
            members[0],
            Grouped::Head {
                ns: ns.to_string(),
                services,
                places,
            },
        );
        for &i in &members[1..] {
            out.insert(i, Grouped::Member);
        }
    }
    out
}

/// Other places a finding names, listed one per line, at most.
const MAX_ALSO: usize = 4;

pub fn render(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_context_lines(0)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false);
    let shown: Vec<OnceCell<Cow<'_, str>>> = report.files.iter().map(|_| OnceCell::new()).collect();
    let indexed = |id: crate::source::FileId| {
        let file = &report.files[id];
        Indexed {
            file,
            text: shown[id.index()].get_or_init(|| printable(&file.text)),
        }
    };
    let mut buf = String::new();
    // Notes said once: a later finding with the same note points back to the first.
    let mut said: Vec<(String, String)> = Vec::new();
    let groups = unprotected_namespaces(report);
    for (i, f) in super::active(report).enumerate() {
        buf.clear();
        let group = groups.get(&i);
        if matches!(group, Some(Grouped::Member)) {
            continue;
        }
        let file = &report.files[f.primary.span.file];
        let loc = locate(report, f.primary.span, f.origin.as_ref());
        let place = format!("{}:{}", super::one_line(&loc.path), loc.start.line);
        let mut headline = match group {
            Some(Grouped::Head { ns, services, .. }) => {
                let shown: Vec<String> = services
                    .iter()
                    .take(6)
                    .map(|s| format!("`{}`", super::one_line(s)))
                    .collect();
                format!(
                    "{} {} Services in namespace `{}` expose pods, and no NetworkPolicy applies in the namespace: {}{}{}",
                    f.rule.code,
                    services.len(),
                    super::one_line(ns),
                    shown.join(", "),
                    if services.len() > shown.len() {
                        format!(" and {} more", services.len() - shown.len())
                    } else {
                        String::new()
                    },
                    super::cluster_note(report, f)
                )
            }
            _ => format!(
                "{} {}{}",
                f.rule.code,
                super::one_line(&super::text(report, &f.message)),
                super::cluster_note(report, f)
            ),
        };
        if let Some(r) = &loc.rendered_from {
            headline = format!("{headline}\n  rendered from {}", super::one_line(r));
        }
        let mut labels = vec![labeled(
            &f.primary.text,
            f.primary.span.start,
            f.primary.span.end,
            true,
        )];
        // Labels near the primary one share its frame; the others are a line each.
        let near = |span: crate::source::Span| {
            span.file == f.primary.span.file
                && file.position(span.start).line.abs_diff(loc.start.line) <= 3
                && file.position(span.end).line.abs_diff(loc.start.line) <= 3
        };
        let mut also = Vec::new();
        for r in &f.related {
            if near(r.span) {
                labels.push(labeled(&r.text, r.span.start, r.span.end, false));
            } else if report.files[r.span.file].virtual_file {
                // Rendered output is no file to open: its line, with how to reproduce it.
                let l = locate(report, r.span, None);
                also.push(format!(
                    "{}, line {}",
                    super::one_line(&r.text),
                    l.start.line
                ));
            } else {
                let l = locate(report, r.span, None);
                also.push(format!(
                    "{}: {}:{}",
                    super::one_line(&r.text),
                    super::one_line(&l.path),
                    l.start.line
                ));
            }
        }
        if let Some(Grouped::Head { places, .. }) = group {
            let others = places
                .iter()
                .map(|p| format!("another Service without a policy: {p}"));
            also.splice(0..0, others);
        }
        let mut help = f.help.clone();
        for a in also.iter().take(MAX_ALSO) {
            help.push_str("\nsee: ");
            help.push_str(a);
        }
        if also.len() > MAX_ALSO {
            let _ = write!(help, "\nsee: and {} more places", also.len() - MAX_ALSO);
        }
        for fix in &f.fixes {
            help.push('\n');
            help.push_str(&super::fix_line(fix));
        }
        // Notes said in full at an earlier finding are referred to, once per place.
        let mut referred: Vec<String> = Vec::new();
        for n in &f.notes {
            let n = super::one_line(n).into_owned();
            if let Some((_, first)) = said.iter().find(|(text, _)| *text == n) {
                if !referred.contains(first) {
                    let _ = write!(help, "\nnote: the same as at {first}");
                    referred.push(first.clone());
                }
            } else {
                let _ = write!(help, "\nnote: {n}");
                said.push((n, place.clone()));
            }
        }
        let diag = FindingDiagnostic {
            finding: f,
            source: indexed(f.primary.span.file),
            labels,
            help,
            headline,
        };
        handler
            .render_report(&mut buf, &diag)
            .map_err(|e| io::Error::other(e.to_string()))?;
        out.write_all(buf.as_bytes())?;
        writeln!(out)?;
    }
    Ok(())
}
