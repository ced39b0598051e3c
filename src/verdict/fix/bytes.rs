//! A fixed text as the bytes to store: the file's own bytes, with only the edited ranges
//! replaced, in the file's encoding. A byte order mark, invalid UTF-8 bytes, UTF-16 and line
//! ends outside the edits stay exactly as they were.

use crate::finding::Edit;
use crate::source::{Encoding, SourceFile, decode_text};

/// `stored` (the file's bytes now) with `edits` made. Refused when `stored` no longer reads as
/// the text that was linted: the file changed since, and the edits would land in the wrong
/// places or undo someone's change.
pub fn splice(file: &SourceFile, stored: &[u8], edits: &[Edit]) -> Result<Vec<u8>, String> {
    let now = decode_text(stored.to_vec());
    if *now.text != *file.text || now.encoding != file.encoding {
        return Err("it changed since it was read".into());
    }
    let mut order: Vec<(usize, &Edit)> = edits.iter().enumerate().collect();
    order.sort_by_key(|(i, e)| (e.span.start, e.span.end, *i));
    let mut out = Vec::with_capacity(stored.len() + 256);
    let mut at = 0;
    for (_, e) in order {
        let (start, end) = (
            file.stored_offset(e.span.start),
            file.stored_offset(e.span.end),
        );
        out.extend_from_slice(&stored[at..start]);
        encode(&e.text, file.encoding, &mut out);
        at = end;
    }
    out.extend_from_slice(&stored[at..]);
    Ok(out)
}

fn encode(text: &str, encoding: Encoding, out: &mut Vec<u8>) {
    match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => out.extend_from_slice(text.as_bytes()),
        Encoding::Utf16Le => out.extend(text.encode_utf16().flat_map(u16::to_le_bytes)),
        Encoding::Utf16Be => out.extend(text.encode_utf16().flat_map(u16::to_be_bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};
    use std::sync::Arc;

    fn file(stored: &[u8]) -> SourceFile {
        let d = decode_text(stored.to_vec());
        SourceFile::new(
            FileId(0),
            "f.yaml".into(),
            None,
            Arc::from(d.text),
            d.encoding,
        )
        .with_replaced(d.bad)
    }

    fn edit(f: &SourceFile, old: &str, new: &str) -> Edit {
        let at = f.text.find(old).expect("in the text");
        Edit {
            span: Span::new(FileId(0), at, at + old.len()),
            text: new.into(),
        }
    }

    #[test]
    fn bytes_outside_the_edit_stay_as_stored() {
        // A BOM, an invalid byte in a comment, CRLF.
        let stored = b"\xef\xbb\xbfa: 1 # \xff\r\nb: 2\r\n";
        let f = file(stored);
        let out = splice(&f, stored, &[edit(&f, "2", "3")]).expect("splices");
        assert_eq!(out, b"\xef\xbb\xbfa: 1 # \xff\r\nb: 3\r\n");
    }

    #[test]
    fn utf16_stays_utf16() {
        let text = "a: 1\nb: 2\n";
        let mut stored = vec![0xFF, 0xFE];
        stored.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let f = file(&stored);
        let out = splice(&f, &stored, &[edit(&f, "2", "30")]).expect("splices");
        let mut want = vec![0xFF, 0xFE];
        want.extend("a: 1\nb: 30\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(out, want);
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_refused() {
        let f = file(b"a: 1\n");
        let e = edit(&f, "1", "2");
        assert!(splice(&f, b"a: 5\n", &[e]).is_err());
    }
}
