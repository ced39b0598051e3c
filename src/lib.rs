//! extip-lint: a static linter for Kubernetes Service externalIPs and `NetworkPolicy` coverage.
//!
//! Pipeline: walk -> yaml (parse) -> object (classify) -> index -> rules (check) -> suppress
//! (filter) -> render. `lint` runs every stage up to rendering and returns a `Report`.

#![forbid(unsafe_code)]

pub mod address;
pub mod cli;
pub mod config;
pub mod error;
pub mod finding;
pub mod index;
pub mod inventory;
pub mod object;
pub mod render;
pub mod rules;
pub mod selector;
pub mod source;
pub mod suppress;
pub mod walk;
pub mod yaml;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Settings;
use crate::error::Error;
use crate::finding::{Finding, Severity};
use crate::index::ProfileDecision;
use crate::object::{ClassifyOptions, Object, Origin, Problem};
use crate::rules::{RuleContext, RuleMeta};
use crate::source::{FileId, SourceFile, Span};
use crate::walk::Input;

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub files: usize,
    pub documents: usize,
    pub objects_by_kind: BTreeMap<String, usize>,
    /// Documents that are not Kubernetes objects (values files, CI workflows, ...).
    pub other_documents: usize,
    /// Files not read, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Files read only as context (`--context`), not reported on.
    pub context_files: usize,
    /// Findings left out because a file exceeded `max-findings-per-file`, by file.
    pub truncated: BTreeMap<FileId, usize>,
    /// The most severe unsuppressed finding left out: it still decides the exit code.
    pub truncated_severity: Option<Severity>,
}

impl Stats {
    #[must_use]
    pub fn objects(&self) -> usize {
        self.objects_by_kind.values().sum()
    }
}

/// Everything a renderer needs.
#[derive(Debug)]
pub struct Report {
    pub files: Vec<SourceFile>,
    /// Sorted by file and position; suppressed findings are kept and marked.
    pub findings: Vec<Finding>,
    /// Messages about the run (skipped charts, limits hit); not findings.
    pub notices: Vec<String>,
    /// Run errors (missing paths, unreadable files): exit code 2.
    pub errors: Vec<Error>,
    pub stats: Stats,
    pub profile: ProfileDecision,
    /// The rules that ran, with their effective severity.
    pub rules: Vec<(&'static RuleMeta, Severity)>,
    /// The address inventory, when asked for (`--inventory`).
    pub inventory: Vec<inventory::Row>,
    pub elapsed: Duration,
}

/// What one input produced.
struct Loaded {
    source: SourceFile,
    objects: Vec<Object>,
    problems: Vec<Problem>,
    documents: usize,
    other_documents: usize,
    notice: Option<String>,
    error: Option<Error>,
}

/// Files and bytes read so far, for a progress line on long runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: std::sync::atomic::AtomicUsize,
    pub bytes: std::sync::atomic::AtomicU64,
}

/// Lints the inputs named in `settings`; `stdin` holds standard input when `-` is among them.
#[must_use]
pub fn lint(settings: &Settings, stdin: Option<Vec<u8>>) -> Report {
    lint_with_progress(settings, stdin, None)
}

/// `lint`, counting files and bytes read into `progress`.
#[must_use]
pub fn lint_with_progress(
    settings: &Settings,
    stdin: Option<Vec<u8>>,
    progress: Option<&Progress>,
) -> Report {
    let started = Instant::now();
    let mut walked = walk::walk(settings, &settings.paths);
    let reported = walked.inputs.len();
    if !settings.context.is_empty() {
        // Context files are read for the index only; a file also named as a path is reported.
        let named: std::collections::BTreeSet<std::path::PathBuf> = walked
            .inputs
            .iter()
            .filter_map(|i| match i {
                Input::File { path, .. } => std::fs::canonicalize(path).ok(),
                Input::Stdin { .. } => None,
            })
            .collect();
        let context = walk::walk(settings, &settings.context);
        walked.errors.extend(context.errors);
        walked
            .inputs
            .extend(context.inputs.into_iter().filter(|i| match i {
                Input::File { path, .. } => {
                    std::fs::canonicalize(path).is_ok_and(|p| !named.contains(&p))
                }
                Input::Stdin { .. } => false,
            }));
    }
    let opts = ClassifyOptions {
        default_namespace: settings.namespace.0.clone(),
        alias_budget: settings.limits.max_alias_expansion,
    };
    let stdin = stdin.map(Arc::new);
    let loaded: Vec<Loaded> = walked
        .inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| {
            load(
                FileId(i as u32),
                input,
                stdin.as_deref(),
                settings,
                &opts,
                progress,
            )
        })
        .collect();

    let mut report_files = Vec::with_capacity(loaded.len() + 1);
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    let mut stats = Stats {
        skipped: walked.skipped,
        ..Stats::default()
    };
    let mut notices = walked.notices;
    let mut errors = walked.errors;
    for (i, l) in loaded.into_iter().enumerate() {
        if i >= reported {
            stats.context_files += 1;
            objects.extend(l.objects);
            report_files.push(l.source);
            continue;
        }
        stats.files += 1;
        stats.documents += l.documents;
        stats.other_documents += l.other_documents;
        for o in &l.objects {
            *stats.objects_by_kind.entry(o.id.kind.clone()).or_default() += 1;
        }
        objects.extend(l.objects);
        problems.extend(l.problems);
        notices.extend(l.notice);
        errors.extend(l.error);
        report_files.push(l.source);
    }
    let config_file = settings.config.as_ref().map(|c| {
        let id = FileId(report_files.len() as u32);
        report_files.push(SourceFile::new(
            id,
            walk::display_name(&c.path),
            Some(c.path.clone()),
            Arc::from(c.text.as_str()),
            0,
        ));
        id
    });

    let index = index::build(&objects);
    let profile = index::decide_profile(settings, &index, |span| {
        let f = &report_files[span.file.0 as usize];
        let p = f.position(span.start);
        format!("{}:{}:{}", f.name, p.line, p.column)
    });
    let cx = RuleContext {
        objects: &objects,
        index: &index,
        settings,
        problems: &problems,
        profile: &profile,
        config_file,
    };
    let enabled: Vec<(&'static RuleMeta, Severity)> = rules::ALL
        .iter()
        .filter_map(|r| {
            let meta = r.meta();
            let sev = settings.rules.get(meta.code).and_then(|(s, _)| *s)?;
            Some((meta, sev))
        })
        .collect();
    let mut findings = Vec::new();
    let is_reported = |f: &Finding| {
        (f.primary.span.file.0 as usize) < reported || Some(f.primary.span.file) == config_file
    };
    for rule in rules::ALL {
        let Some(&(_, severity)) = enabled.iter().find(|(m, _)| m.code == rule.meta().code) else {
            continue;
        };
        let from = findings.len();
        rule.check(&cx, &mut findings);
        for f in &mut findings[from..] {
            f.severity = severity;
        }
    }
    let unused = enabled
        .iter()
        .find(|(m, _)| m.code == rules::EXT901.code)
        .map(|&(_, s)| s);
    let enabled_codes: Vec<&str> = enabled.iter().map(|(m, _)| m.code).collect();
    suppress::apply(
        &report_files,
        &objects,
        &mut findings,
        unused,
        &enabled_codes,
    );
    findings.retain(is_reported);
    // By file name, not file id, so the order of the paths given does not change the output.
    findings.sort_by(|a, b| {
        let name = |f: &Finding| report_files[f.primary.span.file.0 as usize].name.as_str();
        (name(a), a.sort_key()).cmp(&(name(b), b.sort_key()))
    });
    let findings = cap_per_file(
        findings,
        settings.limits.max_findings_per_file,
        &mut stats,
        &report_files,
        &mut notices,
    );
    let inventory = if settings.inventory {
        inventory::rows(&objects, &index, settings, &profile)
    } else {
        Vec::new()
    };
    Report {
        inventory,
        files: report_files,
        findings,
        notices,
        errors,
        stats,
        profile,
        rules: enabled,
        elapsed: started.elapsed(),
    }
}

/// Keeps at most `max` unsuppressed findings per file, and at most `max` suppressed ones, so
/// suppressed findings never crowd out real ones; the rest are counted and noticed, and the most
/// severe of those left out is remembered for the exit code.
fn cap_per_file(
    findings: Vec<Finding>,
    max: usize,
    stats: &mut Stats,
    files: &[SourceFile],
    notices: &mut Vec<String>,
) -> Vec<Finding> {
    let mut per_file: BTreeMap<(FileId, bool), usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(findings.len().min(max.saturating_mul(files.len()) + 1));
    for f in findings {
        let suppressed = f.suppressed.is_some();
        let n = per_file
            .entry((f.primary.span.file, suppressed))
            .or_default();
        *n += 1;
        if *n > max {
            *stats.truncated.entry(f.primary.span.file).or_default() += 1;
            if !suppressed {
                stats.truncated_severity = stats.truncated_severity.max(Some(f.severity));
            }
        } else {
            kept.push(f);
        }
    }
    for (file, n) in &stats.truncated {
        notices.push(format!(
            "{}: {n} more finding{} not shown (limit `max-findings-per-file` = {max})",
            files[file.0 as usize].name,
            if *n == 1 { "" } else { "s" }
        ));
    }
    kept
}

fn load(
    id: FileId,
    input: &Input,
    stdin: Option<&Vec<u8>>,
    settings: &Settings,
    opts: &ClassifyOptions,
    progress: Option<&Progress>,
) -> Loaded {
    let (name, path) = match input {
        Input::File { path, name } => (name.clone(), Some(path.clone())),
        Input::Stdin { name } => (name.clone(), None),
    };
    let mut out = Loaded {
        source: SourceFile::new(id, name.clone(), path.clone(), Arc::from(""), 0),
        objects: Vec::new(),
        problems: Vec::new(),
        documents: 0,
        other_documents: 0,
        notice: None,
        error: None,
    };
    let max = settings.limits.max_file_size;
    let bytes = match &path {
        None => stdin.cloned().unwrap_or_default(),
        Some(p) => match read_limited(p, max) {
            Ok(Some(b)) => b,
            Ok(None) => {
                out.problems.push(file_problem(id, 0, format!("`{name}` is larger than {max} bytes (limit `max-file-size`); it was not read")));
                return out;
            }
            Err(source) => {
                out.error = Some(Error::Io { path: name, source });
                return out;
            }
        },
    };
    if let Some(p) = progress {
        p.files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        p.bytes
            .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    if bytes.len() as u64 > max {
        out.problems.push(file_problem(
            id,
            0,
            format!("`{name}` is larger than {max} bytes (limit `max-file-size`); it was not read"),
        ));
        return out;
    }
    if let Some(nul) = bytes.iter().take(8192).position(|&b| b == 0) {
        out.problems.push(file_problem(
            id,
            0,
            format!("`{name}` is a binary file (NUL byte at offset {nul}); it was not read"),
        ));
        return out;
    }
    let (text, bom, bad) = source::decode_text(bytes);
    let text: Arc<str> = Arc::from(text);
    out.source = SourceFile::new(id, name.clone(), path.clone(), Arc::clone(&text), bom);
    // A file's chunks are parsed in parallel (one large `helm template` stream uses every core);
    // `collect` keeps them in file order.
    let chunks = yaml::split::split(&text);
    let parts: Vec<Part> = chunks
        .par_iter()
        .map(|&chunk| load_chunk(id, &text, chunk, &bad, bom, settings, opts))
        .collect();
    let mut templates = 0;
    for p in parts {
        out.documents += p.documents;
        out.other_documents += p.other_documents;
        out.objects.extend(p.objects);
        out.problems.extend(p.problems);
        templates += p.templates;
    }
    if templates > 0 {
        out.notice = Some(format!(
            "{name}: skipped {templates} document{} with unrendered `{{{{ }}}}` template syntax; lint `helm template` output instead",
            if templates == 1 { "" } else { "s" }
        ));
    }
    out
}

/// What one chunk of a file produced.
#[derive(Default)]
struct Part {
    objects: Vec<Object>,
    problems: Vec<Problem>,
    documents: usize,
    other_documents: usize,
    templates: usize,
}

/// Parses and classifies the documents of one chunk. `bad` holds the offsets of invalid UTF-8
/// bytes (replaced in `text`); a document holding one is not checked.
fn load_chunk(
    id: FileId,
    text: &str,
    chunk: yaml::split::Chunk,
    bad: &[usize],
    bom: usize,
    settings: &Settings,
    opts: &ClassifyOptions,
) -> Part {
    let mut part = Part::default();
    let has_bad = |start: usize, end: usize| {
        let i = bad.partition_point(|&b| b < start);
        bad.get(i).is_some_and(|&b| b < end).then(|| bad[i])
    };
    let broken = yaml::parse_chunk(text, chunk, settings.limits.build(), |doc| {
        part.documents += 1;
        if let Some(at) = has_bad(doc.start, doc.end) {
            part.problems.push(Problem {
                span: Span::new(id, at, at + 1),
                origin: doc.helm_source.as_ref().map(|(p, o)| Origin {
                    tool: "helm",
                    path: p.clone(),
                    offset: Some(*o),
                }),
                message: format!(
                    "invalid UTF-8 at byte {}; this document was not checked",
                    at + bom
                ),
                object: None,
                pointer: String::new(),
            });
            return;
        }
        let c = object::classify(id, &doc, opts);
        if !c.problems.is_empty() && text[doc.start..doc.end].contains("{{") {
            // `name: etcd-{{cell}}` parses as YAML but is a template, not a manifest.
            part.templates += 1;
            return;
        }
        part.objects.extend(c.objects);
        part.problems.extend(c.problems);
        part.other_documents += c.ignored;
    });
    for b in broken {
        part.documents += 1;
        if b.template {
            part.templates += 1;
            continue;
        }
        part.problems.push(Problem {
            span: Span::new(id, b.error.start, b.error.end),
            origin: None,
            message: b.error.message,
            object: None,
            pointer: String::new(),
        });
    }
    part
}

fn file_problem(id: FileId, at: usize, message: String) -> Problem {
    Problem {
        span: Span::new(id, at, at),
        origin: None,
        message,
        object: None,
        pointer: String::new(),
    }
}

/// Reads a file unless it is larger than `max` bytes (`Ok(None)`).
fn read_limited(path: &std::path::Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}
