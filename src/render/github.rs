//! `--format github`: workflow commands that GitHub Actions shows as annotations on the diff.

use std::io::{self, Write};

use super::{active, locate};
use crate::finding::Severity;
use crate::report::Report;

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

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in active(report) {
        let l = locate(report, f.primary.span, f.origin.as_ref());
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let title = format!("{} {}", f.rule.code, f.rule.name);
        let mut message = format!(
            "{}{}\n{}",
            super::one_line(&super::text(report, &f.message)),
            super::cluster_note(report, f),
            f.help
        );
        for n in &f.notes {
            message.push_str("\nnote: ");
            message.push_str(&super::one_line(n));
        }
        writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape(&super::one_line(&l.path), true),
            l.start.line,
            l.start.column,
            l.end.line,
            l.end.column,
            escape(&title, true),
            escape(&message, false)
        )?;
    }
    Ok(())
}
