//! Sources: the files (and standard input) being linted, byte spans into them, and the line
//! index that turns a byte offset into a line and column when a report is rendered.
//!
//! Invariant: every `Span` is a pair of byte offsets on UTF-8 character boundaries of its file's
//! text. Columns are counted in Unicode code points, 1-based, as SARIF's `unicodeCodePoints`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Index of a file in `Report::files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    #[must_use]
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }
}

/// Where an object came from before it was rendered into this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `helm` or `kustomize`.
    pub tool: &'static str,
    pub path: String,
    /// For Helm output: byte offset of the first line after the `# Source:` comment.
    pub offset: Option<usize>,
}

/// Turns a path into the name reports show: relative to the working directory when it is
/// inside it, `/`-separated, without a leading `./`.
#[must_use]
pub fn display_name(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let path = cwd
        .as_deref()
        .and_then(|c| path.strip_prefix(c).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path);
    let s = path.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.trim_start_matches('/');
    }
    s.to_string()
}

/// A line and column, both 1-based; the column counts Unicode code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One input: a file on disk or standard input, with its text.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// The path as reported: relative to the working directory when possible, `/` separated.
    pub name: String,
    /// Where it was read from (`None` for standard input).
    pub path: Option<PathBuf>,
    /// The text, with invalid UTF-8 bytes replaced one-for-one by `?` so offsets stay exact.
    pub text: Arc<str>,
    /// Length of a UTF-8 byte order mark that was removed from the front (0 or 3).
    pub bom: usize,
    lines: OnceLock<Vec<usize>>,
}

impl SourceFile {
    #[must_use]
    pub fn new(
        id: FileId,
        name: String,
        path: Option<PathBuf>,
        text: Arc<str>,
        bom: usize,
    ) -> Self {
        SourceFile {
            id,
            name,
            path,
            text,
            bom,
            lines: OnceLock::new(),
        }
    }

    #[must_use]
    pub fn is_stdin(&self) -> bool {
        self.path.is_none()
    }

    /// Byte offsets where each line starts; built on first use.
    pub fn line_starts(&self) -> &[usize] {
        self.lines.get_or_init(|| line_starts(&self.text))
    }

    /// Line and column of a byte offset.
    #[must_use]
    pub fn position(&self, offset: usize) -> Position {
        let starts = self.line_starts();
        let offset = offset.min(self.text.len());
        let line = starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// The text of one line (without its line break), 1-based.
    #[must_use]
    pub fn line_text(&self, line: usize) -> &str {
        let starts = self.line_starts();
        let Some(&start) = starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    // A line ends at `\n`, `\r\n` or a lone `\r`.
    for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
            starts.push(i + 1);
        }
    }
    starts
}

/// Decodes bytes as UTF-8, replacing each invalid byte by `?` so byte offsets are preserved.
/// Returns the text, the BOM length removed, and the offsets (in the text) of invalid sequences.
#[must_use]
pub fn decode_text(bytes: Vec<u8>) -> (String, usize, Vec<usize>) {
    let bom = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            s.drain(..bom);
            (s, bom, Vec::new())
        }
        Err(e) => {
            let mut bytes = e.into_bytes();
            bytes.drain(..bom);
            let mut out = String::with_capacity(bytes.len());
            let mut bad_at = Vec::new();
            let mut rest: &[u8] = &bytes;
            while !rest.is_empty() {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let good = e.valid_up_to();
                        out.push_str(std::str::from_utf8(&rest[..good]).unwrap_or_default());
                        let bad = e.error_len().unwrap_or(rest.len() - good);
                        bad_at.push(out.len());
                        for _ in 0..bad {
                            out.push('?');
                        }
                        rest = &rest[good + bad..];
                    }
                }
            }
            (out, bom, bad_at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "t".into(), None, Arc::from(text), 0)
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        assert_eq!(line_starts("a\nb\r\nc\rd\r"), vec![0, 2, 5, 7, 9]);
        assert_eq!(line_starts(""), vec![0]);
        assert_eq!(line_starts("\r\n\r\n"), vec![0, 2, 4]);
    }

    #[test]
    fn columns_count_code_points_after_non_ascii() {
        let f = file("a: é\nbé: x\n");
        assert_eq!(f.position(11), Position { line: 2, column: 5 });
    }

    #[test]
    fn crlf_lines_are_counted_once() {
        let f = file("a\r\nb\r\nc");
        assert_eq!(f.position(6), Position { line: 3, column: 1 });
        assert_eq!(f.line_text(2), "b");
    }

    #[test]
    fn invalid_utf8_is_replaced_byte_for_byte() {
        let (text, bom, bad) = decode_text(b"a: \xff\xfe\nb: c".to_vec());
        assert_eq!(text, "a: ??\nb: c");
        assert_eq!((bom, bad), (0, vec![3, 4]));
    }

    #[test]
    fn bom_is_removed_and_remembered() {
        let (text, bom, bad) = decode_text(b"\xEF\xBB\xBFa: b".to_vec());
        assert_eq!((text.as_str(), bom, bad.len()), ("a: b", 3, 0));
    }
}
