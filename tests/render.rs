//! Renderers: snapshots of every format on one scenario project, SARIF schema validation,
//! fingerprint stability, determinism, and the README rule table.

mod common;

use std::path::{Path, PathBuf};

use extip_lint::config::Overrides;
use extip_lint::render::{self, Format, Options};
use extip_lint::{Report, rules};

const PROJECT: &str = "testdata/projects/report";

fn report_of(paths: &[&str]) -> Report {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    common::run(
        &paths,
        Some(&Path::new(PROJECT).join(".extip-lint.yaml")),
        &Overrides::default(),
    )
}

fn rendered(report: &Report, format: Format) -> String {
    let mut buf = Vec::new();
    render::render(
        report,
        format,
        &Options {
            color: false,
            width: 100,
        },
        &mut buf,
    )
    .expect("renders");
    String::from_utf8(buf).expect("utf-8")
}

#[test]
fn snapshots_of_every_format() {
    let report = report_of(&[PROJECT]);
    insta::assert_snapshot!("human", rendered(&report, Format::Human));
    insta::assert_snapshot!("short", rendered(&report, Format::Short));
    insta::assert_snapshot!("github", rendered(&report, Format::Github));
    insta::assert_snapshot!("json", rendered(&report, Format::Json));
    insta::assert_snapshot!("sarif", rendered(&report, Format::Sarif));
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let report = report_of(&[PROJECT]);
    let doc: serde_json::Value =
        serde_json::from_str(&rendered(&report, Format::Sarif)).expect("json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("testdata/schemas/sarif-schema-2.1.0.json").expect("schema"),
    )
    .expect("schema json");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("sarif.json", schema)
        .expect("schema added");
    let id = compiler
        .compile("sarif.json", &mut schemas)
        .expect("schema compiles");
    if let Err(e) = schemas.validate(&doc, id) {
        panic!("SARIF does not validate: {e:#}");
    }
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.iter().any(|r| r["suppressions"].is_array()),
        "a suppressed result is present"
    );
    assert!(results.iter().all(|r| {
        !r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri")
            .starts_with('/')
    }));
}

#[test]
fn fingerprints_survive_lines_inserted_above() {
    let dir = tempfile::tempdir().expect("tmp");
    let original = std::fs::read_to_string(Path::new(PROJECT).join("services.yaml")).expect("read");
    let fingerprints = |text: &str| {
        std::fs::write(dir.path().join("services.yaml"), text).expect("write");
        let report = common::run(
            &[dir.path().to_path_buf()],
            Some(&Path::new(PROJECT).join(".extip-lint.yaml")),
            &Overrides::default(),
        );
        let doc: serde_json::Value =
            serde_json::from_str(&rendered(&report, Format::Sarif)).expect("json");
        doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"].to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .expect("line"),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = fingerprints(&original);
    let after = fingerprints(&format!("# one\n# two\n# three\n{original}"));
    assert!(!before.is_empty());
    assert_eq!(before.len(), after.len());
    for ((fa, la), (fb, lb)) in before.iter().zip(&after) {
        assert_eq!(fa, fb);
        assert_eq!(la + 3, *lb, "the line moved");
    }
}

#[test]
fn output_does_not_depend_on_the_order_of_paths() {
    let a = report_of(&[
        &format!("{PROJECT}/services.yaml"),
        &format!("{PROJECT}/workloads.yaml"),
    ]);
    let b = report_of(&[
        &format!("{PROJECT}/workloads.yaml"),
        &format!("{PROJECT}/services.yaml"),
    ]);
    for format in [Format::Json, Format::Sarif, Format::Short] {
        assert_eq!(rendered(&a, format), rendered(&b, format), "{format:?}");
    }
}

#[test]
fn readme_rule_table_is_current() {
    let readme = std::fs::read_to_string("README.md").expect("README");
    let table = rules::markdown_table();
    let start = "<!-- rules:start -->\n";
    let end = "<!-- rules:end -->";
    let (head, rest) = readme.split_once(start).expect("start marker");
    let (_, tail) = rest.split_once(end).expect("end marker");
    let expected = format!("{head}{start}{table}{end}{tail}");
    if readme != expected {
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write("README.md", expected).expect("write README");
        } else {
            panic!(
                "README rule table is stale; run `UPDATE_README=1 cargo test --test render readme`"
            );
        }
    }
}
