//! Walk stage: paths and globs -> the list of inputs, in a deterministic order.
//!
//! Honours `.gitignore` inside and outside git repositories, skips hidden folders (both off with
//! `--no-ignore`), never follows symbolic links while walking, and skips unrendered Helm chart
//! templates with one notice per chart. Reads only ignore files (`gitignore`), kustomizations and
//! `Chart.yaml` files (a library chart is never a root), never a manifest; lists only regular
//! files: a FIFO, socket or device is named and skipped (an error when it is named on the command
//! line, since reading it could block or never end). A chart's values files are inputs of their
//! own role, never manifests. With `--render`, the files renderers read are withheld, each with
//! the roots that read it, so a root that fails can give them back.

pub mod buffers;
mod gitignore;
mod roots;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::GlobSet;
use ignore::WalkBuilder;

use crate::error::Error;
use crate::input::kustomize;
pub use crate::source::{Role, Tool};
use crate::source::{Unread, display_name, is_null_device, special_kind};
pub use buffers::Buffers;

/// What walking needs to know.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Read ignored files and walk hidden folders.
    pub no_ignore: bool,
    /// Globs relative to `glob_base`.
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
    pub glob_base: PathBuf,
    /// The name of standard input in reports.
    pub stdin_filename: Option<String>,
    /// `--render`: charts and kustomizations are rendered, so the files they are built from are
    /// not read on their own.
    pub render: bool,
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `root` is the index of the path (or context path) it was found under.
    File {
        path: PathBuf,
        name: String,
        root: usize,
        /// What the file is: a manifest, or a chart's values file (read for its own checks).
        role: Role,
    },
    Stdin {
        name: String,
        root: usize,
    },
    /// What a chart or kustomization renders to (`--render`).
    Rendered(Box<Rendered>),
    /// A file as it is at a git revision (`--diff-base`), named as it is named now.
    Blob {
        path: PathBuf,
        name: String,
        root: usize,
        bytes: std::sync::Arc<[u8]>,
        role: Role,
    },
}

/// The output of one renderer run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub tool: Tool,
    /// `helm template charts/web`: the name reports give the output.
    pub label: String,
    /// The chart's or kustomization's folder.
    pub dir: PathBuf,
    /// `Chart.yaml` or the kustomization file: where a failure is reported.
    pub file: PathBuf,
    /// The folder the output's source paths are relative to.
    pub base: PathBuf,
    pub root: usize,
    pub bytes: std::sync::Arc<[u8]>,
    /// The renderer failed, saying this.
    pub error: Option<String>,
    /// The chart-testing values file this render used (`ci/web-values.yaml`), when it is one of
    /// several renders of its chart.
    pub variant: Option<String>,
    /// Where the folders of dependencies that are not in the chart (`file://` ones, built into
    /// a copy) come from: `charts/<name>` in the output's `# Source:` paths -> the folder.
    pub dependencies: Vec<(String, PathBuf)>,
    /// How many of the root's own files were linted as written because it failed.
    pub fallback: usize,
    /// The cluster it is, when not named after its folder (a Flux or Argo CD release).
    pub cluster: Option<String>,
    /// Where in `file` a failure is reported (a release's document).
    pub offset: usize,
    /// Helm: the files the values come from, the last the strongest (the chart's `values.yaml`,
    /// values files, a release's own file): where a rendered value may be set.
    pub values: Vec<PathBuf>,
    /// Where its objects that name no namespace go: the namespace helm installs the chart into,
    /// an Argo CD Application's destination (none: the run's).
    pub namespace: Option<String>,
    /// The command that reproduces the render, as a user would type it.
    pub command: String,
}

impl Input {
    /// The index of the path it was found under.
    #[must_use]
    pub fn root(&self) -> usize {
        match self {
            Input::File { root, .. } | Input::Stdin { root, .. } | Input::Blob { root, .. } => {
                *root
            }
            Input::Rendered(r) => r.root,
        }
    }

    /// The name reports show.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Input::File { name, .. } | Input::Stdin { name, .. } | Input::Blob { name, .. } => name,
            Input::Rendered(r) => &r.label,
        }
    }
}

/// The result of walking.
#[derive(Debug, Default)]
pub struct Walked {
    pub inputs: Vec<Input>,
    /// How many of `inputs`, from the first, are reported on; the rest are context.
    pub reported: usize,
    /// Skipped files by reason (`symbolic link`, `ignored by include/exclude`, ...).
    pub skipped: BTreeMap<String, usize>,
    /// Messages about the run (not findings), e.g. one per skipped chart.
    pub notices: Vec<String>,
    /// Paths that do not exist or cannot be walked; reported at the end, exit 2.
    pub errors: Vec<Error>,
    /// Charts found (folders with a `Chart.yaml` that are not another chart's dependency), with
    /// the index of the path they were found under.
    pub charts: Vec<(PathBuf, usize)>,
    /// Kustomization roots found (kustomizations no other one uses), with the index of the path
    /// they were found under.
    pub kustomizations: Vec<(PathBuf, usize)>,
    /// With `--render`: the files a plain run reads as manifests that only renderers read now,
    /// each with the roots that read it. A file whose roots all fail is linted as written.
    pub withheld: Vec<Withheld>,
    /// Roots and releases that were not rendered at all (a remote dependency, resource or
    /// chart), by name (a folder, `HelmRelease flux/web`), with why.
    pub unrendered: Vec<(String, String)>,
}

/// A file a plain run reads, held back because renderers read it.
#[derive(Debug, Clone)]
pub struct Withheld {
    pub input: Input,
    /// The chart or kustomization roots (folders) that read it.
    pub roots: Vec<PathBuf>,
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Walks `paths`, then `context` (folders indexed but not reported on). Context inputs come
/// after the others; a file reached both ways is a reported input only.
#[must_use]
pub fn walk_with_context(opts: &WalkOptions, paths: &[PathBuf], context: &[PathBuf]) -> Walked {
    let mut walked = walk(opts, paths);
    walked.reported = walked.inputs.len();
    if context.is_empty() {
        return walked;
    }
    let named: std::collections::BTreeSet<PathBuf> = walked
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { path, .. } => std::fs::canonicalize(path).ok(),
            Input::Blob { path, .. } => Some(path.clone()),
            Input::Stdin { .. } | Input::Rendered(_) => None,
        })
        .collect();
    let mut more = walk(opts, context);
    for i in &mut more.inputs {
        match i {
            Input::File { root, .. } | Input::Stdin { root, .. } | Input::Blob { root, .. } => {
                *root += paths.len();
            }
            Input::Rendered(r) => r.root += paths.len(),
        }
    }
    walked.errors.extend(more.errors);
    walked
        .inputs
        .extend(more.inputs.into_iter().filter(|i| match i {
            Input::File { path, .. } => {
                std::fs::canonicalize(path).is_ok_and(|p| !named.contains(&p))
            }
            Input::Blob { path, .. } => !named.contains(path),
            Input::Stdin { .. } | Input::Rendered(_) => false,
        }));
    walked
}

/// Walks `roots` with the ignore rules and globs.
#[must_use]
pub fn walk(settings: &WalkOptions, roots: &[PathBuf]) -> Walked {
    let mut out = Walked::default();
    let mut charts: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut found_kustomizations: Vec<(PathBuf, usize)> = Vec::new();
    let mut library: Vec<PathBuf> = Vec::new();
    let rules = (!settings.no_ignore).then(|| Arc::new(gitignore::Rules::default()));
    // How many files are not regular files, and the first few with what they are.
    let mut special: (usize, Vec<String>) = (0, Vec::new());
    for (index, root) in roots.iter().enumerate() {
        if root.as_os_str() == "-" {
            // Standard input is read once, however often `-` is named.
            if out.inputs.iter().any(|i| matches!(i, Input::Stdin { .. })) {
                continue;
            }
            out.inputs.push(Input::Stdin {
                root: index,
                name: settings
                    .stdin_filename
                    .clone()
                    .unwrap_or_else(|| crate::source::STDIN_NAME.into()),
            });
            continue;
        }
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.errors.push(Error::NotFound(display_name(root)));
                continue;
            }
            Err(source) => {
                out.errors.push(Error::Io {
                    path: display_name(root),
                    cause: source,
                });
                continue;
            }
        };
        if meta.is_file() || is_null_device(&meta) {
            // A file named explicitly is always read, whatever its name or place.
            out.inputs.push(Input::File {
                path: root.clone(),
                name: display_name(root),
                root: index,
                role: if values_of(root).is_some() {
                    Role::HelmValues
                } else {
                    Role::Manifest
                },
            });
            continue;
        }
        if !meta.is_dir() {
            // A FIFO, socket or device named explicitly: never opened, and an error.
            let kind = special_kind(&meta.file_type()).unwrap_or("not a regular file");
            out.errors.push(Error::Unreadable {
                path: display_name(root),
                reason: Unread::NotRegular(kind).to_string(),
            });
            continue;
        }
        let mut builder = WalkBuilder::new(root);
        // Ignore files are read by `gitignore`, never by the walker (which would open a FIFO).
        builder
            .follow_links(false)
            .hidden(!settings.no_ignore)
            .git_ignore(false)
            .git_exclude(false)
            .parents(false)
            .require_git(false)
            .git_global(false)
            .ignore(false)
            .sort_by_file_name(std::cmp::Ord::cmp);
        if let Some(rules) = &rules {
            let rules = Arc::clone(rules);
            let absolute = std::fs::canonicalize(root)
                .or_else(|_| std::path::absolute(root))
                .unwrap_or_else(|_| root.clone());
            let root = root.clone();
            builder.filter_entry(move |e| {
                let below = e.path().strip_prefix(&root).unwrap_or(e.path());
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                !rules.ignored(&absolute.join(below), is_dir)
            });
        }
        for entry in builder.build() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.errors.push(Error::Usage(format!("cannot walk: {e}")));
                    continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            seen.insert(path.to_path_buf());
            if ft.is_file() && kustomize::is_kustomization(path) {
                found_kustomizations.push((path.to_path_buf(), index));
                continue;
            }
            if ft.is_file() && path.file_name().is_some_and(|n| n == "Chart.yaml") {
                let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
                // A chart under another chart's `charts/` is a dependency, rendered with it.
                let dependency = dir.parent().is_some_and(|p| {
                    p.file_name().is_some_and(|n| n == "charts")
                        && p.parent().is_some_and(|c| c.join("Chart.yaml").is_file())
                });
                if dependency {
                    continue;
                }
                // A library chart is not installable: helm only renders it as a dependency.
                if crate::input::chart::read(&dir).is_some_and(|c| c.library) {
                    library.push(dir);
                    continue;
                }
                out.charts.push((dir, index));
                continue;
            }
            if ft.is_symlink() {
                if has_extension(path) {
                    *out.skipped
                        .entry("symbolic links, not followed".into())
                        .or_default() += 1;
                }
                continue;
            }
            if !ft.is_file() && !ft.is_dir() && has_extension(path) && selected(settings, path) {
                let kind = special_kind(&ft).unwrap_or("not a regular file");
                special.0 += 1;
                if special.1.len() < SPECIAL_NAMED {
                    special.1.push(format!("`{}` ({kind})", display_name(path)));
                }
                *out.skipped
                    .entry("FIFOs, sockets or devices, never opened".into())
                    .or_default() += 1;
                continue;
            }
            if !ft.is_file() || !has_extension(path) {
                continue;
            }
            if !selected(settings, path) {
                *out.skipped
                    .entry("excluded by include/exclude".into())
                    .or_default() += 1;
                continue;
            }
            if let Some(chart) = chart_of(path, &|p| p.is_file()) {
                *charts.entry(chart).or_default() += 1;
                continue;
            }
            out.inputs.push(Input::File {
                path: path.to_path_buf(),
                name: display_name(path),
                root: index,
                role: if values_of(path).is_some() {
                    Role::HelmValues
                } else {
                    Role::Manifest
                },
            });
        }
    }
    if let Some(rules) = &rules {
        out.notices.extend(rules.take_notices());
    }
    special_notice(&mut out, special.0, &special.1);
    if settings.render {
        // Every file of a chart (templates, values, dependencies) is helm's to read; values
        // files are still read for their own checks, and the rest is held back in case helm
        // fails.
        let chart_dirs: Vec<PathBuf> = out.charts.iter().map(|(d, _)| d.clone()).collect();
        let before = out.inputs.len();
        let mut kept = Vec::with_capacity(out.inputs.len());
        for i in std::mem::take(&mut out.inputs) {
            let chart = match &i {
                Input::File {
                    path,
                    role: Role::Manifest,
                    ..
                } => chart_dirs.iter().find(|d| path.starts_with(d)).cloned(),
                _ => None,
            };
            match chart {
                Some(d) => out.withheld.push(Withheld {
                    input: i,
                    roots: vec![d],
                }),
                None => kept.push(i),
            }
        }
        out.inputs = kept;
        let n: usize = charts.values().sum::<usize>() + before - out.inputs.len();
        if n > 0 {
            *out.skipped
                .entry("chart sources, rendered with helm template".into())
                .or_default() += n;
        }
    } else {
        chart_notices(&mut out, charts);
    }
    if !library.is_empty() {
        *out.skipped
            .entry("library charts, rendered only as a dependency".into())
            .or_default() += library.len();
    }
    roots::kustomizations(&mut out, found_kustomizations, settings.render);
    if !settings.no_ignore {
        count_hidden_and_ignored(roots, &seen, &mut out);
    }
    out
}

/// Counts the manifest files under folder `roots` that the walk left out because they are in
/// hidden folders (or hidden themselves) or ignored by `.gitignore`, so the summary can say so.
fn count_hidden_and_ignored(
    roots: &[PathBuf],
    seen: &std::collections::HashSet<PathBuf>,
    out: &mut Walked,
) {
    for root in roots.iter().filter(|r| r.is_dir()) {
        let mut builder = WalkBuilder::new(root);
        builder
            .follow_links(false)
            .standard_filters(false)
            .filter_entry(|e| e.file_name() != ".git");
        for entry in builder.build().flatten() {
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_file())
                || !has_extension(path)
                || seen.contains(path)
            {
                continue;
            }
            let below = path.strip_prefix(root).unwrap_or(path);
            let hidden = |c: std::path::Component<'_>| {
                c.as_os_str()
                    .to_str()
                    .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
            };
            // Hidden files themselves are tool settings (`.pre-commit-config.yaml`,
            // `.gitlab-ci.yml`), not manifests kept out of sight.
            let name = below.file_name().map(std::path::Component::Normal);
            if name.is_some_and(hidden) {
                continue;
            }
            let in_hidden_folder = below.parent().is_some_and(|p| p.components().any(hidden));
            let why = if in_hidden_folder {
                "in hidden folders, read with --no-ignore"
            } else {
                "ignored by .gitignore, read with --no-ignore"
            };
            *out.skipped.entry(why.into()).or_default() += 1;
        }
    }
}

/// Walks the files of a revision (`--diff-base`) as `walk_with_context` walks the working tree:
/// the same extensions, hidden folders, include/exclude globs and chart templates; roots from
/// `reported_roots` on are context. `.gitignore` is not applied: the files are the ones the
/// revision tracks.
#[must_use]
pub fn walk_snapshot(
    settings: &WalkOptions,
    roots: &[PathBuf],
    reported_roots: usize,
    files: Vec<crate::input::git::BaseFile>,
) -> Walked {
    let mut out = Walked::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut charts: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let known: std::collections::BTreeSet<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let mut files = files;
    // The walk's order: each folder's entries by name.
    files.sort_by(|a, b| {
        (a.root, a.path.components().collect::<Vec<_>>())
            .cmp(&(b.root, b.path.components().collect::<Vec<_>>()))
    });
    for f in files {
        let root = &roots[f.root];
        let explicit = f.path == *root;
        if !explicit {
            let below = f.path.strip_prefix(root).unwrap_or(&f.path);
            let hidden = below.components().any(|c| {
                c.as_os_str()
                    .to_str()
                    .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
            });
            if (hidden && !settings.no_ignore) || !has_extension(&f.path) {
                continue;
            }
            if !selected(settings, &f.path) {
                *out.skipped
                    .entry("excluded by include/exclude".into())
                    .or_default() += 1;
                continue;
            }
        }
        if let Some(chart) = chart_of(&f.path, &|p| known.contains(p)) {
            *charts.entry(chart).or_default() += 1;
            continue;
        }
        // A file under a path given and under a context path is a reported input only.
        if !seen.insert(f.repo_path.clone()) {
            continue;
        }
        if f.root < reported_roots {
            out.reported += 1;
        }
        let role = if values_of_with(&f.path, &|p| known.contains(p)).is_some() {
            Role::HelmValues
        } else {
            Role::Manifest
        };
        out.inputs.push(Input::Blob {
            name: display_name(&f.path),
            path: f.path,
            root: f.root,
            bytes: f.bytes.into(),
            role,
        });
    }
    chart_notices(&mut out, charts);
    out
}

/// How many files that are not regular files a notice names; the rest are counted.
const SPECIAL_NAMED: usize = 20;

/// One notice naming the files that are not regular files (FIFOs, sockets, devices): the first
/// `SPECIAL_NAMED` of `n`.
fn special_notice(out: &mut Walked, n: usize, named: &[String]) {
    if n == 0 {
        return;
    }
    let named = named.join(", ");
    let more = if n > SPECIAL_NAMED {
        format!(", and {} more", n - SPECIAL_NAMED)
    } else {
        String::new()
    };
    let what = if n == 1 {
        "file that is not a regular file"
    } else {
        "files that are not regular files"
    };
    out.notices.push(format!(
        "skipped {n} {what} (reading could wait forever or never end): {named}{more}"
    ));
}

fn chart_notices(out: &mut Walked, charts: BTreeMap<PathBuf, usize>) {
    for (chart, n) in charts {
        *out.skipped
            .entry("unrendered Helm templates".into())
            .or_default() += n;
        out.notices.push(format!(
            "skipped {n} unrendered Helm template file{} of chart `{}`; pass --render (or `render: true`) to lint what `helm template` gives",
            if n == 1 { "" } else { "s" },
            display_name(&chart)
        ));
    }
}

/// Whether a file found under a folder is one the walk reads: a manifest extension, or a
/// chart's `Chart.yaml` (which tells chart templates apart).
#[must_use]
pub fn may_read(path: &Path) -> bool {
    has_extension(path) || path.file_name().is_some_and(|n| n == "Chart.yaml")
}

fn has_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Applies the config's include/exclude globs, relative to the config file's folder.
fn selected(settings: &WalkOptions, path: &Path) -> bool {
    if settings.include.is_none() && settings.exclude.is_none() {
        return true;
    }
    let rel = crate::source::relative_to(path, &settings.glob_base);
    if let Some(ex) = &settings.exclude
        && ex.is_match(&rel)
    {
        return false;
    }
    settings
        .include
        .as_ref()
        .is_none_or(|inc| inc.is_match(&rel))
}

/// The chart folder when `path` is one of its values files (`values.yaml`, `ci/*.yaml`).
fn values_of(path: &Path) -> Option<PathBuf> {
    values_of_with(path, &|p| p.is_file())
}

/// `values_of`, with `is_file` telling which files exist (on disk, or at a revision).
fn values_of_with(path: &Path, is_file: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let parent = path.parent()?;
    let chart = if parent.file_name().is_some_and(|n| n == "ci") {
        parent.parent()?
    } else {
        parent
    };
    (is_file(&chart.join("Chart.yaml")) && crate::input::chart::is_values_file(chart, path))
        .then(|| chart.to_path_buf())
}

/// The chart folder when `path` is a template of an unrendered chart: under `templates/` beside
/// a `Chart.yaml`, or a `.tpl` file.
fn chart_of(path: &Path, is_file: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let is_tpl = path.extension().is_some_and(|e| e == "tpl");
    for dir in path.ancestors().skip(1) {
        if dir.file_name().is_some_and(|n| n == "templates")
            && let Some(chart) = dir.parent()
            && is_file(&chart.join("Chart.yaml"))
        {
            return Some(chart.to_path_buf());
        }
    }
    is_tpl.then(|| path.parent().map(Path::to_path_buf).unwrap_or_default())
}
