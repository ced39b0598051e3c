//! Read stage: inputs -> source texts, objects and problems, one input at a time and each
//! file's documents in parallel.
//!
//! Reads files (within `max-file-size`) and standard input, decodes text (UTF-8, invalid bytes
//! replaced one for one), parses every document on its own and classifies it. Knows nothing of
//! settings or rules: everything it needs is in `LoadOptions`.

mod failed;

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::Error;
use crate::finding::Message;
use crate::input::walk::Input;
use crate::object::{self, ClassifyOptions, IgnoreAnnotation, Object, Problem, ProblemKind};
use crate::progress::{Phase, Progress};
use crate::source::{self, Encoding, FileId, SourceFile, Span};
use crate::yaml::{self, BuildLimits, TreeError};

/// What loading needs to know.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--chart-dir`: Helm output in the inputs was rendered from this chart.
    pub chart_dir: Option<std::path::PathBuf>,
    pub max_file_size: u64,
    pub build: BuildLimits,
    pub classify: ClassifyOptions,
}

/// Loads every input in parallel, in input order, input `i` with the options `opts[i]`;
/// `stdin` holds standard input when `-` is among them. Input `i` gets `FileId(i)`.
#[must_use]
pub fn load_all(
    inputs: &[Input],
    stdin: Option<Vec<u8>>,
    opts: &[&LoadOptions],
    progress: Option<&Progress>,
) -> Vec<Loaded> {
    // Standard input is read once (the walk lists `-` once) and its bytes become the source
    // text without a copy kept beside it.
    let stdin_len = stdin.as_ref().map_or(0, |b| b.len() as u64);
    let stdin = std::sync::Mutex::new(stdin);
    if let Some(p) = progress {
        p.start(Phase::Read, Some(inputs.len()));
        p.expect_bytes(
            inputs
                .iter()
                .map(|i| match i {
                    Input::File { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
                    Input::Blob { bytes, .. } => bytes.len() as u64,
                    Input::Rendered(r) => r.bytes.len() as u64,
                    Input::Stdin { .. } => stdin_len,
                })
                .sum(),
        );
    }
    inputs
        .par_iter()
        .zip(opts)
        .enumerate()
        .map(|(i, (input, opts))| load(FileId(i as u32), input, &stdin, opts, progress))
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
    pub notices: Vec<Message>,
    pub error: Option<Error>,
}

fn load(
    id: FileId,
    input: &Input,
    stdin: &std::sync::Mutex<Option<Vec<u8>>>,
    opts: &LoadOptions,
    progress: Option<&Progress>,
) -> Loaded {
    if let Input::Rendered(r) = input
        && let Some(error) = &r.error
    {
        return failed::render_failure(id, r, error, opts.max_file_size);
    }
    match input {
        Input::File {
            path,
            name,
            role: source::Role::HelmValues,
            ..
        } => {
            let text = source::read_regular_text(path, opts.max_file_size).unwrap_or_default();
            return values_file(id, path, name, text);
        }
        Input::Blob {
            path,
            name,
            bytes,
            role: source::Role::HelmValues,
            ..
        } => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            return values_file(id, path, name, text);
        }
        _ => {}
    }
    let (name, path, blob) = match input {
        Input::File { path, name, .. } => (name.clone(), Some(path.clone()), None),
        Input::Stdin { name, .. } => (name.clone(), None, None),
        Input::Blob {
            path, name, bytes, ..
        } => (name.clone(), Some(path.clone()), Some(bytes)),
        Input::Rendered(r) => (r.label.clone(), None, Some(&r.bytes)),
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
        notices: Vec::new(),
        error: None,
    };
    let max = opts.max_file_size;
    let bytes = match (&path, blob) {
        (_, Some(b)) => b.to_vec(),
        (None, None) => stdin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default(),
        // Refused from its metadata when it is too large or not a regular file: never read.
        (Some(p), None) => match source::read_regular(p, max) {
            Ok(b) => b,
            Err(source::Unread::TooLarge { size, max }) => {
                out.problems.push(file_problem(
                    id,
                    0,
                    format!("`{name}` is larger than {max} bytes (limit `max-file-size`): it is {size} bytes; it was not read"),
                    TOO_LARGE,
                ));
                return out;
            }
            Err(u) => {
                out.error = Some(Error::unread(name, u.into_cause()));
                return out;
            }
        },
    };
    if let Some(p) = progress {
        p.add(1, bytes.len() as u64);
    }
    if bytes.len() as u64 > max {
        out.problems.push(file_problem(
            id,
            0,
            format!("`{name}` is larger than {max} bytes (limit `max-file-size`); it was not read"),
            TOO_LARGE,
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
            BINARY,
        ));
        return out;
    }
    let source::Decoded {
        text,
        encoding,
        bad,
    } = source::decode_text(bytes);
    let text: Arc<str> = Arc::from(text);
    out.source = SourceFile::new(id, name.clone(), path.clone(), Arc::clone(&text), encoding)
        .with_replaced(bad);
    match input {
        Input::Rendered(r) => {
            out.source.virtual_file = true;
            out.source.rendering = Some(source::Rendering {
                tool: r.tool,
                base: r.base.clone(),
                source: Some(r.file.clone()),
                dependencies: r.dependencies.clone(),
                command: Some(r.command.clone()),
                values: r.values.clone(),
            });
        }
        // Helm output named with `--chart-dir`: its `# Source:` lines name the chart's files.
        _ => {
            if let Some(dir) = &opts.chart_dir {
                out.source.rendering = Some(source::Rendering {
                    tool: source::Tool::Helm,
                    base: dir.clone(),
                    source: None,
                    dependencies: Vec::new(),
                    command: None,
                    values: Vec::new(),
                });
            }
        }
    }
    if let Some(&first) = out.source.replaced().first() {
        let n = out.source.replaced().len();
        let mut m = Message::from(format!(
            "{n} byte{} not valid {} (the first at ",
            if n == 1 { " is" } else { "s are" },
            if matches!(encoding, Encoding::Utf16Le | Encoding::Utf16Be) {
                "UTF-16"
            } else {
                "UTF-8"
            }
        ));
        m.push_place(Span::new(id, first, first));
        m.push_str("); kubectl reads each as U+FFFD, and so does extip-lint");
        out.notices.push(m);
    }
    let limits = opts.build;
    let parts: Vec<Part> = match yaml::cut(&text, limits) {
        yaml::Cut::Yaml(pieces) => read_pieces(&out.source, &pieces, opts, false),
        yaml::Cut::YamlAfterJson {
            json,
            json_error,
            pieces,
        } => {
            // kubectl applied the JSON value it read, then read the rest as YAML. Text there
            // that is not an object fails kubectl too: it is not another file's YAML.
            let after_value = json.is_some();
            let mut parts = vec![Part::default()];
            if let Some(tree) = json {
                json_into(&out.source, tree, opts, &mut parts[0]);
            }
            // The first YAML piece on its own: whether it failed decides the message.
            let (first, rest) = pieces
                .split_first()
                .map_or((None, &[][..]), |(f, r)| (Some(f), r));
            let mut yaml = vec![Part::default()];
            if let Some(piece) = first {
                read_piece(&out.source, piece, opts, after_value, &mut yaml[0]);
            }
            yaml.extend(read_pieces(&out.source, rest, opts, after_value));
            if let Some(first) = yaml.first_mut()
                && first.broken
            {
                // The first YAML piece failed too, and kubectl reports the JSON error.
                first.problems.retain(|p| p.kind != ProblemKind::Invalid);
                let how = if after_value {
                    "kubectl read the JSON value before it, then reads the rest as YAML, and it is not YAML either"
                } else {
                    "the stream starts with `{`, so kubectl reads it as JSON, and it is not YAML either"
                };
                first.problems.push(problem(
                    ProblemKind::Invalid,
                    id,
                    &json_error,
                    format!("{}; {how}", json_error.message),
                ));
            }
            parts.extend(yaml);
            parts
        }
        yaml::Cut::Json(stream) => {
            let mut parts: Vec<Part> = stream
                .docs
                .into_par_iter()
                .fold(Part::default, |mut part, tree| {
                    json_into(&out.source, tree, opts, &mut part);
                    part
                })
                .collect();
            if let Some(e) = stream.error {
                let mut part = Part {
                    documents: 1,
                    ..Part::default()
                };
                part.problems
                    .push(problem(ProblemKind::Invalid, id, &e, e.message.clone()));
                parts.push(part);
            }
            parts
        }
    };
    let mut templates = 0;
    let mut objects = Vec::with_capacity(parts.len());
    let mut problems = Vec::with_capacity(parts.len());
    for p in parts {
        out.documents += p.documents;
        out.other_documents += p.other_documents;
        objects.push(p.objects);
        problems.push(p.problems);
        out.ignores.extend(p.ignores);
        out.notices.extend(p.notices);
        templates += p.templates;
    }
    out.objects = concat(objects);
    if out
        .source
        .rendering
        .as_ref()
        .is_some_and(|r| r.tool == source::Tool::Helm)
    {
        let before = out.objects.len();
        out.objects.retain(|o| !is_test_hook(o));
        let hooks = before - out.objects.len();
        if hooks > 0 {
            out.notices.push(Message::from(format!(
                "{name}: left out {hooks} `helm test` hook{}: they run only with `helm test` and are not part of the release",
                if hooks == 1 { "" } else { "s" }
            )));
        }
    }
    out.problems = concat(problems);
    if templates > 0 {
        out.notices.push(Message::from(format!(
            "{name}: skipped {templates} document{} with unrendered `{{{{ }}}}` template syntax; lint what its templating renders instead (for a Helm chart, `--render` runs `helm template`)",
            if templates == 1 { "" } else { "s" }
        )));
    }
    out
}

/// A Helm values file: helm reads it as values, never as objects, so only what helm makes of
/// it is checked (a repeated key). A file helm cannot read fails the chart's render instead.
fn values_file(id: FileId, path: &std::path::Path, name: &str, text: String) -> Loaded {
    let (_, broken) = yaml::parse(&text, BuildLimits { max_depth: 256 });
    let problems = broken
        .iter()
        .filter(|b| !b.template && is_duplicate(&text, &b.error))
        .map(|b| Problem {
            kind: ProblemKind::ValuesDuplicateKey,
            span: Span::new(id, b.error.start, b.error.end),
            origin: None,
            message: b.error.message.clone(),
            object: None,
            pointer: String::new(),
            help: None,
        })
        .collect();
    Loaded {
        source: SourceFile::new(
            id,
            name.to_string(),
            Some(path.to_path_buf()),
            Arc::from(text),
            Encoding::Utf8,
        ),
        objects: Vec::new(),
        problems,
        ignores: Vec::new(),
        documents: 0,
        other_documents: 0,
        notices: Vec::new(),
        error: None,
    }
}

/// Whether a problem `yaml::parse` gave is a repeated key (its message is the key, written at
/// its span) rather than a syntax error.
fn is_duplicate(text: &str, e: &TreeError) -> bool {
    text.get(e.start..e.end).is_some_and(|k| {
        let k = k.trim_matches(['"', '\'']);
        k == e.message
    })
}

/// Helm test hooks (`helm.sh/hook: test`, and the older `test-success`/`test-failure`): run only
/// by `helm test`, not part of the release.
fn is_test_hook(o: &Object) -> bool {
    o.annotations
        .get("helm.sh/hook")
        .is_some_and(|h| h.split(',').any(|h| h.trim().starts_with("test")))
}

/// The vectors one after the other. A million documents' objects are the largest thing a run
/// keeps: the only non-empty vector (a file read on one thread, or one file) is moved, not
/// copied; otherwise the result is sized once instead of growing by copies.
#[must_use]
pub fn concat<T>(mut vectors: Vec<Vec<T>>) -> Vec<T> {
    vectors.retain(|v| !v.is_empty());
    if vectors.len() <= 1 {
        return vectors.pop().unwrap_or_default();
    }
    let mut out = Vec::with_capacity(vectors.iter().map(Vec::len).sum());
    for v in vectors {
        out.extend(v);
    }
    out
}

/// Classifies one JSON value of a stream into `part`.
fn json_into(source: &SourceFile, mut tree: yaml::Tree, opts: &LoadOptions, part: &mut Part) {
    let dups = std::mem::take(&mut tree.duplicates);
    if let Some(doc) = yaml::json_document(tree) {
        classify_into(source, &doc, opts, false, part);
    }
    for d in dups {
        part.problems.push(problem(
            ProblemKind::DuplicateKey,
            source.id,
            &d,
            d.message.clone(),
        ));
    }
}

/// What a run of consecutive pieces of a file produced (one per piece would cost a few
/// vectors per document, which for a million tiny documents is most of the memory).
#[derive(Default)]
struct Part {
    /// A piece could not be read (a syntax error or a bad separator).
    broken: bool,
    objects: Vec<Object>,
    problems: Vec<Problem>,
    ignores: Vec<IgnoreAnnotation>,
    notices: Vec<Message>,
    documents: usize,
    other_documents: usize,
    templates: usize,
}

/// Reads a file's YAML pieces in parallel (one large `helm template` stream uses every core),
/// each thread's consecutive pieces into one part; `collect` keeps the parts in file order.
/// With `objects_only`, a document that is not an object is `EXT900`.
fn read_pieces(
    source: &SourceFile,
    pieces: &[yaml::Piece],
    opts: &LoadOptions,
    objects_only: bool,
) -> Vec<Part> {
    pieces
        .par_iter()
        .fold(Part::default, |mut part, piece| {
            read_piece(source, piece, opts, objects_only, &mut part);
            part
        })
        .collect()
}

/// Parses and classifies the document of one piece into `part`.
fn read_piece(
    source: &SourceFile,
    piece: &yaml::Piece,
    opts: &LoadOptions,
    objects_only: bool,
    part: &mut Part,
) {
    let id = source.id;
    let found = yaml::parse_piece_in(&source.text, piece, opts.build, |doc| {
        classify_into(source, &doc, opts, objects_only, part);
    });
    if let Some(b) = found.broken {
        part.broken = true;
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
    if let Some(at) = found.unread {
        let mut m = Message::from("kubectl does not read the text from ");
        m.push_place(Span::new(id, at, at));
        m.push_str(
            " on: it follows the end of a document (`...`, or a second document without a `---` line), so it was not checked either",
        );
        part.notices.push(m);
    }
}

/// Classifies one document into `part`; a document with unrendered template syntax is counted
/// as a template instead. With `objects_only`, a document that is not an object is `EXT900`.
fn classify_into(
    source: &SourceFile,
    doc: &yaml::Document,
    opts: &LoadOptions,
    objects_only: bool,
    part: &mut Part,
) {
    part.documents += 1;
    let mut c = object::classify(source.id, doc, &opts.classify);
    if objects_only && c.ignored > 0 {
        c.ignored = 0;
        let n = doc.tree.node(doc.root);
        c.problems.push(Problem {
            kind: ProblemKind::Invalid,
            span: Span::new(source.id, n.start, n.start),
            origin: None,
            message: format!(
                "the text after the JSON value is read by kubectl as YAML, and it is not an object: kubectl fails on it ({})",
                object::not_an_object(doc)
            ),
            object: None,
            pointer: String::new(),
            help: Some(
                "Remove the text after the JSON value, or make the file one JSON value per object.".into(),
            ),
        });
    }
    let template = c.problems.iter().any(|p| p.kind == ProblemKind::Template)
        || (!c.problems.is_empty() && source.text[doc.start..doc.end].contains("{{"));
    if template {
        // `name: etcd-{{cell}}` parses as YAML but is a template, not a manifest.
        part.templates += 1;
        return;
    }
    part.objects.extend(c.objects);
    part.problems.extend(c.problems);
    part.ignores.extend(c.ignores);
    part.other_documents += c.ignored;
}

fn problem(kind: ProblemKind, id: FileId, at: &TreeError, message: String) -> Problem {
    Problem {
        kind,
        span: Span::new(id, at.start, at.end),
        origin: None,
        message,
        object: None,
        pointer: String::new(),
        help: (kind == ProblemKind::Invalid).then(|| {
            "Fix the syntax here: `kubectl apply -f` fails on this document too. The other documents were still checked.".into()
        }),
    }
}

fn file_problem(id: FileId, at: usize, message: String, help: &str) -> Problem {
    Problem {
        kind: ProblemKind::Invalid,
        span: Span::new(id, at, at),
        origin: None,
        message,
        object: None,
        pointer: String::new(),
        help: Some(help.into()),
    }
}

const TOO_LARGE: &str = "If it is a manifest, raise `limits.max-file-size` in the config; if not, leave it out of the paths or add it to `exclude`.";
const BINARY: &str = "A binary file is not a manifest: leave it out of the paths, or add it to `exclude` in the config.";
