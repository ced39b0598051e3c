//! `--format github`: workflow commands that GitHub Actions shows as annotations on the diff,
//! and the job summary (`$GITHUB_STEP_SUMMARY`).
//!
//! GitHub shows at most 10 error, 10 warning and 10 notice annotations of a step and drops the
//! rest without a word. So errors go first, then warnings, then notes, each level up to what is
//! shown; the findings past that are plain lines in the log, and one notice says how many there
//! are and where to read them. Paths are relative to the repository root, which annotations are
//! placed against.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Options, active, ci_locate, one_line, plural};
use crate::finding::{Finding, Severity};
use crate::report::Report;

/// Annotations of one level GitHub shows for a step.
pub const PER_LEVEL: usize = 10;
/// The most a step summary may hold (GitHub refuses a larger one).
pub const SUMMARY_MAX: usize = 1024 * 1024;

/// Escapes data per the workflow command syntax (`%`, CR, LF; plus `:` and `,` in properties).
fn escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn level(s: Severity) -> usize {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Note => 2,
    }
}

/// Which findings become annotations: the first `PER_LEVEL` of each level (one notice fewer
/// when some are left over, for the notice that counts them), errors first. The rest, in
/// report order, are plain log lines.
#[must_use]
pub fn split(report: &Report) -> (Vec<&Finding>, Vec<&Finding>) {
    let mut by_level: [Vec<(usize, &Finding)>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (i, f) in active(report).enumerate() {
        by_level[level(f.severity)].push((i, f));
    }
    let over = |max: [usize; 3]| by_level.iter().zip(max).any(|(l, m)| l.len() > m);
    let max = if over([PER_LEVEL; 3]) {
        [PER_LEVEL, PER_LEVEL, PER_LEVEL - 1]
    } else {
        [PER_LEVEL; 3]
    };
    let mut shown = Vec::new();
    let mut rest = Vec::new();
    for (l, m) in by_level.iter().zip(max) {
        shown.extend(l.iter().take(m));
        rest.extend(l.iter().skip(m));
    }
    rest.sort_by_key(|(i, _)| *i);
    (
        shown.into_iter().map(|(_, f)| f).collect(),
        rest.into_iter().map(|(_, f)| f).collect(),
    )
}

pub fn render(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let (shown, rest) = split(report);
    for f in &shown {
        let l = ci_locate(report, opts, f.primary.span, f.origin.as_ref());
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let title = format!("{} {}", f.rule.code, f.rule.name);
        let mut message = format!(
            "{}{}\n{}",
            one_line(&super::text(report, &f.message)),
            super::cluster_note(report, f),
            f.help
        );
        for n in &f.notes {
            message.push_str("\nnote: ");
            message.push_str(&one_line(n));
        }
        writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape(&one_line(&l.path), true),
            l.start.line,
            l.start.column,
            l.end.line,
            l.end.column,
            escape(&title, true),
            escape(&message, false)
        )?;
    }
    if rest.is_empty() {
        return Ok(());
    }
    // Plain lines: in the log, never dropped.
    for f in &rest {
        let l = ci_locate(report, opts, f.primary.span, f.origin.as_ref());
        super::short::line(report, f, &l, out)?;
    }
    let mut counts = [0usize; 3];
    for f in &rest {
        counts[level(f.severity)] += 1;
    }
    let what: Vec<String> = counts
        .iter()
        .zip(["error", "warning", "note"])
        .filter(|(n, _)| **n > 0)
        .map(|(n, w)| plural(*n, w))
        .collect();
    let mut text = format!(
        "GitHub shows {PER_LEVEL} annotations of each level per step: {} more ({}) are listed in this step's log",
        rest.len(),
        what.join(", ")
    );
    if let Some(sarif) = &opts.sarif_file {
        let _ = write!(text, " and in the SARIF report `{sarif}`");
    }
    text.push_str(", and counted in the job summary");
    writeln!(
        out,
        "::notice title={}::{}",
        escape(
            &format!(
                "extip-lint: {} not annotated",
                plural(rest.len(), "finding")
            ),
            true
        ),
        escape(&text, false)
    )
}

/// The job summary in GitHub's Markdown: counts per rule (and per cluster when there are
/// several), the first findings, and the external addresses (the inventory), within
/// `SUMMARY_MAX`.
#[must_use]
pub fn summary(report: &Report, opts: &Options) -> String {
    const FIRST: usize = 50;
    let mut out = String::from("## extip-lint\n\n");
    let _ = write!(out, "**{}**", super::totals(report));
    let _ = writeln!(
        out,
        " in {} ({}).\n",
        plural(report.stats.files, "file"),
        plural(report.stats.objects(), "object")
    );
    let by_rule = super::by_rule(report);
    if !by_rule.is_empty() {
        out.push_str("| rule | severity | findings |\n| --- | --- | ---: |\n");
        for (m, n) in &by_rule {
            let severity = super::severity_of(report, m);
            let _ = writeln!(
                out,
                "| [{} {}]({}{}) | {severity} | {n} |",
                m.code,
                m.name,
                super::DOCS_BASE,
                m.doc_file()
            );
        }
        out.push('\n');
    }
    if report.multi_cluster() {
        out.push_str("| cluster | files | findings | profile | kubernetes |\n| --- | ---: | ---: | --- | --- |\n");
        for c in &report.clusters {
            let n = active(report)
                .filter(|f| f.cluster.as_ref() == Some(&c.name))
                .count();
            let _ = writeln!(
                out,
                "| {} | {} | {n} | {} | {} |",
                cell(&c.name),
                c.files,
                c.profile.profile.as_str(),
                c.kubernetes.target.version
            );
        }
        out.push('\n');
    }
    let mut findings: Vec<&Finding> = active(report).collect();
    findings.sort_by_key(|f| level(f.severity));
    if !findings.is_empty() {
        let _ = writeln!(
            out,
            "### {}\n\n| severity | rule | where | message |\n| --- | --- | --- | --- |",
            if findings.len() > FIRST {
                format!("The first {FIRST} findings of {}", findings.len())
            } else {
                "Findings".to_string()
            }
        );
        for f in findings.iter().take(FIRST) {
            let l = ci_locate(report, opts, f.primary.span, f.origin.as_ref());
            let _ = writeln!(
                out,
                "| {} | {} | `{}:{}` | {}{} |",
                f.severity,
                f.rule.code,
                cell(&l.path).replace('`', "'"),
                l.start.line,
                cell(&super::text(report, &f.message)),
                cell(&super::cluster_note(report, f))
            );
        }
        out.push('\n');
    }
    if !report.inventory.is_empty() {
        let mut table = Vec::new();
        let _ = super::inventory::table(report, &mut table);
        let _ = writeln!(
            out,
            "### External addresses ({})\n\n{}",
            report.inventory.len(),
            String::from_utf8_lossy(&table)
        );
    }
    if out.len() > SUMMARY_MAX {
        let tail = "\n_The summary is cut here: GitHub takes at most 1 MiB. The SARIF report and `--inventory md` hold everything._\n";
        let mut cut = SUMMARY_MAX - tail.len();
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        // At a line's end, so no table row is half written.
        cut = out[..cut].rfind('\n').map_or(0, |i| i + 1);
        out.truncate(cut);
        out.push_str(tail);
    }
    out
}

/// Text for a Markdown table cell: one line, `|` escaped.
fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn workflow_command_data_and_properties_are_escaped() {
        assert_eq!(escape("50%\nnext", false), "50%25%0Anext");
        assert_eq!(escape("a:b,c", true), "a%3Ab%2Cc");
        assert_eq!(escape("a:b,c", false), "a:b,c");
    }
}
