//! The shipped pre-commit hook, run by the real `pre-commit` tool (from `PyPI`) in a throwaway git
//! repository, as users install it. The hook's `entry`, `pass_filenames` and `always_run` are
//! taken from `.pre-commit-hooks.yaml`, with the binary built by cargo in place of the installed
//! one (pre-commit's `language: rust` would rebuild it).

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

/// The real `pre-commit`, from `PyPI`, pinned (see `scripts/install-test-tools.sh`).
fn pre_commit() -> PathBuf {
    common::tools::tool("pre-commit")
}

/// A field of the shipped hook.
fn hook_field(hooks: &str, key: &str) -> Option<String> {
    hooks
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .map(str::to_string)
}

/// A git repository with the shipped hook installed.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let hooks = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        )
        .expect("hooks file");
        let entry = hook_field(&hooks, "entry")
            .expect("entry")
            .replacen("extip-lint", BIN, 1);
        let mut hook = format!(
            "repos:\n- repo: local\n  hooks:\n  - id: extip-lint\n    name: extip-lint\n    entry: {entry}\n    language: system\n"
        );
        for key in ["files", "pass_filenames", "always_run", "require_serial"] {
            if let Some(v) = hook_field(&hooks, key) {
                let _ = writeln!(hook, "    {key}: {v}");
            }
        }
        let repo = Repo {
            dir: tempfile::tempdir().expect("tmp"),
        };
        assert!(repo.git(&["init", "-q"]).status.success());
        repo.write(".pre-commit-config.yaml", &hook);
        repo.write(".gitignore", ".cache-pre-commit/\n");
        let install = Command::new(pre_commit())
            .arg("install")
            .current_dir(repo.path())
            .env("PRE_COMMIT_HOME", repo.path().join(".cache-pre-commit"))
            .output()
            .expect("pre-commit install");
        assert!(
            install.status.success(),
            "{}",
            String::from_utf8_lossy(&install.stderr)
        );
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> Output {
        // The renderers `render: true` uses, as a user has them on PATH.
        let mut path: Vec<PathBuf> = ["helm", "kubectl"]
            .iter()
            .map(|t| common::tools::tool(t).parent().expect("dir").to_path_buf())
            .collect();
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        common::git_identity(
            Command::new("git")
                .args(args)
                .current_dir(self.path())
                .env("PATH", std::env::join_paths(path).expect("PATH")),
        )
        .env("PRE_COMMIT_HOME", self.path().join(".cache-pre-commit"))
        .output()
        .expect("git runs")
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// Stages everything and commits through the hook: whether it passed, and what it said.
    fn commit(&self, message: &str) -> (bool, String) {
        assert!(self.git(&["add", "-A"]).status.success());
        let out = self.git(&["commit", "-q", "-m", message]);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// Throws away what the last (blocked) attempt changed.
    fn undo(&self) {
        assert!(
            self.git(&["reset", "-q", "--hard", "HEAD"])
                .status
                .success()
        );
        assert!(
            self.git(&["clean", "-q", "-fd", "-e", ".cache-pre-commit"])
                .status
                .success()
        );
    }
}

const CONFIG: &str = "profile: on-prem\nexternal-ips:\n  allow: [192.0.2.0/24]\n";

const SHOP: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 443}]\n  externalIPs: [192.0.2.10]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: web:1}]}\n";

const DENY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: shop}\nspec:\n  podSelector: {}\n";

/// An existing repository adopting the hook: the owner's Service (whose deprecated externalIPs
/// are an old finding) behind a default-deny policy in another file.
fn adopted() -> Repo {
    let repo = Repo::new();
    repo.write(".extip-lint.yaml", CONFIG);
    repo.write("shop.yaml", SHOP);
    repo.write("policies/default-deny.yaml", DENY);
    assert!(repo.git(&["add", "-A"]).status.success());
    // What is there already was committed before the hook.
    let first = repo.git(&["commit", "-q", "--no-verify", "-m", "existing manifests"]);
    assert!(first.status.success());
    repo
}

#[test]
fn a_new_claim_on_an_existing_address_is_blocked_on_the_new_claim() {
    let repo = adopted();
    repo.write(
        "sandbox/debug.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: debug, namespace: sandbox}\nspec:\n  ports: [{port: 443}]\n  externalIPs: [192.0.2.10]\n",
    );
    let (passed, out) = repo.commit("debug service");
    assert!(!passed, "the hijack was committed:\n{out}");
    assert!(
        out.contains("sandbox/debug.yaml:6:17: EXT005")
            && out.contains("which Service `shop/web` already claimed at `HEAD`"),
        "{out}"
    );
    assert!(
        !out.contains("shop.yaml"),
        "the owner's file is not blamed:\n{out}"
    );

    // With the hijack gone, the owner's unrelated edit passes.
    repo.undo();
    repo.write(
        "shop.yaml",
        &SHOP.replace(
            "name: web, namespace: shop}\nspec:\n  selector",
            "name: web, namespace: shop, labels: {team: shop}}\nspec:\n  selector",
        ),
    );
    let (passed, out) = repo.commit("label the Service");
    assert!(passed, "an unrelated edit was blocked:\n{out}");
}

#[test]
fn deleting_or_narrowing_the_policy_is_blocked() {
    let repo = adopted();
    std::fs::remove_file(repo.path().join("policies/default-deny.yaml")).expect("rm");
    let (passed, out) = repo.commit("drop the policy");
    assert!(!passed, "deleting the policy was committed:\n{out}");
    assert!(out.contains("shop.yaml:5:3: EXT003"), "{out}");

    repo.undo();
    repo.write(
        "policies/default-deny.yaml",
        &DENY.replace(
            "podSelector: {}",
            "podSelector: {matchLabels: {app: nothing}}",
        ),
    );
    let (passed, out) = repo.commit("narrow the policy");
    assert!(!passed, "narrowing the policy was committed:\n{out}");
    assert!(out.contains("shop.yaml:5:3: EXT003"), "{out}");
}

#[test]
fn a_comment_in_a_file_with_old_findings_passes() {
    let repo = adopted();
    repo.write("shop.yaml", &format!("# Owned by the shop team.\n{SHOP}"));
    let (passed, out) = repo.commit("comment");
    assert!(passed, "a comment was blocked:\n{out}");
}

#[test]
fn the_first_commit_checks_everything() {
    let repo = Repo::new();
    repo.write(".extip-lint.yaml", CONFIG);
    repo.write(
        "edge.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: edge, namespace: shop}\nspec:\n  ports: [{port: 443}]\n  externalIPs: [198.51.100.7]\n",
    );
    let (passed, out) = repo.commit("first");
    assert!(!passed, "a disallowed external IP was committed:\n{out}");
    assert!(out.contains("edge.yaml:6:17: EXT002"), "{out}");
}

/// A repository holding a copy of `testdata/render/NAME`, committed before the hook.
fn rendered_repository(name: &str) -> Repo {
    let repo = Repo::new();
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/render")
        .join(name);
    let mut stack = vec![from.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&from).expect("below");
                repo.write(
                    &rel.to_string_lossy(),
                    &std::fs::read_to_string(&p).expect("text"),
                );
            }
        }
    }
    assert!(repo.git(&["add", "-A"]).status.success());
    let first = repo.git(&["commit", "-q", "--no-verify", "-m", "existing charts"]);
    assert!(first.status.success());
    repo
}

#[test]
fn a_chart_repository_blocks_a_bad_values_change_and_passes_a_good_one() {
    let repo = rendered_repository("chart-repo");
    let values = "charts/shop/values-prod.yaml";
    let text = std::fs::read_to_string(repo.path().join(values)).expect("values");
    repo.write(values, &format!("{text}  - 198.51.100.99\n"));
    let (passed, out) = repo.commit("one more address");
    assert!(!passed, "a disallowed address was committed:\n{out}");
    assert!(
        out.contains("charts/shop/templates/service.yaml:13:3: EXT002")
            && out.contains("198.51.100.99")
            && !out.contains("`198.51.100.7`"),
        "only the new address is reported, on the template line:\n{out}"
    );
    repo.undo();
    let chart = "charts/shop/Chart.yaml";
    let text = std::fs::read_to_string(repo.path().join(chart)).expect("chart");
    repo.write(chart, &text.replace("version: 1.0.0", "version: 1.0.1"));
    let (passed, out) = repo.commit("release 1.0.1");
    assert!(passed, "a version bump was blocked:\n{out}");
}

#[test]
fn a_kustomize_repository_blocks_a_bad_patch_and_passes_a_good_change() {
    let repo = rendered_repository("kustomize-repo");
    let patch = "overlays/staging/external-ips.yaml";
    let text = std::fs::read_to_string(repo.path().join(patch)).expect("patch");
    repo.write(patch, &format!("{text}    - 198.51.100.20\n"));
    let (passed, out) = repo.commit("staging address");
    assert!(!passed, "a disallowed address was committed:\n{out}");
    assert!(
        out.contains("overlays/staging/external-ips.yaml:8:7: EXT002"),
        "the finding is on the patch line:\n{out}"
    );
    repo.undo();
    let deployment = "base/deployment.yaml";
    let text = std::fs::read_to_string(repo.path().join(deployment)).expect("deployment");
    repo.write(deployment, &text.replace("image: web:1", "image: web:2"));
    let (passed, out) = repo.commit("web 2");
    assert!(passed, "an image bump was blocked:\n{out}");
}
