//! The parser's input: a text handed to libyaml-safer a slice at a time.
//!
//! libyaml-safer decodes everything its reader offers into a queue of `char`s (4 bytes each)
//! before it scans. Given the whole text as one slice (`set_input_string`), it queued all of it:
//! a 200 MB document took 1 GB there, plus the copies the queue made while growing. Offered
//! `SLICE` bytes at a time, the queue holds one slice and the scanner's lookahead, whatever the
//! size of the document. Offsets in the parser's marks count bytes from the start, so they do
//! not depend on how the text was sliced.

use std::io::{BufRead, Read};

/// How much of the text the parser is offered at a time.
const SLICE: usize = 64 * 1024;

/// A text offered to the parser `SLICE` bytes at a time, each slice ending on a character
/// boundary (the parser reads a character cut in two one byte at a time).
#[derive(Debug, Clone, Copy)]
pub struct Slices<'a> {
    rest: &'a [u8],
    /// Offered once `rest` is used up: a final line break, or nothing.
    tail: &'static [u8],
}

impl<'a> Slices<'a> {
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        Slices {
            rest: text.as_bytes(),
            tail: b"",
        }
    }

    /// The text followed by a line break, without copying it.
    #[must_use]
    pub fn with_final_line_break(text: &'a str) -> Self {
        Slices {
            rest: text.as_bytes(),
            tail: b"\n",
        }
    }

    /// The next slice: at most `SLICE` bytes, up to a character boundary.
    fn next_slice(&self) -> &'a [u8] {
        if self.rest.is_empty() {
            return self.tail;
        }
        let mut end = self.rest.len().min(SLICE);
        // A UTF-8 continuation byte is `10xxxxxx`; the slice ends before the character it is part
        // of (the text is valid UTF-8, so at most 3 steps back).
        while end < self.rest.len() && end > 0 && self.rest[end] & 0xC0 == 0x80 {
            end -= 1;
        }
        &self.rest[..end]
    }
}

impl Read for Slices<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let slice = self.next_slice();
        let n = slice.len().min(buf.len());
        buf[..n].copy_from_slice(&slice[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Slices<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(self.next_slice())
    }

    fn consume(&mut self, amt: usize) {
        if self.rest.is_empty() {
            self.tail = &self.tail[amt.min(self.tail.len())..];
        } else {
            self.rest = &self.rest[amt.min(self.rest.len())..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(input: impl BufRead) -> Vec<(String, u64, u64)> {
        let mut parser = libyaml_safer::Parser::new();
        parser.set_input(input);
        let mut out = Vec::new();
        loop {
            let e = parser.parse().expect("parses");
            let done = e.data == libyaml_safer::EventData::StreamEnd;
            out.push((
                format!("{:?}", e.data),
                e.start_mark.index,
                e.end_mark.index,
            ));
            if done {
                return out;
            }
        }
    }

    #[test]
    fn slices_end_on_character_boundaries_and_cover_the_text() {
        // 3-byte characters across the slice boundary.
        let text = format!("a: {}\n", "é€".repeat(SLICE));
        let mut s = Slices::new(&text);
        let mut all = Vec::new();
        loop {
            let slice = s.fill_buf().expect("slice").to_vec();
            if slice.is_empty() {
                break;
            }
            assert!(std::str::from_utf8(&slice).is_ok());
            assert!(slice.len() <= SLICE);
            s.consume(slice.len());
            all.extend(slice);
        }
        assert_eq!(all, text.as_bytes());
    }

    #[test]
    fn events_and_marks_are_those_of_the_whole_text() {
        use std::fmt::Write;
        let mut text = String::new();
        for i in 0..20_000 {
            let _ = writeln!(text, "k{i}: \"vé{i}\"");
        }
        let _ = writeln!(text, "long: {}", "x€".repeat(SLICE));
        // The whole text at once, as the parser reads a string.
        let expected = events(text.as_bytes());
        assert_eq!(events(Slices::new(&text)), expected);
        let without = text.strip_suffix('\n').expect("ends with a line break");
        assert_eq!(events(Slices::with_final_line_break(without)), expected);
    }
}
