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
//! origin annotations, so the user's files are never edited.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::chart::{self, Repository};
use crate::gitops::{self, Target};
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
    let mut rendered = Vec::new();
    if let Some(p) = progress {
        p.start(
            Phase::Render,
            Some(walked.charts.len() + walked.kustomizations.len()),
        );
    }
    for (dir, root) in std::mem::take(&mut walked.charts) {
        rendered.extend(helm(&dir, root, opts, walked));
        if let Some(p) = progress {
            p.add(1, 0);
        }
    }
    for (dir, root) in std::mem::take(&mut walked.kustomizations) {
        rendered.extend(kustomize_build(&dir, root, opts, walked));
        if let Some(p) = progress {
            p.add(1, 0);
        }
    }
    rendered.extend(releases(walked, opts));
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

/// A chart folder ready for `helm template`: the chart itself, or a temporary copy with its
/// `file://` dependencies built in.
struct Prepared {
    dir: PathBuf,
    /// `charts/<name>` prefixes of the output's source paths -> the folders they come from.
    dependencies: Vec<(String, PathBuf)>,
    /// Keeps the copy until the renders are done.
    _scratch: Option<Scratch>,
}

/// How many levels of `file://` dependencies are followed.
const MAX_DEPENDENCY_DEPTH: usize = 8;

/// Prepares chart `dir`: `Err` names the remote dependencies that are not vendored.
fn prepare(dir: &Path) -> Result<Prepared, String> {
    let mut remote = Vec::new();
    let mut local = Vec::new();
    missing_dependencies(dir, "", 0, &mut remote, &mut local);
    if !remote.is_empty() {
        return Err(format!(
            "its dependencies are not vendored under `charts/` ({}), and extip-lint fetches nothing (`helm dependency build` does)",
            remote.join(", ")
        ));
    }
    if local.is_empty() {
        return Ok(Prepared {
            dir: dir.to_path_buf(),
            dependencies: Vec::new(),
            _scratch: None,
        });
    }
    let scratch = Scratch::new("chart").map_err(|e| format!("cannot copy the chart: {e}"))?;
    let name = dir
        .file_name()
        .map_or_else(|| "chart".into(), std::ffi::OsStr::to_os_string);
    let copy = scratch.0.join(name);
    copy_dir(dir, &copy, 0).map_err(|e| format!("cannot copy the chart: {e}"))?;
    let mut dependencies = Vec::new();
    for (prefix, from) in local {
        let to = copy.join(&prefix);
        copy_dir(&from, &to, 0)
            .map_err(|e| format!("cannot copy dependency `{}`: {e}", display_name(&from)))?;
        dependencies.push((prefix, from));
    }
    Ok(Prepared {
        dir: copy,
        dependencies,
        _scratch: Some(scratch),
    })
}

/// The dependencies of chart `dir` (at `prefix` in the chart being rendered) that are not
/// vendored: remote ones by name and source, `file://` ones with the `charts/...` prefix they
/// take in the copy, and theirs in turn.
fn missing_dependencies(
    dir: &Path,
    prefix: &str,
    depth: usize,
    remote: &mut Vec<String>,
    local: &mut Vec<(String, PathBuf)>,
) {
    let Some(c) = chart::read(dir) else { return };
    for d in c.dependencies {
        if chart::vendored(dir, &d.name) {
            continue;
        }
        match d.repository {
            Repository::Remote(r) => remote.push(format!("`{}` from `{r}`", d.name)),
            Repository::Local(from) if depth < MAX_DEPENDENCY_DEPTH && from.is_dir() => {
                let at = format!("{prefix}charts/{}", d.name);
                missing_dependencies(&from, &format!("{at}/"), depth + 1, remote, local);
                local.push((at, from));
            }
            // Missing or too deep: helm says what is wrong.
            Repository::Local(_) | Repository::None => {}
        }
    }
}

/// Copies folder `from` to `to`, regular files and folders only (symbolic links are followed, as
/// helm follows them, to a bounded depth); a dependency's own `charts/` comes along.
fn copy_dir(from: &Path, to: &Path, depth: usize) -> std::io::Result<()> {
    if depth > 32 {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name == ".git" {
            continue;
        }
        let src = e.path();
        let meta = std::fs::metadata(&src)?;
        if meta.is_dir() {
            copy_dir(&src, &to.join(&name), depth + 1)?;
        } else if meta.is_file() {
            std::fs::copy(&src, to.join(&name))?;
        }
    }
    Ok(())
}

/// Renders chart `dir`: with its default values, and with each `ci/*-values.yaml`.
fn helm(dir: &Path, root: usize, opts: &RenderOptions, walked: &mut Walked) -> Vec<Input> {
    let chart_file = dir.join("Chart.yaml");
    let prepared = match prepare(dir) {
        Ok(p) => p,
        Err(why) => {
            return unrendered(walked, opts, Tool::Helm, dir, root, chart_file, &why)
                .into_iter()
                .collect();
        }
    };
    let own = opts.root(dir);
    let mut values: Vec<PathBuf> = Vec::new();
    let canonical_dir = canonical(dir);
    for (chart, files) in &opts.values {
        if canonical(chart) == canonical_dir {
            values.extend(files.iter().cloned());
        }
    }
    if let Some(o) = own {
        values.extend(o.values.iter().cloned());
    }
    let variants: Vec<Option<PathBuf>> = std::iter::once(None)
        .chain(chart::ci_values(dir).into_iter().map(Some))
        .collect();
    let mut out = Vec::new();
    for variant in &variants {
        let mut files = values.clone();
        files.extend(variant.iter().cloned());
        let release = own
            .and_then(|o| o.release.as_deref())
            .unwrap_or(&opts.release);
        let namespace = own
            .and_then(|o| o.namespace.as_deref())
            .unwrap_or(&opts.namespace);
        let api_versions: &[String] = own.map_or(&[], |o| &o.api_versions);
        let (cmd, scratch) = match helm_command(
            &prepared.dir,
            release,
            namespace,
            opts,
            &files,
            api_versions,
        ) {
            Ok(c) => c,
            Err(e) => {
                walked
                    .notices
                    .push(format!("cannot render chart `{}`: {e}", display_name(dir)));
                return out;
            }
        };
        let mut command = format!(
            "helm template {release} {} --namespace {namespace} --kube-version {}",
            display_name(dir),
            opts.kube_version
        );
        for f in &files {
            let _ = write!(command, " --values {}", display_name(f));
        }
        for a in api_versions {
            let _ = write!(command, " --api-versions {a}");
        }
        if !prepared.dependencies.is_empty() {
            command = format!("helm dependency build {} && {command}", display_name(dir));
        }
        let result = run(cmd, "helm")
            .map(|out| stable_names(out, dir, &prepared.dependencies))
            .map_err(|e| chart_paths(&tidy(&e, &[(&prepared.dir, dir)]), dir));
        drop(scratch);
        if let Err(e) = &result
            && (e.contains("missing in charts/ directory")
                || e.contains("found in Chart.yaml, but missing"))
        {
            let why = format!(
                "its dependencies are not vendored under `charts/` (extip-lint fetches nothing; `helm dependency build` does): {}",
                one_line(e)
            );
            return unrendered(walked, opts, Tool::Helm, dir, root, chart_file, &why)
                .into_iter()
                .collect();
        }
        let mut sources = vec![dir.join("values.yaml")];
        sources.extend(files.iter().cloned());
        out.push(with_values(
            input(Run {
                tool: Tool::Helm,
                dir,
                file: chart_file.clone(),
                root,
                result,
                base: dir.to_path_buf(),
                variant: variant.as_ref().map(|v| crate::source::relative_to(v, dir)),
                dependencies: prepared.dependencies.clone(),
                command,
            }),
            sources,
        ));
    }
    // Chart-testing renders a chart that has `ci/` values with those only: defaults that fail
    // there (a `required` value) are a notice when a CI variant renders.
    let ci_ok = out
        .iter()
        .skip(1)
        .any(|i| matches!(i, Input::Rendered(r) if r.error.is_none()));
    if ci_ok && matches!(out.first(), Some(Input::Rendered(r)) if r.error.is_some()) {
        out.remove(0);
        walked.notices.push(format!(
            "chart `{}` does not render with its default values alone; it was checked with its `ci/*-values.yaml`, as chart-testing checks it",
            display_name(dir)
        ));
    }
    out
}

/// The `helm template` command for chart folder `dir`, with helm's own state in a scratch folder.
fn helm_command(
    dir: &Path,
    release: &str,
    namespace: &str,
    opts: &RenderOptions,
    values: &[PathBuf],
    api_versions: &[String],
) -> std::io::Result<(Command, Scratch)> {
    let scratch = Scratch::new("helm")?;
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
        .arg(release)
        .arg(dir)
        .args(["--namespace", namespace])
        .args(["--kube-version", &opts.kube_version]);
    for f in values {
        cmd.arg("--values").arg(f);
    }
    for a in api_versions {
        cmd.args(["--api-versions", a]);
    }
    Ok((cmd, scratch))
}

/// A helm error with the template paths it names (`web/templates/svc.yaml:3:5`, by the chart's
/// name) written from the repository (`charts/web/templates/svc.yaml:3:5`).
fn chart_paths(error: &str, dir: &Path) -> String {
    let Some(name) = chart::read(dir).map(|c| c.name).filter(|n| !n.is_empty()) else {
        return error.to_string();
    };
    let shown = display_name(dir);
    let mut out = error.to_string();
    for lead in ["(", "template: ", "\""] {
        out = out.replace(&format!("{lead}{name}/"), &format!("{lead}{shown}/"));
    }
    out
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

fn kustomize_build(
    dir: &Path,
    root: usize,
    opts: &RenderOptions,
    walked: &mut Walked,
) -> Option<Input> {
    let file = kustomize::file_in(dir).unwrap_or_else(|| dir.join("kustomization.yaml"));
    let remote = remote_resources(dir);
    if !remote.is_empty() {
        let why = format!(
            "it uses remote resources ({}), and extip-lint fetches nothing",
            remote.join(", ")
        );
        return unrendered(walked, opts, Tool::Kustomize, dir, root, file, &why);
    }
    let scratch = match Scratch::new("kustomize") {
        Ok(s) => s,
        Err(e) => {
            walked
                .notices
                .push(format!("cannot render `{}`: {e}", display_name(dir)));
            return None;
        }
    };
    // The wrapper: the root as its one resource (a folder, so the root keeps its own load
    // restrictions), with origin and transformer annotations.
    let target = canonical(dir);
    let wrapper_dir = std::fs::canonicalize(&scratch.0).unwrap_or_else(|_| scratch.0.clone());
    let relative = relative_path(&wrapper_dir, &target);
    let wrapper = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        serde_json::to_string(&relative.to_string_lossy()).unwrap_or_default()
    );
    if let Err(e) = std::fs::write(wrapper_dir.join("kustomization.yaml"), wrapper) {
        walked
            .notices
            .push(format!("cannot render `{}`: {e}", display_name(dir)));
        return None;
    }
    let (program, sub) = if on_path("kustomize") {
        ("kustomize", "build")
    } else {
        ("kubectl", "kustomize")
    };
    let mut cmd = Command::new(program);
    cmd.arg(sub).arg(&wrapper_dir);
    let mut command = format!("{program} {sub} {}", display_name(dir));
    if let Some(r) = opts.root(dir).and_then(|o| o.load_restrictor.as_deref()) {
        cmd.args(["--load-restrictor", r]);
        let _ = write!(command, " --load-restrictor {r}");
    }
    let result = run(cmd, program).map_err(|e| {
        tidy(
            &e,
            &[
                (&target, dir),
                (&relative, dir),
                (&wrapper_dir, Path::new(".")),
            ],
        )
    });
    Some(input(Run {
        tool: Tool::Kustomize,
        dir,
        file,
        root,
        result,
        base: wrapper_dir,
        variant: None,
        dependencies: Vec::new(),
        command,
    }))
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

/// Renders the Flux and Argo CD releases declared in the plain manifests of `walked`, each with exactly
/// its own inputs and as a cluster of its own.
fn releases(walked: &mut Walked, opts: &RenderOptions) -> Vec<Input> {
    // Releases are in plain manifests: those read as they are, and those a kustomization lists
    // (a Flux cluster folder's kustomization lists its releases).
    let files: Vec<PathBuf> = walked.inputs[..walked.reported.min(walked.inputs.len())]
        .iter()
        .chain(walked.withheld.iter().map(|w| &w.input))
        .filter_map(|i| match i {
            Input::File {
                path,
                role: crate::walk::Role::Manifest,
                ..
            } => Some(path.clone()),
            _ => None,
        })
        .collect();
    let root_of = |file: &Path| -> PathBuf {
        opts.repository
            .clone()
            .or_else(|| gitops::repository_root(file))
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let found = gitops::find(&files, &root_of);
    let mut out = Vec::new();
    for r in found {
        let root = walked
            .inputs
            .iter()
            .chain(walked.withheld.iter().map(|w| &w.input))
            .find_map(|i| match i {
                Input::File { path, root, .. } if *path == r.file => Some(*root),
                _ => None,
            })
            .unwrap_or(0);
        match &r.target {
            Target::Plain(dir) => walked.notices.push(format!(
                "{}: its source `{}` is a folder of plain manifests, linted as written",
                r.name,
                display_name(dir)
            )),
            Target::Unrendered(why) => {
                walked.unrendered.push((r.name.clone(), why.clone()));
                if opts.strict {
                    out.push(rendered(
                        Run {
                            tool: Tool::Helm,
                            dir: r.file.parent().unwrap_or(Path::new(".")),
                            file: r.file.clone(),
                            root,
                            result: Err(format!("{NOT_RENDERED}{why}")),
                            base: PathBuf::from("."),
                            variant: None,
                            dependencies: Vec::new(),
                            command: format!("flux or argocd, which fetch what {} names", r.name),
                        },
                        Some(r.name.clone()),
                        r.offset,
                    ));
                }
            }
            Target::Chart { .. } => {
                if let Some(i) = release_chart(&r, root, opts, walked) {
                    out.push(i);
                }
            }
            Target::Kustomize { .. } => {
                if let Some(i) = release_kustomization(&r, root, walked) {
                    out.push(i);
                }
            }
        }
    }
    out
}

fn release_chart(
    r: &gitops::Release,
    root: usize,
    opts: &RenderOptions,
    walked: &mut Walked,
) -> Option<Input> {
    let Target::Chart {
        dir,
        release,
        namespace,
        value_files,
        values,
        set,
        sources: value_sources,
    } = &r.target
    else {
        return None;
    };
    let prepared = match prepare(dir) {
        Ok(p) => p,
        Err(why) => {
            walked.unrendered.push((r.name.clone(), why));
            return None;
        }
    };
    let scratch = match Scratch::new("values") {
        Ok(s) => s,
        Err(e) => {
            walked
                .notices
                .push(format!("cannot render {}: {e}", r.name));
            return None;
        }
    };
    let mut files = value_files.clone();
    for (n, v) in values.iter().enumerate() {
        let f = scratch.0.join(format!("values-{n}.json"));
        if std::fs::write(&f, v.to_string()).is_err() {
            walked
                .notices
                .push(format!("cannot render {}: cannot write its values", r.name));
            return None;
        }
        files.push(f);
    }
    let namespace = namespace.as_deref().unwrap_or(&opts.namespace);
    let (mut cmd, helm_scratch) =
        match helm_command(&prepared.dir, release, namespace, opts, &files, &[]) {
            Ok(c) => c,
            Err(e) => {
                walked
                    .notices
                    .push(format!("cannot render {}: {e}", r.name));
                return None;
            }
        };
    for (s, string) in set {
        cmd.args([if *string { "--set-string" } else { "--set" }, s]);
    }
    let mut command = format!(
        "helm template {release} {} --namespace {namespace} --kube-version {}",
        display_name(dir),
        opts.kube_version
    );
    for f in value_files {
        let _ = write!(command, " --values {}", display_name(f));
    }
    if !values.is_empty() {
        let _ = write!(command, " --values <the values {} gives>", r.name);
    }
    for (s, string) in set {
        let _ = write!(
            command,
            " {} {s}",
            if *string { "--set-string" } else { "--set" }
        );
    }
    let result = run(cmd, "helm")
        .map(|out| stable_names(out, dir, &prepared.dependencies))
        .map_err(|e| {
            let e = tidy(
                &e,
                &[
                    (&prepared.dir, dir.as_path()),
                    (&scratch.0, Path::new("values")),
                ],
            );
            chart_paths(&e, dir)
        });
    drop(helm_scratch);
    let mut sources = vec![dir.join("values.yaml")];
    sources.extend(value_files.iter().cloned());
    sources.extend(value_sources.iter().cloned());
    // Inline values and parameters are written in the release's own file.
    sources.push(r.file.clone());
    Some(with_values(
        rendered(
            Run {
                tool: Tool::Helm,
                dir,
                file: r.file.clone(),
                root,
                result,
                base: dir.clone(),
                variant: None,
                dependencies: prepared.dependencies.clone(),
                command,
            },
            Some(r.name.clone()),
            r.offset,
        ),
        sources,
    ))
}

fn release_kustomization(r: &gitops::Release, root: usize, walked: &mut Walked) -> Option<Input> {
    let Target::Kustomize {
        dir,
        namespace,
        name_prefix,
        name_suffix,
        patches,
    } = &r.target
    else {
        return None;
    };
    let scratch = match Scratch::new("kustomize") {
        Ok(s) => s,
        Err(e) => {
            walked
                .notices
                .push(format!("cannot render {}: {e}", r.name));
            return None;
        }
    };
    let wrapper_dir = std::fs::canonicalize(&scratch.0).unwrap_or_else(|_| scratch.0.clone());
    let target = canonical(dir);
    // A folder without a kustomization is built as Flux builds it: every manifest in it.
    let resources: Vec<PathBuf> = if kustomize::file_in(dir).is_some() {
        vec![relative_path(&wrapper_dir, &target)]
    } else {
        manifests_in(&target)
            .iter()
            .map(|f| relative_path(&wrapper_dir, f))
            .collect()
    };
    let mut wrapper = serde_json::Map::new();
    wrapper.insert(
        "apiVersion".into(),
        "kustomize.config.k8s.io/v1beta1".into(),
    );
    wrapper.insert("kind".into(), "Kustomization".into());
    wrapper.insert(
        "resources".into(),
        resources
            .iter()
            .map(|p| serde_json::Value::String(p.to_string_lossy().into_owned()))
            .collect(),
    );
    if let Some(ns) = namespace {
        wrapper.insert("namespace".into(), ns.clone().into());
    }
    if let Some(p) = name_prefix {
        wrapper.insert("namePrefix".into(), p.clone().into());
    }
    if let Some(p) = name_suffix {
        wrapper.insert("nameSuffix".into(), p.clone().into());
    }
    if !patches.is_empty() {
        wrapper.insert("patches".into(), serde_json::Value::Array(patches.clone()));
    }
    wrapper.insert(
        "buildMetadata".into(),
        serde_json::json!(["originAnnotations", "transformerAnnotations"]),
    );
    if std::fs::write(
        wrapper_dir.join("kustomization.yaml"),
        serde_json::Value::Object(wrapper).to_string(),
    )
    .is_err()
    {
        walked.notices.push(format!(
            "cannot render {}: cannot write its wrapper",
            r.name
        ));
        return None;
    }
    let (program, sub) = if on_path("kustomize") {
        ("kustomize", "build")
    } else {
        ("kubectl", "kustomize")
    };
    let mut cmd = Command::new(program);
    cmd.arg(sub).arg(&wrapper_dir);
    let relative = relative_path(&wrapper_dir, &target);
    let result = run(cmd, program).map_err(|e| {
        tidy(
            &e,
            &[
                (&target, dir.as_path()),
                (&relative, dir.as_path()),
                (&wrapper_dir, Path::new(".")),
            ],
        )
    });
    Some(rendered(
        Run {
            tool: Tool::Kustomize,
            dir,
            file: r.file.clone(),
            root,
            result,
            base: wrapper_dir,
            variant: None,
            dependencies: Vec::new(),
            command: format!("{program} {sub} {}", display_name(dir)),
        },
        Some(r.name.clone()),
        r.offset,
    ))
}

/// The manifests of a folder without a kustomization, as Flux's generator takes them: the YAML
/// files, and the subfolders that have a kustomization (not looked into), sorted.
fn manifests_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            if kustomize::file_in(&p).is_some() {
                out.push(p);
            } else {
                out.extend(manifests_in(&p));
            }
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(p);
        }
    }
    out
}

/// The template functions that make a name different on every render.
const RANDOM: &[&str] = &[
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "randInt",
    "uuidv4",
    "now",
    "date",
];

/// Helm output with the names that templates generate at random (`randAlphaNum`, `uuidv4`,
/// `now` in `metadata.name`) replaced by a name made of the object's kind and template, so the
/// same chart gives the same report on every run. `dependencies` maps `charts/<name>` of the
/// output's `# Source:` paths to folders outside the chart.
fn stable_names(out: Vec<u8>, chart: &Path, dependencies: &[(String, PathBuf)]) -> Vec<u8> {
    let text = match String::from_utf8(out) {
        Ok(t) if t.contains("# Source:") => t,
        Ok(t) => return t.into_bytes(),
        Err(e) => return e.into_bytes(),
    };
    let mut templates: BTreeMap<String, bool> = BTreeMap::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut result = String::with_capacity(text.len());
    for doc in text.split_inclusive("\n---\n") {
        let Some(source) = doc
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .map(str::trim)
        else {
            result.push_str(doc);
            continue;
        };
        let generated = *templates.entry(source.to_string()).or_insert_with(|| {
            let Some((_, rest)) = source.split_once('/') else {
                return false;
            };
            let file = dependencies
                .iter()
                .filter(|(p, _)| {
                    rest.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                })
                .max_by_key(|(p, _)| p.len())
                .map_or_else(|| chart.join(rest), |(p, d)| d.join(&rest[p.len() + 1..]));
            crate::source::read_regular_text(&file, crate::source::DEFAULT_MAX_FILE_SIZE).is_ok_and(
                |t| {
                    metadata_name_lines(&t).iter().any(|l| {
                        l.split(|c: char| !c.is_ascii_alphanumeric())
                            .any(|word| RANDOM.contains(&word))
                    })
                },
            )
        });
        let line = if generated {
            metadata_name_lines(doc).first().copied()
        } else {
            None
        };
        let Some(line) = line else {
            result.push_str(doc);
            continue;
        };
        let kind = doc
            .lines()
            .find_map(|l| l.strip_prefix("kind:"))
            .map(|k| k.trim().trim_matches(['"', '\'']).to_lowercase())
            .unwrap_or_default();
        let n = seen.entry((source.to_string(), kind.clone())).or_default();
        let stem = source
            .split_once('/')
            .map_or(source, |(_, r)| r)
            .trim_end_matches(".yaml")
            .trim_end_matches(".yml")
            .replace(['/', '_', '.'], "-")
            .to_lowercase();
        let name = if *n == 0 {
            format!("generated-{kind}-{stem}")
        } else {
            format!("generated-{kind}-{stem}-{n}")
        };
        *n += 1;
        let indent = line.len() - line.trim_start().len();
        let replaced = format!("{}name: {name}", " ".repeat(indent));
        result.push_str(&doc.replacen(line, &replaced, 1));
    }
    result.into_bytes()
}

/// The `name:` lines directly under a top-level `metadata:` of a document or template.
fn metadata_name_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_metadata = false;
    let mut child_indent = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("{{") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            in_metadata = trimmed.starts_with("metadata:");
            child_indent = None;
            continue;
        }
        if in_metadata {
            let ci = *child_indent.get_or_insert(indent);
            if indent == ci && trimmed.starts_with("name:") {
                out.push(line);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names_are_replaced_by_kind_and_template() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
        std::fs::write(
            dir.join("templates/job.yaml"),
            "kind: Job\nmetadata:\n  name: {{ .Release.Name }}-{{ randAlphaNum 5 }}\n  labels: {a: b}\n",
        )
        .expect("write");
        std::fs::write(
            dir.join("templates/svc.yaml"),
            "kind: Service\nmetadata:\n  name: {{ .Release.Name }}-unknown\n",
        )
        .expect("write");
        let out = "---\n# Source: c/templates/job.yaml\nkind: Job\nmetadata:\n  name: r-x8k2p\n  labels: {a: b}\n---\n# Source: c/templates/svc.yaml\nkind: Service\nmetadata:\n  name: r-unknown\n";
        let stable =
            String::from_utf8(stable_names(out.as_bytes().to_vec(), &dir, &[])).expect("utf-8");
        assert!(
            stable.contains("  name: generated-job-templates-job\n"),
            "{stable}"
        );
        assert!(stable.contains("  name: r-unknown\n"), "{stable}");
    }
}
