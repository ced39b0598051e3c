//! Places as the protocol counts them: `file://` URIs for paths, and positions (line, and a
//! character offset in the units the client and the server agreed on: UTF-16 by default, UTF-8
//! when the client offers it) for byte offsets into a file's text.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, Uri};

use crate::source::SourceFile;

/// The unit of a position's `character`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    Utf8,
    Utf16,
}

impl Units {
    fn count(self, s: &str) -> usize {
        match self {
            Units::Utf8 => s.len(),
            Units::Utf16 => s.encode_utf16().count(),
        }
    }
}

/// Byte offsets where each line starts: after `\n`, `\r\n` or a lone `\r`, as the protocol
/// counts lines (and as `SourceFile` does).
#[must_use]
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// The position of byte `offset` in `text`, whose lines start at `starts`.
#[must_use]
pub fn position(text: &str, starts: &[usize], offset: usize, units: Units) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let start = starts[line];
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        character: u32::try_from(units.count(&text[start..offset])).unwrap_or(u32::MAX),
    }
}

/// The byte offset of `pos` in `text`: past the end of a line is its end (before the line
/// break), past the last line is the end of the text.
#[must_use]
pub fn offset(text: &str, starts: &[usize], pos: Position, units: Units) -> usize {
    let Some(&start) = starts.get(pos.line as usize) else {
        return text.len();
    };
    let end = starts
        .get(pos.line as usize + 1)
        .copied()
        .unwrap_or(text.len());
    let line = text[start..end].trim_end_matches(['\n', '\r']);
    let mut counted = 0;
    for (i, c) in line.char_indices() {
        if counted >= pos.character as usize {
            return start + i;
        }
        counted += match units {
            Units::Utf8 => c.len_utf8(),
            Units::Utf16 => c.len_utf16(),
        };
    }
    start + line.len()
}

/// The range of bytes `start..end` of a file.
#[must_use]
pub fn range(file: &SourceFile, start: usize, end: usize, units: Units) -> Range {
    let starts = file.line_starts();
    Range {
        start: position(&file.text, starts, start, units),
        end: position(&file.text, starts, end, units),
    }
}

/// The `file://` URI of an absolute path, each byte but the unreserved ones and `/`
/// percent-encoded.
#[must_use]
pub fn uri_of(path: &Path) -> Option<Uri> {
    use std::fmt::Write as _;
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Uri::from_str(&out).ok()
}

/// The path a `file://` URI names; `None` for another scheme or a malformed encoding.
#[must_use]
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://host/path` names a path on another host: only the local one is read.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    // `/C:/x` on Windows is `C:/x`.
    let text = match text.as_bytes() {
        [b'/', d, b':', ..] if cfg!(windows) && d.is_ascii_alphabetic() => text[1..].to_string(),
        _ => text,
    };
    Some(PathBuf::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_count_surrogate_pairs_twice_and_utf8_counts_bytes() {
        let text = "a: é😀x\r\nb\rc";
        let starts = line_starts(text);
        assert_eq!(starts, vec![0, 12, 14]);
        let x = text.find('x').expect("x");
        assert_eq!(
            position(text, &starts, x, Units::Utf16),
            Position::new(0, 6)
        );
        assert_eq!(position(text, &starts, x, Units::Utf8), Position::new(0, 9));
        assert_eq!(offset(text, &starts, Position::new(0, 6), Units::Utf16), x);
        assert_eq!(offset(text, &starts, Position::new(0, 9), Units::Utf8), x);
        assert_eq!(
            position(text, &starts, text.len(), Units::Utf16),
            Position::new(2, 1)
        );
        // Past the end of a line: its end; past the last line: the end of the text.
        assert_eq!(
            offset(text, &starts, Position::new(1, 40), Units::Utf16),
            13
        );
        assert_eq!(
            offset(text, &starts, Position::new(9, 0), Units::Utf16),
            text.len()
        );
    }

    #[test]
    fn paths_and_uris_round_trip_with_percent_encoding() {
        let path = PathBuf::from("/tmp/a dir/ü#1.yaml");
        let uri = uri_of(&path).expect("uri");
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/%C3%BC%231.yaml");
        assert_eq!(path_of(&uri), Some(path));
        let other = Uri::from_str("untitled:Untitled-1").expect("uri");
        assert_eq!(path_of(&other), None);
    }
}
