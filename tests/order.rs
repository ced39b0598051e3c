//! Order never matters (README, "Determinism"): the project's own fixtures (every manifest under
//! `testdata/`), linted with their paths in two orders, give byte-identical output in every
//! format, `--diff` included, with the same exit code; and `--fix --unsafe-fixes` writes the same
//! bytes to every file. Auto-detections (the profile, the load-balancer implementation) see the
//! same evidence in both orders, pools of two implementations included.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

/// Every manifest under `testdata/`, as paths relative to the crate root, sorted.
fn corpus() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
            {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("testdata"), &mut files);
    let mut names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .expect("below the root")
                .to_string_lossy()
                .into_owned()
        })
        // The fixtures' own config files choose settings; one config is given for all.
        .filter(|p| !p.ends_with(".extip-lint.yaml"))
        .collect();
    names.sort();
    assert!(
        names.len() > 300,
        "the corpus is the fixtures ({})",
        names.len()
    );
    names
}

/// The two orders: as sorted, and each half reversed then swapped, so that neighbours and ends
/// both change.
fn orders(paths: &[String]) -> [Vec<String>; 2] {
    let (a, b) = paths.split_at(paths.len() / 2);
    let other: Vec<String> = b.iter().rev().chain(a.iter().rev()).cloned().collect();
    [paths.to_vec(), other]
}

/// One config for every path (the fixtures' folders have configs of their own), written to
/// `dir`.
fn config(dir: &Path) -> PathBuf {
    let path = dir.join("order.extip-lint.yaml");
    std::fs::write(&path, "# one config for the whole corpus\nprofile: auto\n").expect("config");
    path
}

fn run(cwd: &Path, config: &Path, paths: &[String], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .arg("--config")
        .arg(config)
        .args(args)
        .args(paths)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    common::output_within(&mut cmd, None)
}

/// Standard error without the run's duration (` in 0.42s`), the one thing meant to vary.
fn without_time(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    while let Some(i) = rest.find(" in ") {
        let after = &rest[i + 4..];
        let digits = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if digits > 0 && after[digits..].starts_with('s') {
            out.push_str(&rest[..i]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..i + 4]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn every_format_is_byte_identical_whatever_the_order_of_the_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = config(tmp.path());
    let [first, second] = orders(&corpus());
    let runs: &[&[&str]] = &[
        &["-f", "human"],
        &["-f", "short"],
        &["-f", "json"],
        &["-f", "sarif"],
        &["-f", "github"],
        &["-f", "gitlab"],
        &["-f", "junit"],
        &["--statistics"],
        &["--inventory", "json"],
        &["--diff", "--unsafe-fixes"],
    ];
    for args in runs {
        let a = run(root, &config, &first, args);
        let b = run(root, &config, &second, args);
        assert!(
            matches!(a.status.code(), Some(0..=2)),
            "{args:?}: exit {:?}\n{}",
            a.status.code(),
            String::from_utf8_lossy(&a.stderr)
        );
        assert!(!a.stdout.is_empty(), "{args:?} printed nothing");
        assert_eq!(
            a.status.code(),
            b.status.code(),
            "{args:?}: exit codes differ"
        );
        if a.stdout != b.stdout {
            let (a, b) = (
                String::from_utf8_lossy(&a.stdout),
                String::from_utf8_lossy(&b.stdout),
            );
            let line = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            panic!(
                "{args:?}: output differs with the paths in another order, first at line {}:\n  {:?}\n  {:?}",
                line + 1,
                a.lines().nth(line),
                b.lines().nth(line)
            );
        }
        assert_eq!(
            without_time(&a.stderr),
            without_time(&b.stderr),
            "{args:?}: standard error differs"
        );
    }
}

#[test]
fn fixes_write_the_same_bytes_whatever_the_order_of_the_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = corpus();
    let [first, second] = orders(&paths);
    let copies: Vec<tempfile::TempDir> = [&first, &second]
        .iter()
        .map(|_| {
            let dir = tempfile::tempdir().expect("temp dir");
            for p in &paths {
                let to = dir.path().join(p);
                std::fs::create_dir_all(to.parent().expect("parent")).expect("folders");
                std::fs::copy(root.join(p), &to).expect("copied");
            }
            dir
        })
        .collect();
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = config(tmp.path());
    let a = run(
        copies[0].path(),
        &config,
        &first,
        &["--fix", "--unsafe-fixes"],
    );
    let b = run(
        copies[1].path(),
        &config,
        &second,
        &["--fix", "--unsafe-fixes"],
    );
    assert_eq!(a.status.code(), b.status.code(), "exit codes differ");
    assert_eq!(a.stdout, b.stdout, "the reports after fixing differ");
    let mut changed = 0;
    for p in &paths {
        let x = std::fs::read(copies[0].path().join(p)).expect("fixed file");
        let y = std::fs::read(copies[1].path().join(p)).expect("fixed file");
        assert!(
            x == y,
            "{p}: fixed differently with the paths in another order"
        );
        changed += usize::from(x != std::fs::read(root.join(p)).expect("original"));
    }
    assert!(changed > 0, "the corpus has fixes to apply");
}

#[test]
fn pools_of_two_implementations_decide_by_file_name_and_say_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        (
            "metallb.yaml",
            "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool, namespace: metallb-system}\nspec:\n  addresses: [198.51.100.0/24]\n",
        ),
        (
            "calico.yaml",
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: lb-pool}\nspec:\n  cidr: 192.0.2.0/24\n  allowedUses: [LoadBalancer]\n",
        ),
        (
            "svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.10]\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("written");
    }
    let config = config(dir.path());
    let order = |names: &[&str]| names.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let a = run(
        dir.path(),
        &config,
        &order(&["calico.yaml", "metallb.yaml", "svc.yaml"]),
        &["--diff", "--unsafe-fixes", "-f", "json"],
    );
    let b = run(
        dir.path(),
        &config,
        &order(&["metallb.yaml", "calico.yaml", "svc.yaml"]),
        &["--diff", "--unsafe-fixes", "-f", "json"],
    );
    assert_eq!(a.stdout, b.stdout);
    let human = run(
        dir.path(),
        &config,
        &order(&["metallb.yaml", "svc.yaml", "calico.yaml"]),
        &["-f", "short"],
    );
    let summary = String::from_utf8_lossy(&human.stderr);
    assert!(
        summary.contains("load balancer: Calico (auto: IPPool lb-pool at calico.yaml:1:13; IPAddressPool metallb-system/pool at metallb.yaml:1:13 is as strong a sign of MetalLB"),
        "{summary}"
    );
}
