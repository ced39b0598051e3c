//! Runs every fixture under `testdata/rules/<CODE>-<name>/` and `testdata/parse/`, one test case
//! per fixture, so a failure names the file.
//!
//! A file directly in a rule folder is linted alone; a subfolder is one project linted as a
//! whole (for rules that look across files). A folder's `.extip-lint.yaml` applies to its cases;
//! a project subfolder's own `.extip-lint.yaml` applies to that project.
//! In a rule folder, findings of that rule and of `EXT9xx` are compared with the `# expect:`
//! markers; in `testdata/parse/` every finding is. A rule folder whose name is not a rule's
//! `<CODE>-<name>`, or that holds no case, is a failing test of its own.

mod common;

use std::path::{Path, PathBuf};

use common::{Hit, assert_hits, expectations, hits, run};
use extip_lint::config::Overrides;
use libtest_mimic::{Arguments, Failed, Trial};

fn is_input(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        && p.file_name().is_none_or(|n| n != ".extip-lint.yaml")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if is_input(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The cases of a folder: its fixture files and its subfolders, sorted.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir() || is_input(p))
        .collect();
    cases.sort();
    cases
}

/// Lints one case and compares the findings (of `code` and `EXT9xx`, or all) with its markers.
fn check_case(case: &Path, config: Option<&Path>, code: Option<&str>) -> Result<(), Failed> {
    let inputs = if case.is_dir() {
        files_under(case)
    } else {
        vec![case.to_path_buf()]
    };
    let keep = |c: &str| code.is_none_or(|code| c == code || c.starts_with("EXT9"));
    let mut expected: Vec<Hit> = inputs.iter().flat_map(|p| expectations(p)).collect();
    expected.retain(|h| keep(&h.3));
    let report = run(&[case.to_path_buf()], config, &Overrides::default());
    let actual: Vec<Hit> = hits(&report).into_iter().filter(|h| keep(&h.3)).collect();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_hits(&case.display().to_string(), expected, &actual, &report);
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "fixture failed".into())
            .into()
    })
}

/// Every finding of `code` the folder's cases give, written out whole: place, severity,
/// message, label, related places, help, notes and fix titles, with paths relative to the
/// folder. A snapshot of it pins the wording beside the markers' places.
fn described(dir: &Path, config: Option<&Path>, code: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for case in cases(dir) {
        let own = case.join(".extip-lint.yaml");
        let config = if own.is_file() {
            Some(own)
        } else {
            config.map(Path::to_path_buf)
        };
        let report = run(
            std::slice::from_ref(&case),
            config.as_deref(),
            &Overrides::default(),
        );
        let rel = |path: &str| {
            path.strip_prefix(&format!("{}/", dir.display()))
                .unwrap_or(path)
                .to_string()
        };
        for f in report.findings.iter().filter(|f| f.rule.code == code) {
            let l = extip_lint::render::locate(&report, f.primary.span, None);
            let _ = writeln!(
                out,
                "{}:{}:{} {} [{}]{} {}",
                rel(&l.path),
                l.start.line,
                l.start.column,
                f.rule.code,
                f.severity,
                if f.suppressed.is_some() {
                    " (suppressed)"
                } else {
                    ""
                },
                extip_lint::render::text(&report, &f.message)
            );
            let _ = writeln!(out, "  label: {}", f.primary.text);
            for r in &f.related {
                let at = extip_lint::render::locate(&report, r.span, None);
                let _ = writeln!(
                    out,
                    "  related: {} ({}:{})",
                    r.text,
                    rel(&at.path),
                    at.start.line
                );
            }
            let _ = writeln!(out, "  help: {}", f.help);
            for n in &f.notes {
                let _ = writeln!(out, "  note: {n}");
            }
            for x in &f.fixes {
                let _ = writeln!(out, "  {}", extip_lint::render::fix_line(x));
            }
        }
    }
    out
}

/// One trial per case of `dir`, or one failing trial when the folder holds none.
fn folder_trials(dir: &Path, code: Option<&'static str>) -> Vec<Trial> {
    let config = dir.join(".extip-lint.yaml");
    let config = config.exists().then_some(config);
    let cases = cases(dir);
    if cases.is_empty() {
        let name = dir.display().to_string();
        return vec![Trial::test(name.clone(), move || {
            Err(format!("{name} holds no fixture").into())
        })];
    }
    cases
        .into_iter()
        .map(|case| {
            // A project folder may bring its own config (clusters, allowlists).
            let own = case.join(".extip-lint.yaml");
            let config = if own.is_file() {
                Some(own)
            } else {
                config.clone()
            };
            Trial::test(case.display().to_string(), move || {
                check_case(&case, config.as_deref(), code)
            })
        })
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("testdata/rules")
        .expect("testdata/rules exists")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let folder = dir.file_name().expect("name").to_string_lossy().to_string();
        let rule = extip_lint::rules::CATALOG
            .iter()
            .find(|m| folder == format!("{}-{}", m.code, m.name));
        match rule {
            Some(m) => {
                trials.extend(folder_trials(&dir, Some(m.code)));
                let code = m.code;
                let folder_dir = dir.clone();
                trials.push(Trial::test(format!("{}/findings.snap", dir.display()), move || {
                    let config = folder_dir.join(".extip-lint.yaml");
                    let config = config.exists().then_some(config);
                    let text = described(&folder_dir, config.as_deref(), code);
                    let mut settings = insta::Settings::clone_current();
                    settings.set_snapshot_path(std::fs::canonicalize(&folder_dir).expect("folder"));
                    settings.set_prepend_module_to_snapshot(false);
                    settings.set_omit_expression(true);
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        settings.bind(|| insta::assert_snapshot!("findings", text));
                    }))
                    .map_err(|e| {
                        e.downcast_ref::<String>()
                            .cloned()
                            .unwrap_or_else(|| format!("{code}'s findings differ from findings.snap (review with `cargo insta review`)"))
                            .into()
                    })
                }));
            }
            None => trials.push(Trial::test(dir.display().to_string(), move || {
                Err(format!(
                    "testdata/rules/{folder} is not `<CODE>-<name>` of any rule (see --list-rules)"
                )
                .into())
            })),
        }
    }
    trials.extend(folder_trials(Path::new("testdata/parse"), None));
    libtest_mimic::run(&args, trials).exit();
}
