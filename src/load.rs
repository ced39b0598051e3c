//! Read stage: inputs -> source texts, objects and problems, one input at a time and each
//! file's documents in parallel.
//!
//! Reads files (within `max-file-size`) and standard input, decodes text (UTF-8, invalid bytes
//! replaced one for one), parses every document on its own and classifies it. Knows nothing of
//! settings or rules: everything it needs is in `LoadOptions`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::Error;
use crate::object::{self, ClassifyOptions, IgnoreAnnotation, Object, Problem, ProblemKind};
use crate::source::{self, Encoding, FileId, Origin, SourceFile, Span};
use crate::walk::Input;
use crate::yaml::{self, BuildLimits, TreeError};

/// What loading needs to know.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub max_file_size: u64,
    pub build: BuildLimits,
    pub classify: ClassifyOptions,
}

/// Loads every input in parallel, in input order; `stdin` holds standard input when `-` is
/// among them. Input `i` gets `FileId(i)`.
#[must_use]
pub fn load_all(
    inputs: &[Input],
    stdin: Option<Vec<u8>>,
    opts: &LoadOptions,
    progress: Option<&Progress>,
) -> Vec<Loaded> {
    let stdin = stdin.map(Arc::new);
    inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| load(FileId(i as u32), input, stdin.as_deref(), opts, progress))
        .collect()
}

/// What one input produced.
pub struct Loaded {
    pub source: SourceFile,
    pub objects: Vec<Object>,
    pub problems: Vec<Problem>,
    pub ignores: Vec<IgnoreAnnotation>,
    pub documents: usize,
    pub other_documents: usize,
    pub notice: Option<String>,
    pub error: Option<Error>,
}

/// Files and bytes read so far, for a progress line on long runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: AtomicUsize,
    pub bytes: AtomicU64,
}

fn load(
    id: FileId,
    input: &Input,
    stdin: Option<&Vec<u8>>,
    opts: &LoadOptions,
    progress: Option<&Progress>,
) -> Loaded {
    let (name, path) = match input {
        Input::File { path, name } => (name.clone(), Some(path.clone())),
        Input::Stdin { name } => (name.clone(), None),
    };
    let mut out = Loaded {
        source: SourceFile::new(
            id,
            name.clone(),
            path.clone(),
            Arc::from(""),
            Encoding::Utf8,
        ),
        objects: Vec::new(),
        problems: Vec::new(),
        ignores: Vec::new(),
        documents: 0,
        other_documents: 0,
        notice: None,
        error: None,
    };
    let max = opts.max_file_size;
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
        p.files.fetch_add(1, Ordering::Relaxed);
        p.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }
    if bytes.len() as u64 > max {
        out.problems.push(file_problem(
            id,
            0,
            format!("`{name}` is larger than {max} bytes (limit `max-file-size`); it was not read"),
        ));
        return out;
    }
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    if let Some(nul) = bytes
        .iter()
        .take(8192)
        .position(|&b| b == 0)
        .filter(|_| !utf16)
    {
        out.problems.push(file_problem(
            id,
            0,
            format!("`{name}` is a binary file (NUL byte at offset {nul}); it was not read"),
        ));
        return out;
    }
    let source::Decoded {
        text,
        encoding,
        bad,
    } = source::decode_text(bytes);
    let text: Arc<str> = Arc::from(text);
    out.source = SourceFile::new(id, name.clone(), path.clone(), Arc::clone(&text), encoding);
    // A file's chunks are parsed in parallel (one large `helm template` stream uses every core);
    // `collect` keeps them in file order.
    let chunks = yaml::split::split(&text);
    let parts: Vec<Part> = chunks
        .par_iter()
        .map(|&chunk| load_chunk(&out.source, chunk, &bad, opts))
        .collect();
    let mut templates = 0;
    for p in parts {
        out.documents += p.documents;
        out.other_documents += p.other_documents;
        out.objects.extend(p.objects);
        out.problems.extend(p.problems);
        out.ignores.extend(p.ignores);
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
    ignores: Vec<IgnoreAnnotation>,
    documents: usize,
    other_documents: usize,
    templates: usize,
}

/// Parses and classifies the documents of one chunk. `bad` holds the offsets of invalid UTF-8
/// bytes (replaced in `text`); a document holding one is not checked.
fn load_chunk(
    source: &SourceFile,
    chunk: yaml::split::Chunk,
    bad: &[usize],
    opts: &LoadOptions,
) -> Part {
    let id = source.id;
    let text: &str = &source.text;
    let mut part = Part::default();
    let has_bad = |start: usize, end: usize| {
        let i = bad.partition_point(|&b| b < start);
        bad.get(i).is_some_and(|&b| b < end).then(|| bad[i])
    };
    let found = yaml::parse_chunk(text, chunk, opts.build, |doc| {
        part.documents += 1;
        if let Some(at) = has_bad(doc.start, doc.end) {
            part.problems.push(Problem {
                kind: ProblemKind::Invalid,
                span: Span::new(id, at, at + 1),
                origin: doc.helm_source.as_ref().map(|(p, o)| Origin {
                    tool: "helm",
                    path: p.clone(),
                    offset: Some(*o),
                }),
                message: format!(
                    "invalid UTF-8 at byte {}; this document was not checked",
                    source.stored_offset(at)
                ),
                object: None,
                pointer: String::new(),
            });
            return;
        }
        let c = object::classify(id, &doc, &opts.classify);
        let template = c.problems.iter().any(|p| p.kind == ProblemKind::Template)
            || (!c.problems.is_empty() && text[doc.start..doc.end].contains("{{"));
        if template {
            // `name: etcd-{{cell}}` parses as YAML but is a template, not a manifest.
            part.templates += 1;
            return;
        }
        part.objects.extend(c.objects);
        part.problems.extend(c.problems);
        part.ignores.extend(c.ignores);
        part.other_documents += c.ignored;
    });
    if let Some(b) = found.broken {
        part.documents += 1;
        if b.template {
            part.templates += 1;
        } else {
            part.problems.push(problem(
                ProblemKind::Invalid,
                id,
                &b.error,
                b.error.message.clone(),
            ));
        }
    }
    for d in found.duplicates {
        part.problems.push(problem(
            ProblemKind::DuplicateKey,
            id,
            &d,
            d.message.clone(),
        ));
    }
    part
}

fn problem(kind: ProblemKind, id: FileId, at: &TreeError, message: String) -> Problem {
    Problem {
        kind,
        span: Span::new(id, at.start, at.end),
        origin: None,
        message,
        object: None,
        pointer: String::new(),
    }
}

fn file_problem(id: FileId, at: usize, message: String) -> Problem {
    Problem {
        kind: ProblemKind::Invalid,
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
