//! `--format junit`: `JUnit` XML as Jenkins (the `junit` step) and GitLab (`artifacts: reports:
//! junit`) read it, valid against the Jenkins/Surefire schema `junit-10.xsd`.
//!
//! One `testsuite` per rule that ran; in it one `testcase` per object (or per file, for
//! findings about a file) with findings of that rule, failed with every such finding in its
//! text; a rule without findings has one passing test case, so the suite counts and shows up
//! green. The schema allows no file or line attribute on a test case: the places are in the
//! failure's text, `path:line:col` as in `--format short`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{active, locate};
use crate::finding::Finding;
use crate::report::Report;

/// Text for an XML attribute or element: the five special characters escaped, and characters
/// XML 1.0 cannot carry at all (control characters other than tab and line breaks) written as
/// Rust-style escapes so nothing of the input is lost or breaks the document.
fn xml(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.extend(c.escape_default());
            }
            c => out.push(c),
        }
    }
    out
}

/// The test case a finding belongs to: the object, or the file when there is none.
fn case_name(report: &Report, f: &Finding) -> String {
    let name = match &f.object {
        Some(o) => format!("{} {}", o.kind_label(), o.qualified_name()),
        None => locate(report, f.primary.span, None).path,
    };
    match &f.cluster {
        Some(c) if report.multi_cluster() => format!("{name} (cluster {c})"),
        _ => name,
    }
}

/// One finding as the failure's text shows it.
fn finding_text(report: &Report, f: &Finding) -> String {
    let l = locate(report, f.primary.span, f.origin.as_ref());
    let mut s = format!(
        "{}:{}:{}: {} [{}] {}\n{}",
        l.path,
        l.start.line,
        l.start.column,
        f.rule.code,
        f.severity,
        super::text(report, &f.message),
        f.help
    );
    for n in &f.notes {
        let _ = write!(s, "\nnote: {n}");
    }
    s
}

/// A test case: its name and the findings failing it.
type Case<'a> = (String, Vec<&'a Finding>);

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // Per rule, in the order the rules ran: its cases, each with its findings in report order.
    let mut suites: Vec<(&str, &str, Vec<Case<'_>>)> = report
        .rules
        .iter()
        .map(|(m, _)| (m.code, m.name, Vec::new()))
        .collect();
    // (suite, case name) -> the case's index in its suite.
    let mut where_is: std::collections::HashMap<(usize, String), usize> =
        std::collections::HashMap::new();
    for f in active(report) {
        let i = if let Some(i) = suites.iter().position(|(code, ..)| *code == f.rule.code) {
            i
        } else {
            suites.push((f.rule.code, f.rule.name, Vec::new()));
            suites.len() - 1
        };
        let name = case_name(report, f);
        let cases = &mut suites[i].2;
        let next = cases.len();
        let c = *where_is.entry((i, name.clone())).or_insert(next);
        if c == next {
            cases.push((name, vec![f]));
        } else {
            cases[c].1.push(f);
        }
    }
    let tests: usize = suites.iter().map(|(.., c)| c.len().max(1)).sum();
    let failures: usize = suites.iter().map(|(.., c)| c.len()).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="extip-lint" tests="{tests}" failures="{failures}" errors="0">"#
    )?;
    for (code, name, cases) in &suites {
        let suite = xml(&format!("{code} {name}"), true);
        writeln!(
            out,
            r#"  <testsuite name="{suite}" tests="{}" failures="{}" errors="0" skipped="0">"#,
            cases.len().max(1),
            cases.len()
        )?;
        if cases.is_empty() {
            writeln!(
                out,
                r#"    <testcase name="no findings" classname="{suite}"/>"#
            )?;
        }
        for (case, findings) in cases {
            let first = findings[0];
            let text: Vec<String> = findings.iter().map(|f| finding_text(report, f)).collect();
            writeln!(
                out,
                r#"    <testcase name="{}" classname="{suite}">"#,
                xml(case, true)
            )?;
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                first.severity,
                xml(&super::text(report, &first.message), true),
                xml(&text.join("\n\n"), false)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn text_from_the_input_cannot_break_the_document() {
        assert_eq!(xml("a<b & \"c\">", true), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(xml("x\ny", true), "x&#10;y");
        assert_eq!(xml("x\ny", false), "x\ny");
        assert_eq!(xml("esc\u{1b}[31m", false), "esc\\u{1b}[31m");
    }
}
