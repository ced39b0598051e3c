//! JSON streams as kubectl reads them when a stream starts with `{`: a sequence of JSON values
//! (Go's `encoding/json` decoder), each one document, built into the same span tree as YAML so
//! everything after this stage is the same. Strings are strings; numbers, `true`, `false` and
//! `null` are typed as the plain scalars they read as. A repeated key keeps the last value, as
//! Go's decoder does (and is recorded, as in YAML).

use super::mapping;
use super::scalar::Style;
use super::tree::{BuildLimits, NodeId, Tree, TreeError};

/// The documents of a JSON stream, up to the first error.
#[derive(Debug, Default)]
pub struct JsonStream {
    /// One tree per JSON value, with absolute offsets.
    pub docs: Vec<Tree>,
    pub error: Option<TreeError>,
}

/// Reads every JSON value of `text`.
#[must_use]
pub fn read_stream(text: &str, limits: BuildLimits) -> JsonStream {
    let mut out = JsonStream::default();
    let mut r = Reader {
        b: text.as_bytes(),
        text,
        pos: 0,
        limits,
    };
    loop {
        r.skip_ws();
        if r.pos >= r.b.len() {
            return out;
        }
        match r.value() {
            Ok(tree) => out.docs.push(tree),
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    text: &'a str,
    pos: usize,
    limits: BuildLimits,
}

/// A container being read: its node, where its children start in `pending`, and whether the
/// next thing is a key (objects) or a value.
struct Open {
    id: NodeId,
    from: usize,
    object: bool,
    /// An object expects a key next; an array or object expects `,` or its close.
    want_key: bool,
    first: bool,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.b.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error(&self, what: &str) -> TreeError {
        let at = self.pos.min(self.b.len());
        let message = match self.text[at..].chars().next() {
            None => "JSON syntax error: unexpected end of JSON input".to_string(),
            Some(c) => format!("JSON syntax error: invalid character {c:?} {what}"),
        };
        let end = self.text[at..]
            .chars()
            .next()
            .map_or(at, |c| at + c.len_utf8());
        TreeError {
            message,
            start: at.min(self.text.len().saturating_sub(1)),
            end: end.max(at),
        }
    }

    /// Reads one whole value (iteratively, so depth costs no stack).
    fn value(&mut self) -> Result<Tree, TreeError> {
        let mut tree = Tree::default();
        let mut stack: Vec<Open> = Vec::new();
        let mut pending: Vec<NodeId> = Vec::new();
        loop {
            self.skip_ws();
            // Inside a container: a separator or its end first.
            if let Some(top) = stack.last_mut() {
                let close = if top.object { b'}' } else { b']' };
                if self.b.get(self.pos) == Some(&close) && (top.first || !top.want_key) {
                    self.pos += 1;
                    let top = stack.pop().expect("BUG: a container is open");
                    self.close(&mut tree, &mut pending, &top)?;
                    if stack.is_empty() {
                        return Ok(tree);
                    }
                    continue;
                }
                if !top.first && !top.want_key {
                    if self.b.get(self.pos) != Some(&b',') {
                        return Err(self.error(if top.object {
                            "after object key:value pair"
                        } else {
                            "after array element"
                        }));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    top.want_key = top.object;
                    if !top.object {
                        top.first = false;
                    }
                }
                if top.object && top.want_key {
                    if self.b.get(self.pos) != Some(&b'"') {
                        return Err(self.error("looking for beginning of object key string"));
                    }
                    let key = self.string(&mut tree)?;
                    pending.push(key);
                    self.skip_ws();
                    if self.b.get(self.pos) != Some(&b':') {
                        return Err(self.error("after object key"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    top.want_key = false;
                    top.first = false;
                }
                top.first = false;
            }
            let start = self.pos;
            let id = match self.b.get(self.pos) {
                Some(b'{' | b'[') => {
                    if stack.len() >= self.limits.max_depth {
                        return Err(TreeError {
                            message: format!(
                                "nesting deeper than {} levels (limit `max-depth`)",
                                self.limits.max_depth
                            ),
                            start,
                            end: start + 1,
                        });
                    }
                    let object = self.b[self.pos] == b'{';
                    self.pos += 1;
                    let id = tree.push_collection(object, start, start + 1);
                    if stack.is_empty() {
                        tree.roots.push(id);
                    } else {
                        pending.push(id);
                    }
                    stack.push(Open {
                        id,
                        from: pending.len(),
                        object,
                        want_key: object,
                        first: true,
                    });
                    continue;
                }
                Some(b'"') => self.string(&mut tree)?,
                Some(b't' | b'f' | b'n') => self.literal(&mut tree)?,
                Some(b'-' | b'0'..=b'9') => self.number(&mut tree)?,
                _ => return Err(self.error("looking for beginning of value")),
            };
            if stack.is_empty() {
                tree.roots.push(id);
                return Ok(tree);
            }
            pending.push(id);
        }
    }

    fn close(
        &self,
        tree: &mut Tree,
        pending: &mut Vec<NodeId>,
        open: &Open,
    ) -> Result<(), TreeError> {
        if open.object {
            mapping::settle(tree, pending, open.from, open.id)?;
        }
        let first = tree.edges.len() as u32;
        let len = (pending.len() - open.from) as u32;
        tree.edges.extend(pending.drain(open.from..));
        tree.close(open.id, first, len, self.pos);
        Ok(())
    }

    fn string(&mut self, tree: &mut Tree) -> Result<NodeId, TreeError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut run = self.pos;
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.error(""));
            };
            match c {
                b'"' => {
                    value.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    value.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    let esc = self.b.get(self.pos).copied();
                    self.pos += 1;
                    match esc {
                        Some(b'"') => value.push('"'),
                        Some(b'\\') => value.push('\\'),
                        Some(b'/') => value.push('/'),
                        Some(b'b') => value.push('\u{8}'),
                        Some(b'f') => value.push('\u{c}'),
                        Some(b'n') => value.push('\n'),
                        Some(b'r') => value.push('\r'),
                        Some(b't') => value.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.b.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // Go replaces an unpaired surrogate with U+FFFD.
                            value.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("in string escape code"));
                        }
                    }
                    run = self.pos;
                }
                0..0x20 => return Err(self.error("in string literal")),
                _ => self.pos += 1,
            }
        }
        Ok(tree.push_scalar(&value, Style::Str, start, self.pos))
    }

    fn hex4(&mut self) -> Result<u32, TreeError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(d) = digits else {
            return Err(self.error("in \\u hexadecimal character escape"));
        };
        self.pos += 4;
        u32::from_str_radix(d, 16).map_err(|_| self.error("in \\u hexadecimal character escape"))
    }

    /// `true`, `false` or `null`; a wrong letter is Go's error at that letter.
    fn literal(&mut self, tree: &mut Tree) -> Result<NodeId, TreeError> {
        let start = self.pos;
        let word = match self.b[start] {
            b't' => "true",
            b'f' => "false",
            _ => "null",
        };
        for expected in word.bytes().skip(1) {
            self.pos += 1;
            if self.b.get(self.pos) != Some(&expected) {
                return Err(self.error(&format!(
                    "in literal {word} (expecting {:?})",
                    char::from(expected)
                )));
            }
        }
        self.pos += 1;
        Ok(plain(tree, word, start, self.pos))
    }

    fn number(&mut self, tree: &mut Tree) -> Result<NodeId, TreeError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let s = r.pos;
            while r.b.get(r.pos).is_some_and(u8::is_ascii_digit) {
                r.pos += 1;
            }
            r.pos > s
        };
        if self.b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        if self.b.get(self.pos) == Some(&b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return Err(self.error("in numeric literal"));
        }
        if self.b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error("after decimal point in numeric literal"));
            }
        }
        if matches!(self.b.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.b.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("in exponent of numeric literal"));
            }
        }
        let text = &self.text[start..self.pos];
        Ok(plain(tree, text, start, self.pos))
    }
}

fn plain(tree: &mut Tree, text: &str, start: usize, end: usize) -> NodeId {
    tree.push_scalar(text, Style::Plain, start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BuildLimits = BuildLimits { max_depth: 64 };

    fn one(text: &str) -> Tree {
        let s = read_stream(text, LIMITS);
        assert!(s.error.is_none(), "{:?}", s.error);
        s.docs.into_iter().next().expect("a value")
    }

    #[test]
    fn objects_keep_spans_and_types() {
        let text = r#"{"kind": "Service", "spec": {"ports": [{"port": 80}], "x": [true, null, "a\/b\u00e9"]}}"#;
        let t = one(text);
        let (_, port) = {
            let spec = t.get(t.roots[0], "spec").expect("spec").1;
            let ports = t.get(spec, "ports").expect("ports").1;
            t.pairs(t.items(ports)[0]).next().expect("port")
        };
        assert_eq!(&text[t.node(port).start..t.node(port).end], "80");
        let spec = t.get(t.roots[0], "spec").expect("spec").1;
        let x = t.get(spec, "x").expect("x").1;
        assert_eq!(t.scalar(t.items(x)[2]), Some("a/bé"));
        let n = t.node(t.roots[0]);
        assert_eq!((n.start, n.end), (0, text.len()));
    }

    #[test]
    fn a_stream_holds_several_values_and_stops_at_an_error() {
        let s = read_stream("{\"a\": 1}\n{\"b\": 2} {\"c\": [}", LIMITS);
        assert_eq!(s.docs.len(), 2);
        let e = s.error.expect("error");
        assert!(
            e.message.contains("looking for beginning of value"),
            "{}",
            e.message
        );
        assert_eq!(e.start, 25, "at the closing brace where a value should be");
    }

    #[test]
    fn a_misspelt_literal_is_gos_error_at_the_wrong_letter() {
        let s = read_stream("{\"a\": 1}\nthis is not json\n", LIMITS);
        let e = s.error.expect("error");
        assert_eq!(
            e.message,
            "JSON syntax error: invalid character 'h' in literal true (expecting 'r')"
        );
        assert_eq!(e.start, 10);
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        let t = one(r#"{"a": 1, "a": 2}"#);
        assert_eq!(t.scalar(t.get(t.roots[0], "a").expect("a").1), Some("2"));
        assert_eq!(t.duplicates.len(), 1);
    }
}
