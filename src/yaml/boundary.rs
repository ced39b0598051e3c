//! The parser boundary: libyaml-safer's marks are byte offsets into the text it was given, but
//! some spans run past the node (a block scalar over the blank lines after it) and error marks
//! may sit past the end of the document. Everything here turns them into exact byte spans of
//! the node's own text.

use libyaml_safer::ScalarStyle;

/// A scalar's span without what follows it: block and plain scalars end at their last
/// non-blank character (quoted ones already end at their closing quote).
pub(super) fn scalar_extent(
    text: &str,
    start: usize,
    end: usize,
    style: ScalarStyle,
) -> (usize, usize) {
    let end = end.min(text.len());
    let start = start.min(end);
    match style {
        ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted => (start, end),
        _ => (start, start + text[start..end].trim_end().len()),
    }
}

/// Errors are sometimes reported at the start of the next line or past the end of the chunk;
/// move them back onto the last non-blank character before that point.
pub(super) fn clamp_to_content(text: &str, pos: usize) -> usize {
    let pos = floor_char(text, pos.min(text.len()));
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

/// The end of the character at `pos`.
pub(super) fn next_char_end(text: &str, pos: usize) -> usize {
    text[pos..]
        .chars()
        .next()
        .map_or(pos, |c| pos + c.len_utf8())
}

/// `pos`, moved back to a character boundary.
pub(super) fn floor_char(text: &str, mut pos: usize) -> usize {
    while pos > 0 && !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_scalars_end_at_their_last_character() {
        let text = "|\n  one\n  two\n\nb";
        assert_eq!(scalar_extent(text, 0, 15, ScalarStyle::Literal), (0, 13));
    }

    #[test]
    fn errors_past_the_end_move_back_onto_content() {
        let text = "a: [1, 2\n\n";
        assert_eq!(clamp_to_content(text, text.len()), 7);
        assert_eq!(floor_char("é", 1), 0);
    }
}
