//! How `kubectl apply -f` cuts a stream before any YAML is parsed (k8s.io/apimachinery's
//! `YAMLOrJSONDecoder`), so each piece here is what go-yaml is given:
//!
//! - a stream whose first non-blank character (within 4 KiB) is `{` is read as JSON first;
//! - otherwise it is cut at every line that starts with `---`. A separator line followed by
//!   anything but blanks or a comment (`--- !!map`, `--- |`, `----`) stops kubectl with
//!   `invalid Yaml document separator`, and the document it ends is not applied. A separator
//!   line is part of a chunk only when it is the chunk's first line (the file's first line).
//!
//! Chunks are independent, so a file's chunks may be parsed on different threads. The cut is
//! by lines, never inside a document: go-yaml never sees a `---` with content after it.

/// One piece of a YAML stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A chunk go-yaml reads: its first document counts, anything after that is ignored.
    Chunk { start: usize, end: usize },
    /// A `---` line with content after it (the line's range, and the content). kubectl stops
    /// here and drops the chunk the line ends, `dropped`, if there was one.
    BadSeparator {
        start: usize,
        end: usize,
        rest: String,
        dropped: Option<(usize, usize)>,
    },
}

/// Whether kubectl reads the stream as JSON first: its first non-blank character within the
/// first 4 KiB is `{`.
#[must_use]
pub fn looks_like_json(text: &str) -> bool {
    let head = &text.as_bytes()[..text.len().min(4096)];
    let head = String::from_utf8_lossy(head);
    head.trim_start().starts_with('{')
}

/// Cuts a YAML stream into pieces as kubectl's reader does.
#[must_use]
pub fn pieces(text: &str) -> Vec<Piece> {
    pieces_from(text, 0)
}

/// Cuts the YAML stream that starts at byte `from` of `text` (a reader started there, as
/// kubectl starts one after a JSON value); offsets are in `text`.
#[must_use]
pub fn pieces_from(text: &str, from: usize) -> Vec<Piece> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    // The chunk being collected: where it starts, once it holds a line.
    let mut chunk: Option<usize> = None;
    let mut pos = from;
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        let line = &text[pos..end];
        if let Some(after) = line.strip_prefix("---") {
            let rest = after.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                out.push(Piece::BadSeparator {
                    start: pos,
                    end,
                    rest: rest.to_string(),
                    dropped: chunk.map(|s| (s, pos)),
                });
                chunk = None;
                pos = end;
                continue;
            }
            if let Some(s) = chunk {
                out.push(Piece::Chunk { start: s, end: pos });
                chunk = None;
                pos = end;
                continue;
            }
        }
        chunk.get_or_insert(pos);
        pos = end;
    }
    if let Some(s) = chunk {
        out.push(Piece::Chunk {
            start: s,
            end: bytes.len(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str) -> Vec<&str> {
        pieces(text)
            .iter()
            .map(|p| match p {
                Piece::Chunk { start, end } => &text[*start..*end],
                Piece::BadSeparator { .. } => "<bad>",
            })
            .collect()
    }

    #[test]
    fn separators_end_chunks_and_only_a_first_line_separator_is_kept() {
        let t = "---\na: 1\n--- # two\nb: 2\n---\n---\n# Source: x\nc: 3\n";
        assert_eq!(
            chunks(t),
            ["---\na: 1\n", "b: 2\n", "---\n# Source: x\nc: 3\n"]
        );
    }

    #[test]
    fn content_after_a_separator_stops_kubectl_and_drops_the_chunk_before() {
        let t = "a: 1\n--- !!map\nb: 2\n----\nc: 3\n";
        let p = pieces(t);
        assert_eq!(p.len(), 3);
        assert!(
            matches!(&p[0], Piece::BadSeparator { rest, dropped: Some((0, 5)), .. } if rest == "!!map")
        );
        assert!(
            matches!(&p[1], Piece::BadSeparator { rest, dropped: Some((15, 20)), .. } if rest == "-")
        );
        assert_eq!(chunks(t)[2], "c: 3\n");
    }

    #[test]
    fn indented_dashes_and_document_ends_are_not_separators() {
        let t = "a: |\n  ---\n  b\n...\nc: 1\n";
        assert_eq!(chunks(t), [t]);
    }

    #[test]
    fn json_is_sniffed_from_the_first_non_blank_character() {
        assert!(looks_like_json("\n  {\"a\": 1}"));
        assert!(!looks_like_json("# {\na: 1\n"));
    }
}
