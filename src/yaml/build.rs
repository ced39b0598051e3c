//! Tree building: one kubectl chunk -> the span tree of its first document, as go-yaml v2 reads
//! it behind `kubectl apply -f`.
//!
//! libyaml-safer (a safe-Rust port of libyaml, the C library go-yaml v2 was ported from) does the
//! scanning and parsing. go-yaml v2 forked an older libyaml, so the few places where the two
//! disagree are settled here, each against kubectl:
//!
//! - go-yaml accepts what newer libyaml rejects: a `\'` escape in a double-quoted scalar, a tag
//!   holding `,`, `[` or `]` (`!!str, x`, `[!x, b]`), a flow plain scalar ending in `:`
//!   (`{key:, other}`). The text is patched (`\x27`, URI escapes, quotes) and parsed again;
//!   marks are mapped back to the original.
//! - go-yaml rejects what newer libyaml accepts: the YAML 1.2 `\/` escape, `?` inside a plain
//!   scalar in a flow collection, and a `%YAML` directive for any version but 1.1.
//! - go-yaml reads only the first document of a chunk and never looks at what follows it.
//! - go-yaml's decoder rejects an undefined or self-containing alias, a tagged scalar whose text
//!   is not of the tag's type, excessive aliasing (its alias-ratio rule), and kubectl's JSON
//!   conversion rejects `.inf` and `.nan` values (`mapping` settles keys and merges).
//!
//! libyaml-safer's marks are byte offsets into the text it is given, so spans need no
//! conversion. The crate is vendored with its known panic fixed (`vendor/README.md`); should it
//! panic on some other input, the panic is caught and reported as a syntax error of the
//! document, never a crash.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};

use super::boundary::{clamp_to_content, next_char_end, scalar_extent};
use super::input::Slices;
use super::mapping;
use super::refusals::{excessive_aliasing, unrepresentable};
use super::scalar::{Style, binary as binary_text, check_tagged};
use super::tree::{BuildLimits, MAX_TEXT, NodeId, NodeKind, Tree, TreeError};

/// Parses the first document of one chunk into a tree. `base` is the chunk's byte offset in the
/// file. Returns the tree (with no root for an empty chunk) or the error kubectl would give.
pub fn build(text: &str, base: usize, limits: BuildLimits) -> Result<Tree, TreeError> {
    build_from(text, base, None, limits)
}

/// `build` for the chunk `source[start..end]` of a file's text: scalar values written verbatim
/// in the text are not copied, the tree points into `source`.
pub fn build_in(
    source: &Arc<str>,
    start: usize,
    end: usize,
    limits: BuildLimits,
) -> Result<Tree, TreeError> {
    build_from(&source[start..end], start, Some(source), limits)
}

fn build_from(
    text: &str,
    base: usize,
    source: Option<&Arc<str>>,
    limits: BuildLimits,
) -> Result<Tree, TreeError> {
    if base + text.len() > MAX_TEXT {
        return Err(TreeError {
            message:
                "the text is larger than 4 GiB - 1; extip-lint reads smaller files (limit `max-file-size`)"
                    .into(),
            start: base,
            end: base,
        });
    }
    // A UTF-8 byte order mark at the start of a chunk is skipped, as go-yaml skips it.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut input = Patched::new(&text[bom..]);
    for _ in 0..256 {
        match build_once(text, bom, &input, source.map(|s| (s, base + bom)), limits) {
            Err(Failure::Syntax {
                problem,
                at,
                context_at,
            }) => {
                let Some(patch) = patch_for(&input, problem, at, context_at) else {
                    return Err(syntax_error(text, base, bom, &input, problem, at));
                };
                input.apply(&patch);
            }
            Err(Failure::At { pos, message }) => {
                return Err(error_at(text, base, bom + pos, message));
            }
            Ok(mut tree) => {
                tree.shift(base + bom);
                for d in &mut tree.duplicates {
                    d.start += base + bom;
                    d.end += base + bom;
                }
                tree.unread = tree.unread.map(|u| u + base + bom);
                return Ok(tree);
            }
        }
    }
    Err(error_at(
        text,
        base,
        bom,
        "YAML syntax error: too many repairs needed".into(),
    ))
}

/// Why one parse attempt failed: a parser error (maybe one a patch repairs) or a decoding rule,
/// at an offset in the original chunk text (after the BOM).
enum Failure {
    Syntax {
        problem: &'static str,
        /// Offsets in the patched input.
        at: usize,
        context_at: Option<usize>,
    },
    At {
        pos: usize,
        message: String,
    },
}

fn syntax_error(
    text: &str,
    base: usize,
    bom: usize,
    input: &Patched,
    problem: &str,
    at: usize,
) -> TreeError {
    error_at(
        text,
        base,
        bom + input.original(at),
        format!("YAML syntax error: {problem}"),
    )
}

fn error_at(text: &str, base: usize, pos: usize, message: String) -> TreeError {
    let pos = clamp_to_content(text, pos);
    TreeError {
        message,
        start: base + pos,
        end: base + next_char_end(text, pos),
    }
}

/// The text handed to the parser: the chunk (after its BOM) with length-changing repairs, and
/// the map from offsets in it back to the original. Borrowed until a repair needs a copy, so a
/// large document is not held twice.
struct Patched<'a> {
    text: Cow<'a, str>,
    /// kubectl's line reader ends every line with a line break; so does the parser's input (a
    /// block scalar at the very end without one also trips the parser): one is added after the
    /// text when it has none.
    line_break: bool,
    /// `(patched start, patched end, original start, original end)` of each repair, in order.
    repairs: Vec<(usize, usize, usize, usize)>,
}

/// A repair: replace `len` bytes of the current input at `at` by `with`.
struct Patch {
    at: usize,
    len: usize,
    with: String,
}

impl<'a> Patched<'a> {
    fn new(text: &'a str) -> Self {
        Patched {
            text: Cow::Borrowed(text),
            line_break: !text.ends_with('\n'),
            repairs: Vec::new(),
        }
    }

    /// The input as the parser reads it.
    fn slices(&self) -> Slices<'_> {
        if self.line_break {
            Slices::with_final_line_break(&self.text)
        } else {
            Slices::new(&self.text)
        }
    }

    fn apply(&mut self, p: &Patch) {
        let (orig_start, orig_end) = (self.original(p.at), self.original(p.at + p.len));
        self.text
            .to_mut()
            .replace_range(p.at..p.at + p.len, &p.with);
        // Repairs after this one move by the change in length.
        for r in &mut self.repairs {
            if r.0 >= p.at + p.len {
                r.0 = r.0 + p.with.len() - p.len;
                r.1 = r.1 + p.with.len() - p.len;
            }
        }
        self.repairs
            .push((p.at, p.at + p.with.len(), orig_start, orig_end));
        self.repairs.sort_unstable();
    }

    /// The original offset of an offset in the patched text.
    fn original(&self, pos: usize) -> usize {
        let i = self.repairs.partition_point(|r| r.0 <= pos);
        let Some(&(ps, pe, os, oe)) = i.checked_sub(1).map(|i| &self.repairs[i]) else {
            return pos;
        };
        if pos < pe {
            (os + (pos - ps)).min(oe)
        } else {
            oe + (pos - pe)
        }
    }
}

/// The repair that makes libyaml-safer read what go-yaml v2 reads, if the error is one of those.
fn patch_for(
    input: &Patched,
    problem: &str,
    at: usize,
    context_at: Option<usize>,
) -> Option<Patch> {
    let text = &input.text;
    let rest = text.get(at..)?;
    match problem {
        // go-yaml v2 knows `\'` (a single quote); libyaml dropped it.
        "found unknown escape character" if rest.starts_with("\\'") => Some(Patch {
            at,
            len: 2,
            with: "\\x27".into(),
        }),
        // go-yaml v2 reads `,`, `[` and `]` as part of a tag (`!!str, x` is the tag
        // `tag:yaml.org,2002:str,`, which resolves to nothing, and `x`; `[!x, b]` is one
        // item), in flow collections too; libyaml ends the tag before them. They are written
        // as the URI escapes libyaml decodes to the same characters.
        "did not find expected whitespace or line break"
            if rest.starts_with([',', '[', ']'])
                && context_at
                    .and_then(|c| text.get(c..))
                    .is_some_and(|t| t.starts_with('!') && !t.starts_with("!<")) =>
        {
            let len = rest
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric() || "-_;/?:@&=+$.%!~*'(),[]".contains(c))
                })
                .unwrap_or(rest.len());
            let with = rest[..len]
                .replace(',', "%2C")
                .replace('[', "%5B")
                .replace(']', "%5D");
            Some(Patch { at, len, with })
        }
        // go-yaml v2 reads `key:` before `,` or `}` in a flow mapping as the plain scalar
        // `key:`; it is quoted so that libyaml reads the same text.
        "found unexpected ':'" => {
            let start = context_at?;
            let raw = text.get(start..=at)?;
            if raw.contains(['\n', '"', '\\']) {
                return None;
            }
            Some(Patch {
                at: start,
                len: raw.len(),
                with: format!("\"{raw}\""),
            })
        }
        _ => None,
    }
}

/// One parse of the patched input; offsets in the tree are relative to the chunk after its BOM.
#[allow(clippy::too_many_lines)]
fn build_once(
    original: &str,
    bom: usize,
    input: &Patched,
    source: Option<(&Arc<str>, usize)>,
    limits: BuildLimits,
) -> Result<Tree, Failure> {
    let original = &original[bom..];
    // libyaml-safer panics on a few malformed inputs; the whole parse runs inside the guard.
    IN_PARSER.set(true);
    let built = std::panic::catch_unwind(|| build_events(original, input, source, limits));
    IN_PARSER.set(false);
    built.unwrap_or_else(|_| {
        Err(Failure::At {
            pos: 0,
            message: "YAML syntax error: the parser could not read this document".into(),
        })
    })
}

thread_local! {
    static IN_PARSER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside the YAML parser: a panic there is caught and reported as a
/// syntax error, so a panic hook need not print it.
#[must_use]
pub fn in_parser() -> bool {
    IN_PARSER.get()
}

/// Builds the tree from the parser's events, one at a time: nesting past the limit stops the
/// parse before the parser sees the rest (libyaml's simple-key bookkeeping grows with depth).
#[allow(clippy::too_many_lines)]
/// With `source`, `original` is the text of `source` from the given offset on, and scalars
/// written verbatim point into `source`.
fn build_events(
    original: &str,
    input: &Patched,
    source: Option<(&Arc<str>, usize)>,
    limits: BuildLimits,
) -> Result<Tree, Failure> {
    let mut parser = Parser::new();
    parser.set_input(input.slices());
    // Manifests hold about one node per 12 bytes; reserving that up front saves most of the
    // regrowth copies (the tree lives only as long as its document; capped for huge ones).
    let guess = (original.len() / 12).min(1 << 16);
    let mut tree = Tree::over(source.map(|(s, _)| Arc::clone(s)), guess);
    let mut stack: Vec<Open> = Vec::new();
    let mut pending: Vec<NodeId> = Vec::new();
    let mut anchors: HashMap<String, NodeId> = HashMap::new();
    let mut aliases = false;
    let mut flow_depth = 0usize;
    let mut unsettled: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    loop {
        let ev = parser.parse().map_err(|e| Failure::Syntax {
            problem: e.problem(),
            at: e.problem_mark().map_or(0, |m| m.index as usize),
            context_at: e.context_mark().map(|m| m.index as usize),
        })?;
        match ev.data {
            EventData::DocumentStart {
                version_directive: Some(v),
                ..
            } if (v.major, v.minor) != (1, 1) => {
                // go-yaml v2 reads YAML 1.1 only; libyaml takes `%YAML 1.2` too. (A `%YAML` line
                // reaches the parser with its `---` only when no line break splits them, as in a
                // file whose lines end in a lone carriage return.)
                let (s, e) = (ev.start_mark.index as usize, ev.end_mark.index as usize);
                let at = input
                    .text
                    .get(s..e)
                    .and_then(|t| t.find("%YAML"))
                    .map_or(s, |i| s + i);
                return Err(Failure::At {
                    pos: input.original(at),
                    message: format!(
                        "YAML syntax error: found incompatible YAML document (`%YAML {}.{}`: kubectl reads YAML 1.1 only)",
                        v.major, v.minor
                    ),
                });
            }
            EventData::StreamStart { .. } | EventData::DocumentStart { .. } => continue,
            EventData::StreamEnd => break,
            EventData::DocumentEnd { .. } => {
                // go-yaml reads the chunk's first document only.
                let after = ev.end_mark.index as usize;
                let rest = input.text.get(after..).unwrap_or_default();
                tree.unread = has_content(rest).then(|| input.original(after));
                break;
            }
            _ => {}
        }
        let (start, end) = (
            input.original(ev.start_mark.index as usize),
            input.original(ev.end_mark.index as usize),
        );
        let new_node = match ev.data {
            EventData::Scalar {
                anchor,
                tag,
                value,
                style: scalar_style,
                ..
            } => {
                let style = scalar_style;
                let (start, end) = scalar_extent(original, start, end, style);
                let raw = original.get(start..end).unwrap_or_default();
                if style == ScalarStyle::DoubleQuoted && has_slash_escape(raw) {
                    return Err(Failure::At {
                        pos: start,
                        message: "YAML syntax error: found unknown escape character (`\\/`)".into(),
                    });
                }
                if style == ScalarStyle::Plain && flow_depth > 0 && raw.contains('?') {
                    return Err(Failure::At {
                        pos: start + raw.find('?').unwrap_or_default(),
                        message: "YAML syntax error: `?` inside a plain scalar in a flow collection (did not find expected ',' or ']')".into(),
                    });
                }
                let binary = tag.as_deref() == Some("tag:yaml.org,2002:binary");
                let value = if binary {
                    binary_text(&value).map_err(|message| Failure::At {
                        pos: start,
                        message: format!("YAML decoding error: {message}"),
                    })?
                } else {
                    value
                };
                let style = Style::of(style == ScalarStyle::Plain, tag.as_deref());
                if let Style::Tagged(t) = style
                    && let Err(m) = check_tagged(&value, t)
                {
                    return Err(Failure::At {
                        pos: start,
                        message: format!("YAML decoding error: {m}"),
                    });
                }
                let id = match (source, verbatim(original, start, end, scalar_style, &value)) {
                    (Some((_, base)), Some(at)) => {
                        tree.push_scalar_in_source(base + at, value.len(), style, start, end)
                    }
                    _ => tree.push_scalar(&value, style, start, end),
                };
                if let Some(a) = anchor {
                    anchors.insert(a, id);
                }
                Some(id)
            }
            EventData::Alias { anchor } => {
                let Some(&target) = anchors.get(&anchor) else {
                    return Err(Failure::At {
                        pos: start,
                        message: format!(
                            "YAML decoding error: unknown anchor '{anchor}' referenced"
                        ),
                    });
                };
                if stack.iter().any(|o| o.id == target) {
                    return Err(Failure::At {
                        pos: start,
                        message: format!(
                            "YAML decoding error: anchor '{anchor}' value contains itself"
                        ),
                    });
                }
                aliases = true;
                Some(tree.push_alias(target, start, end))
            }
            EventData::SequenceStart { ref anchor, .. }
            | EventData::MappingStart { ref anchor, .. } => {
                if stack.len() >= limits.max_depth {
                    return Err(Failure::At {
                        pos: start,
                        message: format!(
                            "nesting deeper than {} levels (limit `max-depth`)",
                            limits.max_depth
                        ),
                    });
                }
                let (map, flow) = match &ev.data {
                    EventData::SequenceStart { style, .. } => {
                        (false, *style == SequenceStyle::Flow)
                    }
                    EventData::MappingStart { style, .. } => (true, *style == MappingStyle::Flow),
                    _ => unreachable!("BUG: only collection starts get here"),
                };
                flow_depth += usize::from(flow);
                let id = tree.push_collection(map, start, end);
                if let Some(a) = anchor {
                    anchors.insert(a.clone(), id);
                }
                attach(&mut tree, &stack, &mut pending, id);
                stack.push(Open {
                    id,
                    from: pending.len(),
                    flow,
                });
                None
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                let Some(open) = stack.pop() else {
                    return Err(Failure::At {
                        pos: start,
                        message: "YAML syntax error: unbalanced collection end".into(),
                    });
                };
                flow_depth -= usize::from(open.flow);
                let from = open.from;
                // A block collection ends where its last entry as written ends (settling a
                // mapping may move entries and drop repeated ones).
                let written_end = pending[from..].iter().map(|&c| tree.node(c).end).max();
                if matches!(tree.node(open.id).kind, NodeKind::Map { .. }) {
                    let before = aliases.then(|| pending[from..].to_vec());
                    mapping::settle(&mut tree, &mut pending, from, open.id).map_err(|e| {
                        Failure::At {
                            pos: e.start,
                            message: e.message,
                        }
                    })?;
                    if let Some(before) = before
                        && before != pending[from..]
                    {
                        unsettled.insert(open.id, before);
                    }
                }
                let first = tree.edges.len() as u32;
                let len = (pending.len() - from) as u32;
                tree.edges.extend(pending.drain(from..));
                let node = tree.node(open.id);
                let end = if open.flow {
                    end
                } else {
                    written_end.unwrap_or(node.end).max(node.start)
                };
                tree.close(open.id, first, len, end);
                None
            }
            _ => None,
        };
        if let Some(id) = new_node {
            attach(&mut tree, &stack, &mut pending, id);
        }
    }
    if let Some(&root) = tree.roots.first() {
        if aliases {
            excessive_aliasing(&tree, root, &unsettled).map_err(|pos| Failure::At {
                pos,
                message: "YAML decoding error: document contains excessive aliasing".into(),
            })?;
        }
        if let Some(pos) = unrepresentable(&tree, original) {
            return Err(Failure::At {
                pos,
                message:
                    "`.inf` and `.nan` cannot be sent as JSON (kubectl: `json: unsupported value`)"
                        .into(),
            });
        }
    }
    Ok(tree)
}

/// A collection being built.
struct Open {
    id: NodeId,
    /// Where its children start in `pending`.
    from: usize,
    flow: bool,
}

/// Whether text holds anything but blank lines, comments and `...` markers.
fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !(t.is_empty() || t.starts_with('#') || t == "..." || t.starts_with("... #"))
    })
}

/// Whether a double-quoted scalar's source holds the YAML 1.2 escape `\/`, which go-yaml v2
/// does not know.
fn has_slash_escape(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'/') {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Where a scalar's value is written verbatim in the text, if it is: a plain scalar's whole
/// text, a quoted one's text inside its quotes (no escape, no folded line). Block scalars never
/// are (their indentation is not part of the value).
fn verbatim(
    text: &str,
    start: usize,
    end: usize,
    style: ScalarStyle,
    value: &str,
) -> Option<usize> {
    let (from, to) = match style {
        ScalarStyle::Plain => (start, end),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted if end >= start + 2 => {
            (start + 1, end - 1)
        }
        _ => return None,
    };
    (text.get(from..to) == Some(value)).then_some(from)
}

fn attach(tree: &mut Tree, stack: &[Open], pending: &mut Vec<NodeId>, id: NodeId) {
    if stack.is_empty() {
        tree.roots.push(id);
    } else {
        pending.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BuildLimits = BuildLimits { max_depth: 64 };

    /// The JSON kubectl would send for a chunk, or the error and the text it points at.
    fn read(text: &str) -> Result<serde_json::Value, (String, String)> {
        match build(text, 0, LIMITS) {
            Ok(tree) => Ok(crate::yaml::decode::decode(&tree, tree.roots[0], 1000)
                .expect("decodes")
                .value),
            Err(e) => Err((e.message, text[e.start..].to_string())),
        }
    }

    #[test]
    fn a_tag_before_a_comma_in_a_flow_mapping_is_kubectls_syntax_error() {
        // go-yaml reads the tag `!x,` applied to `j`, then finds `:` where `,` or `}` belongs.
        let (message, at) = read("data: {k: !x, j: b}\n").expect_err("kubectl fails");
        assert_eq!(
            message,
            "YAML syntax error: did not find expected ',' or '}'"
        );
        assert!(at.starts_with(": b}"), "{at:?}");
    }

    #[test]
    fn tags_hold_commas_and_brackets_as_in_go_yaml() {
        assert_eq!(
            read("a: [!x, b]\nb: !x,x\nc: !!int, 80\nd: !x[y] z\ne: {k: !x,j: b}\n"),
            Ok(serde_json::json!({"a": ["b"], "b": "", "c": "80", "d": "z", "e": {"k": "b"}}))
        );
        // A verbatim tag ends at its `>`, and go-yaml wants a blank after it.
        let (message, _) = read("a: [!<x>, b]\n").expect_err("kubectl fails");
        assert_eq!(
            message,
            "YAML syntax error: did not find expected whitespace or line break"
        );
        let (message, at) = read("a: {k: !!str}\n").expect_err("kubectl fails");
        assert_eq!(
            message,
            "YAML syntax error: did not find expected whitespace or line break"
        );
        assert!(at.starts_with('}'), "{at:?}");
    }
}
