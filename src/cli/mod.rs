//! Command line: clap definitions, and `run`, which drives a lint and writes the reports.
//! `main.rs` turns the `Outcome` into an exit code.

mod args;
pub mod fixes;
pub mod generate;
pub mod output;

use std::io::{self, IsTerminal, Read, Write};
use std::time::Instant;

use crate::config::{self, Overrides};
use crate::error::Error;
use crate::finding::Severity;
use crate::input::{git, walk};
use crate::render::{self, Format};
use crate::report::Report;
use crate::rules;
use crate::verdict::known::Known;

pub use args::{Args, Color, Command, FailOn, Generate};

/// What the run found, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Unsuppressed findings at or above `--fail-on`.
    pub failed: bool,
    /// Usage, config or I/O errors happened (reported on stderr).
    pub errors: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Outcome, Error> {
    let started = Instant::now();
    let ok = Outcome {
        failed: false,
        errors: false,
    };
    if args.command == Some(Command::Server) {
        crate::server::run()?;
        return Ok(ok);
    }
    let mut stdout = io::stdout().lock();
    if args.list_rules {
        // Aligned columns (`Severity`'s `Display` ignores widths: pad its text).
        let width = rules::CATALOG
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(0);
        for m in rules::CATALOG.iter() {
            write_ignoring_pipe(
                &mut stdout,
                format!(
                    "{}  {:<width$}  {:<7}  {}\n",
                    m.code,
                    m.name,
                    m.default_severity.as_str(),
                    m.summary
                )
                .as_bytes(),
            )?;
        }
        return Ok(ok);
    }
    if let Some(kind) = args.generate
        && !kind.needs_settings()
    {
        write_ignoring_pipe(&mut stdout, &generate::generate(kind)?)?;
        return Ok(ok);
    }
    if let Some(code) = &args.explain {
        let meta = rules::find(code)
            .ok_or_else(|| Error::Usage(format!("unknown rule `{code}` (see --list-rules)")))?;
        // Drawn for a terminal; the Markdown source when piped (`--color always` draws it too).
        let tty = io::stdout().is_terminal();
        let stdout_dest = output::Destination {
            format: Format::Human,
            file: None,
            primary: true,
        };
        let color = output::color(args.color, &stdout_dest);
        if tty || color {
            let drawn = render::markdown::terminal(meta.docs, color, output::width(tty));
            write_ignoring_pipe(&mut stdout, drawn.as_bytes())?;
        } else {
            write_ignoring_pipe(&mut stdout, meta.docs.as_bytes())?;
        }
        return Ok(ok);
    }
    let config_path = if let Some(p) = &args.config {
        Some(p.clone())
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        config::discover_for(&args.paths, &cwd)?
    };
    let overrides = Overrides {
        profile: args.profile.clone(),
        namespace: args.namespace.clone(),
        kubernetes_version: args.kubernetes_version.clone(),
        allow_cidr: args.allow_cidr.clone(),
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        render: args.render,
        strict_render: args.strict_render,
        chart_dir: args.chart_dir.clone(),
    };
    let (mut settings, warnings) =
        config::load(config_path.as_deref(), &overrides, &rules::CATALOG)?;
    for w in &warnings {
        eprint!("{}", diagnostic(w));
    }
    if args.print_config {
        write_ignoring_pipe(&mut stdout, settings.print().as_bytes())?;
        return Ok(ok);
    }
    // The admission policies are made from the settings: the target version and the allowlist.
    if let Some(kind) = args.generate.filter(|k| k.needs_settings()) {
        let (target, _, _) = settings.target(None);
        let o = crate::admission::PolicyOptions {
            target: &target,
            allow: &settings.allow,
            deny: args.deny,
        };
        let (flag, text) = match kind {
            Generate::AdmissionPolicyDenyAll => ("", Ok(crate::admission::deny_all(args.deny))),
            Generate::KyvernoPolicy => ("kyverno-policy", crate::admission::kyverno::policy(&o)),
            Generate::Gatekeeper => ("gatekeeper", crate::admission::gatekeeper::policy(&o)),
            _ => ("admission-policy", crate::admission::policy(&o)),
        };
        let text = text.map_err(|m| Error::Usage(format!("--generate {flag}: {m}")))?;
        write_ignoring_pipe(&mut stdout, text.as_bytes())?;
        return Ok(ok);
    }
    settings.paths.clone_from(&args.paths);
    settings.stdin_filename.clone_from(&args.stdin_filename);
    settings.no_ignore = args.no_ignore;
    settings.context.clone_from(&args.context);
    settings.cluster_per_path = args.cluster_per_path;
    let destinations = output::destinations(args)?;
    let step_summary = std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|v| !v.is_empty())
        .filter(|_| destinations.iter().any(|d| d.format == Format::Github));
    let html = output::html_report(args)?;
    settings.inventory = args.inventory.is_some() || step_summary.is_some() || html.is_some();
    let stdin = if args.paths.iter().any(|p| p.as_os_str() == "-") {
        let mut buf = Vec::new();
        // At most one byte past `max-file-size`: more is refused unread (a pipe's size is not
        // known before it is read).
        io::stdin()
            .lock()
            .take(settings.limits.max_file_size.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|source| Error::Io {
                path: crate::source::STDIN_NAME.into(),
                cause: source,
            })?;
        Some(buf)
    } else {
        None
    };
    // A progress line on standard error, only for people at a terminal; it stops before a
    // report is written to the same terminal.
    let show_progress = io::stderr().is_terminal();
    let progress = crate::Progress::default();
    let line = output::ProgressLine::default();
    let mut known: Option<Known> = None;
    if let Some(rev) = &args.diff_base {
        let roots = [settings.paths.as_slice(), settings.context.as_slice()].concat();
        // Renderers read whole charts and kustomizations; otherwise manifests are enough.
        let render = settings.render.enabled;
        let wanted =
            |p: &std::path::Path| render || walk::may_read(p) || roots.iter().any(|r| r == p);
        let snapshot = git::snapshot(rev, &roots, &wanted)?;
        known = Some(crate::known_at(&settings, snapshot)?);
    }
    if let Some(path) = &args.baseline {
        let b = Known::read_baseline(path)?;
        known = Some(match known {
            Some(k) => k.merge(b),
            None => b,
        });
    }
    let run = Run {
        args,
        html: html.as_deref(),
        started,
        destinations: &destinations,
        step_summary: step_summary.as_deref().map(std::path::Path::new),
        progress: show_progress.then_some(&progress),
        line: &line,
    };
    std::thread::scope(|scope| {
        if show_progress {
            scope.spawn(|| line.run(&progress));
        }
        let outcome = lint_and_write(&run, &settings, stdin, known.as_ref());
        line.stop();
        outcome
    })
}

/// What a run writes, and where.
struct Run<'a> {
    args: &'a Args,
    /// `--report html FILE`.
    html: Option<&'a std::path::Path>,
    started: Instant,
    destinations: &'a [output::Destination],
    step_summary: Option<&'a std::path::Path>,
    progress: Option<&'a crate::Progress>,
    line: &'a output::ProgressLine,
}

/// Lints, applies or shows fixes when asked, and writes the reports.
fn lint_and_write(
    run: &Run<'_>,
    settings: &config::Settings,
    stdin: Option<Vec<u8>>,
    known: Option<&Known>,
) -> Result<Outcome, Error> {
    let args = run.args;
    let report = crate::lint_against(settings, stdin, run.progress, known);
    if args.diff || args.fix {
        let limits = settings.limits.build();
        let fixed = fixes::planned(&report, args.unsafe_fixes, limits);
        let (unsafe_left, refused) = fixes::left_out(&report, args.unsafe_fixes);
        run.line.stop();
        let done = if args.diff {
            fixes::diff(&report, &fixed, &mut io::stdout().lock())
        } else {
            fixes::write(&report, &fixed)
        };
        let mut stderr = io::stderr().lock();
        for r in &refused {
            let _ = writeln!(stderr, "note: {r}");
        }
        let applied: usize = done.fixed.iter().map(|(_, n)| n).sum();
        let clashed: usize = fixed.iter().map(|f| f.clashed).sum();
        let files: Vec<String> = done
            .fixed
            .iter()
            .map(|(name, n)| format!("{} ({n})", render::one_line(name)))
            .collect();
        let _ = writeln!(
            stderr,
            "{} {} in {}{}{}",
            if args.diff { "would fix" } else { "fixed" },
            render::plural(applied, "finding"),
            render::plural(done.fixed.len(), "file"),
            if files.is_empty() {
                String::new()
            } else {
                format!(": {}", files.join(", "))
            },
            if args.diff {
                " (nothing written; --fix writes them)"
            } else {
                ""
            }
        );
        if clashed > 0 {
            let _ = writeln!(
                stderr,
                "{clashed} fix{} left out: another fix in the same file changes the same place, or together they would not read back as they mean; a second --fix picks up those that still apply",
                if clashed == 1 { "" } else { "es" }
            );
        }
        if unsafe_left > 0 {
            let _ = writeln!(stderr, "{unsafe_left} more fixable with --unsafe-fixes");
        }
        for (name, why) in &done.failed {
            let _ = writeln!(
                stderr,
                "error: could not fix `{}`: {why}",
                render::one_line(name)
            );
        }
        drop(stderr);
        let failed = !done.failed.is_empty();
        if args.diff {
            return Ok(Outcome {
                failed: false,
                errors: failed || !report.errors.is_empty(),
            });
        }
        // What is left, as a run without fixes reports it.
        let outcome = if done.fixed.is_empty() {
            finish(run, settings, &report)?
        } else {
            let report = crate::lint_against(settings, None, None, known);
            finish(run, settings, &report)?
        };
        return Ok(Outcome {
            errors: outcome.errors || failed,
            ..outcome
        });
    }
    if let Some(path) = &args.write_baseline {
        let text = crate::verdict::known::baseline(report.findings.iter(), &report.files);
        std::fs::write(path, &text).map_err(|source| Error::Write {
            path: path.display().to_string(),
            cause: source,
        })?;
        run.line.stop();
        let mut stderr = io::stderr().lock();
        let n = render::active(&report).count();
        let _ = writeln!(
            stderr,
            "wrote {n} finding{} to {}",
            if n == 1 { "" } else { "s" },
            path.display()
        );
        for e in &report.errors {
            let _ = write!(stderr, "{}", error_text(e));
        }
        return Ok(Outcome {
            failed: false,
            errors: !report.errors.is_empty(),
        });
    }
    finish(run, settings, &report)
}

/// Writes every report, then the notices and summary, and decides the outcome.
fn finish(run: &Run<'_>, settings: &config::Settings, report: &Report) -> Result<Outcome, Error> {
    let args = run.args;
    let files = run
        .destinations
        .iter()
        .filter_map(|d| d.file.as_deref())
        .chain(run.html);
    for file in files {
        if output::overwrites_input(file, args, report) {
            return Err(Error::Usage(format!(
                "--output `{}` is one of the manifests being linted; writing the report there would replace it",
                file.display()
            )));
        }
    }
    if let Some(p) = run.progress {
        p.start(crate::Phase::Write, None);
        p.add(render::active(report).count(), 0);
    }
    let base = output::base(args);
    let sarif_file = run
        .destinations
        .iter()
        .find(|d| d.format == Format::Sarif && d.file.is_some())
        .map(output::Destination::name);
    let mut notes: Vec<String> = Vec::new();
    let keys = render::runbook::Keys {
        owner: &settings.owner_keys,
        route: &settings.route_keys,
        firewall: &settings.firewall_keys,
    };
    if let Some(path) = run.html {
        let cwd = std::env::current_dir().unwrap_or_default();
        let opts = render::html::Options {
            report_dir: cwd
                .join(path)
                .parent()
                .map_or_else(|| cwd.clone(), std::path::Path::to_path_buf),
            cwd,
            ..render::html::Options::default()
        };
        output::write_file(path, |sink| render::html::render(report, &opts, sink))?;
    }
    for d in run.destinations {
        if d.file.is_none() && output::stdout_is_terminal() {
            // The report is about to share the terminal with the progress line: end the line.
            run.line.stop();
        }
        let opts = render::Options {
            color: output::color(args.color, d),
            width: output::width(d.file.is_none() && output::stdout_is_terminal()),
            base: base.clone(),
            sarif_file: sarif_file.clone(),
        };
        let (mut sink, path): (Box<dyn Write>, String) = match &d.file {
            Some(p) => {
                if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                        path: p.display().to_string(),
                        cause: source,
                    })?;
                }
                let file = std::fs::File::create(p).map_err(|source| Error::Write {
                    path: p.display().to_string(),
                    cause: source,
                })?;
                (Box::new(io::BufWriter::new(file)), p.display().to_string())
            }
            None => (Box::new(io::BufWriter::new(io::stdout())), d.name()),
        };
        // Rendered straight into the destination: a report can be larger than the input.
        let written = match args.inventory {
            Some(f) if d.primary => render::inventory::render(report, f, &keys, &mut sink),
            None if d.primary && args.statistics => render::statistics(report, &mut sink),
            _ => render::render(report, d.format, &opts, &mut sink),
        }
        .and_then(|()| sink.flush());
        match written {
            // A closed pipe (`| head`) ends output quietly.
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                return Err(Error::Write { path, cause: e });
            }
            _ => {}
        }
        if d.format == Format::Sarif
            && let Some(n) = render::sarif::Selection::of(report, render::sarif::MAX_RESULTS)
                .note(report.findings.len())
        {
            notes.push(format!("{}: {n}", d.name()));
        }
        if d.format == Format::Github
            && let Some(path) = run.step_summary
        {
            output::step_summary(path, &render::github::summary(report, &opts))?;
        }
    }
    run.line.stop();
    let mut stderr = io::stderr().lock();
    for n in report
        .notices
        .iter()
        .map(|n| render::one_line(&render::text(report, n)).into_owned())
        .chain(notes)
    {
        let _ = writeln!(stderr, "note: {n}");
    }
    let _ = stderr.write_all(render::summary(report, run.started.elapsed()).as_bytes());
    for e in &report.errors {
        let _ = write!(stderr, "{}", error_text(e));
    }
    // A run that checked nothing fails, saying why.
    if report.stats.objects() == 0
        && report.findings.is_empty()
        && report.filtered.as_ref().is_none_or(|f| f.left_out == 0)
        && report.errors.is_empty()
        && !args.allow_empty
    {
        let _ = writeln!(
            stderr,
            "error: checked nothing: no Kubernetes object in the paths given ({}); pass --allow-empty if that is expected",
            render::empty_reason(report)
        );
        return Ok(Outcome {
            failed: false,
            errors: true,
        });
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Note => Some(Severity::Note),
        FailOn::Never => None,
    };
    Ok(Outcome {
        failed: threshold.is_some_and(|t| {
            render::active(report).any(|f| f.severity >= t)
                || report.stats.truncated_severity.is_some_and(|s| s >= t)
        }),
        errors: !report.errors.is_empty(),
    })
}

/// Writes to stdout; a closed pipe (`| head`) ends output quietly.
fn write_ignoring_pipe(out: &mut dyn Write, bytes: &[u8]) -> Result<(), Error> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "<stdout>".into(),
            cause: e,
        }),
        _ => Ok(()),
    }
}

/// A run error for standard error: config problems with a code frame of the config file each,
/// anything else on one line, `error: ` and the message.
#[must_use]
pub fn error_text(e: &Error) -> String {
    match e {
        Error::Config(issue) => diagnostic(&**issue),
        Error::Configs(issues) => {
            let frames: String = issues.iter().map(|i| diagnostic(i)).collect();
            format!("{frames}error: {e}\n")
        }
        _ => format!("error: {e}\n"),
    }
}

/// A config problem or warning drawn as miette draws it, glyph by severity; in color only on a
/// terminal that allows it.
fn diagnostic(d: &dyn miette::Diagnostic) -> String {
    let theme = if output::color_stderr() {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let _ = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(output::stderr_width())
        .render_report(&mut out, d);
    out.push('\n');
    out
}
