//! `--report html FILE`: the exposure map. One self-contained page (no network: a
//! Content-Security-Policy of `default-src 'none'` with the hashes of its one inline style and
//! one inline script, no external URL anywhere): per cluster, every requested address -> the
//! objects claiming it (ports, conflicts) -> the pods they reach -> the policies over those pods
//! (`restricted by`, `open to all by`, `not covered`), coloured by verdict, with the findings
//! beside each node; filters (cluster, namespace, owner, rule, severity) and search over a table
//! of every claim, and a graph drawn by `graph` for clusters of up to `Options::max_graph`
//! addresses. Each item links to its file and line, relative to the report's folder.
//!
//! Everything taken from the input is escaped (`esc`). The page is bounded: at most
//! `Options::max_rows` table rows and `Options::max_findings` findings per node, with what was
//! left out said.

mod digest;
mod graph;
mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::report::inventory::Row;
use crate::source::Span;

/// How the page is made.
#[derive(Debug, Clone)]
pub struct Options {
    /// The folder the report is written to and the working directory, both absolute: links
    /// are relative from the first to the files as the second names them.
    pub report_dir: PathBuf,
    pub cwd: PathBuf,
    /// Clusters with more addresses than this get the table only.
    pub max_graph: usize,
    /// Table rows in all.
    pub max_rows: usize,
    /// Findings listed per item.
    pub max_findings: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            report_dir: PathBuf::from("."),
            cwd: PathBuf::from("."),
            max_graph: 300,
            max_rows: 5_000,
            max_findings: 8,
        }
    }
}

const STYLE: &str = include_str!("html/page.css");
const SCRIPT: &str = include_str!("html/page.js");

/// Text or an attribute value from the input, escaped for HTML (and SVG).
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// A place in the input, resolved: its `path:line` and the link to it (`None` for standard
/// input and rendered output, which have no file to open).
#[derive(Debug, Clone)]
pub struct Place {
    pub text: String,
    pub href: Option<String>,
}

/// One finding as a node shows it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub place: Place,
}

/// One chain: an address claimed by one object, with what it reaches. The table's row and the
/// graph's path.
#[derive(Debug, Clone)]
pub struct Chain {
    pub id: usize,
    pub cluster: String,
    pub namespace: String,
    pub owner: String,
    pub address: String,
    /// Findings on the address itself (at its field).
    pub address_findings: Vec<Shown>,
    pub address_place: Place,
    pub object: String,
    pub object_place: Place,
    pub object_findings: Vec<Shown>,
    pub source: &'static str,
    pub ports: String,
    pub verdict: String,
    pub allowed_by: String,
    pub coverage: String,
    /// The pod sets, each with the policy items over it.
    pub pods: Vec<Pods>,
    /// How many objects of the cluster claim this address.
    pub claimants: usize,
}

/// One set of pods a chain reaches.
#[derive(Debug, Clone)]
pub struct Pods {
    pub name: String,
    pub place: Option<Place>,
    pub findings: Vec<Shown>,
    pub policies: Vec<PolicyItem>,
}

/// A policy item over a set of pods, or its absence.
#[derive(Debug, Clone)]
pub struct PolicyItem {
    /// `restricted by`, `open to all by`, `not covered`.
    pub relation: &'static str,
    /// The policy, or empty for `not covered`.
    pub name: String,
    pub place: Option<Place>,
    pub findings: Vec<Shown>,
    /// `ok`, `open` or `none`: how the item is coloured.
    pub class: &'static str,
}

impl Chain {
    /// Every finding on the chain.
    fn findings(&self) -> impl Iterator<Item = &Shown> {
        self.address_findings
            .iter()
            .chain(&self.object_findings)
            .chain(self.pods.iter().flat_map(|p| {
                p.findings
                    .iter()
                    .chain(p.policies.iter().flat_map(|q| &q.findings))
            }))
    }

    /// The chain's colour: its worst finding, or `ok`.
    fn verdict_class(&self) -> &'static str {
        severity_class(self.findings().map(|f| f.severity).max())
    }
}

fn severity_class(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Error) => "v-error",
        Some(Severity::Warning) => "v-warning",
        Some(Severity::Note) => "v-note",
        None => "v-ok",
    }
}

/// `to` relative to the folder `from`, both absolute, `/`-separated.
fn relative(from: &Path, to: &Path) -> String {
    let parts = |p: &Path| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(x) => out.push(x.to_string_lossy().into_owned()),
                Component::Prefix(x) => out.push(x.as_os_str().to_string_lossy().into_owned()),
                Component::CurDir | Component::RootDir => {}
            }
        }
        out
    };
    let (from, to) = (parts(from), parts(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_string(); from.len() - common];
    out.extend(to[common..].iter().cloned());
    out.join("/")
}

/// Percent-encodes a relative path for an `href` (keeping `/`).
fn href_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

struct Builder<'a> {
    report: &'a Report,
    opts: &'a Options,
    /// Unsuppressed findings by cluster and object (`Kind ns/name`).
    by_object: HashMap<(String, String), Vec<&'a Finding>>,
}

impl<'a> Builder<'a> {
    fn new(report: &'a Report, opts: &'a Options) -> Self {
        let mut by_object: HashMap<(String, String), Vec<&Finding>> = HashMap::new();
        for f in super::active(report) {
            if let Some(o) = &f.object {
                by_object
                    .entry((
                        f.cluster.as_deref().unwrap_or_default().to_string(),
                        format!("{} {}", o.kind_label(), o.qualified_name()),
                    ))
                    .or_default()
                    .push(f);
            }
        }
        Builder {
            report,
            opts,
            by_object,
        }
    }

    fn place(&self, span: Span) -> Place {
        let l = super::locate(self.report, span, None);
        let file = &self.report.files[span.file];
        let text = format!("{}:{}", super::one_line(&l.path), l.start.line);
        let href = (!file.virtual_file && file.name != crate::source::STDIN_NAME).then(|| {
            let target = self.opts.cwd.join(&file.name);
            format!(
                "{}#L{}",
                href_path(&relative(&self.opts.report_dir, &target)),
                l.start.line
            )
        });
        Place { text, href }
    }

    fn shown(&self, f: &Finding) -> Shown {
        Shown {
            code: f.rule.code,
            severity: f.severity,
            message: super::one_line(&super::text(self.report, &f.message)).into_owned(),
            place: self.place(f.primary.span),
        }
    }

    /// Findings of an object; with `pointer`, only those at that node, else those at no
    /// claimed address (`skip`).
    fn findings(
        &self,
        cluster: &str,
        object: &str,
        only: Option<&str>,
        skip: &BTreeSet<&str>,
    ) -> Vec<Shown> {
        let Some(all) = self
            .by_object
            .get(&(cluster.to_string(), object.to_string()))
        else {
            return Vec::new();
        };
        all.iter()
            .filter(|f| match only {
                Some(p) => f.pointer == p,
                None => !skip.contains(f.pointer.as_str()),
            })
            .map(|f| self.shown(f))
            .collect()
    }

    fn chains(&self, rows: &[&Row]) -> Vec<Chain> {
        // Pointers of claimed addresses per object: their findings go beside the address.
        let mut claimed: HashMap<(&str, &str), BTreeSet<&str>> = HashMap::new();
        let mut claimants: HashMap<(&str, &str), BTreeSet<&str>> = HashMap::new();
        for r in rows {
            claimed
                .entry((&r.cluster, &r.service))
                .or_default()
                .insert(&r.pointer);
            claimants
                .entry((&r.cluster, &r.address))
                .or_default()
                .insert(&r.service);
        }
        let mut out = Vec::new();
        for (id, r) in rows.iter().enumerate() {
            let object = format!("{} {}", r.kind, r.service);
            let skip = &claimed[&(r.cluster.as_str(), r.service.as_str())];
            let no_skip = BTreeSet::new();
            let pods = if r.kind == "Gateway" {
                vec![Pods {
                    name: "the Gateway implementation's pods".into(),
                    place: None,
                    findings: Vec::new(),
                    policies: Vec::new(),
                }]
            } else if r.reach.pods.is_empty() {
                vec![Pods {
                    name: if r.network_policy.starts_with("n/a") {
                        "no selector: endpoints managed by hand".into()
                    } else {
                        "no pods".into()
                    },
                    place: None,
                    findings: Vec::new(),
                    policies: Vec::new(),
                }]
            } else {
                r.reach
                    .pods
                    .iter()
                    .map(|p| {
                        let (name, place, findings) = match &p.workload {
                            Some((name, span)) => (
                                name.clone(),
                                Some(self.place(*span)),
                                self.findings(&r.cluster, name, None, &no_skip),
                            ),
                            None => (format!("pods {}", p.selector), None, Vec::new()),
                        };
                        let policy = |relation, (name, span): &(String, Span), class| PolicyItem {
                            relation,
                            name: name.clone(),
                            place: Some(self.place(*span)),
                            findings: self.findings(&r.cluster, name, None, &no_skip),
                            class,
                        };
                        let mut policies: Vec<PolicyItem> = p
                            .open_to_all
                            .iter()
                            .map(|o| policy("open to all by", o, "open"))
                            .collect();
                        if policies.is_empty()
                            && let Some(by) = &p.isolated_by
                        {
                            policies.push(policy("restricted by", by, "ok"));
                        }
                        if p.host_network || p.isolated_by.is_none() {
                            policies = vec![PolicyItem {
                                relation: if p.host_network {
                                    "not covered (hostNetwork)"
                                } else {
                                    "not covered"
                                },
                                name: String::new(),
                                place: None,
                                findings: Vec::new(),
                                class: "none",
                            }];
                        }
                        Pods {
                            name,
                            place,
                            findings,
                            policies,
                        }
                    })
                    .collect()
            };
            out.push(Chain {
                id,
                cluster: r.cluster.clone(),
                namespace: r.namespace.clone().unwrap_or_default(),
                owner: r.owner.clone(),
                address: r.address.clone(),
                address_findings: self.findings(&r.cluster, &object, Some(&r.pointer), skip),
                address_place: self.place(r.span),
                object_findings: self.findings(&r.cluster, &object, None, skip),
                object_place: self.place(r.object_span),
                object,
                source: r.source,
                ports: r.ports.clone(),
                verdict: r.profile_verdict.clone(),
                allowed_by: r.allowed_by.clone(),
                coverage: r.network_policy.clone(),
                pods,
                claimants: claimants[&(r.cluster.as_str(), r.address.as_str())].len(),
            });
        }
        out
    }
}

/// Writes the page.
pub fn render(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let b = Builder::new(report, opts);
    // Rows per cluster, in cluster order, each cluster's rows by address.
    let mut clusters: BTreeMap<usize, Vec<&Row>> = BTreeMap::new();
    let order: HashMap<&str, usize> = report
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| (&*c.name, i))
        .collect();
    for r in &report.inventory {
        clusters
            .entry(order.get(r.cluster.as_str()).copied().unwrap_or(usize::MAX))
            .or_default()
            .push(r);
    }
    let total_rows = report.inventory.len();
    let mut budget = opts.max_rows;
    let mut sections = String::new();
    let mut all: Vec<Chain> = Vec::new();
    for (i, rows) in clusters.values_mut().enumerate() {
        rows.sort_by(|a, b| {
            (address_key(&a.address), &a.address).cmp(&(address_key(&b.address), &b.address))
        });
        let kept = rows.len().min(budget);
        budget -= kept;
        let mut chains = b.chains(&rows[..kept]);
        for c in &mut chains {
            c.id += all.len();
        }
        let name = rows.first().map_or("", |r| r.cluster.as_str());
        table::section(
            &mut sections,
            report,
            opts,
            i,
            name,
            &chains,
            rows.len() - kept,
        );
        all.extend(chains);
    }
    let head = head(report, &all, total_rows);
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'",
        digest::csp_hash(STYLE),
        digest::csp_hash(SCRIPT)
    );
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"extip-lint {}\">\n<title>extip-lint exposure map</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{head}<main>\n{sections}</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Sorts addresses as addresses where they are (IPv4 before IPv6, numerically), the rest after.
fn address_key(a: &str) -> (u8, u128) {
    match a.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => (0, u128::from(u32::from(v4))),
        Ok(std::net::IpAddr::V6(v6)) => (1, u128::from(v6)),
        Err(_) => (2, 0),
    }
}

/// The page's header: what it shows, the legend, the filters.
fn head(report: &Report, chains: &[Chain], total_rows: usize) -> String {
    let mut h = String::from("<header>\n<h1>Exposure map</h1>\n");
    let addresses: BTreeSet<(&str, &str)> = chains
        .iter()
        .map(|c| (c.cluster.as_str(), c.address.as_str()))
        .collect();
    let objects: BTreeSet<(&str, &str)> = chains
        .iter()
        .map(|c| (c.cluster.as_str(), c.object.as_str()))
        .collect();
    let _ = writeln!(
        h,
        "<p class=\"summary\">{} requested by {} in {}; {} in the run. Generated by extip-lint {} from {}.</p>",
        table::addresses_text(addresses.len()),
        super::plural(objects.len(), "object"),
        super::plural(report.clusters.len(), "cluster"),
        esc(&super::totals(report)),
        env!("CARGO_PKG_VERSION"),
        super::plural(report.stats.files, "file"),
    );
    if chains.len() < total_rows {
        let _ = writeln!(
            h,
            "<p class=\"cut\">The first {} of {total_rows} claims are shown; <code>extip-lint --inventory csv</code> lists them all.</p>",
            chains.len()
        );
    }
    h.push_str("<p class=\"legend\"><span class=\"v-error\">error</span> <span class=\"v-warning\">warning</span> <span class=\"v-note\">note</span> <span class=\"v-ok\">no finding</span> · policies: <span class=\"p-ok\">restricted by</span> <span class=\"p-open\">open to all by</span> <span class=\"p-none\">not covered</span></p>\n");
    let mut values: [BTreeSet<String>; 5] = Default::default();
    for c in chains {
        values[0].insert(c.cluster.clone());
        values[1].insert(c.namespace.clone());
        values[2].insert(c.owner.clone());
        for f in c.findings() {
            values[3].insert(f.code.to_string());
            values[4].insert(f.severity.as_str().to_string());
        }
    }
    h.push_str("<form id=\"filters\" autocomplete=\"off\">\n");
    for ((field, label), values) in [
        ("cluster", "cluster"),
        ("ns", "namespace"),
        ("owner", "owner"),
        ("rule", "rule"),
        ("sev", "severity"),
    ]
    .iter()
    .zip(&values)
    {
        let _ = write!(
            h,
            "<label>{label} <select name=\"{field}\"><option value=\"\">all</option>"
        );
        for v in values {
            let shown = if v.is_empty() { "(none)" } else { v.as_str() };
            let _ = write!(
                h,
                "<option value=\"{}\">{}</option>",
                esc(v),
                esc(&super::one_line(shown))
            );
        }
        h.push_str("</select></label>\n");
    }
    h.push_str("<label>search <input type=\"search\" name=\"q\" placeholder=\"address, name, message\"></label>\n</form>\n<p id=\"shown\" aria-live=\"polite\"></p>\n</header>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::{esc, href_path, relative};
    use std::path::Path;

    #[test]
    fn input_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(esc("a\u{1b}b"), "a\\u{1b}b");
    }

    #[test]
    fn links_are_relative_to_the_report() {
        assert_eq!(
            relative(Path::new("/r/out"), Path::new("/r/manifests/web.yaml")),
            "../manifests/web.yaml"
        );
        assert_eq!(
            relative(Path::new("/r"), Path::new("/r/./a/../b.yaml")),
            "b.yaml"
        );
        assert_eq!(href_path("a b/#c.yaml"), "a%20b/%23c.yaml");
    }
}
