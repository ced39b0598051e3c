//! The exposure map's table: one section per cluster, one row per claim, each cell linking to
//! its file and line; and its data attributes, which the page's filters and search read.

use std::fmt::Write as _;

use std::collections::BTreeSet;

use super::{Chain, Options, Place, Shown, esc, graph, severity_class};
use crate::report::Report;

/// `1 address`, `3 addresses`.
pub(super) fn addresses_text(n: usize) -> String {
    if n == 1 {
        "1 address".into()
    } else {
        format!("{n} addresses")
    }
}

/// A finding list for a table cell.
pub(super) fn findings_cell(out: &mut String, findings: &[&Shown], max: usize) {
    if findings.is_empty() {
        return;
    }
    out.push_str("<ul class=\"findings\">");
    for f in findings.iter().take(max) {
        let _ = write!(
            out,
            "<li class=\"{}\"><b>{}</b> {} ",
            severity_class(Some(f.severity)),
            f.code,
            esc(&f.message)
        );
        link(out, &f.place);
        out.push_str("</li>");
    }
    if findings.len() > max {
        let _ = write!(out, "<li>and {} more</li>", findings.len() - max);
    }
    out.push_str("</ul>");
}

/// `<a href="...">path:line</a>`, or the text alone without a file.
pub(super) fn link(out: &mut String, place: &Place) {
    match &place.href {
        Some(h) => {
            let _ = write!(
                out,
                "<a class=\"loc\" href=\"{}\">{}</a>",
                esc(h),
                esc(&place.text)
            );
        }
        None => {
            let _ = write!(out, "<span class=\"loc\">{}</span>", esc(&place.text));
        }
    }
}

/// One cluster: its graph (when small enough) and its table.
pub(super) fn section(
    out: &mut String,
    report: &Report,
    opts: &Options,
    index: usize,
    name: &str,
    chains: &[Chain],
    left_out: usize,
) {
    let _ = writeln!(
        out,
        "<section class=\"cluster\" data-cluster=\"{}\" id=\"cluster-{index}\">",
        esc(name)
    );
    let summary = report.clusters.iter().find(|c| &*c.name == name);
    let _ = write!(
        out,
        "<h2>Cluster {}</h2>\n<p>",
        esc(&crate::render::one_line(name))
    );
    if let Some(c) = summary {
        let _ = write!(
            out,
            "profile {}, Kubernetes {}, ",
            c.profile.profile.as_str(),
            c.kubernetes.target.version
        );
    }
    let addresses: BTreeSet<&str> = chains.iter().map(|c| c.address.as_str()).collect();
    let _ = writeln!(
        out,
        "{} in {}.</p>",
        addresses_text(addresses.len()),
        crate::render::plural(chains.len(), "claim")
    );
    if left_out > 0 {
        let _ = writeln!(
            out,
            "<p class=\"cut\">{left_out} more claims of this cluster are not shown (the report keeps {} rows in all).</p>",
            opts.max_rows
        );
    }
    if addresses.len() <= opts.max_graph {
        graph::draw(out, chains, index, opts.max_findings);
    } else {
        let _ = writeln!(
            out,
            "<p class=\"cut\">{} addresses: the graph is drawn for up to {}; the table lists every claim.</p>",
            addresses.len(),
            opts.max_graph
        );
    }
    out.push_str("<table class=\"claims\">\n<thead><tr><th>address</th><th>object</th><th>ports</th><th>pods reached</th><th>policies</th><th>findings</th></tr></thead>\n<tbody>\n");
    for c in chains {
        row(out, c, opts.max_findings);
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// The filter data of a chain: what the script compares.
pub(super) fn data(c: &Chain) -> String {
    let mut rules: BTreeSet<&str> = BTreeSet::new();
    let mut sevs: BTreeSet<&str> = BTreeSet::new();
    let mut text = format!(
        "{} {} {} {} {} {}",
        c.address, c.object, c.owner, c.verdict, c.coverage, c.source
    );
    for f in c.findings() {
        rules.insert(f.code);
        sevs.insert(f.severity.as_str());
        let _ = write!(text, " {} {}", f.code, f.message);
    }
    for p in &c.pods {
        let _ = write!(text, " {}", p.name);
        for q in &p.policies {
            let _ = write!(text, " {} {}", q.relation, q.name);
        }
    }
    format!(
        "data-chain=\"c{}\" data-cluster=\"{}\" data-ns=\"{}\" data-owner=\"{}\" data-rules=\"{}\" data-sevs=\"{}\" data-text=\"{}\"",
        c.id,
        esc(&c.cluster),
        esc(&c.namespace),
        esc(&c.owner),
        rules.into_iter().collect::<Vec<_>>().join(" "),
        sevs.into_iter().collect::<Vec<_>>().join(" "),
        esc(&text.to_lowercase())
    )
}

/// One claim as a table row.
pub(super) fn row(out: &mut String, c: &Chain, max: usize) {
    let _ = write!(
        out,
        "<tr class=\"claim {}\" {} data-address=\"{}\">",
        c.verdict_class(),
        data(c),
        esc(&c.address)
    );
    let _ = write!(
        out,
        "<td><span class=\"addr\">{}</span><br><small>{} · {}",
        esc(&c.address),
        esc(c.source),
        esc(&c.verdict)
    );
    if c.claimants > 1 {
        let _ = write!(out, " · claimed by {} objects", c.claimants);
    }
    let _ = write!(out, " · allowed by {}</small><br>", esc(&c.allowed_by));
    link(out, &c.address_place);
    out.push_str("</td><td>");
    let _ = write!(out, "{}<br>", esc(&c.object));
    if !c.owner.is_empty() {
        let _ = write!(out, "<small>owner {}</small><br>", esc(&c.owner));
    }
    link(out, &c.object_place);
    let _ = write!(
        out,
        "</td><td>{}</td><td><ul class=\"plain\">",
        esc(&c.ports)
    );
    for p in &c.pods {
        let _ = write!(out, "<li>{} ", esc(&p.name));
        if let Some(place) = &p.place {
            link(out, place);
        }
        out.push_str("</li>");
    }
    out.push_str("</ul></td><td><ul class=\"plain\">");
    for q in c.pods.iter().flat_map(|p| &p.policies) {
        let _ = write!(
            out,
            "<li class=\"p-{}\">{} {} ",
            q.class,
            esc(q.relation),
            esc(&q.name)
        );
        if let Some(place) = &q.place {
            link(out, place);
        }
        out.push_str("</li>");
    }
    let _ = write!(out, "</ul><small>{}</small></td><td>", esc(&c.coverage));
    let findings: Vec<&Shown> = c.findings().collect();
    findings_cell(out, &findings, max);
    out.push_str("</td></tr>\n");
}
