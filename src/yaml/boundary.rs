//! The parser boundary: saphyr's positions are characters, and some of its spans run past the
//! node (a quoted scalar past a trailing comment, a block scalar over trailing blank lines, an
//! indentless sequence that starts after its dash). Everything here turns them into exact byte
//! spans of the node's own text.

use saphyr_parser::ScalarStyle;

/// saphyr's scalar spans: quoted ones may run past a trailing comment, block scalars include
/// trailing blank lines. Trim both to the scalar's own text.
pub(super) fn scalar_extent(
    text: &str,
    start: usize,
    end: usize,
    style: ScalarStyle,
) -> (usize, usize) {
    let b = text.as_bytes();
    let end = end.min(b.len());
    match style {
        ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted => {
            let q = if matches!(style, ScalarStyle::DoubleQuoted) {
                b'"'
            } else {
                b'\''
            };
            let Some(open) = b[start..end]
                .iter()
                .position(|&c| c == q)
                .map(|i| start + i)
            else {
                return (start, end);
            };
            let mut i = open + 1;
            while i < b.len() {
                if q == b'"' && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == q {
                    if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return (start, i + 1);
                }
                i += 1;
            }
            (start, end)
        }
        ScalarStyle::Literal | ScalarStyle::Folded | ScalarStyle::Plain => {
            let trimmed = text[start..end].trim_end().len();
            (start, start + trimmed)
        }
    }
}

/// An indentless block sequence (`key:\n- x`) starts at its first item's content; move it back
/// onto the `-` so the sequence's span covers its first dash.
pub(super) fn dash_before(text: &str, start: usize) -> usize {
    let b = text.as_bytes();
    if b.get(start) == Some(&b'-') {
        return start;
    }
    let before = text[..start].trim_end_matches([' ', '\t']);
    if before.ends_with('-') {
        before.len() - 1
    } else {
        start
    }
}

/// Errors are sometimes reported at the start of the next line or past the end of the chunk;
/// move them back onto the last non-blank character before that point.
pub(super) fn clamp_to_content(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    let before = text[..pos].trim_end();
    if pos >= text.len()
        || text[pos..].trim().is_empty()
        || text[before.len()..pos].contains('\n') && text[pos..].starts_with(char::is_whitespace)
    {
        before.char_indices().last().map_or(0, |(i, _)| i)
    } else {
        pos
    }
}

pub(super) fn next_char_end(text: &str, pos: usize) -> usize {
    text[pos..]
        .chars()
        .next()
        .map_or(pos, |c| pos + c.len_utf8())
}

/// Converts saphyr's character indices to byte offsets: identity for ASCII text, otherwise a
/// checkpoint every 64 characters and a short forward scan.
pub(super) struct CharToByte<'a> {
    text: &'a str,
    checkpoints: Option<Vec<usize>>,
}

const STRIDE: usize = 64;

impl<'a> CharToByte<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let checkpoints = (!text.is_ascii()).then(|| {
            text.char_indices()
                .step_by(STRIDE)
                .map(|(i, _)| i)
                .collect()
        });
        CharToByte { text, checkpoints }
    }

    pub(super) fn byte(&self, chars: usize) -> usize {
        let Some(cp) = &self.checkpoints else {
            return chars.min(self.text.len());
        };
        let Some(&base) = cp.get(chars / STRIDE) else {
            return self.text.len();
        };
        let rest = chars % STRIDE;
        self.text[base..]
            .char_indices()
            .nth(rest)
            .map_or(self.text.len(), |(i, _)| base + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_to_byte_handles_multibyte_text() {
        let text = "ü".repeat(200);
        let c = CharToByte::new(&text);
        assert_eq!(c.byte(130), 260);
        assert_eq!(c.byte(200), 400);
    }
}
