//! The pipeline runs one way (STYLE.md §2): every `crate::` path in `src/` must name a module of
//! a lower layer than the module it is written in, and the loading stages never read settings.
//! This reads the source, so a back-reference fails here before it can form a cycle.

use std::path::{Path, PathBuf};

/// Modules from the bottom layer to the top, as CONTRIBUTING.md's layer table lists them: one
/// rank per "then" in a row's modules cell. A module may use modules of earlier ranks.
fn layers() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string("CONTRIBUTING.md").expect("CONTRIBUTING.md");
    let table = text
        .split("\n## Layout\n")
        .nth(1)
        .expect("CONTRIBUTING.md has a Layout section");
    let mut ranks = Vec::new();
    for row in table
        .lines()
        .skip_while(|l| !l.starts_with("| layer"))
        .skip(2)
    {
        if !row.starts_with('|') {
            break;
        }
        let cell = row.split('|').nth(2).expect("a modules cell");
        for rank in cell.split("then") {
            let names: Vec<String> = rank
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|n| n.trim_end_matches('*').trim_end_matches('/').to_string())
                .collect();
            if !names.is_empty() {
                ranks.push(names);
            }
        }
    }
    assert!(ranks.len() > 10, "the layer table was not read: {ranks:?}");
    ranks
}

/// Edges the ranks above allow but the design forbids: the loading stages get their own
/// options types and never see `Settings`.
const FORBIDDEN: &[(&str, &str)] = &[("input", "config"), ("object", "config")];

fn rank(module: &str) -> Option<usize> {
    thread_local!(static LAYERS: Vec<Vec<String>> = layers());
    LAYERS.with(|l| l.iter().position(|layer| layer.iter().any(|m| m == module)))
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
            "{}: add `{m}` to the layer table in CONTRIBUTING.md",
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
        .find(|(p, _)| p.ends_with("input/walk.rs"))
        .expect("src/input/walk.rs");
    loading
        .1
        .push_str("\nfn f(_: &crate::config::Settings) {}\n");
    let bad = violations(&files);
    assert!(
        bad.iter().any(|b| b.contains("`finding` uses `rules`")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|b| b.contains("`input` uses `config`")),
        "{bad:?}"
    );
}

/// The files of the folder `dir` (a `src/` subfolder) that each file of it imports: `super::x`
/// and `crate::<folder path>::x` paths naming a sibling file, outside tests. A folder's own
/// module file (`mod.rs`, or `x.rs` beside `x/`) dispatches to its files and is not a node.
fn folder_edges(dir: &Path, files: &[(PathBuf, String)]) -> Vec<(String, String)> {
    let stem = |p: &Path| p.file_stem().map(|s| s.to_string_lossy().into_owned());
    let siblings: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.parent() == Some(dir) && !p.ends_with("mod.rs"))
        .filter_map(|(p, _)| stem(p))
        .collect();
    let module_path = dir
        .strip_prefix("src")
        .expect("under src")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("::");
    let prefixes = ["super::".to_string(), format!("crate::{module_path}::")];
    let mut edges = Vec::new();
    for (path, text) in files {
        if path.parent() != Some(dir) || path.ends_with("mod.rs") {
            continue;
        }
        let from = stem(path).expect("a file name");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for prefix in &prefixes {
            for (_, to) in uses(code, prefix) {
                if to != from
                    && siblings.contains(&to)
                    && !edges.contains(&(from.clone(), to.clone()))
                {
                    edges.push((from.clone(), to));
                }
            }
        }
    }
    edges
}

/// A cycle among `edges`, as the files along it.
fn cycle(edges: &[(String, String)]) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &[(String, String)],
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut c = path[at..].to_vec();
            c.push(node.to_string());
            return Some(c);
        }
        if done.iter().any(|n| n == node) {
            return None;
        }
        path.push(node.to_string());
        for (_, to) in edges.iter().filter(|(f, _)| f == node) {
            if let Some(c) = visit(to, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.push(node.to_string());
        None
    }
    let mut done = Vec::new();
    edges
        .iter()
        .find_map(|(from, _)| visit(from, edges, &mut Vec::new(), &mut done))
}

fn cycles(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|(p, _)| p.parent().map(Path::to_path_buf))
        .filter(|d| d != Path::new("src"))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs.iter()
        .filter_map(|d| {
            cycle(&folder_edges(d, files)).map(|c| format!("{}: {}", d.display(), c.join(" -> ")))
        })
        .collect()
}

#[test]
fn no_folder_has_an_import_cycle_among_its_files() {
    let found = cycles(&sources());
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn a_cycle_inside_a_folder_is_caught() {
    let mut files = sources();
    let (_, decoder) = files
        .iter_mut()
        .find(|(p, _)| p.ends_with("object/decoder.rs"))
        .expect("src/object/decoder.rs");
    decoder.insert_str(0, "use super::workload::Workload;\n");
    let found = cycles(&files);
    assert!(
        found
            .iter()
            .any(|c| c.contains("decoder") && c.contains("workload")),
        "{found:?}"
    );
}

/// A module past 650 lines is split (STYLE.md: past ~600).
#[test]
fn no_file_is_over_650_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .map(|(path, text)| (path, text.lines().count()))
        .filter(|(_, lines)| *lines > 650)
        .map(|(path, lines)| format!("{}: {lines} lines", path.display()))
        .collect();
    assert!(
        long.is_empty(),
        "files over 650 lines:\n{}",
        long.join("\n")
    );
}
