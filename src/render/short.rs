//! `--format short`: `path:line:col: CODE [severity] message`, one line per finding.

use std::io::{self, Write};

use super::{Location, active, locate, one_line};
use crate::finding::Finding;
use crate::report::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in active(report) {
        line(
            report,
            f,
            &locate(report, f.primary.span, f.origin.as_ref()),
            out,
        )?;
    }
    Ok(())
}

/// One finding's line, placed at `l`.
pub fn line(report: &Report, f: &Finding, l: &Location, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}:{}:{}: {} [{}] {}{}",
        one_line(&l.path),
        l.start.line,
        l.start.column,
        f.rule.code,
        f.severity,
        one_line(&super::text(report, &f.message)),
        super::cluster_note(report, f)
    )
}
