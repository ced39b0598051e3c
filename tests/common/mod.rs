//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod tools;

use std::path::{Path, PathBuf};

use extip_lint::config::{self, Overrides};
use extip_lint::render::locate;
use extip_lint::{Report, lint};

/// Sets a fixed author and committer and ignores the user's git config, so a scratch
/// repository commits the same way on every machine.
pub fn git_identity(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
}

/// A Service with an externalIP: EXT004 at 8:5 (a loopback address).
pub const BAD_SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n  externalIPs:\n  - 127.0.0.1\n";

/// A temporary folder holding `files` (paths relative to it, their folders made).
pub fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }
    dir
}

/// Runs the extip-lint binary in `dir` without colour, as `output_within` does.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_extip-lint"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1"),
        stdin,
    )
}

/// How long a run of the binary may take before a test calls it hung: generous, so a loaded
/// machine never fails a test that works; only a hang (or a quadratic blow-up) reaches it.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `cmd` with `stdin` (or none), killing it and failing the test if it runs past `HANG`.
pub fn output_within(
    cmd: &mut std::process::Command,
    stdin: Option<&[u8]>,
) -> std::process::Output {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    // Readers on their own threads, so a child filling a pipe never blocks.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} HUNG: killed after {HANG:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// A JSON Schema compiled for validation (`testdata/schemas/...`, or a shipped schema), by
/// path from the crate root.
pub fn schema(path: &str) -> (boon::Schemas, boon::SchemaIndex) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("json");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("schema.json", schema).expect("added");
    let id = compiler
        .compile("schema.json", &mut schemas)
        .expect("compiles");
    (schemas, id)
}

/// One expected or actual finding: file name, line, column (0 = any), code.
pub type Hit = (String, usize, usize, String);

/// Lints `paths` with the config file (if any) and overrides, from the crate root.
pub fn run(paths: &[PathBuf], config_file: Option<&Path>, overrides: &Overrides) -> Report {
    let (mut settings, _) =
        config::load(config_file, overrides, &extip_lint::rules::CATALOG).expect("config loads");
    settings.paths = paths.to_vec();
    lint(&settings, None)
}

/// Unsuppressed findings as hits.
pub fn hits(report: &Report) -> Vec<Hit> {
    let mut out: Vec<Hit> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            let l = locate(report, f.primary.span, None);
            (
                l.path,
                l.start.line,
                l.start.column,
                f.rule.code.to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Expectations written in a fixture: `# expect: CODE` or `# expect: CODE@COL` (several
/// separated by commas) at the end of the line where the finding starts; for JSON, a sidecar
/// `<file>.expect` with lines `LINE[:COL] CODE`.
pub fn expectations(path: &Path) -> Vec<Hit> {
    let name = path.to_string_lossy().replace('\\', "/");
    let mut out = Vec::new();
    let sidecar = PathBuf::from(format!("{}.expect", path.display()));
    if sidecar.exists() {
        let text = std::fs::read_to_string(&sidecar).expect("sidecar readable");
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (pos, code) = line.split_once(' ').expect("`LINE[:COL] CODE`");
            let (l, c) = pos.split_once(':').unwrap_or((pos, "0"));
            out.push((
                name.clone(),
                l.parse().expect("line"),
                c.parse().expect("col"),
                code.trim().to_string(),
            ));
        }
        return out;
    }
    let bytes = std::fs::read(path).expect("fixture readable");
    let text = String::from_utf8_lossy(&bytes);
    for (i, line) in text.split('\n').enumerate() {
        let Some((_, rest)) = line.split_once("# expect:") else {
            continue;
        };
        for item in rest.trim().trim_end_matches('\r').split(',') {
            // A marker may carry words after its code: `# expect: EXT007 (deprecated)`; a second
            // code among them is a marker without its comma, which would be lost.
            let mut words = item.split_whitespace();
            let item = words.next().unwrap_or_default();
            assert!(
                !words.any(|w| w.starts_with("EXT")),
                "{name}:{}: separate the markers with commas: `{}`",
                i + 1,
                rest.trim()
            );
            let (code, col) = item.split_once('@').unwrap_or((item, "0"));
            out.push((
                name.clone(),
                i + 1,
                col.parse().expect("column"),
                code.to_string(),
            ));
        }
    }
    out
}

/// Compares as multisets, an expected column of 0 matching any column.
pub fn assert_hits(case: &str, mut expected: Vec<Hit>, actual: &[Hit], report: &Report) {
    expected.sort();
    let mut unmatched = actual.to_vec();
    let mut missing = Vec::new();
    for e in &expected {
        match unmatched
            .iter()
            .position(|a| a.0 == e.0 && a.1 == e.1 && a.3 == e.3 && (e.2 == 0 || e.2 == a.2))
        {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(e.clone()),
        }
    }
    if !missing.is_empty() || !unmatched.is_empty() {
        let messages: Vec<String> = report
            .findings
            .iter()
            .map(|f| {
                let l = locate(report, f.primary.span, None);
                format!(
                    "  {}:{}:{} {} {}",
                    l.path,
                    l.start.line,
                    l.start.column,
                    f.rule.code,
                    f.message.text()
                )
            })
            .collect();
        panic!(
            "{case}: findings differ\n missing: {missing:?}\n unexpected: {unmatched:?}\n all findings:\n{}",
            messages.join("\n")
        );
    }
}
