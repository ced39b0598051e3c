//! Document recovery: cut a file's text into chunks, one per YAML document, at lines that start
//! with `---` or `...` in column 0. YAML forbids those markers at column 0 inside any scalar, so a
//! cut there never splits a document, and a syntax error stays inside its own chunk.

/// One chunk of a file: a byte range holding at most one document (plus its preamble).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
}

fn marker(line: &[u8], m: [u8; 3]) -> bool {
    line.starts_with(&m) && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

fn has_content(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    !(t.is_empty() || t[0] == b'#' || line[0] == b'%')
}

/// Splits `text` into document chunks. Chunks that hold only comments or directives are joined
/// to the chunk after them (a `# Source:` line or `%YAML` belongs to the next document); a trailing
/// one is dropped.
#[must_use]
pub fn split(text: &str) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut content = false;
    let mut pos = 0;
    while pos < bytes.len() {
        let line_end = memchr_newline(bytes, pos);
        let line = &bytes[pos..line_end];
        if marker(line, *b"---") {
            if content && pos > start {
                chunks.push(Chunk { start, end: pos });
                start = pos;
            }
            // The marker opens a document, so whatever came before it is a preamble of it.
            content = true;
        } else if marker(line, *b"...") {
            if content {
                chunks.push(Chunk {
                    start,
                    end: line_end,
                });
                start = line_end;
                content = false;
            }
        } else if !content && has_content(line) {
            content = true;
        }
        pos = line_end;
    }
    if content && start < bytes.len() {
        chunks.push(Chunk {
            start,
            end: bytes.len(),
        });
    }
    chunks
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Vec<&str> {
        split(text).iter().map(|c| &text[c.start..c.end]).collect()
    }

    #[test]
    fn separators_start_new_chunks_and_comments_join_the_next() {
        let t = "a: 1\n--- # two\nb: 2\n---\n# Source: x\nc: 3\n";
        assert_eq!(
            parts(t),
            ["a: 1\n", "--- # two\nb: 2\n", "---\n# Source: x\nc: 3\n"]
        );
    }

    #[test]
    fn indented_marker_is_text() {
        let t = "a: |\n  ---\n  b\n";
        assert_eq!(parts(t), [t]);
    }

    #[test]
    fn leading_comments_and_directives_join_the_first_document() {
        let t = "# hi\n%YAML 1.2\n---\na: 1\n...\n# trailing\n";
        assert_eq!(parts(t), ["# hi\n%YAML 1.2\n---\na: 1\n...\n"]);
    }

    #[test]
    fn dashes_without_space_are_not_a_marker() {
        assert_eq!(parts("a: 1\n----\n"), ["a: 1\n----\n"]);
    }
}
