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
    render::render(report, format, &Options::default(), &mut buf).expect("renders");
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
    insta::assert_snapshot!("gitlab", rendered(&report, Format::Gitlab));
    insta::assert_snapshot!("junit", rendered(&report, Format::Junit));
}

/// `path:line` of every finding `--format short` shows, in order.
fn short_places(report: &Report) -> Vec<(String, u64)> {
    rendered(report, Format::Short)
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ':');
            let path = parts.next().expect("path").to_string();
            (path, parts.next().expect("line").parse().expect("number"))
        })
        .collect()
}

#[test]
fn gitlab_code_quality_has_the_documented_fields_and_unique_fingerprints() {
    let report = report_of(&[PROJECT]);
    let doc: serde_json::Value =
        serde_json::from_str(&rendered(&report, Format::Gitlab)).expect("json");
    let (schemas, id) = common::schema("testdata/schemas/gitlab-code-quality.json");
    if let Err(e) = schemas.validate(&doc, id) {
        panic!("the Code Quality report lacks a documented field: {e:#}");
    }
    let issues = doc.as_array().expect("array");
    let places: Vec<(String, u64)> = issues
        .iter()
        .map(|i| {
            (
                i["location"]["path"].as_str().expect("path").to_string(),
                i["location"]["lines"]["begin"].as_u64().expect("line"),
            )
        })
        .collect();
    assert_eq!(
        places,
        short_places(&report),
        "one issue per unsuppressed finding, at its line"
    );
    let mut prints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().expect("fp"))
        .collect();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), issues.len(), "fingerprints are unique");
    assert!(
        issues.iter().any(|i| i["severity"] == "major")
            && issues.iter().any(|i| i["severity"] == "minor")
    );
}

#[test]
fn junit_validates_against_the_jenkins_schema_with_a_case_per_rule_and_object() {
    let report = report_of(&[PROJECT]);
    let xml = rendered(&report, Format::Junit);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, &xml).expect("write");
    let out = std::process::Command::new(common::tools::tool("junit-validate"))
        .arg(&file)
        .output()
        .expect("junit-validate runs");
    assert!(
        out.status.success(),
        "not valid against junit-10.xsd: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every rule that ran is a suite; every (rule, object) with findings one failed case.
    assert_eq!(xml.matches("<testsuite ").count(), report.rules.len());
    let failed: std::collections::BTreeSet<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            let o = f.object.as_ref().expect("object");
            (
                f.rule.code.to_string(),
                format!("{} {}", o.kind, o.qualified_name()),
            )
        })
        .collect();
    assert_eq!(xml.matches("<failure ").count(), failed.len(), "{xml}");
    for (code, object) in &failed {
        assert!(
            xml.contains(&format!("<testcase name=\"{object}\" classname=\"{code} ")),
            "{code} {object}: {xml}"
        );
    }
    for (path, line) in short_places(&report) {
        assert!(
            xml.contains(&format!("{path}:{line}:")),
            "{path}:{line} in a failure: {xml}"
        );
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let report = report_of(&[PROJECT]);
    let doc: serde_json::Value =
        serde_json::from_str(&rendered(&report, Format::Sarif)).expect("json");
    let (schemas, id) = common::schema("testdata/schemas/sarif-schema-2.1.0.json");
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

/// Replaces what README holds between `<!-- NAME:start -->` and `<!-- NAME:end -->` with
/// `generated`, or fails when it differs (`UPDATE_README=1` writes it).
fn readme_section_is_current(name: &str, generated: &str) {
    let readme = std::fs::read_to_string("README.md").expect("README");
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let (head, rest) = readme.split_once(&start).expect("start marker");
    let (_, tail) = rest.split_once(&end).expect("end marker");
    let expected = format!("{head}{start}{generated}{end}{tail}");
    if readme != expected {
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write("README.md", expected).expect("write README");
        } else {
            panic!(
                "README {name} section is stale; run `UPDATE_README=1 cargo test --test render readme`"
            );
        }
    }
}

#[test]
fn readme_rule_table_is_current() {
    readme_section_is_current("rules", &rules::markdown_table());
}

#[test]
fn readme_timeline_is_current() {
    readme_section_is_current(
        "timeline",
        &extip_lint::k8s::kubernetes::markdown_timeline(),
    );
}

/// Compiles the JSON Schema at `path`.
fn config_schema() -> (boon::Schemas, boon::SchemaIndex) {
    common::schema("extip-lint.schema.json")
}

#[test]
fn shipped_config_schema_is_current() {
    let mut current = serde_json::to_string_pretty(&extip_lint::config::json_schema(
        &extip_lint::rules::CATALOG,
    ))
    .expect("json");
    current.push('\n');
    let shipped =
        std::fs::read_to_string("extip-lint.schema.json").expect("extip-lint.schema.json");
    assert!(
        shipped == current,
        "extip-lint.schema.json is stale; run `cargo run -- --generate config-schema > extip-lint.schema.json`"
    );
}

/// Editors read the config as YAML 1.2 (`off` is a string), so convert plainly.
fn convert(t: &extip_lint::yaml::Tree, n: extip_lint::yaml::NodeId) -> serde_json::Value {
    use extip_lint::yaml::NodeKind;
    match t.node(t.resolve(n)).kind {
        NodeKind::Scalar {
            value,
            style: extip_lint::yaml::scalar::Style::Plain,
        } if value == "true" || value == "false" => serde_json::json!(value == "true"),
        NodeKind::Scalar { value, .. } => value
            .parse::<u64>()
            .map_or_else(|_| serde_json::json!(value), |v| serde_json::json!(v)),
        NodeKind::Seq { .. } => t.items(n).iter().map(|&i| convert(t, i)).collect(),
        _ => t
            .pairs(n)
            .map(|(k, v)| (t.key_string(k).expect("key"), convert(t, v)))
            .collect(),
    }
}

#[test]
fn config_schema_accepts_the_readme_example_and_rejects_unknown_keys() {
    let (schemas, id) = config_schema();
    let readme = std::fs::read_to_string("README.md").expect("README");
    let start = readme
        .find("```yaml\nprofile: on-prem")
        .expect("README config example")
        + 8;
    let end = start + readme[start..].find("```").expect("end");
    let as_json = |yaml: &str| -> serde_json::Value {
        let (docs, _) =
            extip_lint::yaml::parse(yaml, extip_lint::config::Limits::default().build());
        convert(&docs[0].tree, docs[0].root)
    };
    let example = as_json(&readme[start..end]);
    assert!(
        schemas.validate(&example, id).is_ok(),
        "README example fails the schema"
    );
    assert!(schemas.validate(&as_json("profil: cloud\n"), id).is_err());
    assert!(
        schemas
            .validate(&as_json("rules: {EXT999: off}\n"), id)
            .is_err()
    );
}

#[test]
fn config_schema_accepts_every_config_in_testdata() {
    let (schemas, id) = config_schema();
    let mut stack = vec![PathBuf::from("testdata")];
    let mut n = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|f| f == ".extip-lint.yaml") {
                let text = std::fs::read_to_string(&p).expect("read");
                let (docs, _) =
                    extip_lint::yaml::parse(&text, extip_lint::config::Limits::default().build());
                let v = convert(&docs[0].tree, docs[0].root);
                assert!(
                    schemas.validate(&v, id).is_ok(),
                    "{} fails the schema",
                    p.display()
                );
                n += 1;
            }
        }
    }
    assert!(n >= 3, "found {n} configs");
}
