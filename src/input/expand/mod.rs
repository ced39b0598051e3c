//! Render stage (`--render`): the charts and kustomization roots the walk found -> the manifests
//! they build, through the user's own `helm template` and `kustomize build` (or `kubectl
//! kustomize`), offline. Nothing is fetched: a chart whose dependencies are remote and not
//! vendored, or a kustomization with a remote resource, is listed as not rendered (a finding with
//! `--strict-render`). A chart's `file://` dependencies are built into a temporary copy of the
//! chart, from the repository. A chart is rendered as chart-testing renders it: with its default
//! values and with each `ci/*-values.yaml`, each a variant of its own. No plugins, exec functions
//! or `--enable-helm`. A renderer that fails is an `EXT903` problem at its chart or kustomization,
//! and the root's own plain manifests are linted as written instead, so a render never checks less
//! than a plain run. Kustomize runs through a wrapper kustomization in a temporary folder that adds
//! origin annotations, so the user's files are never edited. The Flux and Argo CD releases among
//! the plain manifests are rendered too, each with its own inputs. Parts: `helm` (charts),
//! `overlay` (kustomize roots), `release` (releases).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::input::kustomize;
use crate::input::walk::{Input, Rendered, Tool, Walked};
use crate::progress::{Phase, Progress};
use crate::source::display_name;

mod helm;
mod overlay;
mod release;

use helm::helm;
use overlay::kustomize_build;
use release::releases;

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
    /// Options of single roots (`render.roots` in the config), by folder.
    pub roots: Vec<RootOptions>,
    /// `--strict-render`: a root that cannot be rendered offline is a finding too.
    pub strict: bool,
    /// The repository root that Flux and Argo CD releases' paths are relative to (the config file's
    /// folder); without it, the nearest folder above a release's file that holds `.git`.
    pub repository: Option<PathBuf>,
}

/// The renderer options of one chart or kustomization root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootOptions {
    /// The root's folder.
    pub dir: PathBuf,
    /// Helm: the release name, instead of the run's.
    pub release: Option<String>,
    /// Helm: the namespace, instead of the run's.
    pub namespace: Option<String>,
    /// Helm: values files, after the run's `helm.values` for the chart.
    pub values: Vec<PathBuf>,
    /// Helm: `--api-versions`, the APIs `.Capabilities` reports.
    pub api_versions: Vec<String>,
    /// Kustomize: `--load-restrictor` (`LoadRestrictionsNone` lets the root read files outside
    /// its folder).
    pub load_restrictor: Option<String>,
}

impl RenderOptions {
    /// The options of the root at `dir`, if the config gives it any.
    fn root(&self, dir: &Path) -> Option<&RootOptions> {
        let wanted = canonical(dir);
        self.roots.iter().find(|r| canonical(&r.dir) == wanted)
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| kustomize::normalize(p))
}

/// How the error of a root that could not be rendered offline at all starts.
pub const NOT_RENDERED: &str = "not rendered: ";

/// How long a renderer may run.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Renders every chart and kustomization root of `walked`, adding one reported input per render;
/// the withheld files of roots that failed go back to the reported inputs.
pub fn render_all(walked: &mut Walked, opts: &RenderOptions, progress: Option<&Progress>) {
    if let Some(p) = progress {
        p.start(
            Phase::Render,
            Some(walked.charts.len() + walked.kustomizations.len()),
        );
    }
    // Releases first: a chart or folder a release renders is deployed as the release says
    // (its values, namespace, prefix), so it is not rendered again on its own terms.
    let mut rendered = releases(walked, opts);
    let released: std::collections::BTreeSet<PathBuf> = rendered
        .iter()
        .filter_map(|i| match i {
            Input::Rendered(r) if r.error.is_none() => Some(canonical(&r.dir)),
            _ => None,
        })
        .collect();
    for (dir, root) in std::mem::take(&mut walked.charts) {
        if !released.contains(&canonical(&dir)) {
            rendered.extend(helm(&dir, root, opts, walked));
        }
        if let Some(p) = progress {
            p.add(1, 0);
        }
    }
    for (dir, root) in std::mem::take(&mut walked.kustomizations) {
        if !released.contains(&canonical(&dir)) {
            rendered.extend(kustomize_build(&dir, root, opts, walked));
        }
        if let Some(p) = progress {
            p.add(1, 0);
        }
    }
    let restored = fall_back(walked, &mut rendered);
    // Rendered inputs, and files linted because their root failed, are reported on: they go
    // before the context inputs.
    let at = walked.reported;
    let n = rendered.len() + restored.len();
    walked
        .inputs
        .splice(at..at, rendered.into_iter().chain(restored));
    walked.reported += n;
}

/// The withheld files whose roots all failed (or were not rendered), counted on each failed
/// render of those roots.
fn fall_back(walked: &mut Walked, rendered: &mut [Input]) -> Vec<Input> {
    let ok: std::collections::BTreeSet<PathBuf> = rendered
        .iter()
        .filter_map(|i| match i {
            Input::Rendered(r) if r.error.is_none() => Some(canonical(&r.dir)),
            _ => None,
        })
        .collect();
    let mut restored = Vec::new();
    let mut per_root: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for w in std::mem::take(&mut walked.withheld) {
        let roots: Vec<PathBuf> = w.roots.iter().map(|r| canonical(r)).collect();
        if roots.iter().any(|r| ok.contains(r)) {
            continue;
        }
        for r in roots {
            *per_root.entry(r).or_default() += 1;
        }
        restored.push(w.input);
    }
    for i in rendered.iter_mut() {
        if let Input::Rendered(r) = i
            && r.error.is_some()
        {
            r.fallback = per_root.get(&canonical(&r.dir)).copied().unwrap_or(0);
        }
    }
    if !restored.is_empty() {
        walked.notices.push(format!(
            "linted {} file{} as written because the chart or kustomization that reads {} could not be rendered",
            restored.len(),
            if restored.len() == 1 { "" } else { "s" },
            if restored.len() == 1 { "it" } else { "them" }
        ));
    }
    restored
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

/// `kustomize build DIR`, or `kubectl kustomize DIR` where there is no `kustomize`: the command
/// and the program's name and subcommand, for messages.
fn kustomize_command(dir: &Path) -> (Command, &'static str, &'static str) {
    let (program, sub) = if on_path("kustomize") {
        ("kustomize", "build")
    } else {
        ("kubectl", "kustomize")
    };
    let mut cmd = Command::new(program);
    cmd.arg(sub).arg(dir);
    (cmd, program, sub)
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

impl Scratch {
    /// A scratch folder for rendering `name`, or `None` with a notice that says why not.
    fn or_notice(what: &str, walked: &mut Walked, name: &str) -> Option<Self> {
        Scratch::new(what)
            .map_err(|e| walked.notices.push(format!("cannot render {name}: {e}")))
            .ok()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one renderer run gave.
struct Run<'a> {
    tool: Tool,
    dir: &'a Path,
    file: PathBuf,
    root: usize,
    result: Result<Vec<u8>, String>,
    base: PathBuf,
    variant: Option<String>,
    dependencies: Vec<(String, PathBuf)>,
    command: String,
}

fn input(run: Run<'_>) -> Input {
    rendered(run, None, 0)
}

/// A render's input, as the cluster `cluster` when it is not named after its folder, with a
/// failure reported at `offset` of its file.
fn rendered(run: Run<'_>, cluster: Option<String>, offset: usize) -> Input {
    let label = label(
        run.tool,
        run.dir,
        run.variant.as_deref(),
        cluster.as_deref(),
    );
    let (bytes, error) = match run.result {
        Ok(b) => (Arc::from(b), None),
        Err(e) => (Arc::from(Vec::new()), Some(e)),
    };
    Input::Rendered(Box::new(Rendered {
        tool: run.tool,
        label,
        dir: run.dir.to_path_buf(),
        file: run.file,
        base: run.base,
        root: run.root,
        bytes,
        error,
        variant: run.variant,
        dependencies: run.dependencies,
        fallback: 0,
        command: run.command,
        cluster,
        offset,
        values: Vec::new(),
        namespace: None,
    }))
}

/// The name reports give a render's output: `helm template charts/web (values
/// ci/edge-values.yaml)`, `kustomize build apps/web for Kustomization flux-system/apps`.
#[must_use]
pub fn label(tool: Tool, dir: &Path, variant: Option<&str>, release: Option<&str>) -> String {
    let mut label = format!(
        "{} {}",
        match tool {
            Tool::Helm => "helm template",
            Tool::Kustomize => "kustomize build",
        },
        display_name(dir)
    );
    if let Some(v) = variant {
        let _ = write!(label, " (values {v})");
    }
    if let Some(c) = release {
        let _ = write!(label, " for {c}");
    }
    label
}

/// `input` with the files its values come from.
fn with_values(mut input: Input, values: Vec<PathBuf>) -> Input {
    if let Input::Rendered(r) = &mut input {
        r.values = values;
    }
    input
}

/// `input` with the namespace its objects that name none go to.
fn in_namespace(mut input: Input, namespace: Option<&str>) -> Input {
    if let Input::Rendered(r) = &mut input {
        r.namespace = namespace.map(str::to_string);
    }
    input
}

/// A root that cannot be rendered offline: listed in the summary, or with `--strict-render` a
/// failed render of its own.
fn unrendered(
    walked: &mut Walked,
    opts: &RenderOptions,
    tool: Tool,
    dir: &Path,
    root: usize,
    file: PathBuf,
    why: &str,
) -> Option<Input> {
    let name = match tool {
        Tool::Helm => format!("chart `{}`", display_name(dir)),
        Tool::Kustomize => format!("kustomization `{}`", display_name(dir)),
    };
    walked.unrendered.push((name, why.to_string()));
    opts.strict.then(|| {
        input(Run {
            tool,
            dir,
            file,
            root,
            result: Err(format!("{NOT_RENDERED}{why}")),
            base: dir.to_path_buf(),
            variant: None,
            dependencies: Vec::new(),
            command: match tool {
                Tool::Helm => format!("helm dependency build {}", display_name(dir)),
                Tool::Kustomize => format!("kustomize build {}", display_name(dir)),
            },
        })
    })
}

/// A renderer's error with the temporary folders it names replaced by the folders they stand
/// for, and absolute paths below the working directory made relative.
fn tidy(error: &str, replace: &[(&Path, &Path)]) -> String {
    let mut out = error.to_string();
    // The longest first: a relative path can hold an absolute one.
    let mut pairs: Vec<(String, String)> = replace
        .iter()
        .flat_map(|(from, to)| {
            let to = display_name(to);
            [from.to_path_buf(), canonical(from)]
                .map(|f| (f.to_string_lossy().into_owned(), to.clone()))
        })
        .filter(|(f, _)| !f.is_empty())
        .collect();
    pairs.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
    for (from, to) in pairs {
        out = out.replace(&from, &to);
    }
    if let Ok(cwd) = std::env::current_dir() {
        for c in [cwd.clone(), canonical(&cwd)] {
            let c = format!("{}/", c.to_string_lossy());
            out = out.replace(&c, "");
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
