//! Sources: the files (and standard input) being linted, byte spans into them, and the line
//! index that turns a byte offset into a line and column when a report is rendered.
//!
//! Invariant: every `Span` is a pair of byte offsets on UTF-8 character boundaries of its file's
//! text. Columns are counted in Unicode code points, 1-based, as SARIF's `unicodeCodePoints`.

mod read;

pub use read::{Unread, is_null_device, read_regular, read_regular_text, special_kind};

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Index of a file in `Report::files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

impl FileId {
    /// The position in a table with one entry per file (`Report::files`, a file's cluster).
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The file table is indexed by file: `files[span.file]`.
impl std::ops::Index<FileId> for [SourceFile] {
    type Output = SourceFile;

    fn index(&self, id: FileId) -> &SourceFile {
        &self[id.index()]
    }
}

impl std::ops::Index<FileId> for Vec<SourceFile> {
    type Output = SourceFile;

    fn index(&self, id: FileId) -> &SourceFile {
        &self.as_slice()[id]
    }
}

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
    /// For Kustomize output: the kustomization files whose patches changed the object
    /// (`configuredIn` of its patch transformers), in the order applied.
    pub patched_in: Vec<String>,
}

/// The default `max-file-size`, and the limit for the files extip-lint reads for itself (the
/// config, a baseline, `.gitignore` files, kustomizations, templates findings are mapped to).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// The name of standard input in reports when `--stdin-filename` gives none.
pub const STDIN_NAME: &str = "<stdin>";

/// A path as text, `/`-separated and without loss: a byte that is not part of valid UTF-8 (Linux
/// allows any byte but `/` and NUL in a name) is written `\xff`. Nothing else in the text is a
/// `\` (one in the path is a separator, written `/`), so the escape reads back unambiguously
/// (SARIF turns it back into the byte, `%FF`).
#[must_use]
pub fn path_text(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::fmt::Write as _;
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::with_capacity(path.as_os_str().len());
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(&chunk.valid().replace('\\', "/"));
            for b in chunk.invalid() {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().replace('\\', "/")
    }
}

/// Turns a path into the name reports show: relative to the working directory when it is
/// inside it, `/`-separated, without a leading `./`; bytes that are not UTF-8 escaped (see
/// `path_text`).
#[must_use]
pub fn display_name(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let path = cwd
        .as_deref()
        .and_then(|c| path.strip_prefix(c).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path);
    let s = path_text(path);
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.trim_start_matches('/');
    }
    s.to_string()
}

/// `path` relative to `base` (a folder), with `/` separators: as given when `path` starts with
/// `base`, else compared as absolute paths (so `..` and absolute arguments match globs relative
/// to a config file); `path`'s display name when it is not below `base` at all.
#[must_use]
pub fn relative_to(path: &Path, base: &Path) -> String {
    let slashes = |p: &Path| path_text(p);
    if let Ok(r) = path.strip_prefix(base)
        && !base.as_os_str().is_empty()
        && base != Path::new(".")
    {
        return slashes(r);
    }
    // A file that does not exist (any more) is placed by its folder.
    let absolute = |p: &Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
        })
    };
    if let (Some(p), Some(b)) = (absolute(path), absolute(base))
        && let Ok(r) = p.strip_prefix(&b)
    {
        return slashes(r);
    }
    display_name(path)
}

/// A line and column, both 1-based; the column counts Unicode code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// What a file is to the tools that read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A manifest, read as kubectl reads it.
    #[default]
    Manifest,
    /// A Helm values file: helm reads it as values, never as objects.
    HelmValues,
}

/// Which renderer made an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Helm,
    Kustomize,
}

/// Where a rendered input's objects come from: the renderer, and the folder its source paths
/// are relative to (the chart's folder for `# Source:` lines, the build folder for Kustomize's
/// origin annotations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    pub tool: Tool,
    pub base: PathBuf,
    /// The chart's `Chart.yaml` or the kustomization file: where a finding points when its
    /// source cannot be found.
    pub source: Option<PathBuf>,
    /// Helm: `charts/<name>` prefixes of `# Source:` paths whose files are elsewhere (`file://`
    /// dependencies built into a copy of the chart) -> the folder they come from.
    pub dependencies: Vec<(String, PathBuf)>,
    /// The command that reproduces the output, as a user would type it.
    pub command: Option<String>,
    /// Helm: the files the values come from, the last the strongest.
    pub values: Vec<PathBuf>,
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
    /// How the file is encoded on disk (the text is UTF-8 either way).
    pub encoding: Encoding,
    /// Offsets in the text of each U+FFFD that replaced an invalid byte (UTF-8) or unit (UTF-16).
    replaced: Box<[usize]>,
    lines: OnceLock<Vec<usize>>,
    /// For rendered output: what rendered it, so findings can be mapped to their source.
    pub rendering: Option<Rendering>,
    /// Not a file on disk: rendered output, shown but never a location code scanning places.
    pub virtual_file: bool,
}

impl SourceFile {
    #[must_use]
    pub fn new(
        id: FileId,
        name: String,
        path: Option<PathBuf>,
        text: Arc<str>,
        encoding: Encoding,
    ) -> Self {
        SourceFile {
            id,
            name,
            path,
            text,
            encoding,
            replaced: Box::new([]),
            lines: OnceLock::new(),
            rendering: None,
            virtual_file: false,
        }
    }

    /// The file with the offsets of its replaced bytes (see `decode_text`).
    #[must_use]
    pub fn with_replaced(mut self, replaced: Vec<usize>) -> Self {
        self.replaced = replaced.into_boxed_slice();
        self
    }

    /// Offsets in the text where an invalid byte was replaced by U+FFFD.
    #[must_use]
    pub fn replaced(&self) -> &[usize] {
        &self.replaced
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

    /// The byte offset in the file as stored on disk of an offset into the text.
    #[must_use]
    pub fn stored_offset(&self, offset: usize) -> usize {
        // Each U+FFFD that stands for one invalid UTF-8 byte is 3 bytes in the text.
        let replaced = 2 * self.replaced.partition_point(|&r| r < offset);
        match self.encoding {
            Encoding::Utf8 => offset - replaced,
            Encoding::Utf8Bom => offset + 3 - replaced,
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let before = self.text.get(..offset).unwrap_or(&self.text);
                2 + 2 * before.encode_utf16().count()
            }
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

/// How a file's bytes are encoded; text is always held as UTF-8, offsets into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark.
    #[default]
    Utf8,
    Utf8Bom,
    /// UTF-16 with a byte order mark (what Windows PowerShell writes), which kubectl reads.
    Utf16Le,
    Utf16Be,
}

/// A file's text as decoded, with the offsets (in the text) of undecodable sequences.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub encoding: Encoding,
    pub bad: Vec<usize>,
}

/// Decodes a file as kubectl does: UTF-16 when it starts with a UTF-16 byte order mark, else
/// UTF-8 (a UTF-8 byte order mark removed). Each invalid UTF-8 byte, and each unpaired UTF-16
/// surrogate, becomes U+FFFD; where each replacement is in the text is recorded in `bad`.
#[must_use]
pub fn decode_text(bytes: Vec<u8>) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, Encoding::Utf16Le, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, Encoding::Utf16Be, u16::from_be_bytes);
    }
    let (bom, encoding) = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (3, Encoding::Utf8Bom)
    } else {
        (0, Encoding::Utf8)
    };
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            text.drain(..bom);
            Decoded {
                text,
                encoding,
                bad: Vec::new(),
            }
        }
        Err(e) => {
            let mut bytes = e.into_bytes();
            bytes.drain(..bom);
            let (text, bad) = lossy(&bytes);
            Decoded {
                text,
                encoding,
                bad,
            }
        }
    }
}

/// Bytes as UTF-8 text, each byte of an invalid sequence read as one U+FFFD (as Go's decoder
/// reads it), with the offsets in the text of each replacement.
#[must_use]
pub fn lossy(bytes: &[u8]) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut bad = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.push_str(std::str::from_utf8(&rest[..good]).unwrap_or_default());
                let n = e.error_len().unwrap_or(rest.len() - good);
                for _ in 0..n {
                    bad.push(out.len());
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                rest = &rest[good + n..];
            }
        }
    }
    (out, bad)
}

fn utf16(bytes: &[u8], encoding: Encoding, unit: fn([u8; 2]) -> u16) -> Decoded {
    let pairs = bytes.chunks_exact(2);
    let odd = !pairs.remainder().is_empty();
    let units = pairs.map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut bad = Vec::new();
    for c in char::decode_utf16(units) {
        if let Ok(c) = c {
            text.push(c);
        } else {
            bad.push(text.len());
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    if odd {
        bad.push(text.len());
        text.push(char::REPLACEMENT_CHARACTER);
    }
    Decoded {
        text,
        encoding,
        bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "t".into(), None, Arc::from(text), Encoding::Utf8)
    }

    #[cfg(unix)]
    #[test]
    fn paths_that_are_not_utf8_are_named_without_loss() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"dir/caf\xe9-\xff.yaml"));
        assert_eq!(path_text(p), "dir/caf\\xe9-\\xff.yaml");
        assert_eq!(display_name(p), "dir/caf\\xe9-\\xff.yaml");
        assert_eq!(path_text(Path::new("ok/é.yaml")), "ok/é.yaml");
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
    fn each_invalid_utf8_byte_is_one_replacement_character() {
        let d = decode_text(b"a: \xff\xfe\nb: c".to_vec());
        assert_eq!(d.text, "a: \u{fffd}\u{fffd}\nb: c");
        assert_eq!((d.encoding, d.bad.clone()), (Encoding::Utf8, vec![3, 6]));
        let f = SourceFile::new(FileId(0), "t".into(), None, Arc::from(d.text), d.encoding)
            .with_replaced(d.bad);
        // `b` is byte 6 in the file, byte 10 in the text.
        assert_eq!(f.stored_offset(10), 6);
    }

    #[test]
    fn bom_is_removed_and_remembered() {
        let d = decode_text(b"\xEF\xBB\xBFa: b".to_vec());
        assert_eq!(
            (d.text.as_str(), d.encoding, d.bad.len()),
            ("a: b", Encoding::Utf8Bom, 0)
        );
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_read_and_offsets_map_back() {
        let text = "a: é\nb: 😀 c\n";
        for (bom, enc, unit) in [
            (
                [0xFF, 0xFE],
                Encoding::Utf16Le,
                u16::to_le_bytes as fn(u16) -> [u8; 2],
            ),
            ([0xFE, 0xFF], Encoding::Utf16Be, u16::to_be_bytes),
        ] {
            let mut bytes = bom.to_vec();
            bytes.extend(text.encode_utf16().flat_map(unit));
            let d = decode_text(bytes);
            assert_eq!((d.text.as_str(), d.encoding, d.bad.len()), (text, enc, 0));
            let f = SourceFile::new(FileId(0), "t".into(), None, Arc::from(text), enc);
            // `c` follows a surrogate pair: 2 (BOM) + 2 * 11 units.
            assert_eq!(f.stored_offset(text.find('c').expect("c")), 24);
        }
        let d = decode_text(vec![0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b', 0]);
        assert_eq!((d.text.as_str(), d.bad), ("a\u{fffd}b", vec![1]));
    }
}
