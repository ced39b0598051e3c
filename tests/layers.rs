//! The pipeline runs one way (STYLE.md §2): every `crate::` path in `src/` must name a module of
//! a lower layer than the module it is written in, and the loading stages never read settings.
//! This reads the source, so a back-reference fails here before it can form a cycle.

use std::path::{Path, PathBuf};

/// Modules from the bottom layer to the top. A module may use modules listed before it.
const LAYERS: &[&[&str]] = &[
    // vocabulary
    &["source", "error", "progress"],
    &["finding", "kubernetes", "implementation"],
    // readers
    &["yaml", "address", "selector"],
    &["calico", "kustomize"],
    &["chart"],
    &["policy"],
    // settings
    &["config"],
    // loading
    &["git"],
    &["walk", "object"],
    &["gitops"],
    &["expand"],
    &["load"],
    // cluster
    &["index", "cluster", "crd"],
    &["profile", "lb"],
    // check
    &["rules"],
    // map, filter, report
    &["srcmap"],
    &["fix"],
    &["suppress"],
    &["known"],
    &["inventory"],
    &["report"],
    // conduct
    &["lib"],
    // output
    &["render", "admission"],
    &["cli"],
    &["main"],
];

/// Edges the ranks above allow but the design forbids: the loading stages get their own
/// options types and never see `Settings`.
const FORBIDDEN: &[(&str, &str)] = &[
    ("walk", "config"),
    ("git", "config"),
    ("expand", "config"),
    ("object", "config"),
    ("load", "config"),
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a source file belongs to: `src/config/file.rs` -> `config`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix("src").expect("under src");
    let first = rel.components().next().expect("non-empty");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("readable") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Every module named by a `crate::name` (or, in `main.rs`, `extip_lint::name`) path outside
/// comments, with its line number.
fn uses(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `use crate::{a, b}` names several modules.
            if name.is_empty() && rest.starts_with('{') {
                let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
                for part in group.split(',') {
                    let m: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !m.is_empty() {
                        out.push((i + 1, m));
                    }
                }
            } else if !name.is_empty() {
                out.push((i + 1, name));
            }
        }
    }
    out
}

/// Every import in `src/` that points up a layer, or along a forbidden edge.
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, text) in files {
        let from = module_of(path);
        let prefix = if from == "main" {
            "extip_lint::"
        } else {
            "crate::"
        };
        let Some(from_rank) = rank(&from) else {
            bad.push(format!("{}: module `{from}` has no layer", path.display()));
            continue;
        };
        for (line, to) in uses(text, prefix) {
            if to == from {
                continue;
            }
            // Items the crate root re-exports (`crate::Report`) count as the conductor's.
            let to_module = if rank(&to).is_some() {
                to.as_str()
            } else {
                "lib"
            };
            let to_rank = rank(to_module).expect("ranked");
            if to_rank >= from_rank || FORBIDDEN.contains(&(from.as_str(), to_module)) {
                bad.push(format!(
                    "{}:{line}: `{from}` uses `{to}`, which is not below it",
                    path.display()
                ));
            }
        }
    }
    bad
}

fn sources() -> Vec<(PathBuf, String)> {
    rust_files(Path::new("src"))
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p, text)
        })
        .collect()
}

#[test]
fn every_import_points_down_the_layers() {
    let bad = violations(&sources());
    assert!(
        bad.is_empty(),
        "imports against the layering:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_module_has_a_layer() {
    for (path, _) in sources() {
        let m = module_of(&path);
        assert!(
            rank(&m).is_some(),
            "{}: add `{m}` to LAYERS",
            path.display()
        );
    }
}

#[test]
fn a_back_import_is_caught() {
    let mut files = sources();
    let finding = files
        .iter_mut()
        .find(|(p, _)| p.ends_with("finding.rs"))
        .expect("src/finding.rs");
    finding.1.push_str("\nuse crate::rules::RuleContext;\n");
    let loading = files
        .iter_mut()
        .find(|(p, _)| p.ends_with("walk.rs"))
        .expect("src/walk.rs");
    loading
        .1
        .push_str("\nfn f(_: &crate::config::Settings) {}\n");
    let bad = violations(&files);
    assert!(
        bad.iter().any(|b| b.contains("`finding` uses `rules`")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|b| b.contains("`walk` uses `config`")),
        "{bad:?}"
    );
}
