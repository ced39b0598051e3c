//! Runs the real binary: formats, exit codes, standard input, config errors, hostile input.

mod common;

use common::{BAD_SERVICE, project, run_in};

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every hostile file sits beside `good.yaml`, whose finding must still be reported.
fn assert_hostile(name: &str, content: &[u8], expect_in_output: &str) {
    let dir = project(&[("good.yaml", BAD_SERVICE.as_bytes()), (name, content)]);
    let out = run_in(
        dir.path(),
        &[
            "-f",
            "short",
            "--profile",
            "on-prem",
            "--select",
            "EXT004,EXT900",
        ],
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("good.yaml:8:5: EXT004"),
        "{name}: good file not checked:\n{text}"
    );
    assert!(
        text.contains(expect_in_output),
        "{name}: missing `{expect_in_output}` in:\n{text}\n{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

/// kubectl reads each invalid UTF-8 byte as U+FFFD and applies the document; so does
/// extip-lint, and it says so on standard error.
#[test]
fn invalid_utf8_is_read_as_kubectl_reads_it() {
    let mut content = BAD_SERVICE.as_bytes().to_vec();
    content.extend_from_slice(
        b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xff\xfe}\n---\n",
    );
    content.extend_from_slice(BAD_SERVICE.replace("web", "web2").as_bytes());
    let dir = project(&[
        ("good.yaml", BAD_SERVICE.as_bytes()),
        ("mixed.yaml", &content),
    ]);
    let out = run_in(
        dir.path(),
        &["-f", "short", "--select", "EXT004,EXT900"],
        None,
    );
    let text = stdout(&out);
    assert!(text.contains("mixed.yaml:8:5: EXT004"), "{text}");
    assert!(!text.contains("EXT900"), "{text}");
    assert!(text.contains("mixed.yaml:21:5: EXT004"), "{text}");
    assert!(
        stderr(&out).contains(
            "note: 2 bytes are not valid UTF-8 (the first at mixed.yaml:12:18); kubectl reads each as U+FFFD"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn binary_file_is_reported_and_skipped() {
    assert_hostile(
        "image.yaml",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        "image.yaml:1:1: EXT900 [error] `image.yaml` is a binary file",
    );
}

#[test]
fn alias_bomb_is_bounded() {
    let mut bomb = String::from(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bomb\n  managedFields:\n  - fieldsV1:\n      a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        let _ = writeln!(bomb, "      a{i}: &a{i} [{refs}]");
    }
    assert_hostile(
        "bomb.yaml",
        bomb.as_bytes(),
        "document contains excessive aliasing",
    );
}

#[test]
fn deep_flow_nesting_is_an_error_not_a_crash() {
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert_hostile("deep.yaml", deep.as_bytes(), "deep.yaml:1:");
}

#[test]
fn deep_block_nesting_hits_the_depth_limit() {
    let deep = format!("{}x\n", "- ".repeat(100_000));
    assert_hostile(
        "deep.yaml",
        deep.as_bytes(),
        "nesting deeper than 256 levels",
    );
}

#[test]
fn multi_megabyte_line_is_read() {
    let mut text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: {}\n---\n",
        "x".repeat(8 << 20)
    );
    text.push_str(&BAD_SERVICE.replace("web", "after"));
    assert_hostile("big.yaml", text.as_bytes(), "big.yaml:14:5: EXT004");
}

#[test]
fn syntax_error_is_reported_at_its_line() {
    assert_hostile(
        "broken.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n",
        "broken.yaml:4:",
    );
}

/// Linux only: /proc/self/mem opens but fails on read, even for root, so it stands for any
/// unreadable file (permissions do not stop root, who runs CI containers).
#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_is_an_error_after_the_report() {
    let dir = project(&[("good.yaml", BAD_SERVICE.as_bytes())]);
    assert!(Path::new("/proc/self/mem").exists(), "Linux has /proc");
    let out = run_in(
        dir.path(),
        &["-f", "short", "good.yaml", "/proc/self/mem"],
        None,
    );
    assert!(stdout(&out).contains("good.yaml:8:5: EXT004"));
    assert!(
        stderr(&out).contains("cannot read `/proc/self/mem`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_path_exits_2_after_reporting_the_rest() {
    let dir = project(&[("good.yaml", BAD_SERVICE.as_bytes())]);
    let out = run_in(dir.path(), &["-f", "short", "good.yaml", "nope.yaml"], None);
    assert!(stdout(&out).contains("good.yaml:8:5: EXT004"));
    assert!(
        stderr(&out).contains("`nope.yaml` does not exist"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn helm_output_on_stdin_points_at_the_stream_or_with_chart_dir_at_the_template() {
    let template = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports: [{port: 80}]\n  {{- with .Values.externalIPs }}\n  externalIPs:\n    {{- toYaml . | nindent 4 }}\n  {{- end }}\n";
    let dir = project(&[
        (
            "charts/shop/Chart.yaml",
            b"apiVersion: v2\nname: shop\nversion: 0.1.0\n",
        ),
        ("charts/shop/templates/svc.yaml", template.as_bytes()),
    ]);
    let helm = format!("---\n# Source: shop/templates/svc.yaml\n{BAD_SERVICE}");
    // EXT004's findings in `--format short` for `input` on standard input, with `flags`.
    let short = |flags: &[&str], input: &str| {
        let mut args = vec!["-f", "short", "--select", "EXT004"];
        args.extend_from_slice(flags);
        args.push("-");
        stdout(&run_in(dir.path(), &args, Some(input.as_bytes())))
    };
    // Without the chart: the stream's own name and line, never a path that does not exist.
    let out = short(&["--stdin-filename", "rendered.yaml"], &helm);
    assert!(out.starts_with("rendered.yaml:10:5: EXT004"), "{out}");
    // With it: the template's line that writes `externalIPs`.
    let out = short(&["--chart-dir", "charts/shop"], &helm);
    assert!(
        out.starts_with("charts/shop/templates/svc.yaml:8:3: EXT004"),
        "{out}"
    );
    let out = short(&["--stdin-filename", "all.yaml"], BAD_SERVICE);
    assert!(out.starts_with("all.yaml:8:5: EXT004"), "{out}");
}

#[test]
fn gitignore_hidden_folders_and_no_ignore() {
    let dir = project(&[
        (".gitignore", b"ignored/\n"),
        ("ignored/svc.yaml", BAD_SERVICE.as_bytes()),
        (".hidden/svc.yaml", BAD_SERVICE.as_bytes()),
        ("seen/svc.yaml", BAD_SERVICE.as_bytes()),
        ("seen/notes.txt", BAD_SERVICE.as_bytes()),
    ]);
    let out = run_in(dir.path(), &["-f", "short", "--select", "EXT004"], None);
    assert_eq!(
        stdout(&out),
        "seen/svc.yaml:8:5: EXT004 [error] Service `default/web` has external IP `127.0.0.1`, which the API server rejects: `spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)`\n"
    );
    let out = run_in(
        dir.path(),
        &["-f", "short", "--select", "EXT004", "--no-ignore"],
        None,
    );
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_not_followed() {
    let outside = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    let dir = project(&[]);
    std::os::unix::fs::symlink(
        outside.path().join("svc.yaml"),
        dir.path().join("link.yaml"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).expect("symlink");
    let out = run_in(dir.path(), &["-f", "short"], None);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = project(&[("svc.yaml", b"apiVersion: v1\nkind: Service\nmetadata: {name: h}\nspec:\n  clusterIP: None\n  externalIPs: [192.0.2.1]\n")]);
    let code = |args: &[&str]| {
        let mut all = vec!["--select", "EXT006"];
        all.extend_from_slice(args);
        run_in(dir.path(), &all, None).status.code()
    };
    assert_eq!(code(&[]), Some(1), "a warning fails by default");
    assert_eq!(code(&["--fail-on", "error"]), Some(0));
    assert_eq!(code(&["--fail-on", "note"]), Some(1));
    assert_eq!(code(&["--fail-on", "never"]), Some(0));
    assert_eq!(code(&["--bogus"]), Some(2));
}

#[test]
fn config_error_has_a_code_frame_and_exits_2() {
    let dir = project(&[
        (
            ".extip-lint.yaml",
            b"profile: on-prem\nexternal-ips:\n  allow:\n    - 192.0.2.0/33\n",
        ),
        ("svc.yaml", BAD_SERVICE.as_bytes()),
    ]);
    let out = run_in(dir.path(), &[], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("`192.0.2.0/33` is not a valid CIDR or IP address"),
        "{err}"
    );
    assert!(err.contains(".extip-lint.yaml:4:7"), "{err}");
    let dir = project(&[(".extip-lint.yaml", b"profil: on-prem\n")]);
    let err = stderr(&run_in(dir.path(), &[], None));
    assert!(
        err.contains("unknown key `profil`") && err.contains(".extip-lint.yaml:1:1"),
        "{err}"
    );
    let dir = project(&[(".extip-lint.yaml", b"rules:\n  EXT999: off\n")]);
    let err = stderr(&run_in(dir.path(), &[], None));
    assert!(
        err.contains("unknown rule `EXT999`") && err.contains(".extip-lint.yaml:2:3"),
        "{err}"
    );
    let dir = project(&[(".extip-lint.yaml", b"rules:\n  EXT006: loud\n")]);
    let err = stderr(&run_in(dir.path(), &[], None));
    assert!(
        err.contains("unknown severity `loud`") && err.contains(".extip-lint.yaml:2:11"),
        "{err}"
    );
}

#[test]
fn every_config_mistake_is_shown_in_one_run_with_what_was_meant() {
    let dir = project(&[
        (
            ".extip-lint.yaml",
            b"exlude: [a]\nprofle: cloud\nrules:\n  EXT0002: off\n  EXT003: wrning\nexternal-ips:\n  allow: [not-a-cidr]\n",
        ),
        ("svc.yaml", BAD_SERVICE.as_bytes()),
    ]);
    let out = run_in(dir.path(), &[], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (what, meant) in [
        ("unknown key `exlude`", "did you mean `exclude`?"),
        ("unknown key `profle`", "did you mean `profile`?"),
        ("unknown rule `EXT0002`", "did you mean `EXT002`?"),
        ("unknown severity `wrning`", "did you mean `warning`?"),
        ("`not-a-cidr` is not a valid CIDR", "write an address"),
    ] {
        assert!(err.contains(what) && err.contains(meant), "{what}: {err}");
    }
    assert!(err.contains("5 problems in the config"), "{err}");
    assert_eq!(
        err.matches('×').count(),
        5,
        "each problem drawn once: {err}"
    );
    assert!(
        stdout(&out).is_empty(),
        "nothing is linted with a broken config"
    );
}

#[test]
fn run_errors_name_no_internals_and_say_the_cause_once() {
    let dir = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    for (args, says) in [
        (&["--explain", "EXT999"][..], "error: unknown rule `EXT999`"),
        (
            &["-c", "/nope.yaml", "svc.yaml"][..],
            "error: cannot read `/nope.yaml`: No such file or directory",
        ),
        (&["/nope"][..], "error: `/nope` does not exist"),
    ] {
        let out = run_in(dir.path(), args, None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains("extip_lint::") && !err.contains("os error"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.matches("No such file").count(),
            says.matches("No such file").count(),
            "{err}"
        );
        assert_eq!(
            err.matches("error:").count(),
            1,
            "one error marker: {args:?}: {err}"
        );
    }
}

#[test]
fn config_is_found_from_a_subfolder_and_flags_win() {
    let dir = project(&[
        (".extip-lint.yaml", b"profile: on-prem\nexternal-ips:\n  allow: [192.0.2.0/24]\n"),
        ("sub/svc.yaml", b"apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  externalIPs: [192.0.2.1, 198.51.100.1]\n"),
    ]);
    let sub = dir.path().join("sub");
    let out = run_in(&sub, &["-f", "short", "--select", "EXT001,EXT002"], None);
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("198.51.100.1"));
    let out = run_in(
        &sub,
        &[
            "-f",
            "short",
            "--select",
            "EXT001,EXT002",
            "--allow-cidr",
            "198.51.100.0/24",
            "--profile",
            "gke",
        ],
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("EXT001") && !text.contains("EXT002"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("profile: cloud (set by --profile)"),
        "{}",
        stderr(&out)
    );
    let out = run_in(&sub, &["--print-config"], None);
    assert!(
        stdout(&out).contains("- \"192.0.2.0/24\"  # .extip-lint.yaml:3")
            || stdout(&out).contains("192.0.2.0/24\"  #"),
        "{}",
        stdout(&out)
    );
}

/// A config that sets every top-level key the README documents.
const EVERY_KEY: &[u8] = b"profile: on-prem
namespace: shop
kubernetes-version: \"1.36\"
feature-gates: {StrictIPCIDRValidation: false}
load-balancer: metallb
external-ips:
  allow: [192.0.2.0/24]
include: [\"**/*.yaml\"]
exclude:
  - \"vendor/**\"
rules: {EXT003: note}
limits: {max-depth: 64}
inventory: {owner-keys: [team]}
clusters:
  - {name: prod, paths: [\"prod/**\"]}
render: false
helm:
  release: web
  values: {charts/web: [values-prod.yaml]}
";

#[test]
fn print_config_prints_every_setting_with_its_source_and_reads_back() {
    let dir = project(&[(".extip-lint.yaml", EVERY_KEY)]);
    let out = run_in(dir.path(), &["--print-config"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    for (line, key) in EVERY_KEY.split(|b| *b == b'\n').zip(1..) {
        let Some(top) = std::str::from_utf8(line).expect("utf-8").split(':').next() else {
            continue;
        };
        if top.is_empty() || top.starts_with(' ') {
            continue;
        }
        assert!(
            printed.lines().any(|l| l.starts_with(&format!("{top}:"))),
            "`{top}` (line {key}) is printed: {printed}"
        );
    }
    for (setting, line) in [
        ("  - \"**/*.yaml\"", 0),
        ("include:  # .extip-lint.yaml:8", 8),
        ("exclude:  # .extip-lint.yaml:10", 10),
        ("  owner-keys: [\"team\"]  # .extip-lint.yaml:13", 13),
        ("render: false  # .extip-lint.yaml:16", 16),
        ("  release: \"web\"  # .extip-lint.yaml:18", 18),
        ("  max-depth: 64  # .extip-lint.yaml:12", 12),
        ("  max-file-size: 268435456  # default", 0),
    ] {
        assert!(
            printed.contains(setting),
            "line {line}: `{setting}` in {printed}"
        );
    }
    // What it prints is a config that means the same.
    let again = project(&[(".extip-lint.yaml", printed.as_bytes())]);
    let out = run_in(again.path(), &["--print-config"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let strip = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split("  # ").next().unwrap_or(l).to_string())
            .collect()
    };
    assert_eq!(strip(&stdout(&out)), strip(&printed));
}

#[test]
fn host_bits_are_a_warning_pointing_at_the_entry() {
    let dir = project(&[(
        ".extip-lint.yaml",
        b"external-ips:\n  allow:\n    - 192.0.2.1/24\n",
    )]);
    let out = run_in(dir.path(), &["--allow-empty"], None);
    let err = stderr(&out);
    assert!(
        err.contains("`192.0.2.1/24` has host bits set; it is read as `192.0.2.0/24`"),
        "{err}"
    );
    assert!(err.contains(".extip-lint.yaml:3:7"), "{err}");
    assert!(
        err.contains("⚠") && !err.contains('×'),
        "drawn as a warning: {err}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn auto_profile_says_what_decided_it() {
    let dir = project(&[("lb.yaml", b"apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  annotations:\n    service.beta.kubernetes.io/aws-load-balancer-type: nlb\nspec:\n  type: LoadBalancer\n")]);
    let out = run_in(dir.path(), &[], None);
    assert!(stderr(&out).contains("profile: cloud (auto: Service default/lb has annotation `service.beta.kubernetes.io/aws-load-balancer-type` at lb.yaml:6:5; set `profile:` in the config or pass `--profile` to decide yourself)"), "{}", stderr(&out));
    // The same Service in a vendored copy or an example decides nothing for an on-prem repository:
    // its externalIPs are no EXT001.
    let lb = "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  annotations:\n    service.beta.kubernetes.io/aws-load-balancer-type: nlb\nspec:\n  type: LoadBalancer\n";
    for place in [
        "vendor/ingress/lb.yaml",
        "deploy/static/provider/aws/lb.yaml",
        "examples/lb.yaml",
    ] {
        let dir = project(&[(place, lb.as_bytes()), ("x.yaml", BAD_SERVICE.as_bytes())]);
        let out = run_in(dir.path(), &["-f", "short"], None);
        assert!(
            stderr(&out).contains("profile: on-prem (auto: cloud signals only in vendored, example or provider-specific files"),
            "{place}: {}",
            stderr(&out)
        );
        assert!(
            !stdout(&out).contains("EXT001"),
            "{place}: {}",
            stdout(&out)
        );
    }
    let dir = project(&[("x.yaml", BAD_SERVICE.as_bytes())]);
    let out = run_in(dir.path(), &[], None);
    assert!(
        stderr(&out).contains("profile: on-prem (auto: no cloud"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn namespace_flag_moves_objects_without_one() {
    let dir = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    let out = run_in(
        dir.path(),
        &["-f", "short", "-n", "release", "--select", "EXT004"],
        None,
    );
    assert!(
        stdout(&out).contains("Service `release/web`"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn output_file_receives_the_report() {
    let dir = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    let out = run_in(dir.path(), &["-f", "json", "-o", "report.json"], None);
    assert_eq!(stdout(&out), "");
    let report = std::fs::read_to_string(dir.path().join("report.json")).expect("written");
    let v: serde_json::Value = serde_json::from_str(&report).expect("json");
    assert_eq!(v["version"], 1);
}

#[test]
fn closed_pipe_is_not_a_crash() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&BAD_SERVICE.replace("name: web", &format!("name: web{i}")));
        text.push_str("---\n");
    }
    let dir = project(&[("many.yaml", text.as_bytes())]);
    let mut child = Command::new(BIN)
        .args(["-f", "short"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    let out = child.wait_with_output().expect("ends");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn list_rules_and_explain() {
    let dir = project(&[]);
    let out = run_in(dir.path(), &["--list-rules"], None);
    let list = stdout(&out);
    assert!(list.contains("EXT003  service-without-network-policy"));
    // Columns line up: each line's severity and summary start where every other line's do.
    let starts: std::collections::BTreeSet<(usize, usize)> = list
        .lines()
        .map(|l| {
            let sev = ["  error ", "  warning ", "  note "]
                .iter()
                .filter_map(|s| l.find(s))
                .min()
                .expect("a severity");
            let summary = sev + 2 + 7 + 2;
            assert_ne!(l.as_bytes()[summary], b' ', "{l}");
            (sev, summary)
        })
        .collect();
    assert_eq!(starts.len(), 1, "{list}");
    // Piped: the Markdown source; drawn for a terminal with --color always.
    let out = run_in(dir.path(), &["--explain", "external-ip-not-allowed"], None);
    assert!(stdout(&out).starts_with("# EXT002 external-ip-not-allowed"));
    let out = run_in(
        dir.path(),
        &["--explain", "EXT002", "--color", "always"],
        None,
    );
    let drawn = stdout(&out);
    assert!(
        drawn.starts_with("\x1b[1m\x1b[4mEXT002 external-ip-not-allowed"),
        "{drawn}"
    );
    assert!(
        !drawn.contains("```") && !drawn.lines().any(|l| l.starts_with('#')),
        "{drawn}"
    );
    assert!(
        drawn.contains("    \x1b[36mkind: Service"),
        "code blocks are indented: {drawn}"
    );
    let out = run_in(dir.path(), &["--explain", "EXT999"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn statistics_count_findings_per_rule_and_exit_as_the_findings_say() {
    let dir = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    let short = run_in(dir.path(), &["-f", "short"], None);
    let out = run_in(dir.path(), &["--statistics"], None);
    assert_eq!(out.status.code(), short.status.code());
    let table = stdout(&out);
    let mut expected: Vec<(usize, String)> = Vec::new();
    for line in stdout(&short).lines() {
        let code = line
            .split(": ")
            .nth(1)
            .expect("code")
            .split(' ')
            .next()
            .expect("code");
        match expected.iter_mut().find(|(_, c)| c == code) {
            Some((n, _)) => *n += 1,
            None => expected.push((1, code.to_string())),
        }
    }
    assert!(!expected.is_empty());
    for (n, code) in &expected {
        assert!(
            table.lines().any(|l| l
                .split_whitespace()
                .take(2)
                .eq([n.to_string().as_str(), code.as_str()])),
            "{n} {code} in {table}"
        );
    }
    assert_eq!(table.lines().count(), expected.len(), "{table}");
}

/// README's "Linting a live cluster": `kubectl get ... -o yaml` prints one `List` with status,
/// uids and the labels controllers gave the pods; piped in, it is linted like files are.
#[test]
fn a_live_cluster_list_from_kubectl_get_is_linted_on_stdin() {
    let list = std::fs::read("testdata/live/kubectl-get-list.yaml").expect("fixture");
    // The real kubectl reads the List as five objects.
    let read = Command::new(common::tools::tool("kubectl"))
        .args(["annotate", "--local", "-o", "name", "x=y", "-f"])
        .arg("testdata/live/kubectl-get-list.yaml")
        .output()
        .expect("kubectl runs");
    assert!(read.status.success(), "{}", stderr(&read));
    assert_eq!(stdout(&read).lines().count(), 5, "{}", stdout(&read));
    let dir = project(&[]);
    let out = run_in(dir.path(), &["-f", "short", "-"], Some(&list));
    let found: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split(" [").next().expect("place and code").to_string())
        .collect();
    assert_eq!(
        found,
        [
            "<stdin>:15:5: EXT007",
            "<stdin>:16:7: EXT002",
            "<stdin>:25:5: EXT003"
        ],
        "{}",
        stdout(&out)
    );
    // `db` selects its pod by the label the StatefulSet controller added, and that pod is
    // isolated; `web`'s pod is not.
    assert!(stdout(&out).contains("exposes Pod shop/web-5d8f7b9c4-x2x7k"));
    assert!(
        stderr(&out).contains("5 objects (Service 2, NetworkPolicy 1, Pod 2)"),
        "{}",
        stderr(&out)
    );
    // With an allowlist, the address the cloud assigned (status) is checked too.
    let out = run_in(
        dir.path(),
        &["-f", "short", "--allow-cidr", "198.51.100.0/24", "-"],
        Some(&list),
    );
    assert!(
        stdout(&out).contains("<stdin>:61:13: EXT002") && stdout(&out).contains("`203.0.113.20`"),
        "{}",
        stdout(&out)
    );
}

/// Every flag `--help` lists is in README's flag table.
#[test]
fn readme_documents_every_flag() {
    let dir = project(&[]);
    let out = run_in(dir.path(), &["--help"], None);
    let help = stdout(&out);
    let readme = std::fs::read_to_string("README.md").expect("README");
    let table: String = readme
        .lines()
        .filter(|l| l.starts_with("| `-"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut flags = 0;
    for line in help.lines() {
        let Some(at) = line.trim_start().find("--") else {
            continue;
        };
        if !line.trim_start().starts_with('-') {
            continue;
        }
        let flag: String = line.trim_start()[at..]
            .chars()
            .take_while(|c| *c == '-' || c.is_ascii_alphanumeric())
            .collect();
        if flag == "--help" || flag == "--version" {
            continue;
        }
        flags += 1;
        let documented = table.match_indices(&flag).any(|(i, _)| {
            !table[i + flag.len()..].starts_with(|c: char| c == '-' || c.is_ascii_alphanumeric())
        });
        assert!(documented, "README's flag table lacks {flag}");
    }
    assert!(flags > 20, "{help}");
}

#[test]
fn context_indexes_without_reporting() {
    let svc = b"apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    let policy = b"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec:\n  podSelector: {}\n";
    let other = b"apiVersion: v1\nkind: Service\nmetadata: {name: other}\nspec:\n  selector: {app: other}\n  externalIPs: [127.0.0.1]\n";
    let dir = project(&[
        ("svc.yaml", svc),
        ("policies/deny.yaml", policy),
        ("other.yaml", other),
    ]);
    let out = run_in(dir.path(), &["-f", "short", "svc.yaml"], None);
    assert!(
        stdout(&out).contains("EXT003"),
        "alone, the policy is unseen: {}",
        stdout(&out)
    );
    let out = run_in(
        dir.path(),
        &["-f", "short", "--context", ".", "svc.yaml"],
        None,
    );
    assert_eq!(
        stdout(&out),
        "",
        "the policy counts and other.yaml is not reported"
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("checked 1 file,"), "{}", stderr(&out));
}

#[test]
fn generate_prints_each_kind() {
    let dir = project(&[]);
    for (kind, needle) in [
        ("complete-bash", "_extip__lint()"),
        ("complete-zsh", "#compdef extip-lint"),
        ("complete-fish", "complete -c extip-lint"),
        ("complete-powershell", "Register-ArgumentCompleter"),
        ("man", ".TH extip-lint 1"),
        ("config-schema", "\"additionalProperties\": false"),
    ] {
        let out = run_in(dir.path(), &["--generate", kind], None);
        assert!(stdout(&out).contains(needle), "{kind}: {}", stdout(&out));
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn inventory_lists_every_claimed_address() {
    let svc = b"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  labels: {team: payments}\nspec:\n  selector: {app: web}\n  type: LoadBalancer\n  loadBalancerIP: 203.0.113.9\n  ports: [{port: 443}, {port: 53, protocol: UDP}]\n  externalIPs: [192.0.2.7]\nstatus:\n  loadBalancer:\n    ingress: [{ip: 203.0.113.10}]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec:\n  podSelector: {}\n";
    let dir = project(&[("svc.yaml", svc)]);
    let out = run_in(
        dir.path(),
        &[
            "--inventory",
            "csv",
            "--allow-cidr",
            "192.0.2.0/24",
            "--profile",
            "on-prem",
            "--select",
            "EXT003",
        ],
        None,
    );
    assert_eq!(
        stdout(&out),
        "cluster,address,source,kind,service,ports,allowed by,profile verdict,kubernetes,migration,network policy,owner,route,firewall,location\n\
         default,192.0.2.7,spec.externalIPs,Service,shop/web,443/TCP 53/UDP,192.0.2.0/24,ok,deprecated since 1.36; kube-proxy 1.37 programs them; by default it stops from 1.40 (planned),no load-balancer implementation found (set `load-balancer:`),restricted by NetworkPolicy shop/deny,payments,,,svc.yaml:12\n\
         default,203.0.113.9,spec.loadBalancerIP,Service,shop/web,443/TCP 53/UDP,none,ok,spec.loadBalancerIP is deprecated since 1.24,no load-balancer implementation found (set `load-balancer:`),restricted by NetworkPolicy shop/deny,payments,,,svc.yaml:10\n\
         default,203.0.113.10,status.loadBalancer.ingress,Service,shop/web,443/TCP 53/UDP,none,ok,,,restricted by NetworkPolicy shop/deny,payments,,,svc.yaml:15\n"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "findings decide the exit code: none here"
    );
}

/// Runs with a config that sets one limit, returning stdout and stderr.
fn with_limit(limit: &str, files: &[(&str, &[u8])]) -> (String, String) {
    let config = format!("profile: on-prem\nlimits:\n  {limit}\n");
    let mut all: Vec<(&str, &[u8])> = vec![(".extip-lint.yaml", config.as_bytes())];
    all.extend_from_slice(files);
    let dir = project(&all);
    let out = run_in(
        dir.path(),
        &["-f", "short", "--select", "EXT004,EXT900"],
        None,
    );
    (stdout(&out), stderr(&out))
}

#[test]
fn max_depth_just_under_and_over() {
    let nested = |levels: usize| format!("{}x\n", "- ".repeat(levels));
    let (out, _) = with_limit("max-depth: 10", &[("ok.yaml", nested(10).as_bytes())]);
    assert_eq!(out, "");
    let (out, _) = with_limit("max-depth: 10", &[("deep.yaml", nested(11).as_bytes())]);
    assert!(
        out.contains("deep.yaml:1:21: EXT900 [error] nesting deeper than 10 levels"),
        "{out}"
    );
}

#[test]
fn max_alias_expansion_just_under_and_over() {
    // metadata.managedFields[0].fieldsV1 is decoded fully; each alias use expands 4 nodes.
    let doc = |uses: usize| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  managedFields:\n  - fieldsV1:\n      base: &b [x, y, z]\n      uses: [{}]\n",
            vec!["*b"; uses].join(", ")
        )
    };
    let (out, _) = with_limit("max-alias-expansion: 60", &[("ok.yaml", doc(5).as_bytes())]);
    assert_eq!(out, "");
    let (out, _) = with_limit(
        "max-alias-expansion: 60",
        &[("bomb.yaml", doc(20).as_bytes())],
    );
    // Counted: 4 nodes for each use of `*b` (the alias and its 3 items); the 16th use passes 60.
    assert!(
        out.contains(
            "bomb.yaml:8:74: EXT900 [error] Service default/a cannot be decoded at `metadata.managedFields[0].fieldsV1.uses[15]`: aliases bring more than 60 nodes into it, passing the limit at this alias"
        ),
        "{out}"
    );
}

#[test]
fn max_file_size_just_under_and_over() {
    let text = BAD_SERVICE.as_bytes();
    let limit = format!("max-file-size: {}", text.len());
    let (out, _) = with_limit(&limit, &[("svc.yaml", text)]);
    assert!(out.contains("svc.yaml:8:5: EXT004"), "{out}");
    let limit = format!("max-file-size: {}", text.len() - 1);
    let (out, _) = with_limit(&limit, &[("svc.yaml", text)]);
    assert!(
        out.contains("EXT900 [error] `svc.yaml` is larger than") && !out.contains("EXT004"),
        "{out}"
    );
}

#[test]
fn max_findings_per_file_summarises_the_rest() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  externalIPs: [127.0.0.1, 127.0.0.2, 127.0.0.3]\n";
    let (out, _) = with_limit("max-findings-per-file: 3", &[("svc.yaml", svc.as_bytes())]);
    assert_eq!(out.lines().count(), 3);
    let (out, err) = with_limit("max-findings-per-file: 2", &[("svc.yaml", svc.as_bytes())]);
    assert_eq!(out.lines().count(), 2);
    assert!(
        err.contains("svc.yaml: 1 more finding not shown (limit `max-findings-per-file` = 2)"),
        "{err}"
    );
}

#[test]
fn bash_completion_is_valid_bash() {
    let dir = project(&[]);
    let out = run_in(dir.path(), &["--generate", "complete-bash"], None);
    std::fs::write(dir.path().join("c.bash"), &out.stdout).expect("write");
    let status = Command::new("bash")
        .arg("-n")
        .arg(dir.path().join("c.bash"))
        .status()
        .expect("bash runs");
    assert!(status.success());
}

#[test]
fn inventory_in_every_format_with_ipv6_and_an_owner() {
    let svc = b"apiVersion: v1\nkind: Service\nmetadata:\n  name: dual\n  namespace: edge\n  annotations: {owner: netops}\nspec:\n  type: LoadBalancer\n  ports: [{port: 443}]\n  externalIPs: [192.0.2.7, \"2001:db8::7\"]\nstatus:\n  loadBalancer:\n    ingress: [{ip: \"2001:db8::1\"}]\n";
    let dir = project(&[("svc.yaml", svc)]);
    let args = |f: &'static str| {
        [
            "--inventory",
            f,
            "--allow-cidr",
            "2001:db8::/32",
            "--profile",
            "on-prem",
        ]
    };
    let md = run_in(dir.path(), &args("md"), None);
    let page = stdout(&md);
    assert!(page.contains("## Owner: netops\n"), "{page}");
    assert!(
        page.contains(
            "| 2001:db8::7 | 443/TCP | Service edge/dual | spec.externalIPs |  |  | ok | 2001:db8::/32 | n/a (no selector) | deprecated since 1.36; kube-proxy 1.37 programs them; by default it stops from 1.40 (planned) | no load-balancer implementation found (set \\`load-balancer:\\`) | default | svc.yaml:10 |"
        ),
        "{page}"
    );
    let json = run_in(dir.path(), &args("json"), None);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["version"], 2);
    assert_eq!(v["rows"][0]["allowedBy"], "none");
    assert_eq!(v["rows"][0]["profileVerdict"], "ok");
    assert!(
        v["rows"][0].get("allowed_by").is_none(),
        "camelCase, as the report JSON"
    );
    assert_eq!(v["rows"][2]["source"], "status.loadBalancer.ingress");
    assert_eq!(v["rows"][2]["owner"], "netops");
    assert_eq!(
        json.status.code(),
        Some(1),
        "the EXT002 finding on 192.0.2.7 decides the exit code"
    );
}

#[test]
fn one_stream_split_across_threads_gives_the_same_output() {
    // 400 documents in one file, so its chunks are spread over the worker threads; broken
    // documents, duplicate keys and List items are among them.
    let mut stream = String::new();
    for i in 0..400 {
        let _ = match i % 5 {
            0 => write!(
                stream,
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: ns{}}}\nspec:\n  selector: {{app: a{i}}}\n  externalIPs: [127.0.0.{}, 10.0.{}.1]\n",
                i % 7,
                i % 250,
                i % 3
            ),
            1 => write!(stream, "---\nkind: [broken {i}\n"),
            2 => write!(
                stream,
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\nmetadata: {{name: dup{i}}}\n"
            ),
            3 => write!(
                stream,
                "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {{name: d{i}, namespace: ns{}}}\n  spec: {{template: {{metadata: {{labels: {{app: a{}}}}}}}}}\n",
                i % 7,
                i - 3
            ),
            _ => write!(
                stream,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{}}}\nspec: {{podSelector: {{matchLabels: {{app: a{}}}}}}}\n",
                i % 7,
                i - 4
            ),
        };
    }
    let dir = project(&[("all.yaml", stream.as_bytes())]);
    for format in ["json", "sarif"] {
        let outputs: Vec<Vec<u8>> = ["1", "4"]
            .iter()
            .map(|threads| {
                Command::new(BIN)
                    .args(["all.yaml", "-f", format])
                    .current_dir(dir.path())
                    .env("RAYON_NUM_THREADS", threads)
                    .output()
                    .expect("binary runs")
                    .stdout
            })
            .collect();
        assert!(
            String::from_utf8_lossy(&outputs[0]).contains("EXT900"),
            "broken documents are reported"
        );
        assert_eq!(
            outputs[0], outputs[1],
            "{format} differs between 1 and 4 threads"
        );
    }
}

#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/fuzz")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "testdata/fuzz holds the regressions");
    for input in &inputs {
        let name = input.file_name().expect("name").to_string_lossy();
        for format in ["human", "short", "json", "sarif", "github"] {
            let out = run_in(&dir, &[name.as_ref(), "-f", format], None);
            let code = out.status.code();
            assert!(
                matches!(code, Some(0 | 1)),
                "{name} -f {format}: exit {code:?}\n{}",
                stderr(&out)
            );
            let text = stdout(&out);
            assert!(
                !text.contains("the parser could not read this document"),
                "{name} -f {format}: the YAML parser panicked (caught):\n{text}"
            );
            if format == "short" {
                for line in text.lines() {
                    assert!(
                        line.starts_with(&format!("{name}:")) && line.contains(": EXT"),
                        "{name}: short output line is not one finding: {line:?}"
                    );
                }
            }
            if matches!(format, "human" | "short" | "github") {
                assert!(
                    !text.chars().any(|c| c.is_control() && c != '\n'),
                    "{name}: {format} output holds control characters:\n{text}"
                );
            }
        }
    }
}

/// Lints `svc.yaml` holding `text` with a cap of one finding per file, EXT003 and EXT004 on.
fn capped_at_one(text: &str) -> Output {
    let config = "profile: on-prem\nlimits:\n  max-findings-per-file: 1\n";
    let dir = project(&[
        (".extip-lint.yaml", config.as_bytes()),
        ("svc.yaml", text.as_bytes()),
    ]);
    let args = [
        "-f",
        "short",
        "--select",
        "EXT003,EXT004",
        "--fail-on",
        "error",
    ];
    run_in(dir.path(), &args, None)
}

#[test]
fn findings_left_out_by_the_cap_still_decide_the_exit_code() {
    // The first finding is a warning (EXT003 at the first Service's selector), the error
    // (EXT004, on the second Service) comes after it and is left out by the cap of one; the run
    // must still fail on errors.
    let out = capped_at_one(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: s}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: t}\nspec:\n  externalIPs: [127.0.0.1]\n",
    );
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("EXT003"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("1 more finding not shown"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the error left out still fails the run"
    );
}

#[test]
fn suppressed_findings_do_not_crowd_out_real_ones() {
    let out = capped_at_one(
        "# extip-lint: ignore-file EXT003 -- no policies in this sandbox\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: s}\n  externalIPs: [127.0.0.1]\n",
    );
    assert!(
        stdout(&out).contains("svc.yaml:7:17: EXT004"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("not shown"), "{}", stderr(&out));
}

/// Two renderings of one app for two clusters claim the same address: one run is one cluster
/// (a conflict), unless each path is its own cluster; then every finding and inventory row
/// names its cluster and the summary lists both.
#[test]
fn each_path_can_be_its_own_cluster() {
    let svc = |ns: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  ports: [{{port: 443}}]\n  externalIPs: [192.0.2.10]\n"
        )
    };
    let dir = project(&[
        ("prod.yaml", svc("shop").as_bytes()),
        ("staging.yaml", svc("shop-staging").as_bytes()),
    ]);
    let base = ["--allow-cidr", "192.0.2.0/24", "--select", "EXT005,EXT002"];
    let one = |extra: &[&str], format: &str| {
        let mut args = vec!["-f", format, "prod.yaml", "staging.yaml"];
        args.extend(base);
        args.extend(extra);
        run_in(dir.path(), &args, None)
    };
    let together = one(&[], "short");
    assert!(
        stdout(&together).contains("EXT005"),
        "{}",
        stdout(&together)
    );
    let apart = one(&["--cluster-per-path"], "short");
    assert!(!stdout(&apart).contains("EXT005"), "{}", stdout(&apart));
    assert!(
        stderr(&apart).contains("2 clusters:\n  prod.yaml: 1 file, 0 findings, profile on-prem"),
        "{}",
        stderr(&apart)
    );
    assert_eq!(apart.status.code(), Some(0));
    let mut args = vec![
        "--inventory",
        "json",
        "--cluster-per-path",
        "staging.yaml",
        "prod.yaml",
    ];
    args.extend(base);
    let inv: serde_json::Value =
        serde_json::from_slice(&run_in(dir.path(), &args, None).stdout).expect("json");
    let clusters: Vec<&str> = inv["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["cluster"].as_str())
        .collect();
    assert_eq!(clusters, ["prod.yaml", "staging.yaml"]);
    // A finding names its cluster in every format when there are several.
    let dir = project(&[
        ("a.yaml", BAD_SERVICE.as_bytes()),
        ("b.yaml", BAD_SERVICE.as_bytes()),
    ]);
    let run = |f: &str| {
        run_in(
            dir.path(),
            &[
                "-f",
                f,
                "--cluster-per-path",
                "--select",
                "EXT004",
                "a.yaml",
                "b.yaml",
            ],
            None,
        )
    };
    assert!(stdout(&run("short")).contains("(cluster a.yaml)"));
    let json: serde_json::Value = serde_json::from_slice(&run("json").stdout).expect("json");
    assert_eq!(json["findings"][1]["cluster"], "b.yaml");
    let sarif: serde_json::Value = serde_json::from_slice(&run("sarif").stdout).expect("sarif");
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["cluster"],
        "a.yaml"
    );
}

#[test]
fn kubernetes_version_decides_strict_ip_validation_and_the_summary_says_which() {
    let svc = b"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.010]\n";
    let dir = project(&[("svc.yaml", svc)]);
    let codes = |args: &[&str]| {
        let mut all = vec!["-f", "short", "--select", "EXT004,EXT007,EXT008"];
        all.extend_from_slice(args);
        let out = run_in(dir.path(), &all, None);
        let found: Vec<String> = stdout(&out)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .collect();
        (found, stderr(&out))
    };
    let (old, err) = codes(&["--kubernetes-version", "1.35"]);
    assert_eq!(old, ["EXT008"], "1.35 accepts leading zeros with a warning");
    assert!(
        err.contains("kubernetes: 1.35 (set by --kubernetes-version)"),
        "{err}"
    );
    let (new, err) = codes(&[]);
    assert_eq!(
        new,
        ["EXT004"],
        "1.37 rejects them, and refuses the Service, so nothing else is said about it"
    );
    assert!(
        err.contains("kubernetes: 1.37 (default: the newest release extip-lint knows)"),
        "{err}"
    );
}

#[test]
fn a_gate_set_against_its_lock_or_before_it_exists_is_a_config_error() {
    for (config, needle) in [
        (
            "kubernetes-version: \"1.43\"\nfeature-gates: {AllowServiceExternalIPs: true}\n",
            "locked to false from Kubernetes 1.43 (planned)",
        ),
        (
            "kubernetes-version: \"1.35\"\nfeature-gates: {AllowServiceExternalIPs: false}\n",
            "does not exist in Kubernetes 1.35",
        ),
        (
            "feature-gates: {AllowExternalIPs: false}\n",
            "unknown feature gate `AllowExternalIPs`",
        ),
        (
            "kubernetes-version: \"2.1\"\n",
            "is not a Kubernetes version",
        ),
    ] {
        let dir = project(&[(".extip-lint.yaml", config.as_bytes())]);
        let out = run_in(dir.path(), &["."], None);
        assert_eq!(out.status.code(), Some(2), "{config}");
        // The diagnostic is wrapped to the terminal's width.
        let err = stderr(&out)
            .replace(['│', '\n'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(err.contains(needle), "{config}: {err}");
    }
    let dir = project(&[]);
    let out = run_in(dir.path(), &["--kubernetes-version", "latest"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--kubernetes-version"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn external_ips_are_an_error_where_kube_proxy_no_longer_programs_them() {
    let svc = b"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.10]\n";
    let dir = project(&[("svc.yaml", svc)]);
    let line = |args: &[&str]| {
        let mut all = vec!["-f", "short", "--select", "EXT007"];
        all.extend_from_slice(args);
        let out = run_in(dir.path(), &all, None);
        (stdout(&out), out.status.code())
    };
    let (out, code) = line(&["--kubernetes-version", "1.36"]);
    assert!(out.contains("EXT007 [warning]"), "{out}");
    assert_eq!(code, Some(1), "warnings fail by default");
    let (out, _) = line(&["--kubernetes-version", "1.40"]);
    assert!(
        out.contains("EXT007 [error]") && out.contains("is off by default from 1.40, planned"),
        "{out}"
    );
    let (out, code) = line(&["--kubernetes-version", "1.35"]);
    assert_eq!((out.as_str(), code), ("", Some(0)));
}

fn git_in(dir: &Path, args: &[&str]) {
    let out = common::git_identity(Command::new("git").args(args).current_dir(dir))
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A repository whose one commit has a Service with a disallowed address (an old finding).
fn repository() -> tempfile::TempDir {
    let dir = project(&[
        (
            ".extip-lint.yaml",
            b"profile: on-prem\nrules: {EXT003: off, EXT007: off}\n",
        ),
        ("old.yaml", BAD_SERVICE.as_bytes()),
        (
            "broken.yaml",
            b"apiVersion: v1\nkind: Service\nmetadata: {name: [x}\n",
        ),
    ]);
    git_in(dir.path(), &["init", "-q"]);
    git_in(dir.path(), &["add", "-A"]);
    git_in(dir.path(), &["commit", "-q", "-m", "one"]);
    dir
}

fn short_lines(dir: &Path, args: &[&str]) -> (Vec<String>, String, Option<i32>) {
    let mut all = vec!["-f", "short"];
    all.extend_from_slice(args);
    let out = run_in(dir, &all, None);
    let lines = stdout(&out).lines().map(String::from).collect();
    (lines, stderr(&out), out.status.code())
}

#[test]
fn diff_base_reports_only_what_is_new_through_added_deleted_and_renamed_files() {
    let dir = repository();
    let d = dir.path();
    let (lines, err, code) = short_lines(d, &["--diff-base", "HEAD", "."]);
    assert_eq!((lines.len(), code), (0, Some(0)), "{lines:?}");
    assert!(
        err.contains("findings already there at `HEAD` left out"),
        "{err}"
    );
    // Renamed: the objects' findings and the file's own (a YAML error) carry over.
    git_in(d, &["mv", "old.yaml", "renamed.yaml"]);
    git_in(d, &["mv", "broken.yaml", "broken-too.yaml"]);
    let (lines, _, code) = short_lines(d, &["--diff-base", "HEAD", "."]);
    assert_eq!((lines.len(), code), (0, Some(0)), "{lines:?}");
    // Added: its findings are new.
    std::fs::write(
        d.join("new.yaml"),
        BAD_SERVICE.replace("name: web", "name: api"),
    )
    .expect("write");
    let (lines, _, code) = short_lines(d, &["--diff-base", "HEAD", "."]);
    assert!(
        lines.iter().all(|l| l.starts_with("new.yaml:")) && !lines.is_empty(),
        "{lines:?}"
    );
    assert_eq!(code, Some(1));
    // Deleted: nothing of it is reported, nothing fails.
    std::fs::remove_file(d.join("new.yaml")).expect("rm");
    std::fs::remove_file(d.join("renamed.yaml")).expect("rm");
    let (lines, _, code) = short_lines(d, &["--diff-base", "HEAD", "."]);
    assert_eq!((lines.len(), code), (0, Some(0)), "{lines:?}");
}

#[test]
fn diff_base_needs_a_repository_and_a_revision() {
    let dir = repository();
    let (_, err, code) = short_lines(dir.path(), &["--diff-base", "no-such-branch", "."]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown revision `no-such-branch`"), "{err}");
    let plain = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    let (_, err, code) = short_lines(plain.path(), &["--diff-base", "HEAD", "."]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is not in a git repository"), "{err}");
}

#[test]
fn a_baseline_accepts_what_exists_and_reports_entries_that_match_nothing() {
    let dir = repository();
    let d = dir.path();
    let (lines, err, code) =
        short_lines(d, &["--write-baseline", ".extip-lint-baseline.json", "."]);
    assert_eq!((lines.len(), code), (0, Some(0)), "{lines:?} {err}");
    assert!(
        err.contains("wrote 2 findings to .extip-lint-baseline.json"),
        "{err}"
    );
    let written: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.join(".extip-lint-baseline.json")).expect("written"),
    )
    .expect("json");
    assert_eq!(
        written["findings"][0]["rule"].as_str().map(str::len),
        Some(6)
    );
    let (lines, err, code) = short_lines(d, &["--baseline", ".extip-lint-baseline.json", "."]);
    assert_eq!((lines.len(), code), (0, Some(0)), "{lines:?}");
    assert!(
        err.contains("2 findings already there in the baseline"),
        "{err}"
    );
    // The broken file is fixed: its entry is stale, and a new finding is reported.
    std::fs::write(d.join("broken.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [0.0.0.0]\n").expect("write");
    let (lines, err, code) = short_lines(d, &["--baseline", ".extip-lint-baseline.json", "."]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("broken.yaml:6:17: EXT004"),
        "{lines:?}"
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("1 baseline entry matches nothing now"),
        "{err}"
    );
    std::fs::write(d.join("bad.json"), "{\"version\": 1}").expect("write");
    let (_, err, code) = short_lines(d, &["--baseline", "bad.json", "."]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is not a baseline"), "{err}");
}

/// README's first command, run as written: its findings are the ones the example files'
/// `# expect:` markers describe.
#[test]
fn readme_first_command_reports_what_the_examples_say() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("the first command");
    let args: Vec<&str> = line
        .trim_start_matches("cargo run --release -- ")
        .split_whitespace()
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = vec!["-f", "short"];
    all.extend(&args);
    let out = run_in(root, &all, None);
    let mut got: Vec<(String, usize, String)> = stdout(&out)
        .lines()
        .filter_map(|l| {
            let (place, rest) = l.split_once(": ")?;
            let mut p = place.split(':');
            let (file, line) = (p.next()?.to_string(), p.next()?.parse().ok()?);
            Some((file, line, rest.split_whitespace().next()?.to_string()))
        })
        .collect();
    got.sort();
    let mut expected = Vec::new();
    for arg in &args {
        for entry in std::fs::read_dir(root.join(arg)).expect("examples") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let rel = path.strip_prefix(root).expect("inside").to_path_buf();
                for (_, l, _, code) in common::expectations(&path) {
                    expected.push((rel.to_string_lossy().replace('\\', "/"), l, code));
                }
            }
        }
    }
    expected.sort();
    assert_eq!(got, expected, "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_run_that_checks_nothing_fails_and_says_why() {
    for (files, needle) in [
        (vec![], "no manifest file found"),
        (
            vec![("values.yaml", &b"replicas: 2\n"[..])],
            "1 document not a Kubernetes object",
        ),
        (
            vec![("empty.yaml", &b""[..])],
            "1 file read, 0 documents in it",
        ),
        (
            vec![(".hidden/svc.yaml", BAD_SERVICE.as_bytes())],
            "skipped 1 file (in hidden folders",
        ),
        (
            vec![
                (
                    "chart/Chart.yaml",
                    &b"apiVersion: v2\nname: c\nversion: 0.1.0\n"[..],
                ),
                ("chart/templates/svc.yaml", BAD_SERVICE.as_bytes()),
            ],
            "unrendered Helm template",
        ),
    ] {
        let dir = project(&files);
        let out = run_in(dir.path(), &["."], None);
        let err = stderr(&out).replace(['│', '\n'], " ");
        let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(out.status.code(), Some(2), "{files:?}: {err}");
        assert!(
            err.contains("checked nothing") && err.contains(needle),
            "{err}"
        );
        let out = run_in(dir.path(), &["--allow-empty", "."], None);
        assert_eq!(out.status.code(), Some(0), "{files:?}");
    }
    let out = run_in(Path::new("."), &["-"], Some(b""));
    assert_eq!(out.status.code(), Some(2), "empty standard input");
}

/// The README's YAML examples are read as what they claim to be: the config examples by the
/// config reader, the pre-commit snippet names the shipped hook, and the workflow passes only
/// inputs the action declares.
#[test]
fn readme_yaml_examples_are_what_they_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let blocks: Vec<String> = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(|b| {
            // Blocks inside list items are indented.
            let indent = b
                .lines()
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            b.lines()
                .map(|l| l.get(indent..).unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let configs: Vec<&String> = blocks
        .iter()
        .filter(|b| b.starts_with("profile:") || b.starts_with("render:"))
        .collect();
    assert_eq!(
        configs.len(),
        2,
        "the config example and the render example"
    );
    for config in configs {
        let dir = project(&[(".extip-lint.yaml", config.as_bytes())]);
        let out = run_in(dir.path(), &["--print-config"], None);
        assert_eq!(out.status.code(), Some(0), "{config}\n{}", stderr(&out));
    }
    let hooks = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).expect("hooks");
    let precommit = blocks
        .iter()
        .find(|b| b.starts_with("# .pre-commit-config.yaml"))
        .expect("pre-commit example");
    let id = precommit
        .lines()
        .find_map(|l| l.trim().strip_prefix("- id: "))
        .expect("hook id");
    assert!(hooks.contains(&format!("- id: {id}\n")), "{id}");
    let action = std::fs::read_to_string(root.join("action.yml")).expect("action");
    let workflow = blocks
        .iter()
        .find(|b| b.starts_with("# .github/workflows/"))
        .expect("workflow example");
    let mut in_with = false;
    for line in workflow.lines() {
        let t = line.trim();
        if t == "with:" {
            in_with = true;
            continue;
        }
        if in_with && let Some((key, _)) = t.split_once(':') {
            if t.starts_with('#') {
                continue;
            }
            if key.starts_with('-') || !line.starts_with("          ") {
                in_with = false;
                continue;
            }
            if ["sarif_file", "category", "fetch-depth"].contains(&key) {
                continue;
            }
            assert!(
                action.contains(&format!("\n  {key}:\n")),
                "input `{key}` is not in action.yml"
            );
        }
    }
}

/// A load-balancer controller is detected by the image it runs, not by its name.
#[test]
fn controllers_are_detected_by_image_not_by_name() {
    let deployment = |name: &str, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: kube-system}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: c, image: \"{image}\"}}]\n"
        )
    };
    let demo = deployment("kube-vip-demo", "nginx:1.27");
    let dir = project(&[("demo.yaml", demo.as_bytes())]);
    let out = run_in(dir.path(), &["--allow-empty"], None);
    assert!(
        stderr(&out).contains("load balancer: none found"),
        "{}",
        stderr(&out)
    );
    let real = deployment("vip", "ghcr.io/kube-vip/kube-vip:v0.8.9");
    let dir = project(&[("vip.yaml", real.as_bytes())]);
    let out = run_in(dir.path(), &["--allow-empty"], None);
    assert!(
        stderr(&out).contains("load balancer: kube-vip (auto: Deployment kube-system/vip (image `ghcr.io/kube-vip/kube-vip:v0.8.9`)"),
        "{}",
        stderr(&out)
    );
}

/// EXT003's notes agree with the file: a matching workload the API server rejects is named, a
/// Service placed in the default namespace says so, and a policy for these labels in another
/// namespace is pointed out; the summary counts objects without a namespace once.
#[test]
fn the_exposure_notes_name_what_the_file_shows() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n---\napiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: kserve}\nspec:\n  podSelector: {matchLabels: {app: web}}\n";
    let dir = project(&[("app.yaml", text.as_bytes())]);
    let out = run_in(dir.path(), &["-f", "json"], None);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ext003 = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "EXT003")
        .expect("EXT003");
    let notes: Vec<&str> = ext003["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    for want in [
        "may be these pods: Deployment `default/web`",
        "the Service sets no namespace, so it is in `default`",
        "a policy in another namespace selects these labels, but a policy applies only in its own namespace: NetworkPolicy `kserve/web`",
    ] {
        assert!(
            notes.iter().any(|n| n.contains(want)),
            "no `{want}` in {notes:?}"
        );
    }
    assert!(
        stderr(&out).contains("no namespace set: 1 object in `default`"),
        "{}",
        stderr(&out)
    );
}

/// A chart's values file read at a revision is a values file too: a repeated key that was there
/// before is not new.
#[test]
fn diff_base_reads_values_files_as_values_files() {
    let dir = project(&[
        (".extip-lint.yaml", b"profile: on-prem\n"),
        (
            "chart/Chart.yaml",
            b"apiVersion: v2\nname: c\nversion: 0.1.0\n",
        ),
        ("chart/values.yaml", b"proxy: {a: 1}\nproxy: {b: 2}\n"),
        ("chart/templates/x.yaml", b"{{ .Values.proxy }}\n"),
    ]);
    let d = dir.path();
    git_in(d, &["init", "-q"]);
    git_in(d, &["add", "-A"]);
    git_in(d, &["commit", "-q", "-m", "one"]);
    let (lines, _, _) = short_lines(d, &["--allow-empty", "."]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("chart/values.yaml:2:1: EXT904")),
        "{lines:?}"
    );
    let (lines, err, code) = short_lines(d, &["--allow-empty", "--diff-base", "HEAD", "."]);
    assert_eq!((lines.len(), code), (0, Some(0)), "{lines:?}\n{err}");
}

/// The summary names every cluster with findings and at most 20 of the others, then how many
/// more: 23 quiet clusters and one with a finding give 20 quiet lines, the finding's cluster and
/// "and 3 more".
#[test]
fn the_summary_lists_clusters_with_findings_and_twenty_others() {
    let quiet = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n";
    let mut files: Vec<(String, Vec<u8>)> = (0..23)
        .map(|i| (format!("a{i:02}.yaml"), quiet.as_bytes().to_vec()))
        .collect();
    files.push(("z-bad.yaml".into(), BAD_SERVICE.as_bytes().to_vec()));
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = project(&refs);
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let mut args = vec!["-f", "short", "--cluster-per-path"];
    args.extend(names.iter().map(String::as_str));
    let out = run_in(dir.path(), &args, None);
    let err = stderr(&out);
    assert!(err.contains("24 clusters:"), "{err}");
    let listed = err
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(", profile "))
        .count();
    assert_eq!(listed, 21, "{err}");
    assert!(err.contains("  z-bad.yaml: 1 file, "), "{err}");
    assert!(
        err.contains("and 3 more clusters without findings"),
        "{err}"
    );
}
