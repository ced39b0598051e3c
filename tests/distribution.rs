//! Distribution: what users install instead of compiling. The release workflow passes actionlint;
//! `scripts/install-release.sh` (the GitHub Action's installer) installs a release archive only
//! when its sha256 matches and builds from source only when there is no release to use; the
//! `PyPI` wheel built by maturin installs a working binary, and the pre-commit mirror installs it
//! offline with the real `pre-commit` and blocks a bad commit.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"))
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

// ---- the release workflow ----

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .expect(".github/workflows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_workflow_passes_actionlint() {
    let actionlint = common::tools::tool("actionlint");
    let files = workflows();
    assert!(
        files.iter().any(|f| f.ends_with("release.yml")),
        "{files:?}"
    );
    for file in files {
        let out = run(Command::new(&actionlint).arg(&file).current_dir(root()));
        assert!(
            out.status.success(),
            "actionlint rejects {}:\n{}",
            file.display(),
            text(&out)
        );
    }
}

#[test]
fn actionlint_rejects_a_release_workflow_with_a_broken_job_graph() {
    // The check above can fail: the same workflow with a job needing one that does not exist.
    let actionlint = common::tools::tool("actionlint");
    let workflow =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release");
    let broken = workflow.replacen("needs: [version, pypi]", "needs: [version, pypy]", 1);
    assert_ne!(broken, workflow, "the mirror job no longer needs pypi");
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join(".github/workflows/release.yml");
    write(&file, &broken);
    let out = run(Command::new(&actionlint).arg(&file).current_dir(dir.path()));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("pypy"), "{}", text(&out));
}

#[test]
fn the_release_workflow_builds_and_publishes_with_the_lock_file() {
    let workflow =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release");
    let mut builds = 0;
    for line in workflow.lines() {
        let l = line.trim();
        let builds_something = ["cargo build", "cargo publish", "cargo install"]
            .iter()
            .any(|c| l.contains(c))
            || (l.starts_with("args:") && l.contains("--release"));
        let is_command =
            !l.starts_with('#') && !l.starts_with("- name:") && !l.starts_with("name:");
        if builds_something && is_command {
            builds += 1;
            assert!(l.contains("--locked"), "not --locked: {l}");
        }
    }
    assert!(builds >= 3, "cargo build, cargo publish, maturin");
    for needed in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
        "SHA256SUMS",
        "pypa/gh-action-pypi-publish",
        "id-token: write",
        "CARGO_REGISTRY_TOKEN",
        "extip-lint/extip-lint-pre-commit",
    ] {
        assert!(workflow.contains(needed), "release.yml lacks {needed}");
    }
}

// ---- scripts/install-release.sh ----

/// The target triple the release workflow builds for this machine, as install-release.sh names it.
fn host_triple() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-musl"),
        "macos" => format!("{arch}-apple-darwin"),
        os => panic!("no release archive is built for {os}"),
    }
}

fn sha256(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a hash")
        .to_string()
}

/// The test binary packed as the release workflow packs it (`extip-lint` and README.md at the
/// archive's top), once per run: the debug binary is large, so gzip takes seconds.
fn packed() -> &'static Path {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("distribution");
        let staging = dir.join("staging");
        std::fs::create_dir_all(&staging).expect("mkdir");
        std::fs::copy(BIN, staging.join("extip-lint")).expect("copy the binary");
        std::fs::copy(root().join("README.md"), staging.join("README.md")).expect("README");
        let archive = dir.join(format!("extip-lint-{}.tar.gz", host_triple()));
        let out = run(Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&staging)
            .args(["extip-lint", "README.md"]));
        assert!(out.status.success(), "{}", text(&out));
        archive
    })
}

/// A release directory laid out as GitHub serves it, `<tag>/extip-lint-<triple>.tar.gz` and its
/// `.sha256`, the archive holding this test's own binary as the workflow packs it.
struct Release {
    dir: tempfile::TempDir,
    tag: String,
}

impl Release {
    fn new(tag: &str) -> Self {
        let release = Release {
            dir: tempfile::tempdir().expect("tmp"),
            tag: tag.to_string(),
        };
        std::fs::create_dir_all(release.tag_dir()).expect("mkdir");
        let archive = release.archive();
        std::fs::copy(packed(), &archive).expect("copy the archive");
        let name = archive.file_name().expect("name").to_string_lossy();
        write(
            &release.tag_dir().join(format!("{name}.sha256")),
            &format!("{}  {name}\n", sha256(&archive)),
        );
        release
    }

    fn tag_dir(&self) -> PathBuf {
        self.dir.path().join("download").join(&self.tag)
    }

    fn archive(&self) -> PathBuf {
        self.tag_dir()
            .join(format!("extip-lint-{}.tar.gz", host_triple()))
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().join("download").display())
    }

    fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("install/bin")
    }

    fn marker(&self) -> PathBuf {
        self.dir.path().join("built-from-source")
    }

    /// Runs install-release.sh for `reference`; the source build is replaced by a command that
    /// leaves a marker (with the checkout it was given) and copies the test binary.
    fn install(&self, reference: &str) -> Output {
        let fallback = format!(
            "echo \"$1\" > '{}' && cp '{BIN}' \"$2/extip-lint\"",
            self.marker().display()
        );
        run(Command::new("bash")
            .arg(root().join("scripts/install-release.sh"))
            .arg(self.bin_dir())
            .env("EXTIP_LINT_REF", reference)
            .env("EXTIP_LINT_RELEASE_URL", self.url())
            .env("EXTIP_LINT_SOURCE_INSTALL", fallback)
            .env_remove("RUNNER_OS")
            .env_remove("RUNNER_ARCH")
            .env_remove("GITHUB_ACTION_PATH"))
    }

    fn installed(&self) -> PathBuf {
        self.bin_dir().join("extip-lint")
    }
}

fn version_of(bin: &Path) -> String {
    let out = run(Command::new(bin).arg("--version"));
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_release_archive_with_a_matching_checksum_is_installed_and_runs() {
    let release = Release::new(&format!("v{VERSION}"));
    let out = release.install(&format!("v{VERSION}"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("extip-lint {VERSION}"),
        "prints the installed version:\n{}",
        text(&out)
    );
    assert_eq!(
        version_of(&release.installed()),
        format!("extip-lint {VERSION}")
    );
    assert!(
        !release.marker().exists(),
        "built from source although the release has an archive:\n{}",
        text(&out)
    );
    assert!(
        text(&out).contains(&sha256(&release.archive())),
        "{}",
        text(&out)
    );
}

#[test]
fn a_tampered_archive_is_refused_without_falling_back() {
    let release = Release::new(&format!("v{VERSION}"));
    let mut bytes = std::fs::read(release.archive()).expect("archive");
    bytes.extend_from_slice(b"tampered");
    std::fs::write(release.archive(), bytes).expect("tamper");
    let out = release.install(&format!("v{VERSION}"));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("CHECKSUM MISMATCH") && text(&out).contains("refusing to install"),
        "{}",
        text(&out)
    );
    assert!(!release.installed().exists(), "a binary was installed");
    assert!(
        !release.marker().exists(),
        "a mismatch fell back to building from source"
    );
}

#[test]
fn an_archive_without_its_checksum_file_is_refused() {
    let release = Release::new(&format!("v{VERSION}"));
    let name = release.archive().file_name().expect("name").to_os_string();
    let mut sha = name.clone();
    sha.push(".sha256");
    std::fs::remove_file(release.tag_dir().join(sha)).expect("rm");
    let out = release.install(&format!("v{VERSION}"));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no "), "{}", text(&out));
    assert!(text(&out).contains("unchecked binary"), "{}", text(&out));
    assert!(!release.installed().exists() && !release.marker().exists());
}

#[test]
fn an_archive_holding_another_version_is_refused() {
    // A checksum only proves the file is the one uploaded; the tag must also name its contents.
    let release = Release::new("v99.0.0");
    let out = release.install("v99.0.0");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not version 99.0.0"), "{}", text(&out));
    assert!(!release.installed().exists() && !release.marker().exists());
}

#[test]
fn a_branch_or_commit_ref_builds_from_the_action_checkout() {
    for reference in ["main", "0123456789abcdef0123456789abcdef01234567", "v1"] {
        let release = Release::new(&format!("v{VERSION}"));
        let out = release.install(reference);
        assert!(out.status.success(), "{reference}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("`{reference}` is not a release tag"))
                && text(&out).contains("building extip-lint from source"),
            "{reference}: says why it builds:\n{}",
            text(&out)
        );
        let checkout = std::fs::read_to_string(release.marker()).expect("the source install ran");
        assert_eq!(Path::new(checkout.trim()), root().as_path());
        assert_eq!(
            version_of(&release.installed()),
            format!("extip-lint {VERSION}")
        );
    }
}

#[test]
fn a_release_without_an_archive_for_the_tag_builds_from_source() {
    let release = Release::new(&format!("v{VERSION}"));
    let out = release.install("v0.0.1");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "release v0.0.1 has no extip-lint-{}.tar.gz",
            host_triple()
        )),
        "{}",
        text(&out)
    );
    assert!(release.marker().exists(), "{}", text(&out));
    assert_eq!(
        version_of(&release.installed()),
        format!("extip-lint {VERSION}")
    );
}

#[test]
fn the_action_installs_with_the_release_script_and_runs_what_it_installed() {
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    assert!(
        action.contains("EXTIP_LINT_REF: ${{ github.action_ref }}")
            && action.contains(
                "bash \"$GITHUB_ACTION_PATH/scripts/install-release.sh\" \"$RUNNER_TEMP/extip-lint/bin\""
            ),
        "{action}"
    );
    assert!(!action.contains("run: cargo install"), "{action}");
    assert!(
        action.contains("\"$RUNNER_TEMP/extip-lint/bin/extip-lint\""),
        "{action}"
    );
}

// ---- the wheel and the pre-commit mirror ----

/// The directory of the setuptools wheel virtualenv seeds with, from the pinned pre-commit's
/// own environment: the mirror's build backend, so pip can build the mirror offline.
fn setuptools_wheels(pre_commit: &Path) -> PathBuf {
    let venv_bin = std::fs::canonicalize(pre_commit)
        .expect("pre-commit")
        .parent()
        .expect("bin")
        .to_path_buf();
    let out = run(Command::new(venv_bin.join("python")).args([
        "-c",
        "import virtualenv.seed.wheels.embed as e; print(e.BUNDLE_FOLDER)",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = run(common::git_identity(
        Command::new("git").args(args).current_dir(dir),
    ));
    assert!(
        out.status.success() || args[0] == "commit",
        "git {args:?}: {}",
        text(&out)
    );
    out
}

/// The mirror as the release workflow pushes it: the template with the version filled in,
/// committed and tagged `v<version>`.
fn mirror_repository(dir: &Path) {
    let template = root().join("pre-commit-mirror");
    for entry in std::fs::read_dir(&template).expect("pre-commit-mirror/") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("text");
        write(
            &dir.join(path.file_name().expect("name")),
            &text.replace("@VERSION@", VERSION),
        );
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "mirror"]);
    git(dir, &["tag", &format!("v{VERSION}")]);
}

#[test]
fn the_mirror_hook_is_the_source_hook_installed_from_pypi() {
    let field = |hooks: &str, key: &str| {
        hooks
            .lines()
            .find_map(|l| {
                l.trim()
                    .trim_start_matches("- ")
                    .strip_prefix(&format!("{key}: "))
            })
            .map(str::to_string)
    };
    let source = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("hooks");
    let mirror = std::fs::read_to_string(root().join("pre-commit-mirror/.pre-commit-hooks.yaml"))
        .expect("mirror hooks");
    for key in [
        "id",
        "name",
        "description",
        "entry",
        "pass_filenames",
        "always_run",
        "require_serial",
        "files",
    ] {
        assert_eq!(field(&source, key), field(&mirror, key), "{key}");
    }
    assert_eq!(field(&source, "language").as_deref(), Some("rust"));
    assert_eq!(field(&mirror, "language").as_deref(), Some("python"));
    let pyproject = std::fs::read_to_string(root().join("pre-commit-mirror/pyproject.toml"))
        .expect("pyproject");
    assert!(
        pyproject.contains("\"extip-lint==@VERSION@\""),
        "{pyproject}"
    );
}

#[test]
fn the_wheel_installs_the_binary_and_the_mirror_hook_blocks_a_bad_commit_offline() {
    let pre_commit = common::tools::tool("pre-commit");
    let maturin = common::tools::tool("maturin");
    let tmp = tempfile::tempdir().expect("tmp");
    let wheels = tmp.path().join("wheels");

    // The wheel, as the release workflow builds it but with the dev profile this test run has
    // already built (so it is packed, not compiled again).
    let started = Instant::now();
    let out = run(Command::new(&maturin)
        .args(["build", "--profile", "dev", "--locked", "--out"])
        .arg(&wheels)
        .current_dir(root()));
    assert!(out.status.success(), "maturin build:\n{}", text(&out));
    eprintln!("maturin build: {:.1?}", started.elapsed());
    let wheel: Vec<PathBuf> = std::fs::read_dir(&wheels)
        .expect("wheels")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(
        wheel.len() == 1
            && wheel[0]
                .file_name()
                .expect("name")
                .to_string_lossy()
                .starts_with(&format!("extip_lint-{VERSION}-py3-none-")),
        "{wheel:?}"
    );

    // pip installs it into a fresh venv, offline, and the binary it puts on the venv's PATH runs.
    let venv = tmp.path().join("venv");
    let out = run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    assert!(out.status.success(), "{}", text(&out));
    let started = Instant::now();
    let out = run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
        ])
        .arg(&wheels)
        .arg("extip-lint"));
    assert!(out.status.success(), "pip install:\n{}", text(&out));
    eprintln!("venv + pip install of the wheel: {:.1?}", started.elapsed());
    assert_eq!(
        version_of(&venv.join("bin/extip-lint")),
        format!("extip-lint {VERSION}")
    );

    // The mirror, and a repository using it.
    let mirror = tmp.path().join("mirror");
    mirror_repository(&mirror);
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(
        &repo.join(".pre-commit-config.yaml"),
        &format!(
            "repos:\n- repo: {}\n  rev: v{VERSION}\n  hooks:\n  - id: extip-lint\n",
            mirror.display()
        ),
    );
    write(&repo.join(".gitignore"), ".cache-pre-commit/\n");
    write(
        &repo.join(".extip-lint.yaml"),
        "profile: on-prem\nexternal-ips:\n  allow: [192.0.2.0/24]\n",
    );
    write(
        &repo.join("edge.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: edge, namespace: shop}\nspec:\n  ports: [{port: 443}]\n  externalIPs: [198.51.100.7]\n",
    );
    let find_links = format!(
        "{} {}",
        wheels.display(),
        setuptools_wheels(&pre_commit).display()
    );
    let hook_env = |cmd: &mut Command| {
        cmd.current_dir(&repo)
            .env("PRE_COMMIT_HOME", repo.join(".cache-pre-commit"))
            .env("PIP_FIND_LINKS", &find_links)
            .env("PIP_NO_INDEX", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        common::git_identity(cmd);
    };
    let out = run(Command::new(&pre_commit).arg("install").tap(hook_env));
    assert!(out.status.success(), "pre-commit install:\n{}", text(&out));
    let started = Instant::now();
    let out = run(Command::new(&pre_commit).arg("install-hooks").tap(hook_env));
    assert!(
        out.status.success(),
        "pre-commit install-hooks:\n{}",
        text(&out)
    );
    eprintln!(
        "pre-commit install-hooks (the mirror, from the wheel): {:.1?}",
        started.elapsed()
    );

    // The hook is the wheel's binary, in pre-commit's own environment for the mirror.
    let installed: Vec<PathBuf> = walk(&repo.join(".cache-pre-commit"))
        .into_iter()
        .filter(|p| p.ends_with("bin/extip-lint"))
        .collect();
    assert_eq!(installed.len(), 1, "{installed:?}");
    assert_eq!(version_of(&installed[0]), format!("extip-lint {VERSION}"));

    // A commit adding a disallowed external IP is blocked with the finding.
    git(&repo, &["add", "-A"]);
    let started = Instant::now();
    let out = run(Command::new("git")
        .args(["commit", "-q", "-m", "edge"])
        .tap(hook_env));
    assert!(
        !out.status.success(),
        "the bad Service was committed:\n{}",
        text(&out)
    );
    assert!(
        text(&out).contains("edge.yaml:6:17: EXT002"),
        "{}",
        text(&out)
    );
    eprintln!("commit through the hook: {:.1?}", started.elapsed());
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.expect("entry").path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// `cmd.tap(f)`: applies `f` to a command in a builder chain.
trait Tap {
    fn tap(&mut self, f: impl Fn(&mut Command)) -> &mut Self;
}

impl Tap for Command {
    fn tap(&mut self, f: impl Fn(&mut Command)) -> &mut Self {
        f(self);
        self
    }
}
