//! The workspace the server lints: its folder, the documents the editor holds, and the last
//! run. A run is the CLI's run on the folder (`extip-lint FOLDER`: the nearest config, its
//! clusters and render settings), with the editor's buffers read in place of the files on disk
//! and the config file's buffer read in place of the config on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lsp_types::Uri;

use crate::config::{self, ConfigFile, Overrides, Settings};
use crate::error::{ConfigIssue, Error};
use crate::input::walk::{Buffers, Input};
use crate::report::Report;

/// A document the editor has open.
#[derive(Debug, Clone)]
pub struct Document {
    /// As the client names it (answers use the same URI).
    pub uri: Uri,
    pub version: i32,
    pub text: String,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The first run: renderers run (when the config asks for rendering).
    Start,
    /// A keystroke, a file opened or closed, a file changed on disk: no renderer runs; their
    /// output of the last save is reused.
    Edit,
    /// A document saved: renderers run again.
    Save,
}

/// A problem of the config file, for a diagnostic in it.
#[derive(Debug, Clone)]
pub struct ConfigProblem {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub error: bool,
}

/// The config file of a run, with what is wrong in it.
#[derive(Debug, Clone, Default)]
pub struct ConfigState {
    /// The nearest `.extip-lint.yaml` above the folder, if any.
    pub path: Option<PathBuf>,
    /// Its text, as the run read it (the editor's buffer when it is open).
    pub text: String,
    /// Errors (no run happens then) and warnings.
    pub problems: Vec<ConfigProblem>,
}

/// The last run: its report and the settings it ran with.
pub struct Linted {
    pub report: Report,
    pub settings: Settings,
}

pub struct Workspace {
    /// The folder linted, absolute and canonical.
    pub root: PathBuf,
    /// Open documents by path (as the walk names files: below `root`).
    pub docs: BTreeMap<PathBuf, Document>,
    buffers: Buffers,
    /// What the renderers gave at the last save (or start), with rendering on.
    rendered: Option<Vec<Input>>,
    pub config: ConfigState,
    /// The last run that ran (a config error leaves the one before).
    pub last: Option<Linted>,
}

impl Workspace {
    #[must_use]
    pub fn new(root: PathBuf) -> Self {
        Workspace {
            root,
            docs: BTreeMap::new(),
            buffers: Buffers::default(),
            rendered: None,
            config: ConfigState::default(),
            last: None,
        }
    }

    pub fn open(&mut self, path: PathBuf, doc: Document) {
        self.buffers.set(path.clone(), &doc.text);
        self.docs.insert(path, doc);
    }

    /// Replaces a document's text.
    pub fn update(&mut self, path: &Path, version: i32, text: String) {
        if let Some(doc) = self.docs.get_mut(path) {
            self.buffers.set(path.to_path_buf(), &text);
            doc.version = version;
            doc.text = text;
        }
    }

    pub fn close(&mut self, path: &Path) {
        self.docs.remove(path);
        self.buffers.remove(path);
    }

    /// The open document at `path`, if any.
    #[must_use]
    pub fn doc(&self, path: &Path) -> Option<&Document> {
        self.docs.get(path)
    }

    /// Lints the folder. A config that does not load leaves the last run in place, and its
    /// problems in `config`.
    pub fn lint(&mut self, trigger: Trigger) {
        let path = config::discover(&self.root);
        let text = path.as_deref().map(|p| {
            self.buffers.get(p).map_or_else(
                || crate::source::read_regular_text(p, crate::source::DEFAULT_MAX_FILE_SIZE),
                |b| Ok(String::from_utf8_lossy(b).into_owned()),
            )
        });
        let mut state = ConfigState {
            path: path.clone(),
            ..ConfigState::default()
        };
        let file = match (path, text) {
            (Some(path), Some(Ok(text))) => {
                state.text.clone_from(&text);
                Some(ConfigFile { path, text })
            }
            (Some(_), Some(Err(why))) => {
                state.problems.push(ConfigProblem {
                    start: 0,
                    end: 0,
                    message: format!("cannot read the config: {why}"),
                    error: true,
                });
                self.config = state;
                return;
            }
            _ => None,
        };
        let loaded = config::from_file(file, &Overrides::default(), &crate::rules::CATALOG);
        let mut settings = match loaded {
            Ok((settings, warnings)) => {
                state.problems.extend(warnings.iter().map(problem));
                settings
            }
            Err(e) => {
                state.problems.extend(problems(&e));
                self.config = state;
                return;
            }
        };
        self.config = state;
        settings.paths = vec![self.root.clone()];
        settings.inventory = true;
        let rendered = match trigger {
            Trigger::Start | Trigger::Save => None,
            // Rendering turned on since the last save: nothing rendered until the next save.
            Trigger::Edit => Some(self.rendered.clone().unwrap_or_default()),
        };
        let (report, rendered) = lint_buffers(&settings, &self.buffers, rendered);
        if settings.render.enabled {
            self.rendered = Some(rendered);
        }
        self.last = Some(Linted { report, settings });
    }
}

/// The path a document is linted as: below the root as the walk names it (the root is
/// canonical, so the document's folder is made canonical too).
#[must_use]
pub fn place(path: &Path) -> PathBuf {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return path.to_path_buf();
    };
    std::fs::canonicalize(dir).map_or_else(|_| path.to_path_buf(), |d| d.join(name))
}

fn problem(issue: &ConfigIssue) -> ConfigProblem {
    let mut message = issue.message.clone();
    if let Some(help) = &issue.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    ConfigProblem {
        start: issue.span.offset(),
        end: issue.span.offset() + issue.span.len(),
        message: format!("{message} ({})", issue.label),
        error: issue.severity == miette::Severity::Error,
    }
}

/// A config error as problems in the config file: each issue at its place, anything else at
/// the start.
fn problems(e: &Error) -> Vec<ConfigProblem> {
    match e {
        Error::Config(issue) => vec![problem(issue)],
        Error::Configs(issues) => issues.iter().map(problem).collect(),
        other => vec![ConfigProblem {
            start: 0,
            end: 0,
            message: other.to_string(),
            error: true,
        }],
    }
}

/// `lint`, for an editor (`extip-lint server`): `buffers` are read in place of the files on
/// disk. With rendering on, `rendered` is what the renderers gave at the last save, reused so
/// that a keystroke runs no program (`None`: render now). Returns the report and the rendered
/// inputs, for the next run.
#[must_use]
fn lint_buffers(
    settings: &Settings,
    buffers: &Buffers,
    rendered: Option<Vec<Input>>,
) -> (Report, Vec<Input>) {
    let opts = crate::plan::walk_options(settings);
    let mut walked =
        crate::input::walk::walk_with_context(&opts, &settings.paths, &settings.context);
    buffers.apply(&mut walked, &opts, &settings.paths);
    let mut kept = Vec::new();
    if settings.render.enabled {
        if let Some(r) = rendered {
            walked.charts.clear();
            walked.kustomizations.clear();
            let at = walked.reported;
            walked.reported += r.len();
            walked.inputs.splice(at..at, r);
        } else {
            let render = crate::plan::render_options(settings);
            crate::input::expand::render_all(&mut walked, &render, None);
        }
        kept = walked
            .inputs
            .iter()
            .filter(|i| matches!(i, Input::Rendered(_)))
            .cloned()
            .collect();
    }
    (crate::run(settings, walked, None, None, None), kept)
}
