//! The exposure map's graph: four columns (addresses, claiming objects, pods, policies), laid
//! out by the tool itself. Each item is one node however many chains pass through it, placed in
//! the order the chains (sorted by address) first reach it, which keeps the edges of one address
//! together; edges are curves between neighbouring columns. Nodes and edges carry the chains
//! they belong to (`data-chains`), so the page's filters dim what they leave out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{Chain, Place, Shown, esc, severity_class};

const COLUMNS: [&str; 4] = [
    "requested address",
    "claimed by",
    "pods reached",
    "policies over them",
];
const COL_W: usize = 270;
const NODE_W: usize = 240;
const NODE_H: usize = 38;
const GAP: usize = 10;
const TOP: usize = 34;
/// Characters that fit on a node's line at the page's font size.
const FIT: usize = 36;

struct Node {
    label: String,
    sub: String,
    class: &'static str,
    chains: BTreeSet<usize>,
    place: Option<Place>,
    /// Findings shown in the node's tooltip.
    findings: Vec<Shown>,
    kind: &'static str,
}

#[derive(Default)]
struct Column {
    nodes: Vec<Node>,
    index: BTreeMap<String, usize>,
}

impl Column {
    /// The node for `key`, made by `make` the first time.
    fn node(&mut self, key: String, chain: usize, make: impl FnOnce() -> Node) -> usize {
        let i = *self.index.entry(key).or_insert_with(|| {
            self.nodes.push(make());
            self.nodes.len() - 1
        });
        self.nodes[i].chains.insert(chain);
        i
    }
}

/// `text` cut to fit a node's line.
fn fit(text: &str) -> String {
    if text.chars().count() <= FIT {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(FIT - 1).collect();
        t.push('…');
        t
    }
}

/// The findings' codes for a node's second line: `EXT002 EXT007`, each once.
fn codes(findings: &[Shown]) -> String {
    let codes: BTreeSet<&str> = findings.iter().map(|f| f.code).collect();
    codes.into_iter().collect::<Vec<_>>().join(" ")
}

/// How bad a colour is, to keep the worst.
fn rank(class: &str) -> u8 {
    match class {
        "v-error" => 3,
        "v-warning" => 2,
        "v-note" => 1,
        _ => 0,
    }
}

fn worst(findings: &[Shown]) -> &'static str {
    severity_class(findings.iter().map(|f| f.severity).max())
}

/// Draws the graph of `chains` as an inline SVG.
pub fn draw(out: &mut String, chains: &[Chain], cluster: usize, max_findings: usize) {
    let mut cols: [Column; 4] = Default::default();
    // (from column, from node, to node) -> chains.
    let mut edges: BTreeMap<(usize, usize, usize), BTreeSet<usize>> = BTreeMap::new();
    for c in chains {
        let a = cols[0].node(c.address.clone(), c.id, || Node {
            label: c.address.clone(),
            sub: String::new(),
            class: "v-ok",
            chains: BTreeSet::new(),
            place: Some(c.address_place.clone()),
            findings: Vec::new(),
            kind: "address",
        });
        // An address claimed by several objects gathers their findings on it, and is coloured
        // by the worst of its chains.
        let node = &mut cols[0].nodes[a];
        node.findings.extend(c.address_findings.iter().cloned());
        let chain = c.verdict_class();
        if rank(chain) > rank(node.class) {
            node.class = chain;
        }
        if c.claimants > 1 {
            node.kind = "address conflict";
        }
        let o = cols[1].node(c.object.clone(), c.id, || Node {
            label: c.object.clone(),
            sub: String::new(),
            class: worst(&c.object_findings),
            chains: BTreeSet::new(),
            place: Some(c.object_place.clone()),
            findings: c.object_findings.clone(),
            kind: "object",
        });
        let ports = &mut cols[1].nodes[o].sub;
        if ports.is_empty() {
            ports.clone_from(&c.ports);
        }
        edges.entry((0, a, o)).or_default().insert(c.id);
        for p in &c.pods {
            let key = format!("{}|{}", c.namespace, p.name);
            let pi = cols[2].node(key.clone(), c.id, || Node {
                label: p.name.clone(),
                sub: String::new(),
                class: worst(&p.findings),
                chains: BTreeSet::new(),
                place: p.place.clone(),
                findings: p.findings.clone(),
                kind: "pods",
            });
            edges.entry((1, o, pi)).or_default().insert(c.id);
            for q in &p.policies {
                let qkey = if q.name.is_empty() {
                    format!("{}|{key}", q.relation)
                } else {
                    format!("{}|{}", q.relation, q.name)
                };
                let qi = cols[3].node(qkey, c.id, || Node {
                    label: if q.name.is_empty() {
                        q.relation.to_string()
                    } else {
                        q.name.clone()
                    },
                    sub: if q.name.is_empty() {
                        String::new()
                    } else {
                        q.relation.to_string()
                    },
                    class: match q.class {
                        "ok" => "p-ok",
                        "open" => "p-open",
                        _ => "p-none",
                    },
                    chains: BTreeSet::new(),
                    place: q.place.clone(),
                    findings: q.findings.clone(),
                    kind: "policy",
                });
                edges.entry((2, pi, qi)).or_default().insert(c.id);
            }
        }
    }
    let rows = cols.iter().map(|c| c.nodes.len()).max().unwrap_or(0);
    let width = COL_W * 4;
    let height = TOP + rows * (NODE_H + GAP);
    let y = |i: usize| TOP + i * (NODE_H + GAP);
    let x = |col: usize| 4 + col * COL_W;
    let _ = writeln!(
        out,
        "<div class=\"graph\"><svg class=\"map\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"exposure map of cluster {cluster}\">"
    );
    for (i, title) in COLUMNS.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text class=\"col\" x=\"{}\" y=\"20\">{title}</text>",
            x(i)
        );
    }
    for ((col, from, to), chains) in &edges {
        let (x1, y1) = (x(*col) + NODE_W, y(*from) + NODE_H / 2);
        let (x2, y2) = (x(col + 1), y(*to) + NODE_H / 2);
        let mid = usize::midpoint(x1, x2);
        let _ = writeln!(
            out,
            "<path class=\"edge\" data-chains=\"{}\" d=\"M{x1} {y1} C{mid} {y1} {mid} {y2} {x2} {y2}\"/>",
            chain_list(chains)
        );
    }
    for (ci, col) in cols.iter().enumerate() {
        for (i, n) in col.nodes.iter().enumerate() {
            node(out, n, x(ci), y(i), ci, max_findings);
        }
    }
    out.push_str("</svg></div>\n");
}

fn chain_list(chains: &BTreeSet<usize>) -> String {
    chains
        .iter()
        .map(|c| format!("c{c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn node(out: &mut String, n: &Node, x: usize, y: usize, col: usize, max_findings: usize) {
    let mut title = format!("{}: {}", n.kind, n.label);
    if !n.sub.is_empty() {
        let _ = write!(title, " ({})", n.sub);
    }
    if let Some(p) = &n.place {
        let _ = write!(title, "\n{}", p.text);
    }
    for f in n.findings.iter().take(max_findings) {
        let _ = write!(title, "\n{} {}: {}", f.code, f.severity.as_str(), f.message);
    }
    if n.findings.len() > max_findings {
        let _ = write!(title, "\nand {} more", n.findings.len() - max_findings);
    }
    let found = codes(&n.findings);
    let second = match (n.sub.is_empty(), found.is_empty()) {
        (true, true) => String::new(),
        (false, true) => n.sub.clone(),
        (true, false) => found,
        (false, false) => format!("{} · {found}", n.sub),
    };
    let address = if col == 0 {
        format!(" data-address=\"{}\"", esc(&n.label))
    } else {
        String::new()
    };
    let _ = write!(
        out,
        "<g class=\"node {}{}\" data-chains=\"{}\"{address}>",
        n.class,
        if n.kind == "address conflict" {
            " conflict"
        } else {
            ""
        },
        chain_list(&n.chains)
    );
    if let Some(href) = n.place.as_ref().and_then(|p| p.href.as_ref()) {
        let _ = write!(out, "<a href=\"{}\">", esc(href));
    }
    let _ = write!(
        out,
        "<title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"5\"/><text x=\"{}\" y=\"{}\">{}</text>",
        esc(&title),
        x + 8,
        y + 16,
        esc(&fit(&n.label))
    );
    if !second.is_empty() {
        let _ = write!(
            out,
            "<text class=\"sub\" x=\"{}\" y=\"{}\">{}</text>",
            x + 8,
            y + 31,
            esc(&fit(&second))
        );
    }
    if n.place.as_ref().is_some_and(|p| p.href.is_some()) {
        out.push_str("</a>");
    }
    out.push_str("</g>\n");
}
