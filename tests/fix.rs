//! `--fix`, `--unsafe-fixes` and `--diff` on the files under `testdata/fix/` (comments, CRLF
//! line ends, flow style, several documents, JSON): the fixed text is exactly `NAME.fixed`, a
//! second `--fix` changes nothing, the fixed files lint without the fixed findings, and `--diff`
//! writes nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

fn copy() -> tempfile::TempDir {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fix");
    let dir = tempfile::tempdir().expect("tmp");
    for e in std::fs::read_dir(&from).expect("fixtures") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name");
        if !p.to_string_lossy().ends_with(".fixed") {
            std::fs::copy(&p, dir.path().join(name)).expect("copy");
        }
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

/// The fixture files, sorted, each with its file name.
fn inputs() -> Vec<(PathBuf, String)> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fix");
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(&from)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (p, name)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn fixes_make_exactly_the_expected_text_and_nothing_on_a_second_run() {
    let dir = copy();
    let out = run(dir.path(), &["-f", "short", "--fix", "--unsafe-fixes", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fixed 9 findings in 5 files"), "{err}");
    for (input, name) in inputs() {
        let got = std::fs::read(dir.path().join(&name)).expect("fixed file");
        let expected_path = PathBuf::from(format!("{}.fixed", input.display()));
        let expected = if expected_path.exists() {
            std::fs::read(&expected_path).expect("expected")
        } else {
            // Files with nothing to fix (JSON is never edited) stay as they were.
            std::fs::read(&input).expect("input")
        };
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
    }
    // CRLF stays CRLF.
    let crlf = std::fs::read_to_string(dir.path().join("crlf.yaml")).expect("crlf");
    assert!(!crlf.replace("\r\n", "").contains('\n'), "{crlf:?}");
    let again = run(dir.path(), &["-f", "short", "--fix", "--unsafe-fixes", "."]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("fixed 0 findings in 0 files"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // What the fixes fixed is gone; the JSON file's findings stay.
    let left = String::from_utf8_lossy(&again.stdout).into_owned();
    for line in left.lines() {
        let fixed_rule = ["EXT007", "EXT008", "EXT009", "EXT013", "EXT014"]
            .iter()
            .any(|c| line.contains(&format!(" {c} ")));
        assert!(!fixed_rule || line.starts_with("api.json:"), "{line}");
    }
}

#[test]
fn safe_fixes_alone_leave_behaviour_changes_for_unsafe_fixes() {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fix");
    let dir = copy();
    let out = run(dir.path(), &["-f", "short", "--fix", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fixed 5 findings in 3 files"), "{err}");
    assert!(err.contains("more fixable with --unsafe-fixes"), "{err}");
    let multi = std::fs::read_to_string(from.join("multi.yaml")).expect("multi");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("multi.yaml")).expect("file"),
        multi.replace("\"2001:db8:0:0::40\"", "\"2001:db8::40\""),
        "only the canonical form, a safe fix"
    );
    for name in ["commented.yaml", "flow.yaml"] {
        assert_eq!(
            std::fs::read(dir.path().join(name)).expect("file"),
            std::fs::read(from.join(name)).expect("input"),
            "{name} changed without --unsafe-fixes"
        );
    }
    // Removing what nothing reads is safe, and all inert.yaml's fixes are.
    for name in ["crlf.yaml", "inert.yaml"] {
        assert_eq!(
            std::fs::read(dir.path().join(name)).expect("file"),
            std::fs::read(from.join(format!("{name}.fixed"))).expect("expected"),
            "{name}"
        );
    }
}

#[test]
fn diff_shows_the_edits_and_writes_nothing() {
    let dir = copy();
    let out = run(dir.path(), &["--diff", "--unsafe-fixes", "."]);
    let diff = String::from_utf8_lossy(&out.stdout);
    for name in ["commented.yaml", "crlf.yaml", "flow.yaml", "multi.yaml"] {
        assert!(diff.contains(&format!("+++ b/{name}")), "{diff}");
    }
    assert!(
        diff.contains("-  externalIPs:\n") && diff.contains("+  type: LoadBalancer\n"),
        "{diff}"
    );
    assert!(!diff.contains("api.json"), "JSON is not edited");
    for (input, name) in inputs() {
        assert_eq!(
            std::fs::read(dir.path().join(&name)).expect("file"),
            std::fs::read(input).expect("input")
        );
    }
}

#[test]
fn rendered_objects_are_never_fixed() {
    let dir = tempfile::tempdir().expect("tmp");
    let helm = "---\n# Source: c/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [\"2001:DB8::1\"]\n";
    let mut child = Command::new(BIN)
        .args(["-f", "human", "--fix", "-"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), helm.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("done");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fix not offered"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixed 0 findings"));
}

/// The fixed files are what the real kubectl reads: every document parses, and the migrated
/// Services are `type: LoadBalancer` with the annotation and without `externalIPs`.
#[test]
fn kubectl_reads_every_fixed_file() {
    let kubectl = common::tools::tool("kubectl");
    let dir = copy();
    let out = run(dir.path(), &["-f", "short", "--fix", "--unsafe-fixes", "."]);
    assert!(out.status.code().is_some());
    let mut migrated = 0;
    for (_, name) in inputs() {
        if name.starts_with('.') {
            continue;
        }
        let read = Command::new(&kubectl)
            .args(["annotate", "--local", "-f"])
            .arg(dir.path().join(&name))
            .args(["x=y", "-o", "json"])
            .output()
            .expect("kubectl");
        assert!(
            read.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        // kubectl prints one JSON object per object read.
        let items: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&read.stdout)
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("json");
        for item in items {
            let annotations = &item["metadata"]["annotations"];
            if annotations.get("metallb.io/loadBalancerIPs").is_some() {
                assert_eq!(item["spec"]["type"], "LoadBalancer", "{name}: {item}");
                assert!(item["spec"].get("externalIPs").is_none(), "{name}: {item}");
                migrated += 1;
            }
        }
    }
    assert!(migrated >= 4, "{migrated}");
}
