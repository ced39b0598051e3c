//! Runs every fixture under `testdata/rules/<CODE>-<name>/` and `testdata/parse/`.
//!
//! A file directly in a rule folder is linted alone; a subfolder is one project linted as a
//! whole (for rules that look across files). A folder's `.extip-lint.yaml` applies to its cases.
//! In a rule folder, findings of that rule and of `EXT9xx` are compared with the `# expect:`
//! markers; in `testdata/parse/` every finding is.

mod common;

use std::path::{Path, PathBuf};

use common::{Hit, assert_hits, expectations, hits, run};
use extip_lint::config::Overrides;

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

fn check_folder(dir: &Path, code: Option<&str>) -> usize {
    let config = dir.join(".extip-lint.yaml");
    let config = config.exists().then_some(config);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir() || is_input(p))
        .collect();
    cases.sort();
    for case in &cases {
        let inputs = if case.is_dir() {
            files_under(case)
        } else {
            vec![case.clone()]
        };
        let mut expected: Vec<Hit> = inputs.iter().flat_map(|p| expectations(p)).collect();
        let report = run(
            std::slice::from_ref(case),
            config.as_deref(),
            &Overrides::default(),
        );
        let keep = |c: &str| code.is_none_or(|code| c == code || c.starts_with("EXT9"));
        expected.retain(|h| keep(&h.3));
        let actual: Vec<Hit> = hits(&report).into_iter().filter(|h| keep(&h.3)).collect();
        assert_hits(&case.display().to_string(), expected, &actual, &report);
    }
    cases.len()
}

#[test]
fn rule_fixtures_report_exactly_the_expected_findings() {
    let mut n = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("testdata/rules")
        .expect("testdata/rules exists")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().expect("name").to_string_lossy().to_string();
        let code = name.split('-').next().expect("code").to_string();
        n += check_folder(&dir, Some(&code));
    }
    assert!(n > 0, "no rule fixtures found");
}

#[test]
fn parse_fixtures_report_exactly_the_expected_findings() {
    assert!(check_folder(Path::new("testdata/parse"), None) > 0);
}
