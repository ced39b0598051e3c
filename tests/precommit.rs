//! The shipped pre-commit hook, run by the real `pre-commit` tool (from `PyPI`) in a throwaway git
//! repository. The hook's `entry` is taken from `.pre-commit-hooks.yaml`, with the binary built
//! by cargo in place of the installed one (pre-commit's `language: rust` would rebuild it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

/// The real `pre-commit`, from `PyPI`, pinned (see `scripts/install-test-tools.sh`).
fn pre_commit() -> PathBuf {
    common::tools::tool("pre-commit")
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("PRE_COMMIT_HOME", dir.join(".cache-pre-commit"))
        .output()
        .expect("git runs")
}

#[test]
fn hook_sees_policies_in_unchanged_files_and_blocks_bad_addresses() {
    let pre_commit = pre_commit();
    let hooks = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .expect("hooks file");
    let entry = hooks
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .expect("entry")
        .replacen("extip-lint", BIN, 1);
    let files = hooks
        .lines()
        .find_map(|l| l.trim().strip_prefix("files: "))
        .expect("files");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    assert!(git(d, &["init", "-q"]).status.success());
    std::fs::write(
        d.join(".pre-commit-config.yaml"),
        format!("repos:\n- repo: local\n  hooks:\n  - id: extip-lint\n    name: extip-lint\n    entry: {entry}\n    language: system\n    files: '{files}'\n    require_serial: true\n"),
    )
    .expect("config");
    std::fs::write(d.join(".gitignore"), ".cache-pre-commit/\n").expect("gitignore");
    std::fs::create_dir(d.join("policies")).expect("mkdir");
    std::fs::write(
        d.join("policies/default-deny.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: shop}\nspec:\n  podSelector: {}\n",
    )
    .expect("policy");
    let install = Command::new(&pre_commit)
        .arg("install")
        .current_dir(d)
        .env("PRE_COMMIT_HOME", d.join(".cache-pre-commit"))
        .output()
        .expect("pre-commit install");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    assert!(git(d, &["add", "-A"]).status.success());
    let first = git(d, &["commit", "-q", "-m", "policy"]);
    assert!(
        first.status.success(),
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );

    std::fs::write(
        d.join("web.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
    )
    .expect("service");
    git(d, &["add", "web.yaml"]);
    let ok = git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            "service covered by a policy in another file",
        ],
    );
    assert!(
        ok.status.success(),
        "a covered Service was blocked:\n{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );

    std::fs::write(
        d.join("edge.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: edge, namespace: shop}\nspec:\n  selector: {app: edge}\n  ports: [{port: 443}]\n  externalIPs: [198.51.100.7]\n",
    )
    .expect("service");
    git(d, &["add", "edge.yaml"]);
    let blocked = git(d, &["commit", "-q", "-m", "disallowed external IP"]);
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&blocked.stdout),
        String::from_utf8_lossy(&blocked.stderr)
    );
    assert!(
        !blocked.status.success(),
        "a disallowed external IP was committed:\n{output}"
    );
    assert!(output.contains("edge.yaml:7:17: EXT002"), "{output}");
}
