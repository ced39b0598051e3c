//! Where reports go and how they look there: the `--output` list, colour, width, the
//! repository root for CI paths, the progress line, and the GitHub job summary.

use std::ffi::OsStr;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::ValueEnum;

use super::{Args, Color};
use crate::error::Error;
use crate::progress::Progress;
use crate::render::{Base, Format};

/// One report to write: a format and a file, or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub format: Format,
    /// `None`: standard output.
    pub file: Option<PathBuf>,
    /// The destination `--inventory` and `--statistics` replace (stdout or the plain `-o`).
    pub primary: bool,
}

impl Destination {
    #[must_use]
    pub fn name(&self) -> String {
        self.file
            .as_ref()
            .map_or_else(|| "<stdout>".into(), |p| p.display().to_string())
    }
}

/// `FORMAT=FILE` split in two when FORMAT is a format's name; otherwise the whole value is a
/// file (in `--format`'s format). `-` is standard output.
fn parse(value: &Path) -> (Option<Format>, Option<PathBuf>) {
    let file = |p: &OsStr| (p != "-").then(|| PathBuf::from(p));
    if let Some(text) = value.to_str()
        && let Some((name, rest)) = text.split_once('=')
        && let Ok(format) = Format::from_str(name, true)
        && !rest.is_empty()
    {
        return (Some(format), file(OsStr::new(rest)));
    }
    (None, file(value.as_os_str()))
}

/// The reports a run writes. `--format F` goes to the one plain `-o FILE`, or to standard
/// output when no `FORMAT=-` takes it; `FORMAT=FILE` entries add reports of their own.
pub fn destinations(args: &Args) -> Result<Vec<Destination>, Error> {
    let mut out = Vec::new();
    let mut plain: Option<Option<PathBuf>> = None;
    for value in &args.output {
        match parse(value) {
            (Some(format), file) => out.push(Destination {
                format,
                file,
                primary: false,
            }),
            (None, file) => {
                if plain.is_some() {
                    return Err(Error::Usage(format!(
                        "--output `{}`: only one --output without a format; name the others' formats, like `-o sarif=extip.sarif`",
                        value.display()
                    )));
                }
                plain = Some(file);
            }
        }
    }
    let stdout_taken = out.iter().any(|d| d.file.is_none());
    match plain {
        Some(file) => out.insert(
            0,
            Destination {
                format: args.format.unwrap_or(Format::Human),
                file,
                primary: true,
            },
        ),
        None if !stdout_taken => out.insert(
            0,
            Destination {
                format: args.format.unwrap_or(Format::Human),
                file: None,
                primary: true,
            },
        ),
        None => {
            if let Some(f) = args.format {
                return Err(Error::Usage(format!(
                    "--format {} and an --output `FORMAT=-` both want standard output; write one of them to a file",
                    f.to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().to_string())
                )));
            }
            // `--inventory` and `--statistics` replace the report on standard output.
            if let Some(d) = out.iter_mut().find(|d| d.file.is_none()) {
                d.primary = true;
            }
        }
    }
    if out.iter().filter(|d| d.file.is_none()).count() > 1 {
        return Err(Error::Usage(
            "more than one report on standard output; write all but one to files".into(),
        ));
    }
    let mut files: Vec<&PathBuf> = out.iter().filter_map(|d| d.file.as_ref()).collect();
    files.sort();
    if let Some(w) = files.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::Usage(format!(
            "--output `{}` is named twice",
            w[0].display()
        )));
    }
    Ok(out)
}

/// Whether `path` names one of the inputs (a file on the command line, or any file read that
/// held a Kubernetes object): writing a report there would destroy a manifest.
#[must_use]
pub fn overwrites_input(path: &Path, args: &Args, report: &crate::Report) -> bool {
    let Ok(target) = std::fs::canonicalize(path) else {
        return false;
    };
    let same = |p: &Path| std::fs::canonicalize(p).is_ok_and(|c| c == target);
    args.paths.iter().any(|p| same(p))
        || report
            .files
            .iter()
            .any(|f| f.path.as_deref().is_some_and(same) && report.stats.manifests.contains(&f.id))
}

/// Whether to colour what goes to `d`: `--color`, then for standard output the usual
/// conventions (`NO_COLOR`, `CLICOLOR_FORCE`, `FORCE_COLOR`, `TERM=dumb`, a terminal or not).
/// Files get colour only with `--color always`.
#[must_use]
pub fn color(choice: Color, d: &Destination) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            d.file.is_none() && supports_color::on(supports_color::Stream::Stdout).is_some()
        }
    }
}

/// Whether standard error may be coloured, by the same conventions.
#[must_use]
pub fn color_stderr() -> bool {
    supports_color::on(supports_color::Stream::Stderr).is_some()
}

/// Columns to wrap at: `COLUMNS` when set, else the terminal's width when standard output is
/// one (`to_terminal`), else 100. At least 40.
#[must_use]
pub fn width(to_terminal: bool) -> usize {
    columns(
        to_terminal
            .then(|| terminal_size::terminal_size_of(io::stdout()))
            .flatten(),
    )
}

/// `width` for what goes to standard error.
#[must_use]
pub fn stderr_width() -> usize {
    columns(terminal_size::terminal_size_of(io::stderr()))
}

fn columns(terminal: Option<(terminal_size::Width, terminal_size::Height)>) -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or_else(|| terminal.map(|(w, _)| usize::from(w.0)))
        .unwrap_or(100)
        .max(40)
}

/// The root SARIF, GitHub and GitLab paths are relative to: `--project-root`, else the git
/// repository holding the working directory (or, failing that, the first path), else the
/// working directory.
#[must_use]
pub fn base(args: &Args) -> Option<Base> {
    let cwd = std::env::current_dir().ok()?;
    let absolute = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let root = match &args.project_root {
        Some(r) => std::fs::canonicalize(r).unwrap_or_else(|_| absolute(r)),
        None => crate::input::git::repository_root(&cwd)
            .or_else(|| {
                let first = args.paths.iter().find(|p| p.as_os_str() != "-")?;
                let first = std::fs::canonicalize(first).ok()?;
                crate::input::git::repository_root(&first)
            })
            .unwrap_or_else(|| cwd.clone()),
    };
    Some(Base { root, cwd })
}

/// The progress line on standard error: redrawn by its own thread, stopped (and cleared)
/// before anything else is written to the terminal, so it never runs into a report or the
/// summary.
#[derive(Debug, Default)]
pub struct ProgressLine {
    /// Whether the line is on screen now, and whether it is stopped for good.
    state: std::sync::Mutex<(bool, bool)>,
}

impl ProgressLine {
    /// Redraws the phase and its counts every 200 ms after the first second, until stopped.
    pub fn run(&self, progress: &Progress) {
        let started = Instant::now();
        let mut phase = (progress.snapshot().phase, Instant::now());
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now = progress.snapshot();
            if now.phase != phase.0 {
                phase = (now.phase, Instant::now());
            }
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.1 {
                return;
            }
            if started.elapsed() >= Duration::from_secs(1) {
                eprint!("\r\x1b[K{}", now.line(phase.1.elapsed().as_secs_f64()));
                state.0 = true;
            }
        }
    }

    /// Clears the line and keeps it off for the rest of the run.
    pub fn stop(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.0 {
            eprint!("\r\x1b[K");
        }
        *state = (false, true);
    }
}

/// Appends the job summary to `$GITHUB_STEP_SUMMARY`; an error names the file.
pub fn step_summary(path: &Path, text: &str) -> Result<(), Error> {
    let write = || -> io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        f.flush()
    };
    write().map_err(|cause| Error::Write {
        path: path.display().to_string(),
        cause,
    })
}

/// Whether standard output is a terminal (then the progress line stops before writing to it).
#[must_use]
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// The file of `--report html FILE`, if asked for; another kind is a usage error.
pub fn html_report(args: &Args) -> Result<Option<PathBuf>, Error> {
    match args.report.as_slice() {
        [] => Ok(None),
        [kind, file] if kind == "html" => Ok(Some(PathBuf::from(file))),
        [kind, _] => Err(Error::Usage(format!(
            "--report `{kind}`: unknown kind of report (the one kind is `html`)"
        ))),
        _ => Err(Error::Usage("--report takes a KIND and a FILE".into())),
    }
}

/// Writes a report to `path` through a buffer, creating missing folders; a closed pipe is no
/// error.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    let failed = |cause: io::Error| Error::Write {
        path: path.display().to_string(),
        cause,
    };
    if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let file = std::fs::File::create(path).map_err(failed)?;
    let mut sink = io::BufWriter::new(file);
    write(&mut sink).and_then(|()| sink.flush()).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_prefixes_are_split_and_everything_else_is_a_file() {
        assert_eq!(
            parse(Path::new("sarif=out/x.sarif")),
            (Some(Format::Sarif), Some(PathBuf::from("out/x.sarif")))
        );
        assert_eq!(parse(Path::new("github=-")), (Some(Format::Github), None));
        assert_eq!(parse(Path::new("-")), (None, None));
        assert_eq!(
            parse(Path::new("a=b.json")),
            (None, Some(PathBuf::from("a=b.json")))
        );
        assert_eq!(
            parse(Path::new("json=")),
            (None, Some(PathBuf::from("json=")))
        );
    }
}
