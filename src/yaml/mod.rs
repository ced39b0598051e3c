//! Parse stage: a file's text -> documents with span trees, read as `kubectl apply -f` reads it.
//!
//! Knows YAML (and kubectl's reading of it), not Kubernetes. The stream is cut as kubectl cuts
//! it (`reader`); each chunk's first document is parsed on its own (`build`), so a syntax error
//! costs only its document, and memory follows the largest document. A stream that starts with
//! `{` is read as JSON first, and as YAML only when that fails with at most one value read.

mod boundary;
mod build;
pub mod decode;
mod input;
pub mod json;
mod mapping;
pub mod pointer;
pub mod reader;
mod refusals;
pub mod scalar;
pub mod tree;

use std::sync::Arc;

use scalar::{Style, resolve};

pub use build::{build, in_parser};
pub use input::Slices;
pub use reader::Piece;
pub use tree::{BuildLimits, NodeId, NodeKind, Tree, TreeError};

/// One YAML document of a file.
#[derive(Debug, Clone)]
pub struct Document {
    pub tree: Arc<Tree>,
    pub root: NodeId,
    /// Byte range of the chunk the document came from.
    pub start: usize,
    pub end: usize,
    /// `# Source: path` comment before the document (Helm output), with the byte offset of the
    /// line after it.
    pub helm_source: Option<(String, usize)>,
}

/// A document that could not be read.
#[derive(Debug, Clone)]
pub struct BrokenDocument {
    pub error: TreeError,
    /// The chunk holds `{{`: most likely an unrendered template, not a broken manifest.
    pub template: bool,
}

/// What reading one piece found besides its document.
#[derive(Debug, Default)]
pub struct ChunkProblems {
    /// The piece could not be read.
    pub broken: Option<BrokenDocument>,
    /// Repeated mapping keys: the document was read keeping the last value of each.
    pub duplicates: Vec<TreeError>,
    /// Where content starts that kubectl never reads (after the chunk's first document).
    pub unread: Option<usize>,
}

/// A stream cut as kubectl cuts it.
#[derive(Debug)]
pub enum Cut {
    /// YAML chunks (and bad separator lines), in file order.
    Yaml(Vec<Piece>),
    /// JSON values, each one document, and the error that ended the stream, if any.
    Json(json::JsonStream),
    /// JSON failed with at most one value read (`json`), so kubectl reads the rest of the
    /// stream as YAML: all of it when no value was read, else what follows the value. If the
    /// first YAML piece fails too, kubectl reports the JSON error.
    YamlAfterJson {
        json: Option<Tree>,
        json_error: TreeError,
        pieces: Vec<Piece>,
    },
}

/// Cuts `text` into what kubectl reads one at a time.
#[must_use]
pub fn cut(text: &str, limits: BuildLimits) -> Cut {
    if reader::looks_like_json(text) {
        let mut stream = json::read_stream(text, limits);
        match stream.error {
            Some(json_error) if stream.docs.len() <= 1 => {
                let json = stream.docs.pop();
                let after = json
                    .as_ref()
                    .and_then(|t| t.roots.first().map(|&r| t.node(r).end))
                    .unwrap_or(0);
                return Cut::YamlAfterJson {
                    json,
                    json_error,
                    pieces: reader::pieces_from(text, yaml_start(text, after)),
                };
            }
            _ => return Cut::Json(stream),
        }
    }
    Cut::Yaml(reader::pieces(text))
}

/// Where kubectl's YAML reader starts after JSON failed at `after`: past the blanks there, up to
/// and including the first line break (k8s.io/apimachinery's `consumeWhitespace`).
fn yaml_start(text: &str, after: usize) -> usize {
    let rest = &text.as_bytes()[after..];
    for (i, &b) in rest.iter().enumerate() {
        if b == b'\n' {
            return after + i + 1;
        }
        if !matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c) {
            return after + i;
        }
    }
    text.len()
}

/// Parses every document of `text`. Problems come back as broken documents, duplicate keys
/// among them (this is for files the tool owns, like its config, which must be unambiguous).
#[must_use]
pub fn parse(text: &str, limits: BuildLimits) -> (Vec<Document>, Vec<BrokenDocument>) {
    let mut docs = Vec::new();
    let broken = parse_each(text, limits, |d| docs.push(d));
    (docs, broken)
}

/// Parses `text` one document at a time, handing each to `each`, so only one document's tree is
/// alive at a time. Returns what could not be read.
pub fn parse_each(
    text: &str,
    limits: BuildLimits,
    mut each: impl FnMut(Document),
) -> Vec<BrokenDocument> {
    let pieces = match cut(text, limits) {
        Cut::Json(stream) => {
            let mut broken = Vec::new();
            for tree in stream.docs {
                broken.extend(duplicates(&tree.duplicates));
                json_document(tree).map(&mut each);
            }
            broken.extend(stream.error.map(|error| BrokenDocument {
                error,
                template: false,
            }));
            return broken;
        }
        Cut::Yaml(pieces) => pieces,
        Cut::YamlAfterJson { json, pieces, .. } => {
            json.and_then(json_document).map(&mut each);
            pieces
        }
    };
    let mut broken = Vec::new();
    for piece in &pieces {
        let p = parse_piece(text, piece, limits, &mut each);
        broken.extend(duplicates(&p.duplicates));
        broken.extend(p.broken);
    }
    broken
}

fn duplicates(d: &[TreeError]) -> impl Iterator<Item = BrokenDocument> + '_ {
    d.iter().map(|error| BrokenDocument {
        error: error.clone(),
        template: false,
    })
}

/// The document of one JSON value (none for `null`).
#[must_use]
pub fn json_document(mut tree: Tree) -> Option<Document> {
    tree.duplicates.clear();
    let root = *tree.roots.first()?;
    if is_empty(&tree, root) {
        return None;
    }
    let n = tree.node(root);
    let (start, end) = (n.start, n.end);
    Some(Document {
        tree: Arc::new(tree),
        root,
        start,
        end,
        helm_source: None,
    })
}

/// Reads one piece of `text` (see `cut`), handing its document, if any, to `each`. Pieces are
/// independent, so a file's pieces may be read on different threads.
pub fn parse_piece(
    text: &str,
    piece: &Piece,
    limits: BuildLimits,
    each: impl FnMut(Document),
) -> ChunkProblems {
    read_piece(text, piece, each, |start, end| {
        build::build(&text[start..end], start, limits)
    })
}

/// `parse_piece` on a file's text held in an `Arc`: the document's tree points into the text
/// instead of copying its scalars.
pub fn parse_piece_in(
    text: &Arc<str>,
    piece: &Piece,
    limits: BuildLimits,
    each: impl FnMut(Document),
) -> ChunkProblems {
    read_piece(text, piece, each, |start, end| {
        build::build_in(text, start, end, limits)
    })
}

fn read_piece(
    text: &str,
    piece: &Piece,
    mut each: impl FnMut(Document),
    build: impl FnOnce(usize, usize) -> Result<Tree, TreeError>,
) -> ChunkProblems {
    let (start, end) = match piece {
        Piece::Chunk { start, end } => (*start, *end),
        Piece::BadSeparator {
            start,
            end,
            rest,
            dropped,
        } => {
            let lost = if dropped.is_some() {
                "; kubectl stops reading the file here and does not apply the document before it either"
            } else {
                "; kubectl stops reading the file here"
            };
            let line_end = text[*start..*end].trim_end().len() + start;
            return ChunkProblems {
                broken: Some(BrokenDocument {
                    error: TreeError {
                        message: format!(
                            "YAML syntax error: `{rest}` after a `---` document separator (kubectl: `invalid Yaml document separator`){lost}"
                        ),
                        start: *start,
                        end: line_end,
                    },
                    template: false,
                }),
                ..ChunkProblems::default()
            };
        }
    };
    let body = &text[start..end];
    match build(start, end) {
        Ok(mut tree) => {
            let duplicates = std::mem::take(&mut tree.duplicates);
            let unread = tree.unread;
            let tree = Arc::new(tree);
            let helm_source = helm_source(body, start);
            if let Some(&root) = tree.roots.first()
                && !is_empty(&tree, root)
            {
                each(Document {
                    tree: Arc::clone(&tree),
                    root,
                    start,
                    end,
                    helm_source,
                });
            }
            ChunkProblems {
                broken: None,
                duplicates,
                unread,
            }
        }
        Err(error) => ChunkProblems {
            broken: Some(BrokenDocument {
                error,
                template: body.contains("{{"),
            }),
            ..ChunkProblems::default()
        },
    }
}

/// An empty document, or one that is just `null` or `~`: kubectl skips it.
fn is_empty(tree: &Tree, root: NodeId) -> bool {
    matches!(&tree.node(root).kind, NodeKind::Scalar { value, style: Style::Plain } if resolve(value, Style::Plain) == scalar::Typed::Null)
}

/// Finds `# Source: <path>` among the comment lines before the document's content.
fn helm_source(body: &str, base: usize) -> Option<(String, usize)> {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        offset += line.len();
        let t = line.trim();
        if t.is_empty() || t == "---" || t.starts_with("--- #") {
            continue;
        }
        let comment = t.strip_prefix('#')?;
        if let Some(path) = comment.trim_start().strip_prefix("Source:") {
            return Some((path.trim().to_string(), base + offset));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BuildLimits = BuildLimits { max_depth: 64 };

    #[test]
    fn broken_document_between_good_ones_costs_only_itself() {
        let text = "a: 1\n---\nb: [\n---\nc: 3\n";
        let (docs, broken) = parse(text, LIMITS);
        assert_eq!(docs.len(), 2);
        assert_eq!(broken.len(), 1);
        assert_eq!(&text[broken[0].error.start..broken[0].error.end], "[");
    }

    #[test]
    fn empty_and_comment_only_documents_are_skipped() {
        let (docs, broken) = parse("---\n# nothing\n---\n---\na: 1\n", LIMITS);
        assert_eq!((docs.len(), broken.len()), (1, 0));
    }

    #[test]
    fn helm_source_comment_is_remembered() {
        let text = "---\n# Source: c/templates/s.yaml\nkind: Service\n";
        let (docs, _) = parse(text, LIMITS);
        assert_eq!(docs[0].helm_source, Some(("c/templates/s.yaml".into(), 33)));
    }

    #[test]
    fn trees_over_the_file_text_read_as_copied_ones() {
        let text = "a: 1\n---\n\u{feff}k: plain\nq: 'it''s'\nd: \"tab\\there\"\ne: \"é\"\n\
                    b: |\n  block\nf: >\n  folded\n  text\nal: &x [y, 'z']\nuse: *x\n\
                    t: !!binary aGk=\nlong: a\n  continued\n---\n{x: \"1\", y: [\"\", '']}\n";
        let source: Arc<str> = Arc::from(text);
        let mut copied = Vec::new();
        let mut shared = Vec::new();
        for piece in &reader::pieces(text) {
            parse_piece(text, piece, LIMITS, |d| copied.push(d));
            parse_piece_in(&source, piece, LIMITS, |d| shared.push(d));
        }
        assert_eq!(copied.len(), 3);
        for (a, b) in copied.iter().zip(&shared) {
            let nodes = |d: &Document| {
                d.tree
                    .iter()
                    .map(|n| format!("{:?} {}..{}", n.kind, n.start, n.end))
                    .collect::<Vec<_>>()
            };
            assert_eq!(nodes(a), nodes(b));
        }
        let values: Vec<String> = shared
            .iter()
            .flat_map(|d| {
                d.tree.iter().filter_map(|n| match n.kind {
                    NodeKind::Scalar { value, .. } => Some(value.to_string()),
                    _ => None,
                })
            })
            .collect();
        for v in [
            "plain",
            "it's",
            "tab\there",
            "é",
            "block\n",
            "folded text\n",
            "hi",
            "a continued",
            "",
        ] {
            assert!(values.iter().any(|x| x == v), "{v:?} in {values:?}");
        }
    }

    #[test]
    fn lookup_falls_back_to_the_nearest_ancestor() {
        let text = "spec:\n  ips: [a, b]\n";
        let (docs, _) = parse(text, LIMITS);
        let t = &docs[0].tree;
        let (n, _, depth) = t.lookup(docs[0].root, &["spec", "ips", "1"]);
        assert_eq!((&text[t.node(n).start..t.node(n).end], depth), ("b", 3));
        let (n, k, depth) = t.lookup(docs[0].root, &["spec", "nope"]);
        assert_eq!(
            (&text[t.node(n).start..t.node(n).end], depth),
            ("ips: [a, b]", 1)
        );
        assert!(k.is_some());
    }
}
