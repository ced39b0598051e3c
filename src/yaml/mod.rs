//! Parse stage: a file's text -> documents with span trees, one chunk at a time.
//!
//! Knows YAML, not Kubernetes. Each document is parsed on its own (see `split`), so a syntax
//! error costs only its document, and memory follows the largest document.

mod boundary;
mod build;
pub mod decode;
mod mapping;
pub mod pointer;
pub mod scalar;
pub mod split;
pub mod tree;

use std::sync::Arc;

pub use build::build;
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

/// A document that could not be parsed.
#[derive(Debug, Clone)]
pub struct BrokenDocument {
    pub error: TreeError,
    /// The chunk holds `{{`: most likely an unrendered template, not a broken manifest.
    pub template: bool,
}

/// What parsing one chunk found besides its documents.
#[derive(Debug, Default)]
pub struct ChunkProblems {
    /// The chunk's document could not be parsed.
    pub broken: Option<BrokenDocument>,
    /// Repeated mapping keys: the documents were read keeping the last value of each.
    pub duplicates: Vec<TreeError>,
}

/// Parses every document of `text`; duplicate keys count as broken documents here (this is
/// for files the tool owns, like its config, which must be unambiguous).
#[must_use]
pub fn parse(text: &str, limits: BuildLimits) -> (Vec<Document>, Vec<BrokenDocument>) {
    let mut docs = Vec::new();
    let broken = parse_each(text, limits, |d| docs.push(d));
    (docs, broken)
}

/// Parses `text` one document at a time, handing each to `each` before the next is parsed, so
/// only one document's tree is alive at a time. Returns the documents that could not be parsed.
pub fn parse_each(
    text: &str,
    limits: BuildLimits,
    mut each: impl FnMut(Document),
) -> Vec<BrokenDocument> {
    split::split(text)
        .into_iter()
        .flat_map(|chunk| {
            let p = parse_chunk(text, chunk, limits, &mut each);
            p.duplicates
                .into_iter()
                .map(|error| BrokenDocument {
                    error,
                    template: false,
                })
                .chain(p.broken)
        })
        .collect()
}

/// Parses the documents of one chunk of `text` (see `split`), handing each to `each`. Chunks are
/// independent, so a file's chunks may be parsed on different threads.
pub fn parse_chunk(
    text: &str,
    chunk: split::Chunk,
    limits: BuildLimits,
    mut each: impl FnMut(Document),
) -> ChunkProblems {
    let body = &text[chunk.start..chunk.end];
    match build::build(body, chunk.start, limits) {
        Ok(mut tree) => {
            let duplicates = std::mem::take(&mut tree.duplicates);
            let tree = Arc::new(tree);
            let helm_source = helm_source(body, chunk.start);
            for &root in &tree.roots {
                if is_empty(&tree, root) {
                    continue;
                }
                each(Document {
                    tree: Arc::clone(&tree),
                    root,
                    start: chunk.start,
                    end: chunk.end,
                    helm_source: helm_source.clone(),
                });
            }
            ChunkProblems {
                broken: None,
                duplicates,
            }
        }
        Err(error) => ChunkProblems {
            broken: Some(BrokenDocument {
                error,
                template: body.contains("{{"),
            }),
            duplicates: Vec::new(),
        },
    }
}

fn is_empty(tree: &Tree, root: NodeId) -> bool {
    matches!(&tree.node(root).kind, NodeKind::Scalar { value, plain: true } if value.is_empty())
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
