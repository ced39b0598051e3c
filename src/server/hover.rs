//! Hover: on a finding's range, the finding with its help and notes, then its rule's
//! documentation (the text `--explain` prints); on an address a Service or Gateway claims, the
//! address's rows of the inventory (`--inventory`): every claim of it in the cluster, with the
//! allowlist entry, the verdicts, the NetworkPolicy coverage and the migration target.

use std::fmt::Write as _;

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use super::text::{self, Units};
use super::workspace::Linted;
use crate::render;
use crate::report::inventory::Row;
use crate::source::FileId;

/// What to show at `pos` in the file `file`, if anything is there.
#[must_use]
pub fn hover(linted: &Linted, file: FileId, pos: Position, units: Units) -> Option<Hover> {
    let report = &linted.report;
    let source = &report.files[file];
    let at = text::offset(&source.text, source.line_starts(), pos, units);
    let within =
        |span: crate::source::Span| span.file == file && span.start <= at && at <= span.end;
    let mut out = String::new();
    let mut range: Option<(usize, usize)> = None;
    let mut narrow = |start: usize, end: usize| {
        range = Some(match range {
            Some((s, e)) if e - s <= end - start => (s, e),
            _ => (start, end),
        });
    };
    let findings: Vec<_> = render::active(report)
        .filter(|f| within(f.primary.span))
        .collect();
    let mut explained: Vec<&str> = Vec::new();
    for f in &findings {
        narrow(f.primary.span.start, f.primary.span.end);
        let _ = write!(
            out,
            "**{}** `{}` ({}): {}{}\n\n",
            f.rule.code,
            f.rule.name,
            f.severity,
            render::text(report, &f.message),
            render::cluster_note(report, f)
        );
        if !f.help.is_empty() {
            let _ = write!(out, "{}\n\n", f.help);
        }
        for n in &f.notes {
            let _ = writeln!(out, "- {n}");
        }
        if !f.notes.is_empty() {
            out.push('\n');
        }
        for fix in &f.fixes {
            let _ = write!(out, "{}\n\n", render::fix_line(fix));
        }
    }
    let rows: Vec<&Row> = report.inventory.iter().filter(|r| within(r.span)).collect();
    let mut addresses: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.cluster.as_str(), r.address.as_str()))
        .collect();
    addresses.dedup();
    for (cluster, address) in addresses {
        if let Some(r) = rows.iter().find(|r| r.address == address) {
            narrow(r.span.start, r.span.end);
        }
        let claims: Vec<&Row> = report
            .inventory
            .iter()
            .filter(|r| r.cluster == cluster && r.address == address)
            .collect();
        address_table(&mut out, linted, address, &claims);
    }
    for f in &findings {
        if !explained.contains(&f.rule.code) {
            explained.push(f.rule.code);
            let _ = write!(out, "---\n\n{}\n", f.rule.docs);
        }
    }
    let (start, end) = range?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: out,
        }),
        range: Some(text::range(source, start, end, units)),
    })
}

/// One address's inventory rows as a Markdown table.
fn address_table(out: &mut String, linted: &Linted, address: &str, rows: &[&Row]) {
    let report = &linted.report;
    let cell = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.replace('|', "\\|").replace('\n', " ")
        }
    };
    let _ = write!(
        out,
        "**`{address}`**: claimed {} time{} (`extip-lint --inventory md`)\n\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    out.push_str("| object | source | ports | allowed by | verdict | kubernetes | migration | network policy | owner | location |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for r in rows {
        let l = render::locate(report, r.span, None);
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} | {}:{} |",
            cell(&r.kind),
            cell(&r.service),
            cell(r.source),
            cell(&r.ports),
            cell(&r.allowed_by),
            cell(&r.profile_verdict),
            cell(&r.kubernetes),
            cell(&r.migration),
            cell(&r.network_policy),
            cell(&r.owner),
            cell(&l.path),
            l.start.line
        );
    }
    out.push('\n');
}
