//! `cargo bench --bench server`: the language server's answer to a keystroke in a 1,000-file
//! workspace. It writes the workspace in a temporary folder (980 files of a Service and its
//! Deployment over 20 namespaces, one NetworkPolicy file per namespace, a config with an
//! allowlist), starts the release binary's `extip-lint server` over standard input and output as
//! an editor does, opens one policy file and types into it: each keystroke changes which
//! Services of that namespace the policy protects, so 49 other files' diagnostics change with
//! it. The time of a keystroke runs from sending `textDocument/didChange` to receiving the edited
//! document's diagnostics with that version, which the server publishes last. It prints the
//! median and the slowest of the keystrokes, the first lint, and the server's peak RSS.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const NAMESPACES: usize = 20;
const APP_FILES: usize = 980;
const KEYSTROKES: i32 = 40;

fn app(i: usize) -> String {
    let ns = i % NAMESPACES;
    let mut text = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\n  namespace: ns-{ns}\n  labels:\n    team: t{}\nspec:\n  selector:\n    app: app-{i}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n",
        i % 7
    );
    if i.is_multiple_of(10) {
        let _ = writeln!(text, "  externalIPs:\n    - 192.0.2.{}", i % 250);
    }
    let _ = write!(
        text,
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{ns}\nspec:\n  selector:\n    matchLabels:\n      app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n        tier: web\n    spec:\n      containers:\n        - name: main\n          image: registry.example/app-{i}:1.0\n"
    );
    text
}

/// The policy of a namespace: every `tier: web` pod takes traffic from its clients only. A
/// keystroke in `tier` makes it select nothing, and the next one restores it.
fn policy(ns: usize) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n  namespace: ns-{ns}\nspec:\n  podSelector:\n    matchLabels:\n      tier: web\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              role: client\n"
    )
}

fn workspace(root: &Path) {
    let write = |rel: String, text: String| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folder");
        std::fs::write(path, text).expect("write");
    };
    for i in 0..APP_FILES {
        write(format!("apps/ns-{}/app-{i}.yaml", i % NAMESPACES), app(i));
    }
    for ns in 0..NAMESPACES {
        write(format!("policies/ns-{ns}.yaml"), policy(ns));
    }
    write(
        ".extip-lint.yaml".into(),
        "profile: on-prem\nexternal-ips:\n  allow: [192.0.2.0/25]\n".into(),
    );
}

fn send(to: &mut ChildStdin, message: &Value) {
    let body = message.to_string();
    write!(to, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("send to the server");
    to.flush().expect("flush");
}

/// Every message the server sends, with the time it arrived.
fn receive(from: impl Read + Send + 'static) -> Receiver<(Instant, Value)> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut from = BufReader::new(from);
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if from.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse().expect("a length");
                }
            }
            let mut body = vec![0; length];
            if from.read_exact(&mut body).is_err() {
                return;
            }
            let value: Value = serde_json::from_slice(&body).expect("JSON from the server");
            if tx.send((Instant::now(), value)).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for the diagnostics of `uri` at `version`; counts the other files published meanwhile.
fn published(rx: &Receiver<(Instant, Value)>, uri: &str, version: i32) -> (Instant, usize) {
    let mut others = 0;
    loop {
        let (at, msg) = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server answers within two minutes");
        if msg["method"] != "textDocument/publishDiagnostics" {
            continue;
        }
        let params = &msg["params"];
        if params["uri"] == uri && params["version"] == version {
            return (at, others);
        }
        others += 1;
    }
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    workspace(&root);
    let root_uri = format!("file://{}", root.display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_extip-lint"))
        .arg("server")
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start extip-lint server");
    let mut to = server.stdin.take().expect("stdin");
    let rx = receive(server.stdout.take().expect("stdout"));

    let started = Instant::now();
    send(
        &mut to,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null, "rootUri": root_uri, "capabilities": {},
            "workspaceFolders": [{"uri": root_uri, "name": "bench"}]}}),
    );
    send(
        &mut to,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    let uri = format!("{root_uri}/policies/ns-0.yaml");
    send(
        &mut to,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": policy(0)}}}),
    );
    let (first_at, first_files) = published(&rx, &uri, 1);
    let first = first_at - started;

    // `tier: web` is on line 8 (0-based), `tier` at characters 6..10: type an `s` after it,
    // then delete it, as a user correcting a typo does.
    let mut times = Vec::new();
    let mut changed = 0;
    for version in 2..2 + KEYSTROKES {
        let change = if version % 2 == 0 {
            json!({"range": {"start": {"line": 8, "character": 10}, "end": {"line": 8, "character": 10}}, "text": "s"})
        } else {
            json!({"range": {"start": {"line": 8, "character": 10}, "end": {"line": 8, "character": 11}}, "text": ""})
        };
        let sent = Instant::now();
        send(
            &mut to,
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}}),
        );
        let (at, others) = published(&rx, &uri, version);
        times.push(at - sent);
        changed = changed.max(others);
    }
    let rss = peak_rss_mib(server.id());
    send(
        &mut to,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}),
    );
    send(&mut to, &json!({"jsonrpc": "2.0", "method": "exit"}));
    let _ = server.wait();

    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "workspace: {} files; first lint and publication: {:.0} ms ({first_files} files published)",
        APP_FILES + NAMESPACES + 1,
        ms(first)
    );
    println!(
        "keystroke -> its diagnostics published ({KEYSTROKES} keystrokes, {changed} other files re-published each): median {:.1} ms, slowest {:.1} ms",
        ms(times[times.len() / 2]),
        ms(*times.last().expect("keystrokes"))
    );
    if let Some(rss) = rss {
        println!("server peak RSS: {rss:.0} MiB");
    }
}
