//! What kubectl's reader refuses in a document it could parse: a `.inf` or `.nan` value (no
//! JSON form) and alias expansion beyond go-yaml's ratio.

use std::collections::HashMap;

use super::scalar::{Style, Typed, resolve};
use super::tree::{NodeId, NodeKind, Tree};

/// The first `.inf` or `.nan` value (not key): kubectl cannot write it as JSON.
pub(super) fn unrepresentable(tree: &Tree, original: &str) -> Option<usize> {
    if !mentions_inf_or_nan(original) {
        return None;
    }
    let mut keys = vec![false; tree.len()];
    for (i, n) in tree.iter().enumerate() {
        if matches!(n.kind, NodeKind::Map { .. }) {
            for (k, _) in tree.pairs(i as NodeId) {
                keys[k as usize] = true;
            }
        }
    }
    tree.iter().enumerate().find_map(|(i, n)| match n.kind {
        NodeKind::Scalar { value, style }
            if !keys[i] && matches!(resolve(value, style), Typed::Float(f) if !f.is_finite()) =>
        {
            Some(n.start)
        }
        _ => None,
    })
}

/// Whether `text` holds `.inf` or `.nan` in any case, found without a lowercased copy of the
/// text.
fn mentions_inf_or_nan(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'.', bytes).any(|i| {
        bytes
            .get(i + 1..i + 4)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"inf") || w.eq_ignore_ascii_case(b"nan"))
    })
}

/// go-yaml v2's alias-ratio rule, run as its decoder runs: every node decoded counts, those
/// decoded through an alias count as aliased, and the document fails as soon as more than 100
/// are aliased, more than 1,000 are decoded and the aliased share exceeds the allowed ratio (99%
/// up to 400,000 decodes, falling to 10% at 4,000,000). Mappings are walked as written, merge
/// keys and repeated keys included (`unsettled`). Returns where the document failed.
pub(super) fn excessive_aliasing(
    tree: &Tree,
    root: NodeId,
    unsettled: &HashMap<NodeId, Vec<NodeId>>,
) -> Result<(), usize> {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let allowed = |decoded: f64| {
        if decoded <= LOW {
            0.99
        } else if decoded >= HIGH {
            0.10
        } else {
            0.99 - 0.89 * ((decoded - LOW) / (HIGH - LOW))
        }
    };
    // (node, aliased depth); the document node itself is one decode.
    let (mut decoded, mut aliased) = (1u64, 0u64);
    let mut stack: Vec<(NodeId, bool)> = vec![(root, false)];
    while let Some((n, through_alias)) = stack.pop() {
        decoded += 1;
        aliased += u64::from(through_alias);
        #[allow(clippy::cast_precision_loss)]
        let (d, a) = (decoded as f64, aliased as f64);
        if aliased > 100 && decoded > 1000 && a / d > allowed(d) {
            return Err(tree.node(n).start);
        }
        match tree.node(n).kind {
            NodeKind::Alias(target) => stack.push((target, true)),
            NodeKind::Seq { .. } => {
                stack.extend(tree.children(n).iter().rev().map(|&c| (c, through_alias)));
            }
            NodeKind::Map { .. } => {
                let pairs = unsettled.get(&n).map_or(tree.children(n), Vec::as_slice);
                for p in pairs.chunks_exact(2).rev() {
                    if is_merge(tree, p[0]) {
                        merge_sources(tree, p[1], through_alias, &mut stack);
                    } else {
                        stack.push((p[1], through_alias));
                        stack.push((p[0], through_alias));
                    }
                }
            }
            NodeKind::Scalar { .. } => {}
        }
    }
    Ok(())
}

/// What a merge key's value decodes: the mapping (or alias), or each item of a list, the last
/// first.
fn merge_sources(tree: &Tree, value: NodeId, through_alias: bool, stack: &mut Vec<(NodeId, bool)>) {
    if matches!(tree.node(value).kind, NodeKind::Seq { .. }) {
        // Decoded last to first; pushed first to last so the last pops first.
        stack.extend(tree.children(value).iter().map(|&c| (c, through_alias)));
    } else {
        stack.push((value, through_alias));
    }
}

fn is_merge(tree: &Tree, key: NodeId) -> bool {
    matches!(tree.node(key).kind, NodeKind::Scalar { value, style: Style::Plain } if value == "<<")
}
