//! `--inventory md|csv|json`: the address inventory as a runbook page (`render::runbook`), CSV
//! (RFC 4180) or JSON; `table` is the plain Markdown table the job summary shows.

use std::io::{self, Write};

use super::locate;
use crate::report::Report;
use crate::report::inventory::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    /// The runbook page (Markdown).
    #[value(alias = "markdown")]
    Md,
    Csv,
    Json,
}

const HEADER: [&str; 15] = [
    "cluster",
    "address",
    "source",
    "kind",
    "service",
    "ports",
    "allowed by",
    "profile verdict",
    "kubernetes",
    "migration",
    "network policy",
    "owner",
    "route",
    "firewall",
    "location",
];

fn fields(r: &Row) -> [&str; 15] {
    [
        &r.cluster,
        &r.address,
        r.source,
        &r.kind,
        &r.service,
        &r.ports,
        &r.allowed_by,
        &r.profile_verdict,
        &r.kubernetes,
        &r.migration,
        &r.network_policy,
        &r.owner,
        &r.route,
        &r.firewall,
        &r.location,
    ]
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The rows with their `file:line`.
fn located(report: &Report) -> Vec<Row> {
    report
        .inventory
        .iter()
        .map(|r| {
            let l = locate(report, r.span, None);
            Row {
                location: format!("{}:{}", l.path, l.start.line),
                ..r.clone()
            }
        })
        .collect()
}

pub fn render(
    report: &Report,
    format: InventoryFormat,
    keys: &super::runbook::Keys<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows = located(report);
    match format {
        InventoryFormat::Md => super::runbook::render(&rows, keys, out)?,
        InventoryFormat::Csv => {
            writeln!(out, "{}", HEADER.join(","))?;
            for r in &rows {
                let cells: Vec<String> = fields(r).iter().map(|c| csv_field(c)).collect();
                writeln!(out, "{}", cells.join(","))?;
            }
        }
        InventoryFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                // Version 2: keys in camelCase (version 1 had snake_case).
                &serde_json::json!({"version": 2, "rows": rows}),
            )
            .map_err(io::Error::other)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// The inventory as one Markdown table, every cell escaped.
pub fn table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "| {} |", HEADER.join(" | "))?;
    writeln!(out, "|{}", " --- |".repeat(HEADER.len()))?;
    for r in &located(report) {
        let cells: Vec<String> = fields(r).iter().map(|c| super::runbook::md(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}
