//! `--inventory md|csv|json`: the address inventory as a Markdown table, CSV (RFC 4180) or JSON.

use std::io::{self, Write};

use super::locate;
use crate::inventory::Row;
use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    Md,
    Csv,
    Json,
}

const HEADER: [&str; 13] = [
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
    "location",
];

fn fields(r: &Row) -> [&str; 13] {
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

pub fn render(report: &Report, format: InventoryFormat, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<Row> = report
        .inventory
        .iter()
        .map(|r| {
            let l = locate(report, r.span, None);
            Row {
                location: format!("{}:{}", l.path, l.start.line),
                ..r.clone()
            }
        })
        .collect();
    match format {
        InventoryFormat::Md => {
            writeln!(out, "| {} |", HEADER.join(" | "))?;
            writeln!(out, "|{}", " --- |".repeat(HEADER.len()))?;
            for r in &rows {
                let cells: Vec<String> = fields(r).iter().map(|c| c.replace('|', "\\|")).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
        }
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
