//! `--render` with the real helm and kubectl (kustomize built in), installed by
//! `scripts/install-test-tools.sh`: charts and kustomizations under `testdata/render/` are
//! rendered, and every finding points at the template, patch or resource line its `# expect:`
//! marker is on, in the short, GitHub and SARIF output alike.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

/// `PATH` with the installed helm and kubectl first.
fn path_with_tools() -> String {
    let helm = common::tools::tool("helm");
    let kubectl = common::tools::tool("kubectl");
    let mut dirs: Vec<PathBuf> = vec![
        helm.parent().expect("dir").to_path_buf(),
        kubectl.parent().expect("dir").to_path_buf(),
    ];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("PATH", path_with_tools())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn repo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/render")
        .join(name)
}

/// Every `# expect:` marker under `dir`, as `(file, line, code)` relative to `dir`.
fn markers(dir: &Path) -> BTreeSet<(String, usize, String)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                let rel = p
                    .strip_prefix(dir)
                    .expect("below")
                    .to_string_lossy()
                    .replace('\\', "/");
                for (_, line, _, code) in common::expectations(&p) {
                    out.insert((rel.clone(), line, code));
                }
            }
        }
    }
    out
}

fn short_hits(out: &Output) -> BTreeSet<(String, usize, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (place, rest) = l.split_once(": ")?;
            let mut p = place.split(':');
            Some((
                p.next()?.to_string(),
                p.next()?.parse().ok()?,
                rest.split_whitespace().next()?.to_string(),
            ))
        })
        .collect()
}

fn check(name: &str) {
    check_with_plain(name, &[]);
}

/// `check`, where the findings in `plain` files are about files linted as written (values
/// files, the files of a root that failed), not about rendered output.
fn check_with_plain(name: &str, plain: &[&str]) {
    let dir = repo(name);
    let expected = markers(&dir);
    assert!(!expected.is_empty());
    let out = run(&dir, &["-f", "short", "."]);
    assert_eq!(
        short_hits(&out),
        expected,
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1));
    // GitHub annotations and SARIF point at the same source lines, relative to the root.
    let root = ["--project-root", "."];
    let out = run(&dir, &[&["-f", "github", "."][..], &root].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    for (file, line, code) in &expected {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("file={file},line={line},"))
                    && l.contains(code.as_str())),
            "no annotation for {file}:{line} {code}:\n{text}"
        );
    }
    let out = run(&dir, &[&["-f", "sarif", "."][..], &root].concat());
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let mut placed = BTreeSet::new();
    for r in sarif["runs"][0]["results"].as_array().expect("results") {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            dir.join(uri).is_file(),
            "SARIF points at `{uri}`, which is no file"
        );
        placed.insert((
            uri.to_string(),
            usize::try_from(loc["region"]["startLine"].as_u64().expect("line")).expect("line"),
            r["ruleId"].as_str().expect("rule").to_string(),
        ));
        // The rendered place is carried along, not as a location.
        assert!(
            plain.contains(&uri) || r["properties"]["rendered"][0].is_string(),
            "{r}"
        );
    }
    assert_eq!(placed, expected);
}

#[test]
fn chart_findings_point_at_template_lines() {
    check("chart-repo");
    let out = run(&repo("chart-repo"), &["-f", "short", "."]);
    // `helm.charts` gives a chart its own release name, namespace and APIs.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Service `monitoring/mon-metrics` uses external IP `198.51.100.90`"),
        "{text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "\n  chart `charts/unvendored`: its dependencies are not vendored under `charts/` (`postgresql` from `https://charts.example.com`)"
        ),
        "{err}"
    );
}

#[test]
fn kustomize_findings_point_at_patch_and_resource_lines() {
    check("kustomize-repo");
    let out = run(&repo("kustomize-repo"), &["-f", "short", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("overlays/prod: 1 file") && err.contains("overlays/staging: 1 file"),
        "{err}"
    );
}

#[test]
fn repositories_as_kept_are_rendered_with_what_they_need() {
    // A library chart and an unused Component are never roots; `file://` dependencies are
    // built from the repository; a chart that needs values is rendered with its `ci/` values;
    // each document of a multi-document template maps to its own lines; a root that fails is
    // EXT903 and its own resource is linted as written; a values file's repeated key is EXT904,
    // and a generator input's is nothing.
    check_with_plain(
        "kept-repo",
        &[
            "apps/chat/base/service.yaml",
            "apps/chat/overlays/prod/kustomization.yaml",
            "apps/components/metrics/metrics-service.yaml",
            "charts/web/values.yaml",
        ],
    );
    let out = run(&repo("kept-repo"), &["-f", "short", "."]);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chart `charts/needs-values` does not render with its default values alone; it was checked with its `ci/*-values.yaml`"),
        "{err}"
    );
    // The failure's first line, with paths relative to the repository and no temporary folder.
    let failed = text.lines().find(|l| l.contains("EXT903")).expect("EXT903");
    assert!(
        failed.contains("[warning]")
            && failed.contains("'apps/chat/base/env/chat.env'")
            && failed.contains("its 1 plain manifest file was linted as written instead")
            && !failed.contains("/tmp")
            && !failed.contains(env!("CARGO_MANIFEST_DIR")),
        "{failed}"
    );
    // The variant's findings name it and the command that reproduces it.
    let out = run(&repo("kept-repo"), &["-f", "json", "charts/needs-values"]);
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.contains("\"charts/needs-values (values ci/edge-values.yaml)\"")
            && json.contains("--values charts/needs-values/ci/edge-values.yaml"),
        "{json}"
    );
}

/// How many objects a run in `dir` over `path` checked, by its summary, with `--render` or not.
fn objects(dir: &Path, path: &str, render: bool) -> usize {
    let mut args = vec!["-f", "short", "--config", "/dev/null", path];
    if render {
        args.push("--render");
    }
    let out = run(dir, &args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = err
        .lines()
        .find(|l| l.starts_with("checked "))
        .unwrap_or_else(|| panic!("no summary:\n{err}"));
    // `checked 14 files, 10 documents, 10 objects (Service 10)`
    line.split(", ")
        .find(|p| p.contains(" object"))
        .and_then(|p| p.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no object count: {line}"))
}

#[test]
fn a_render_never_checks_fewer_objects_than_a_plain_run() {
    for name in [
        "kept-repo",
        "chart-repo",
        "kustomize-repo",
        "hooks-chart",
        "gitops-repo",
    ] {
        let dir = repo(name);
        let (plain, rendered) = (objects(&dir, ".", false), objects(&dir, ".", true));
        assert!(
            rendered >= plain,
            "{name}: --render checked {rendered} objects, a plain run {plain}"
        );
    }
}

/// The same on the corpus of real repositories beside the project (`../shared/corpus/real`, or
/// `$EXTIP_LINT_CORPUS`), one repository at a time: `cargo test --test render_tools -- --ignored`.
#[test]
#[ignore = "reads the corpus of real repositories (../shared/corpus/real or $EXTIP_LINT_CORPUS)"]
fn on_the_corpus_a_render_never_checks_fewer_objects_than_a_plain_run() {
    let corpus = std::env::var_os("EXTIP_LINT_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real"),
        PathBuf::from,
    );
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        eprintln!(
            "SKIPPED: no corpus at {} (set EXTIP_LINT_CORPUS); nothing was compared",
            corpus.display()
        );
        return;
    };
    let mut repos: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    let mut fewer = Vec::new();
    for r in &repos {
        let name = r.file_name().expect("name").to_string_lossy().into_owned();
        let (plain, rendered) = (
            objects(&corpus, &name, false),
            objects(&corpus, &name, true),
        );
        eprintln!("{name}: plain {plain}, --render {rendered}");
        if rendered < plain {
            fewer.push(format!("{name}: --render {rendered} < plain {plain}"));
        }
    }
    assert!(fewer.is_empty(), "{fewer:#?}");
}

#[test]
fn strict_render_makes_a_chart_that_cannot_be_rendered_offline_an_error() {
    let dir = repo("chart-repo");
    let out = run(&dir, &["-f", "short", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not checked: 1 chart, kustomization or release could not be rendered offline (--strict-render makes this an error):\n  chart `charts/unvendored`: "),
        "{err}"
    );
    let out = run(&dir, &["-f", "short", "--strict-render", "."]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(
            |l| l.starts_with("charts/unvendored/Chart.yaml:1:1: EXT903 [error]")
                && l.contains("was not run")
                && l.contains("`postgresql` from `https://charts.example.com`")
        ),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn helm_test_hooks_are_not_backends_and_output_is_the_same_every_run() {
    check("hooks-chart");
    let dir = repo("hooks-chart");
    let first = run(&dir, &["-f", "json", "."]);
    let second = run(&dir, &["-f", "json", "."]);
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(!text.contains("-test-"), "a test hook is named:\n{text}");
    assert_eq!(first.stdout, second.stdout);
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(err.contains("left out 1 `helm test` hook"), "{err}");
}

#[test]
fn gitops_releases_are_rendered_with_exactly_their_inputs() {
    // Flux HelmRelease (inline values and a ConfigMap's), Flux Kustomization (target namespace,
    // name prefix), Argo CD Application (a values file and `valuesObject`) and an ApplicationSet
    // list element (`parameters`), all over a chart and a folder of this repository.
    check("gitops-repo");
    let dir = repo("gitops-repo");
    let out = run(&dir, &["-f", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut seen = BTreeSet::new();
    for f in json["findings"].as_array().expect("findings") {
        seen.insert((
            f["cluster"].as_str().unwrap_or_default().to_string(),
            f["message"].as_str().unwrap_or_default().to_string(),
        ));
    }
    let has =
        |cluster: &str, text: &str| seen.iter().any(|(c, m)| c == cluster && m.contains(text));
    assert!(
        has(
            "HelmRelease flux-system/podinfo",
            "`web/web-podinfo` uses external IP `198.51.100.60`"
        ),
        "{seen:#?}"
    );
    assert!(
        has("HelmRelease flux-system/podinfo", "`10.0.6.50`"),
        "{seen:#?}"
    );
    assert!(
        has(
            "Application argocd/shop",
            "`shop/shop` uses external IP `198.51.100.61`"
        ),
        "{seen:#?}"
    );
    assert!(
        has(
            "Application podinfo-dev (from ApplicationSet argocd/stages)",
            "`dev/podinfo-dev` uses external IP `198.51.100.62`"
        ),
        "{seen:#?}"
    );
    assert!(
        has("Kustomization flux-system/apps", "`prod/prod-web`"),
        "{seen:#?}"
    );
    // A folder without a kustomization, built as Flux builds it (every manifest in it).
    assert!(
        has(
            "Kustomization flux-system/plain",
            "`plain/plain` uses external IP `198.51.100.72`"
        ),
        "{seen:#?}"
    );
    // The values line that set each offending value: the ConfigMap's, the release's own, the
    // Argo CD values file's, the ApplicationSet element's.
    let set_at = |value: &str| -> Vec<(String, u64)> {
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .flat_map(|f| f["related"].as_array().cloned().unwrap_or_default())
            .filter(|r| r["label"] == format!("`{value}` is set here"))
            .map(|r| {
                (
                    r["path"].as_str().unwrap_or_default().to_string(),
                    r["start"]["line"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    };
    assert!(set_at("10.0.6.50").contains(&("clusters/prod/podinfo.yaml".into(), 18)));
    assert!(set_at("198.51.100.60").contains(&("clusters/prod/podinfo.yaml".into(), 39)));
    assert!(set_at("198.51.100.61").contains(&("charts/podinfo/values-argo.yaml".into(), 2)));
    assert!(set_at("198.51.100.62").contains(&("argo/shop.yaml".into(), 30)));
    // An Argo CD kustomize Application: its name prefix, common labels and annotations (the
    // wrapper kustomize builds), and its destination for objects that name no namespace.
    assert!(
        has(
            "Application argocd/web",
            "`edge/argo-web` uses external IP `198.51.100.70`"
        ),
        "{seen:#?}"
    );
    // The chart with its defaults alone has nothing to say.
    assert!(
        !seen.iter().any(|(c, _)| c == "charts/podinfo"),
        "{seen:#?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\n  HelmRelease flux-system/ingress: its chart `ingress-nginx` comes from HelmRepository `ingress-nginx`, which cannot be fetched offline\n"),
        "{err}"
    );
    let strict = run(&dir, &["-f", "short", "--strict-render", "."]);
    let text = String::from_utf8_lossy(&strict.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("clusters/prod/podinfo.yaml:")
                && l.contains("EXT903 [error]")
                && l.contains("HelmRepository `ingress-nginx`")),
        "{text}"
    );
}

#[test]
fn without_render_charts_and_kustomizations_are_counted_not_linted() {
    let out = run(
        &repo("kustomize-repo"),
        &["-f", "short", "--config", "/dev/null", "."],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("found 2 kustomization roots (overlays/prod, overlays/staging)")
            && err.contains("pass --render"),
        "{err}"
    );
    // Patches are not objects: no second `web` Service from a patch file.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("external-ips.yaml"), "{text}");
}

#[test]
fn a_renderer_that_fails_is_a_finding_on_its_chart() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    std::fs::create_dir_all(d.join("charts/c/templates")).expect("mkdir");
    std::fs::write(
        d.join("charts/c/Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        d.join("charts/c/templates/bad.yaml"),
        "{{ fail \"no values\" }}\n",
    )
    .expect("write");
    let out = run(d, &["-f", "short", "--render", "."]);
    let text = String::from_utf8_lossy(&out.stdout);
    // Helm's first error line, its template path written from the repository.
    assert!(
        text.starts_with("charts/c/Chart.yaml:1:1: EXT903 [warning]")
            && text.contains("execution error at (charts/c/templates/bad.yaml:1:3): no values"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// README's usage commands, run as written in a folder that has what they name (with the
/// installed helm and kubectl as `helm`, `kubectl` and `kustomize` is left to kubectl): each
/// runs and reports, none is a usage error.
#[test]
fn readme_usage_commands_run_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let block = readme
        .split("## Usage\n\n```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("usage block");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/examples");
    std::fs::create_dir_all(d.join("manifests")).expect("mkdir");
    for e in std::fs::read_dir(&examples).expect("examples") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, d.join("manifests").join(p.file_name().expect("name"))).expect("copy");
    }
    let chart = repo("chart-repo").join("charts/shop");
    std::fs::create_dir_all(d.join("chart/templates")).expect("mkdir");
    std::fs::copy(chart.join("values.yaml"), d.join("chart/values.yaml")).expect("copy");
    std::fs::write(
        d.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::copy(
        chart.join("templates/service.yaml"),
        d.join("chart/templates/service.yaml"),
    )
    .expect("copy");
    std::fs::copy(
        chart.join("templates/_helpers.tpl"),
        d.join("chart/templates/_helpers.tpl"),
    )
    .expect("copy");
    let k = repo("kustomize-repo");
    for f in [
        "base/kustomization.yaml",
        "base/service.yaml",
        "base/deployment.yaml",
        "overlays/prod/kustomization.yaml",
        "overlays/prod/external-ips.yaml",
    ] {
        std::fs::create_dir_all(d.join(f).parent().expect("dir")).expect("mkdir");
        std::fs::copy(k.join(f), d.join(f)).expect("copy");
    }
    for args in [
        ["init", "-q"].as_slice(),
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "x",
        ],
        &["branch", "-q", "-M", "main"],
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    ] {
        assert!(
            Command::new("git")
                .args(args)
                .current_dir(d)
                .status()
                .expect("git")
                .success()
        );
    }
    let bin_dir = Path::new(BIN).parent().expect("dir").to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), path_with_tools());
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let command = line.split("  #").next().expect("command").trim();
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", command])
            .current_dir(d)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("bash");
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "`{command}` exited {code:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("checked 0 files"),
            "`{command}` checked nothing"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("dir") {
        let p = e.expect("entry").path();
        let target = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_tree(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

/// `--diff-base` renders the revision's charts, overlays and releases as the working tree's,
/// with the config's paths placed in the revision: nothing is new in an unchanged repository.
#[test]
fn diff_base_with_render_finds_nothing_new_in_an_unchanged_repository() {
    for name in ["gitops-repo", "kept-repo"] {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        copy_tree(&repo(name), d);
        for args in [
            ["init", "-q"].as_slice(),
            &["add", "-A"],
            &["commit", "-q", "-m", "one"],
        ] {
            let out = common::git_identity(Command::new("git").args(args).current_dir(d))
                .output()
                .expect("git");
            assert!(out.status.success(), "{out:?}");
        }
        let out = run(d, &["-f", "short", "."]);
        assert_eq!(out.status.code(), Some(1), "{name}: findings to start with");
        let out = run(d, &["-f", "short", "--diff-base", "HEAD", "."]);
        assert_eq!(
            (
                String::from_utf8_lossy(&out.stdout).as_ref(),
                out.status.code()
            ),
            ("", Some(0)),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// EXT904 says what helm does with a key written twice in a values file: it keeps the last entry
/// and ignores the first, without merging them. The real helm agrees.
#[test]
fn helm_keeps_the_last_of_a_repeated_values_key_as_ext904_says() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = dir.path().join("c");
    std::fs::create_dir_all(c.join("templates")).expect("mkdir");
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        c.join("values.yaml"),
        "proxy:\n  a: 1\nproxy:  # expect: EXT904\n  b: 2\n",
    )
    .expect("write");
    std::fs::write(
        c.join("templates/cm.yaml"),
        "x: {{ toJson .Values.proxy }}\n",
    )
    .expect("write");
    let out = Command::new(common::tools::tool("helm"))
        .args(["template", "r"])
        .arg(&c)
        .output()
        .expect("helm runs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r#"x: {"b":2}"#),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(dir.path(), &["-f", "short", "."]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("c/values.yaml:3:1: EXT904 [warning]")
            && text.contains("the first `proxy:` entry is ignored"),
        "{text}"
    );
}
