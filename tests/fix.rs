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
    assert!(err.contains("fixed 10 findings in 6 files"), "{err}");
    for (input, name) in inputs() {
        let got = std::fs::read(dir.path().join(&name)).expect("fixed file");
        let expected_path = PathBuf::from(format!("{}.fixed", input.display()));
        let expected = if expected_path.exists() {
            std::fs::read(&expected_path).expect("expected")
        } else {
            // Files with nothing to fix stay as they were.
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
    // What the fixes fixed is gone, in the JSON file too.
    let left = String::from_utf8_lossy(&again.stdout).into_owned();
    for line in left.lines() {
        let fixed_rule = ["EXT007", "EXT008", "EXT009", "EXT013", "EXT014"]
            .iter()
            .any(|c| line.contains(&format!(" {c} ")));
        assert!(!fixed_rule, "{line}");
    }
}

#[test]
fn safe_fixes_alone_leave_behaviour_changes_for_unsafe_fixes() {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fix");
    let dir = copy();
    let out = run(dir.path(), &["-f", "short", "--fix", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fixed 6 findings in 4 files"), "{err}");
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
    // JSON is edited as JSON.
    assert!(
        diff.contains("+{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"json\", \"namespace\": \"shop\", \"annotations\": {\"metallb.io/loadBalancerIPs\":\"2001:db8::7\"}},"),
        "{diff}"
    );
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

// ---- fixes as checked transactions: testdata/fix-cases/ ----

/// The case files: each a manifest a fix could break, alone with the folder's config. A case
/// with a `NAME.fixed` file must be fixed to exactly those bytes; one without must stay byte
/// for byte as it is. Each `# refused: TEXT` line at its top names a refusal the run must say.
fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fix-cases");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let n = p.file_name().expect("name").to_string_lossy();
            !n.starts_with('.') && !n.ends_with(".fixed")
        })
        .collect();
    out.sort();
    out
}

/// Each object kubectl reads from `file`, as JSON.
fn kubectl_objects(file: &Path) -> Vec<serde_json::Value> {
    let read = Command::new(common::tools::tool("kubectl"))
        .args(["annotate", "--local", "-f"])
        .arg(file)
        .args(["x=y", "-o", "json"])
        .output()
        .expect("kubectl");
    assert!(
        read.status.success(),
        "kubectl cannot read {}: {}",
        file.display(),
        String::from_utf8_lossy(&read.stderr)
    );
    serde_json::Deserializer::from_slice(&read.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("json")
}

#[test]
fn every_case_is_fixed_exactly_or_refused_with_its_reason_and_kubectl_agrees() {
    let cases = cases();
    assert!(cases.len() >= 12, "{cases:?}");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fix-cases/.extip-lint.yaml");
    for case in cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let original = std::fs::read(&case).expect("case");
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::copy(&config, dir.path().join(".extip-lint.yaml")).expect("config");
        std::fs::write(dir.path().join(&name), &original).expect("copy");

        // --diff first: it writes nothing, and `git apply` makes the fixed bytes from it.
        let diff = run(dir.path(), &["--diff", "--unsafe-fixes", &name]);
        assert_eq!(
            std::fs::read(dir.path().join(&name)).expect("file"),
            original,
            "{name}: --diff wrote"
        );

        let out = run(
            dir.path(),
            &["-f", "short", "--fix", "--unsafe-fixes", &name],
        );
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let got = std::fs::read(dir.path().join(&name)).expect("fixed file");
        let expected_path = PathBuf::from(format!("{}.fixed", case.display()));
        let expected = if expected_path.exists() {
            std::fs::read(&expected_path).expect("expected")
        } else {
            original.clone()
        };
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name}:\n{err}"
        );
        assert_eq!(got, expected, "{name}: the bytes differ");
        for line in String::from_utf8_lossy(&original).lines() {
            if let Some(reason) = line.strip_prefix("# refused: ") {
                assert!(err.contains(reason), "{name}: no `{reason}` in:\n{err}");
            }
        }

        // The patch --diff printed applies and gives the same bytes.
        if got != original {
            let patched = tempfile::tempdir().expect("tmp");
            std::fs::write(patched.path().join(&name), &original).expect("copy");
            std::fs::write(patched.path().join("fix.patch"), &diff.stdout).expect("patch");
            let applied = Command::new("git")
                .args(["apply", "--whitespace=nowarn", "fix.patch"])
                .current_dir(patched.path())
                .output()
                .expect("git apply");
            if !name.contains("utf16") {
                assert!(
                    applied.status.success(),
                    "{name}: {}\n{}",
                    String::from_utf8_lossy(&applied.stderr),
                    String::from_utf8_lossy(&diff.stdout)
                );
                assert_eq!(
                    std::fs::read(patched.path().join(&name)).expect("patched"),
                    expected,
                    "{name}: the patch does not make the fixed file"
                );
            }
        }

        // kubectl reads the result, with every object it read before (pools may be added), and
        // objects no fix was meant for are exactly as they were.
        let before = kubectl_objects(&case);
        let after = kubectl_objects(&dir.path().join(&name));
        let key = |o: &serde_json::Value| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        };
        for b in &before {
            let a = after.iter().find(|a| key(a) == key(b));
            assert!(a.is_some(), "{name}: kubectl no longer reads {}", key(b));
        }
        if got == original {
            assert_eq!(before, after, "{name}");
        }
    }
}

/// Two names for one file (hard links): the first fix writes it in place, so the second finds
/// it changed since it was read and leaves it; the run goes on, reports both, prints the
/// findings and the summary, and exits 2.
#[test]
fn a_file_that_changed_since_it_was_read_is_left_and_the_rest_are_fixed() {
    let dir = tempfile::tempdir().expect("tmp");
    let service = |name: &str, ip: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  ports: [{{port: 80}}]\n  externalIPs: [\"{ip}\"]\n"
        )
    };
    std::fs::write(dir.path().join("a.yaml"), service("a", "2001:DB8::A")).expect("write");
    std::fs::write(dir.path().join("c.yaml"), service("c", "2001:DB8::C")).expect("write");
    std::fs::hard_link(dir.path().join("a.yaml"), dir.path().join("b.yaml")).expect("link");
    let out = run(
        dir.path(),
        &["-f", "short", "--fix", "a.yaml", "b.yaml", "c.yaml"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("fixed 2 findings in 2 files: a.yaml (1), c.yaml (1)"),
        "{err}"
    );
    assert!(
        err.contains("error: could not fix `b.yaml`: it changed since it was read"),
        "{err}"
    );
    assert!(
        err.contains("checked 3 files"),
        "the summary is printed: {err}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).is_empty(),
        "the findings are printed"
    );
    let a = std::fs::read_to_string(dir.path().join("a.yaml")).expect("a");
    assert!(a.contains("\"2001:db8::a\""), "{a}");
    assert_eq!(
        a,
        std::fs::read_to_string(dir.path().join("b.yaml")).expect("b"),
        "still one file"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("c.yaml"))
            .expect("c")
            .contains("\"2001:db8::c\"")
    );
}

/// A fix through a symbolic link changes the link's target and keeps the link; the file's
/// permissions stay.
#[cfg(unix)]
#[test]
fn a_fix_keeps_links_and_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("real")).expect("mkdir");
    let target = dir.path().join("real/svc.yaml");
    std::fs::write(
        &target,
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [\"2001:DB8::A\"]\n",
    )
    .expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink("real/svc.yaml", dir.path().join("svc.yaml")).expect("link");
    let out = run(dir.path(), &["-f", "short", "--fix", "svc.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fixed 1 finding in 1 file"), "{err}");
    assert!(
        std::fs::symlink_metadata(dir.path().join("svc.yaml"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .expect("target")
            .contains("\"2001:db8::a\"")
    );
    assert_eq!(
        std::fs::metadata(&target)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("real"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary file is left: {leftovers:?}"
    );
}

#[test]
fn an_output_that_names_an_input_is_refused_and_nothing_is_written() {
    let dir = copy();
    let before = std::fs::read(dir.path().join("flow.yaml")).expect("flow");
    let out = run(dir.path(), &["-f", "json", "-o", "flow.yaml", "flow.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(dir.path().join("flow.yaml")).expect("flow"),
        before
    );
}

/// EXT013's rename is safe, unless the input shows a MetalLB release older than 0.14.9 (an
/// image tag, or the ConfigMap configuration of releases before 0.13), which reads only the old
/// prefix: then renaming drops pool selection and sharing, and the fix says so.
#[test]
fn the_metallb_prefix_rename_is_unsafe_before_metallb_0_14_9() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    metallb.universe.tf/address-pool: production\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 443}]\n";
    let image = |tag: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: controller, namespace: metallb-system}}\nspec:\n  selector: {{matchLabels: {{app: metallb}}}}\n  template:\n    metadata: {{labels: {{app: metallb}}}}\n    spec:\n      containers: [{{name: controller, image: \"quay.io/metallb/controller:{tag}\"}}]\n"
        )
    };
    let legacy = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata:\n  config: |\n    address-pools:\n    - name: production\n      protocol: layer2\n      addresses: [192.0.2.0/24]\n";
    for (release, unsafe_) in [
        (image("v0.13.7"), true),
        (legacy.to_string(), true),
        (image("v0.14.9"), false),
        (String::new(), false),
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("svc.yaml"), service).expect("write");
        std::fs::write(dir.path().join("metallb.yaml"), &release).expect("write");
        let out = run(
            dir.path(),
            &["--fix", "--select", "EXT013", "svc.yaml", "metallb.yaml"],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let text = std::fs::read_to_string(dir.path().join("svc.yaml")).expect("svc");
        if unsafe_ {
            assert_eq!(text, service, "renamed without --unsafe-fixes: {err}");
            assert!(err.contains("1 more fixable with --unsafe-fixes"), "{err}");
            let shown = run(
                dir.path(),
                &["--select", "EXT013", "svc.yaml", "metallb.yaml"],
            );
            let shown = String::from_utf8_lossy(&shown.stdout);
            assert!(
                shown.contains("changes behaviour: the input runs MetalLB"),
                "{shown}"
            );
        } else {
            assert!(text.contains("metallb.io/address-pool"), "{release}: {err}");
        }
    }
}
