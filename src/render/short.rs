//! `--format short`: `path:line:col: CODE [severity] message`, one line per finding.

use std::io::{self, Write};

use super::{active, locate, one_line};
use crate::report::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in active(report) {
        let l = locate(report, f.primary.span, f.origin.as_ref());
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
        )?;
    }
    Ok(())
}
