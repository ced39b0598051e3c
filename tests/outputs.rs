//! The binary's reports in CI and at a terminal: several reports from one run, SARIF and
//! annotations within GitHub's limits, paths relative to the repository root, the job summary,
//! width, colour, the code frame's column, the man page and completions.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .env_remove("COLUMNS")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::output_within(&mut cmd, None)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `common::project` with text files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
    common::project(&bytes)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A Service `name` with `externalIPs: [ip]` on port 443.
fn service(name: &str, ip: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  ports: [{{port: 443}}]\n  externalIPs:\n    - {ip}\n"
    )
}

const CONFIG: &str = "profile: on-prem\nexternal-ips:\n  allow: [192.0.2.0/24]\n";

#[test]
fn one_run_writes_several_reports() {
    let dir = project(&[
        (".extip-lint.yaml", CONFIG),
        ("edge.yaml", &service("edge", "198.51.100.7")),
    ]);
    let out = run(
        dir.path(),
        &[
            "-o",
            "sarif=out/x.sarif",
            "-o",
            "json=x.json",
            "-f",
            "short",
            "edge.yaml",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("edge.yaml:9:7: EXT002"),
        "{}",
        stdout(&out)
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/x.sarif")).expect("sarif"))
            .expect("json");
    assert_eq!(sarif["runs"][0]["results"][1]["ruleId"], "EXT002");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("x.json")).expect("json"))
            .expect("json");
    assert_eq!(json["findings"][1]["code"], "EXT002");

    // `-o FILE` with `--format` is one report, as before; nothing on standard output.
    let out = run(
        dir.path(),
        &["-o", "r.json", "-f", "json", "edge.yaml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(dir.path().join("r.json").is_file());

    // `FORMAT=-` takes standard output.
    let out = run(
        dir.path(),
        &["-o", "github=-", "-o", "sarif=y.sarif", "edge.yaml"],
        &[],
    );
    assert!(
        stdout(&out).starts_with("::error file=edge.yaml,line=9,"),
        "errors first: {}",
        stdout(&out)
    );
    assert!(dir.path().join("y.sarif").is_file());
}

#[test]
fn outputs_that_clash_are_usage_errors_and_nothing_is_overwritten() {
    let text = service("edge", "198.51.100.7");
    let dir = project(&[(".extip-lint.yaml", CONFIG), ("edge.yaml", &text)]);
    for (args, says) in [
        (
            &["-o", "a.json", "-o", "b.json", "edge.yaml"][..],
            "only one --output without a format",
        ),
        (
            &["-o", "github=-", "-o", "json=-", "edge.yaml"],
            "more than one report on standard output",
        ),
        (
            &["-f", "json", "-o", "github=-", "edge.yaml"],
            "both want standard output",
        ),
        (
            &["-o", "sarif=x", "-o", "json=x", "edge.yaml"],
            "named twice",
        ),
        // The report would replace the manifest (named, or found under a folder).
        (
            &["-o", "edge.yaml", "edge.yaml"],
            "one of the manifests being linted",
        ),
        (
            &["-o", "sarif=edge.yaml", "."],
            "one of the manifests being linted",
        ),
    ] {
        let out = run(dir.path(), args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("edge.yaml")).expect("read"),
            text,
            "{args:?}"
        );
    }
    // A report that is read back as an input but holds no Kubernetes object may be replaced.
    let out = run(dir.path(), &["-f", "json", "-o", "report.json", "."], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(dir.path(), &["-f", "json", "-o", "report.json", "."], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// `files` files of `per_file` Services each, every one with an address outside the allowlist:
/// an EXT002 error and an EXT007 warning each.
fn many_findings(files: usize, per_file: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join(".extip-lint.yaml"), CONFIG).expect("write");
    for f in 0..files {
        let mut text = String::new();
        for s in 0..per_file {
            let _ = write!(
                text,
                "---\n{}",
                service(
                    &format!("s{s}"),
                    &format!("10.{}.{}.{}", f, s / 250, s % 250 + 1)
                )
                .replace("namespace: shop", &format!("namespace: ns{f}"))
            );
        }
        std::fs::write(dir.path().join(format!("f{f:02}.yaml")), text).expect("write");
    }
    dir
}

#[test]
fn sarif_holds_at_most_25000_results_errors_first_and_says_what_it_left_out() {
    // 26 files of 490 Services: 12,740 errors and 12,740 warnings.
    let dir = many_findings(26, 490);
    let out = run(dir.path(), &["-f", "sarif", "-o", "out.sarif", "."], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.sarif")).expect("sarif"))
            .expect("json");
    let (schemas, id) = common::schema("testdata/schemas/sarif-schema-2.1.0.json");
    if let Err(e) = schemas.validate(&doc, id) {
        panic!("not valid SARIF: {e:#}");
    }
    let run0 = &doc["runs"][0];
    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), 25_000);
    let errors = results.iter().filter(|r| r["level"] == "error").count();
    assert_eq!(errors, 12_740, "every error is kept");
    let props = &run0["properties"]["results"];
    assert_eq!(props["total"], 25_480);
    assert_eq!(props["leftOut"]["warning"], 480);
    let notes = run0["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(
        notes
            .iter()
            .any(|n| n["message"]["text"].as_str().is_some_and(|t| t
                .contains("holds 25000 of 25480 results")
                && t.contains("480 warnings"))),
        "{notes:?}"
    );
    assert!(
        stderr(&out).contains("note: out.sarif: the SARIF report holds 25000 of 25480 results"),
        "{}",
        stderr(&out)
    );
    // Results keep the report's order (file, then position).
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
        })
        .collect();
    assert!(uris.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn github_annotations_stay_within_what_github_shows_and_the_rest_is_in_the_log() {
    // 13 Services with allowed addresses: 13 EXT007 warnings and nothing else.
    let mut files = vec![(".extip-lint.yaml".to_string(), CONFIG.to_string())];
    for i in 0..13 {
        files.push((
            format!("s{i:02}.yaml"),
            service(&format!("s{i}"), &format!("192.0.2.{}", i + 1)),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = project(&files);
    let summary = dir.path().join("summary.md");
    let out = run(
        dir.path(),
        &["-f", "github", "-o", "sarif=x.sarif", "."],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))],
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::warning ")).count(),
        10,
        "{text}"
    );
    let plain: Vec<&&str> = lines.iter().filter(|l| !l.starts_with("::")).collect();
    assert_eq!(plain.len(), 3, "{text}");
    assert!(plain[0].starts_with("s10.yaml:8:3: EXT007"), "{text}");
    let notice: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("::notice "))
        .collect();
    assert_eq!(notice.len(), 1, "{text}");
    assert!(
        notice[0].contains(
            "3 more (3 warnings) are listed in this step's log and in the SARIF report `x.sarif`"
        ),
        "{}",
        notice[0]
    );
    let md = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(
        md.contains("**0 errors, 13 warnings, 0 notes** in 13 files"),
        "{md}"
    );
    assert!(md.contains("| [EXT007 deprecated-external-ips]("), "{md}");
    assert!(md.contains("### External addresses (13)"), "{md}");
    assert!(md.contains("| 192.0.2.13 |"), "{md}");
}

#[test]
fn ci_paths_are_relative_to_the_repository_root_from_any_folder() {
    let dir = project(&[
        (".extip-lint.yaml", CONFIG),
        ("deploy/prod/web.yaml", &service("web", "198.51.100.7")),
        ("other/edge.yaml", &service("edge", "198.51.100.8")),
    ]);
    std::fs::create_dir_all(dir.path().join(".git")).expect("a repository");
    let deploy = dir.path().join("deploy");
    let out = run(&deploy, &["-f", "sarif", "prod", "../other/edge.yaml"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let run0 = &doc["runs"][0];
    let uris: Vec<&str> = run0["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(a["uriBaseId"], "%SRCROOT%");
            a["uri"].as_str().expect("uri")
        })
        .collect();
    assert!(uris.contains(&"deploy/prod/web.yaml"), "{uris:?}");
    assert!(uris.contains(&"other/edge.yaml"), "{uris:?}");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    assert_eq!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", root.display())
    );
    // Annotations and Code Quality are placed the same way; short output stays as typed.
    let out = run(&deploy, &["-f", "github", "prod"], &[]);
    assert!(
        stdout(&out).contains("file=deploy/prod/web.yaml,"),
        "{}",
        stdout(&out)
    );
    let out = run(&deploy, &["-f", "gitlab", "prod"], &[]);
    assert!(
        stdout(&out).contains("\"path\":\"deploy/prod/web.yaml\""),
        "{}",
        stdout(&out)
    );
    let out = run(&deploy, &["-f", "short", "prod"], &[]);
    assert!(
        stdout(&out).contains("\nprod/web.yaml:9:7: EXT002"),
        "{}",
        stdout(&out)
    );
    // --project-root names the root.
    let out = run(
        &deploy,
        &["-f", "github", "--project-root", ".", "prod"],
        &[],
    );
    assert!(
        stdout(&out).contains("file=prod/web.yaml,"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_code_frame_header_has_the_findings_own_column() {
    let dir = project(&[
        (".extip-lint.yaml", CONFIG),
        ("edge.yaml", &service("edge", "198.51.100.7")),
    ]);
    let out = run(dir.path(), &["--select", "EXT002", "edge.yaml"], &[]);
    assert!(
        stdout(&out).contains("╭─[edge.yaml:9:7]"),
        "{}",
        stdout(&out)
    );
    let out = run(
        dir.path(),
        &["-f", "short", "--select", "EXT002", "edge.yaml"],
        &[],
    );
    assert!(stdout(&out).starts_with("edge.yaml:9:7: EXT002"));
}

/// Visible width of a line: ANSI styles do not count.
fn visible(line: &str) -> usize {
    let mut n = 0;
    let mut escape = false;
    for c in line.chars() {
        match (escape, c) {
            (false, '\x1b') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

#[test]
fn output_wraps_at_the_width_columns_says() {
    let dir = project(&[
        (".extip-lint.yaml", CONFIG),
        ("edge.yaml", &service("edge", "198.51.100.7")),
    ]);
    for width in [60, 80, 120] {
        let w = width.to_string();
        let out = run(dir.path(), &["edge.yaml"], &[("COLUMNS", &w)]);
        let text = stdout(&out);
        // Prose wraps at the width; quoted source lines are the file's own.
        let longest = text
            .lines()
            .filter(|l| !l.contains(" │ "))
            .map(visible)
            .max()
            .expect("lines");
        assert!(longest <= width, "{width}: {longest}\n{text}");
        if width == 60 {
            assert!(longest > 50, "{text}");
        }
        let out = run(
            dir.path(),
            &["--explain", "EXT003", "--color", "always"],
            &[("COLUMNS", &w)],
        );
        let doc = stdout(&out);
        let prose = doc
            .lines()
            .filter(|l| !l.starts_with("    ") && !l.starts_with('|'));
        for line in prose {
            // A word longer than the width (a long URL) may stand alone on its line.
            assert!(
                visible(line) <= width || !line.trim().contains(' '),
                "{width}: {line}"
            );
        }
    }
}

#[test]
fn colour_follows_the_usual_conventions() {
    let dir = project(&[
        (".extip-lint.yaml", CONFIG),
        ("edge.yaml", &service("edge", "198.51.100.7")),
    ]);
    let coloured =
        |args: &[&str], env: &[(&str, &str)]| stdout(&run(dir.path(), args, env)).contains("\x1b[");
    // Not a terminal: plain, unless forced.
    assert!(!coloured(&["edge.yaml"], &[]));
    assert!(coloured(&["edge.yaml"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&["edge.yaml"], &[("CLICOLOR_FORCE", "0")]));
    assert!(coloured(
        &["edge.yaml", "--color", "always"],
        &[("NO_COLOR", "1")]
    ));
    assert!(!coloured(
        &["edge.yaml", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    // A file is never coloured unless asked.
    let out = run(
        dir.path(),
        &["edge.yaml", "-o", "r.txt"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(dir.path().join("r.txt")).expect("report");
    assert!(text.contains("EXT002") && !text.contains("\x1b["), "{text}");
}

#[test]
fn the_man_page_has_exit_status_files_and_environment() {
    let dir = tempfile::tempdir().expect("tmp");
    let man = stdout(&run(dir.path(), &["--generate", "man"], &[]));
    for section in [
        ".SH NAME",
        ".SH OPTIONS",
        ".SH \"EXIT STATUS\"",
        ".SH FILES",
        ".SH ENVIRONMENT",
    ] {
        assert!(man.contains(section), "no {section}:\n{man}");
    }
    for word in [
        "NO_COLOR",
        "GITHUB_STEP_SUMMARY",
        ".extip\\-lint.yaml",
        "COLUMNS",
    ] {
        assert!(man.contains(word), "no {word}");
    }
}

#[test]
fn completions_offer_rule_codes_and_names() {
    let dir = tempfile::tempdir().expect("tmp");
    let bash = stdout(&run(dir.path(), &["--generate", "complete-bash"], &[]));
    let explain = bash
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--explain)"))
        .nth(1)
        .expect("a --explain case");
    assert!(
        explain.contains("EXT003") && explain.contains("service-without-network-policy"),
        "{explain}"
    );
    let fish = stdout(&run(dir.path(), &["--generate", "complete-fish"], &[]));
    assert!(
        fish.lines()
            .any(|l| l.contains("-l select") && l.contains("EXT001")),
        "{fish}"
    );
    // Completion only: an unknown rule is still the config layer's error, with suggestions.
    let out = run(dir.path(), &["--select", "EXT0003", "--print-config"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("EXT0003"), "{}", stderr(&out));
}

/// A namespace without any policy is one decision: human output draws its EXT003 findings as
/// one, naming the Services; JSON and SARIF keep one result per Service.
#[test]
fn services_of_a_namespace_without_policies_are_one_finding_for_people() {
    let mut text = String::new();
    for name in ["a", "b", "c"] {
        let _ = write!(
            text,
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: open}}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80}}]\n"
        );
    }
    let dir = project(&[("svc.yaml", &text)]);
    let out = run(dir.path(), &["svc.yaml"], &[("COLUMNS", "300")]);
    let human = stdout(&out);
    assert_eq!(human.matches("EXT003").count(), 1, "{human}");
    assert!(
        human.contains("3 Services in namespace `open` expose pods, and no NetworkPolicy applies in the namespace: `a`, `b`, `c`"),
        "{human}"
    );
    assert!(
        stderr(&out).contains("EXT003 3"),
        "the summary counts each: {}",
        stderr(&out)
    );
    let out = run(dir.path(), &["-f", "json", "svc.yaml"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["findings"].as_array().expect("findings").len(), 3);
}

/// Helm output on standard input without `--chart-dir`: SARIF places each result in its
/// `# Source:` template, not in `<stdin>`, which no one can open.
#[test]
fn sarif_places_helm_output_on_standard_input_in_its_template() {
    let dir = tempfile::tempdir().expect("tmp");
    let helm = "---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [198.51.100.7]\n";
    let mut cmd = Command::new(BIN);
    cmd.args(["-f", "sarif", "--project-root", ".", "-"])
        .current_dir(dir.path());
    let out = common::output_within(&mut cmd, Some(helm.as_bytes()));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    for r in doc["runs"][0]["results"].as_array().expect("results") {
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert_eq!(loc, "shop/templates/svc.yaml", "{r}");
        assert!(
            r["properties"]["rendered"][0]
                .as_str()
                .is_some_and(|p| p.starts_with("<stdin>:")),
            "{r}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_reported_without_loss() {
    use std::os::unix::ffi::OsStrExt;
    let dir = project(&[(".extip-lint.yaml", "profile: on-prem\n")]);
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
    std::fs::write(
        dir.path().join("sub").join(name),
        service("web", "192.0.2.1"),
    )
    .expect("written");
    let shown = "sub/caf\\xe9.yaml";
    let json = run(dir.path(), &["sub", "-f", "json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["path"].as_str())
        .collect();
    assert!(!paths.is_empty(), "{}", stdout(&json));
    assert!(paths.iter().all(|p| *p == shown), "{paths:?}");
    let sarif = run(
        dir.path(),
        &["sub", "-f", "sarif", "--project-root", "."],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("sarif");
    let uri =
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
    assert_eq!(
        uri, "sub/caf%E9.yaml",
        "the name's own bytes, percent-encoded"
    );
    let short = run(dir.path(), &["sub", "-f", "short"], &[]);
    assert!(
        stdout(&short).lines().all(|l| l.starts_with(shown)),
        "{}",
        stdout(&short)
    );
}
