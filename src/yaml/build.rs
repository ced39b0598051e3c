//! Tree building: saphyr-parser events -> `Tree`, without recursion. Character positions are
//! turned into byte offsets here, once (see `boundary`).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::boundary::{CharToByte, clamp_to_content, dash_before, next_char_end, scalar_extent};
use super::mapping;
use super::tree::{BuildLimits, Node, NodeId, NodeKind, Tree, TreeError};

/// Parses one chunk of text into a tree. `base` is the chunk's byte offset in the file.
/// Returns the tree (roots are the documents found) or the first error.
///
/// saphyr rejects a flow collection whose closing bracket sits at its parent's indentation
/// (`args: [` ... `]` one level left), which libyaml and go-yaml accept and real manifests use.
/// Inside a flow collection a line break is only a separator, so joining that line to the one
/// before (one byte for one byte, offsets unchanged) reads it as Kubernetes does.
pub fn build(text: &str, base: usize, limits: BuildLimits) -> Result<Tree, TreeError> {
    let mut patched: Option<String> = None;
    for _ in 0..64 {
        let current = patched.as_deref().unwrap_or(text);
        match build_once(current, base, limits) {
            Err(e) if e.message.ends_with("invalid indentation") => {
                let Some(fixed) = join_flow_close(current, e.start - base) else {
                    return Err(e);
                };
                patched = Some(fixed);
            }
            other => return other,
        }
    }
    build_once(patched.as_deref().unwrap_or(text), base, limits)
}

/// If the line at `pos` starts with `]` or `}`, replaces the line break before it with spaces,
/// unless the previous line ends in a comment.
fn join_flow_close(text: &str, pos: usize) -> Option<String> {
    let line_start = text[..pos.min(text.len())].rfind('\n')? + 1;
    let rest = text[line_start..].trim_start_matches([' ', '\t']);
    if !rest.starts_with([']', '}']) {
        return None;
    }
    let prev_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
    if text[prev_start..line_start].contains('#') {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    bytes[line_start - 1] = b' ';
    if line_start >= 2 && bytes[line_start - 2] == b'\r' {
        bytes[line_start - 2] = b' ';
    }
    String::from_utf8(bytes).ok()
}

fn build_once(text: &str, base: usize, limits: BuildLimits) -> Result<Tree, TreeError> {
    let conv = CharToByte::new(text);
    // Manifests hold about one node per 12 bytes; reserving that up front saves most of the
    // regrowth copies (the tree lives only as long as its document; capped for huge ones).
    let guess = (text.len() / 12).min(1 << 16);
    let mut tree = Tree {
        nodes: Vec::with_capacity(guess),
        edges: Vec::with_capacity(guess),
        ..Tree::default()
    };
    let mut stack: Vec<(NodeId, usize)> = Vec::new();
    let mut pending: Vec<NodeId> = Vec::new();
    let mut anchors: HashMap<usize, NodeId> = HashMap::new();
    let mut parser = Parser::new_from_str(text);
    let err_at = |pos: usize, message: String| {
        let pos = clamp_to_content(text, pos);
        TreeError {
            message,
            start: base + pos,
            end: base + next_char_end(text, pos),
        }
    };
    while let Some(item) = parser.next_event() {
        let (event, span) = match item {
            Ok(e) => e,
            Err(e) => {
                let pos = conv.byte(e.marker().index());
                return Err(err_at(pos, format!("YAML syntax error: {}", e.info())));
            }
        };
        let (start, end) = (conv.byte(span.start.index()), conv.byte(span.end.index()));
        let new_node = match event {
            Event::Scalar(value, style, anchor, tag) => {
                let plain = matches!(style, ScalarStyle::Plain) && tag.is_none();
                let (start, end) = scalar_extent(text, start, end, style);
                let id = push(
                    &mut tree,
                    NodeKind::Scalar {
                        value: value.into_owned(),
                        plain,
                    },
                    base + start,
                    base + end,
                );
                if anchor > 0 {
                    anchors.insert(anchor, id);
                }
                Some(id)
            }
            Event::Alias(anchor) => {
                let Some(&target) = anchors.get(&anchor) else {
                    return Err(err_at(start, "alias to an unknown anchor".into()));
                };
                Some(push(
                    &mut tree,
                    NodeKind::Alias(target),
                    base + start,
                    base + end,
                ))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(err_at(
                        start,
                        format!(
                            "nesting deeper than {} levels (limit `max-depth`)",
                            limits.max_depth
                        ),
                    ));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    NodeKind::Seq { first: 0, len: 0 }
                } else {
                    NodeKind::Map { first: 0, len: 0 }
                };
                let start = if matches!(kind, NodeKind::Seq { .. }) {
                    dash_before(text, start)
                } else {
                    start
                };
                let id = push(&mut tree, kind, base + start, base + end);
                if anchor > 0 {
                    anchors.insert(anchor, id);
                }
                attach(&mut tree, &stack, &mut pending, id);
                stack.push((id, pending.len()));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((id, from)) = stack.pop() else {
                    return Err(err_at(start, "unbalanced collection end".into()));
                };
                if matches!(tree.nodes[id as usize].kind, NodeKind::Map { .. }) {
                    mapping::settle(&mut tree, &mut pending, from)?;
                }
                let first = tree.edges.len() as u32;
                let len = (pending.len() - from) as u32;
                tree.edges.extend(pending.drain(from..));
                let closes_flow =
                    end > start && matches!(text.as_bytes().get(start), Some(b']' | b'}'));
                let last_end = tree
                    .edges
                    .last()
                    .filter(|_| len > 0)
                    .map(|&c| tree.nodes[c as usize].end);
                let node = &mut tree.nodes[id as usize];
                node.kind = match node.kind {
                    NodeKind::Seq { .. } => NodeKind::Seq { first, len },
                    _ => NodeKind::Map { first, len },
                };
                node.end = if closes_flow {
                    base + end
                } else {
                    last_end.unwrap_or(node.end).max(node.start)
                };
                None
            }
            Event::DocumentStart(_) => {
                anchors.clear();
                None
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
        };
        if let Some(id) = new_node {
            attach(&mut tree, &stack, &mut pending, id);
        }
    }
    Ok(tree)
}

fn push(tree: &mut Tree, kind: NodeKind, start: usize, end: usize) -> NodeId {
    tree.nodes.push(Node { kind, start, end });
    (tree.nodes.len() - 1) as NodeId
}

fn attach(tree: &mut Tree, stack: &[(NodeId, usize)], pending: &mut Vec<NodeId>, id: NodeId) {
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

    fn spans(text: &str) -> Vec<String> {
        let tree = build(text, 0, LIMITS).expect("parses");
        tree.nodes
            .iter()
            .map(|n| text[n.start..n.end].to_string())
            .collect()
    }

    #[test]
    fn quoted_scalar_ends_at_its_closing_quote() {
        assert_eq!(
            spans("a: \"x # y\" # it's\n"),
            ["a: \"x # y\"", "a", "\"x # y\""]
        );
        assert_eq!(spans("a: 'it''s' # c\n")[2], "'it''s'");
    }

    #[test]
    fn spans_are_bytes_after_non_ascii_text() {
        let s = spans("é: ü\nb: [x, ÿ]\n");
        assert_eq!(s[1..], ["é", "ü", "b", "[x, ÿ]", "x", "ÿ"]);
    }

    #[test]
    fn block_scalar_drops_trailing_blank_lines() {
        let s = spans("a: |\n  one\n  two\n\nb: 1\n");
        assert_eq!(s[2], "one\n  two");
    }

    #[test]
    fn nested_block_collections_end_at_their_last_child() {
        let s = spans("a:\n  b:\n  - x\n  - y\n# c\nz: 1\n");
        assert_eq!(s[2], "b:\n  - x\n  - y");
        assert_eq!(s[4], "- x\n  - y");
    }

    #[test]
    fn syntax_error_is_clamped_to_the_document() {
        let e = build("a: [1, 2\n\n", 10, LIMITS).expect_err("unclosed");
        assert_eq!((e.start, e.end), (17, 18));
    }

    #[test]
    fn depth_limit_is_an_error() {
        let e = build(&"- ".repeat(100), 0, LIMITS).expect_err("too deep");
        assert!(e.message.contains("nesting deeper than 64"));
    }

    #[test]
    fn duplicate_key_is_recorded_at_the_second_key_and_the_last_value_wins() {
        let t = build("a: 1\nb: 2\na: 3\n", 0, LIMITS).expect("parses");
        assert_eq!((t.duplicates[0].start, t.duplicates[0].end), (10, 11));
        let (_, v) = t.get(t.roots[0], "a").expect("a");
        assert_eq!(t.scalar(v), Some("3"));
        assert_eq!(t.pairs(t.roots[0]).count(), 2);
    }

    #[test]
    fn flow_close_at_parent_indentation_is_accepted() {
        let text = "a:\n  args: [\n    x, y\n  ]\n  b: 1\n";
        let t = build(text, 0, LIMITS).expect("parses like libyaml");
        let v = t.lookup(t.roots[0], &["a", "args"]).0;
        assert_eq!(&text[t.node(v).start..t.node(v).end], "[\n    x, y\n  ]");
    }
}
