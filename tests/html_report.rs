//! The exposure map (`--report html FILE`) opened in headless Chromium (Debian's package,
//! installed by `scripts/install-test-tools.sh`): its script runs under its own
//! Content-Security-Policy without a console error, nothing is requested (every host name
//! resolves to nothing, and the DOM holds no external URL), each address has its elements, and
//! input that looks like markup stays text. A screenshot is kept at
//! `target/html-report/exposure-map.png` for a reviewer.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

const HOSTILE: &str = "apiVersion: v1
kind: Service
metadata:
  name: evil
  namespace: shop
  annotations:
    owner: \"<script>alert(1)</script>\"
    extip-lint.io/firewall: '\"><img src=https://example.com/x.png onerror=alert(2)>'
spec:
  selector: {app: evil}
  ports: [{port: 80}]
  externalIPs: [198.51.100.7]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{}]
";

/// A project with the runbook's fixture and hostile input; the report written under `out/`.
fn report() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/runbook");
    for f in ["services.yaml", ".extip-lint.yaml"] {
        std::fs::copy(root.join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("manifests")).expect("mkdir");
    std::fs::write(dir.path().join("manifests/hostile.yaml"), HOSTILE).expect("write");
    let out = common::output_within(
        Command::new(BIN)
            .args(["-f", "short", "--report", "html", "out/map.html", "."])
            .current_dir(dir.path()),
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = dir.path().join("out/map.html");
    assert!(html.exists());
    (dir, html)
}

/// Runs headless Chromium on `page` with `extra` flags: (stdout, stderr).
fn chromium(page: &Path, profile: &Path, extra: &[&str]) -> (String, String) {
    let out = common::output_within(
        Command::new(common::tools::tool("chromium"))
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
                // Any request that slipped through would fail to resolve.
                "--host-resolver-rules=MAP * ~NOTFOUND",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", page.display())),
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_page_runs_offline_in_chromium_with_every_address() {
    let (dir, html) = report();
    let text = std::fs::read_to_string(&html).expect("html");
    assert!(text.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"));
    let profile = dir.path().join("profile");
    let (dom, log) = chromium(&html, &profile, &["--dump-dom"]);
    // No console message (errors, CSP refusals) and no refused load.
    for line in log.lines() {
        assert!(
            !line.contains("CONSOLE") && !line.contains("Refused") && !line.contains("ERR_"),
            "{line}\n{log}"
        );
    }
    // The script ran (under the CSP, so its hash is right): it counts what it shows.
    assert!(
        dom.contains("<p id=\"shown\" aria-live=\"polite\">6 of 6 claims shown</p>"),
        "{dom}"
    );
    // Every address has its row and its node.
    for a in [
        "192.0.2.7",
        "2001:db8::7",
        "192.0.2.9",
        "192.0.2.10",
        "192.0.2.20",
        "198.51.100.7",
    ] {
        assert!(
            dom.contains("<tr class=\"claim ") && dom.contains(&format!("data-address=\"{a}\">")),
            "{a}"
        );
        assert!(
            dom.matches(&format!("data-address=\"{a}\"")).count() >= 2,
            "{a}: a row and a node"
        );
    }
    // No external URL anywhere in an attribute, and the only script is the page's own.
    for attr in ["src=\"", "href=\""] {
        for (i, _) in dom.match_indices(attr) {
            let value = &dom[i + attr.len()..];
            let value = &value[..value.find('"').unwrap_or(value.len())];
            assert!(
                !value.contains("//") && !value.contains(':'),
                "external URL `{value}`"
            );
        }
    }
    assert_eq!(dom.matches("<script").count(), 1);
    assert!(!dom.contains("<img"), "input became markup");
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Links to the files, relative to the report's folder.
    assert!(
        dom.contains("href=\"../manifests/hostile.yaml#L12\""),
        "{dom}"
    );
    assert!(dom.contains("href=\"../services.yaml#L"));
    // The policy that lets everything in, and the coverage verdicts.
    assert!(dom.contains("open to all by"));
    assert!(dom.contains("not covered"));
}

#[test]
fn a_screenshot_is_kept_for_a_reviewer() {
    let (dir, html) = report();
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/html-report");
    std::fs::create_dir_all(&shot).expect("mkdir");
    let png = shot.join("exposure-map.png");
    let _ = std::fs::remove_file(&png);
    std::fs::copy(&html, shot.join("exposure-map.html")).expect("copy");
    chromium(
        &html,
        &dir.path().join("profile"),
        &[
            "--window-size=1400,1000",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);
}

#[test]
fn huge_inputs_keep_the_page_bounded() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut yaml = String::new();
    for i in 0..6_000 {
        let _ = write!(
            yaml,
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: n{}}}\nspec:\n  selector: {{app: a{i}}}\n  ports: [{{port: 80}}]\n  externalIPs: [10.{}.{}.{}]\n",
            i % 9,
            i / 65_536,
            (i / 256) % 256,
            i % 256
        );
    }
    std::fs::write(dir.path().join("many.yaml"), yaml).expect("write");
    let out = common::output_within(
        Command::new(BIN)
            .args(["-f", "short", "--report", "html", "map.html", "many.yaml"])
            .current_dir(dir.path()),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(dir.path().join("map.html")).expect("html");
    assert!(
        html.contains("The first 5000 of 6000 claims are shown"),
        "cut said"
    );
    assert_eq!(html.matches("<tr class=\"claim").count(), 5_000);
    assert!(!html.contains("<svg"), "too many addresses to draw");
    assert!(html.len() < 40 * 1024 * 1024, "{}", html.len());
}
