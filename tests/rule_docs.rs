//! Rule docs and the registry agree one-to-one, follow STYLE.md's headings, and their examples
//! behave as documented: the Example yields exactly its `# expect:` findings of that rule, the
//! Fix yields none.

mod common;

use std::path::PathBuf;

use common::{assert_hits, expectations, hits, run};
use extip_lint::config::Overrides;
use extip_lint::rules::ALL;

const HEADINGS: &[&str] = &[
    "## What it flags",
    "## Why it matters",
    "## Example",
    "## Fix",
    "## Configuration",
    "## Suppressing",
    "## See also",
];

#[test]
fn every_rule_has_exactly_one_doc_and_every_doc_a_rule() {
    let mut docs: Vec<String> = std::fs::read_dir("rules")
        .expect("rules/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e == "md")
        })
        .collect();
    docs.sort();
    let mut expected: Vec<String> = ALL.iter().map(|r| r.meta.doc_file()).collect();
    expected.sort();
    assert_eq!(docs, expected);
}

#[test]
fn docs_have_the_fixed_headings_in_order() {
    for r in ALL {
        let m = &r.meta;
        assert!(
            m.docs.starts_with(&format!("# {} {}\n", m.code, m.name)),
            "{} title",
            m.code
        );
        let mut at = 0;
        for h in HEADINGS {
            let found = m.docs[at..]
                .find(&format!("\n{h}\n"))
                .unwrap_or_else(|| panic!("{}: missing or misplaced `{h}`", m.code));
            at += found + 1;
        }
    }
}

/// The first YAML code block after `heading`.
fn block<'a>(doc: &'a str, heading: &str) -> &'a str {
    let after = &doc[doc.find(heading).expect("heading")..];
    let start = after.find("```yaml\n").expect("yaml block") + "```yaml\n".len();
    let len = after[start..].find("```").expect("block end");
    &after[start..start + len]
}

#[test]
fn doc_examples_behave_as_documented() {
    let dir = tempfile::tempdir().expect("tmp");
    for r in ALL {
        let m = &r.meta;
        let overrides = Overrides {
            profile: Some(
                if m.code == "EXT001" {
                    "cloud"
                } else {
                    "on-prem"
                }
                .into(),
            ),
            allow_cidr: vec!["192.0.2.0/24".into(), "2001:db8::/32".into()],
            ..Overrides::default()
        };
        for (heading, must_find) in [("## Example", true), ("## Fix", false)] {
            if m.code == "EXT903" {
                render_failed_example(m.docs, heading, must_find);
                continue;
            }
            // A values file is read as one beside its chart's `Chart.yaml`.
            let path: PathBuf = if m.code == "EXT904" {
                let chart = dir.path().join(format!("{}-{}", m.code, &heading[3..]));
                std::fs::create_dir_all(&chart).expect("mkdir");
                std::fs::write(
                    chart.join("Chart.yaml"),
                    "apiVersion: v2\nname: example\nversion: 0.1.0\n",
                )
                .expect("write");
                chart.join("values.yaml")
            } else {
                dir.path()
                    .join(format!("{}-{}.yaml", m.code, &heading[3..]))
            };
            std::fs::write(&path, block(m.docs, heading)).expect("write");
            let report = run(std::slice::from_ref(&path), None, &overrides);
            let name = path.to_string_lossy().replace('\\', "/");
            let expected: Vec<_> = expectations(&path)
                .into_iter()
                .map(|mut h| {
                    h.0.clone_from(&name);
                    h
                })
                .collect();
            assert_eq!(
                !expected.is_empty(),
                must_find,
                "{} {heading}: `# expect:` markers",
                m.code
            );
            let actual: Vec<_> = hits(&report)
                .into_iter()
                .filter(|h| h.3 == m.code)
                .collect();
            assert_hits(&format!("{} {heading}", m.code), expected, &actual, &report);
        }
    }
}

/// EXT903's example is a kustomization root, rendered by the real binary with the installed
/// kubectl: the Example fails to build, the Fix builds.
fn render_failed_example(docs: &str, heading: &str, must_find: bool) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("kustomization.yaml");
    std::fs::write(&file, block(docs, heading)).expect("write");
    let expected: std::collections::BTreeSet<(usize, String)> = expectations(&file)
        .into_iter()
        .map(|h| (h.1, h.3))
        .collect();
    assert_eq!(!expected.is_empty(), must_find, "EXT903 {heading}: markers");
    let kubectl = common::tools::tool("kubectl");
    let mut path = vec![kubectl.parent().expect("dir").to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_extip-lint"))
        .args(["-f", "short", "--render", "--config", "/dev/null", "."])
        .current_dir(dir.path())
        .env("PATH", std::env::join_paths(path).expect("PATH"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let actual: std::collections::BTreeSet<(usize, String)> = text
        .lines()
        .filter_map(|l| {
            let (place, rest) = l.split_once(": ")?;
            let code = rest.split_whitespace().next()?;
            let line: usize = place.split(':').nth(1)?.parse().ok()?;
            (code == "EXT903").then(|| (line, code.to_string()))
        })
        .collect();
    assert_eq!(actual, expected, "EXT903 {heading}:\n{text}");
}
