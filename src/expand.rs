//! Render stage (`--render`): the charts and kustomization roots the walk found -> the manifests
//! they build, through the user's own `helm template` and `kustomize build` (or `kubectl
//! kustomize`), offline. Nothing is fetched: a chart whose dependencies are not vendored, or a
//! kustomization with a remote resource, is a notice. No plugins, exec functions or
//! `--enable-helm`. A renderer that fails is a problem at its chart or kustomization; the run
//! goes on. Kustomize runs through a wrapper kustomization in a temporary folder that adds
//! origin annotations, so the user's files are never edited.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::kustomize;
use crate::progress::{Phase, Progress};
use crate::source::display_name;
use crate::walk::{Input, Rendered, Tool, Walked};

/// What rendering needs to know.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// `helm template`'s release name.
    pub release: String,
    pub namespace: String,
    /// `--kube-version` for helm's `.Capabilities`.
    pub kube_version: String,
    /// Values files by chart folder.
    pub values: Vec<(PathBuf, Vec<PathBuf>)>,
}

/// How long a renderer may run.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Renders every chart and kustomization root of `walked`, adding one reported input each.
pub fn render_all(walked: &mut Walked, opts: &RenderOptions, progress: Option<&Progress>) {
    let mut rendered = Vec::new();
    if let Some(p) = progress {
        p.start(
            Phase::Render,
            Some(walked.charts.len() + walked.kustomizations.len()),
        );
    }
    for (dir, root) in std::mem::take(&mut walked.charts) {
        if let Some(r) = helm(&dir, root, opts, &mut walked.notices) {
            rendered.push(r);
        }
        if let Some(p) = progress {
            p.add(1, 0);
        }
    }
    for (dir, root) in std::mem::take(&mut walked.kustomizations) {
        if let Some(r) = kustomize_build(&dir, root, &mut walked.notices) {
            rendered.push(r);
        }
        if let Some(p) = progress {
            p.add(1, 0);
        }
    }
    // Rendered inputs are reported on: they go before the context inputs.
    let at = walked.reported;
    let n = rendered.len();
    walked.inputs.splice(at..at, rendered);
    walked.reported += n;
}

/// The output of a renderer run, or why it failed.
fn run(mut cmd: Command, what: &str) -> Result<Vec<u8>, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e} (is it installed and on PATH?)"))?;
    let mut stdout = child.stdout.take().expect("BUG: piped stdout");
    let mut stderr = child.stderr.take().expect("BUG: piped stderr");
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut b);
        b
    });
    let started = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{what} did not finish within {} s",
                TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if status.success() {
        Ok(out)
    } else {
        let text = String::from_utf8_lossy(&err);
        Err(text.trim().to_string())
    }
}

/// A temporary folder for one renderer run, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "extip-lint-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn input(
    tool: Tool,
    dir: &Path,
    file: PathBuf,
    root: usize,
    result: Result<Vec<u8>, String>,
    base: PathBuf,
) -> Input {
    let label = format!(
        "{} {}",
        match tool {
            Tool::Helm => "helm template",
            Tool::Kustomize => "kustomize build",
        },
        display_name(dir)
    );
    let (bytes, error) = match result {
        Ok(b) => (Arc::from(b), None),
        Err(e) => (Arc::from(Vec::new()), Some(e)),
    };
    Input::Rendered(Box::new(Rendered {
        tool,
        label,
        dir: dir.to_path_buf(),
        file,
        base,
        root,
        bytes,
        error,
    }))
}

fn helm(dir: &Path, root: usize, opts: &RenderOptions, notices: &mut Vec<String>) -> Option<Input> {
    let chart_file = dir.join("Chart.yaml");
    let scratch = match Scratch::new("helm") {
        Ok(s) => s,
        Err(e) => {
            notices.push(format!("cannot render chart `{}`: {e}", display_name(dir)));
            return None;
        }
    };
    let mut cmd = Command::new("helm");
    // Helm's own state goes to an empty scratch folder: no plugins, repositories or registry
    // logins of the user's are used, and nothing is cached.
    for var in [
        "HELM_CACHE_HOME",
        "HELM_CONFIG_HOME",
        "HELM_DATA_HOME",
        "HELM_PLUGINS",
    ] {
        cmd.env(var, scratch.0.join(var));
    }
    cmd.env("HELM_REGISTRY_CONFIG", scratch.0.join("registry.json"))
        .env(
            "HELM_REPOSITORY_CONFIG",
            scratch.0.join("repositories.yaml"),
        )
        .arg("template")
        .arg(&opts.release)
        .arg(dir)
        .args(["--namespace", &opts.namespace])
        .args(["--kube-version", &opts.kube_version]);
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for (chart, files) in &opts.values {
        if std::fs::canonicalize(chart).unwrap_or_else(|_| chart.clone()) == canonical {
            for f in files {
                cmd.arg("--values").arg(f);
            }
        }
    }
    match run(cmd, "helm") {
        Err(e) if e.contains("missing in charts/ directory") || e.contains("dependencies") => {
            notices.push(format!(
                "chart `{}` was not rendered: its dependencies are not vendored under `charts/` (extip-lint fetches nothing; `helm dependency build` does): {}",
                display_name(dir),
                one_line(&e)
            ));
            None
        }
        result => Some(input(
            Tool::Helm,
            dir,
            chart_file,
            root,
            result,
            dir.to_path_buf(),
        )),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The remote resources anywhere in the kustomization tree under `dir`.
fn remote_resources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(d) = stack.pop() {
        let Some(file) = kustomize::file_in(&d) else {
            continue;
        };
        if !seen.insert(kustomize::normalize(&file)) {
            continue;
        }
        if let Ok(k) = kustomize::read(&file) {
            out.extend(k.remote.iter().cloned());
            stack.extend(k.uses.iter().filter(|u| u.is_dir()).cloned());
        }
    }
    out
}

fn kustomize_build(dir: &Path, root: usize, notices: &mut Vec<String>) -> Option<Input> {
    let file = kustomize::file_in(dir).unwrap_or_else(|| dir.join("kustomization.yaml"));
    let remote = remote_resources(dir);
    if !remote.is_empty() {
        notices.push(format!(
            "kustomization `{}` was not rendered: it uses remote resources ({}), and extip-lint fetches nothing",
            display_name(dir),
            remote.join(", ")
        ));
        return None;
    }
    let scratch = match Scratch::new("kustomize") {
        Ok(s) => s,
        Err(e) => {
            notices.push(format!("cannot render `{}`: {e}", display_name(dir)));
            return None;
        }
    };
    // The wrapper: the root as its one resource (a folder, so the root keeps its own load
    // restrictions), with origin and transformer annotations.
    let target = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let wrapper_dir = std::fs::canonicalize(&scratch.0).unwrap_or_else(|_| scratch.0.clone());
    let relative = relative_path(&wrapper_dir, &target);
    let wrapper = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        serde_json::to_string(&relative.to_string_lossy()).unwrap_or_default()
    );
    if let Err(e) = std::fs::write(wrapper_dir.join("kustomization.yaml"), wrapper) {
        notices.push(format!("cannot render `{}`: {e}", display_name(dir)));
        return None;
    }
    let (program, sub) = if on_path("kustomize") {
        ("kustomize", "build")
    } else {
        ("kubectl", "kustomize")
    };
    let mut cmd = Command::new(program);
    cmd.arg(sub).arg(&wrapper_dir);
    let result = run(cmd, program);
    Some(input(Tool::Kustomize, dir, file, root, result, wrapper_dir))
}

/// Whether `program` is on `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// The path from folder `from` to `to`, both absolute.
#[must_use]
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    out
}
