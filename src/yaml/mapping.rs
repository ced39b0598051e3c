//! A mapping as Kubernetes reads it, settled when its last entry is parsed: go-yaml v2 (behind
//! sigs.k8s.io/yaml, which `kubectl apply -f` uses) decodes entries in order into a map, so
//!
//! - a repeated key overwrites the earlier value (recorded as a duplicate at the repeat);
//! - a merge key `<<` (plain, untagged) copies the entries of its mapping, or of each mapping in
//!   its list (the earlier ones winning), into the map at that position: they overwrite keys
//!   written before the `<<` and are overwritten by keys written after it;
//! - a key that is itself a mapping or a list cannot become a JSON object key, and kubectl fails
//!   the document (`invalid map key`); an unquoted `{{ .value }}` is such a key. Nor can a null
//!   key (`~:`, `? : x`): the JSON conversion fails.

use std::collections::HashMap;

use super::scalar::{Style, Typed, resolve};
use super::tree::{NodeId, NodeKind, Tree, TreeError};

/// Settles the entries `pending[from..]` (key, value, key, value, ...) of mapping `map` that
/// just ended: merges expanded (and recorded in `tree.merged`), repeats dropped and recorded in
/// `tree.duplicates`.
pub(super) fn settle(
    tree: &mut Tree,
    pending: &mut Vec<NodeId>,
    from: usize,
    map: NodeId,
) -> Result<(), TreeError> {
    let pairs = (pending.len() - from) / 2;
    let mut merges = false;
    for p in pending[from..].chunks_exact(2) {
        match &tree.node(tree.resolve(p[0])).kind {
            NodeKind::Scalar { value, style } => {
                if resolve(value, *style) == Typed::Null {
                    return Err(null_key(tree, p[0]));
                }
                merges |= *style == Style::Plain && value == "<<";
            }
            _ => return Err(invalid_key(tree, p[0])),
        }
    }
    if !merges && pairs < 2 {
        return Ok(());
    }
    if !merges && pairs <= 16 && !has_repeat(tree, &pending[from..]) {
        // Nearly every mapping: small, no merge, no repeat; nothing to change.
        return Ok(());
    }
    let entries: Vec<(NodeId, NodeId)> = pending[from..]
        .chunks_exact(2)
        .map(|p| (p[0], p[1]))
        .collect();
    let mut settled: Vec<(NodeId, NodeId)> = Vec::with_capacity(entries.len());
    let mut at: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    let mut explicit: Vec<bool> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if is_merge(tree, k) {
            for (mk, mv) in merged(tree, v)? {
                tree.merged.insert((map, mk), v);
                set(tree, &mut settled, &mut explicit, &mut at, (mk, mv), false);
            }
        } else {
            set(tree, &mut settled, &mut explicit, &mut at, (k, v), true);
        }
    }
    pending.truncate(from);
    pending.extend(settled.into_iter().flat_map(|(k, v)| [k, v]));
    Ok(())
}

/// Writes one entry into the settled map; a key written twice by hand is a duplicate.
fn set(
    tree: &mut Tree,
    settled: &mut Vec<(NodeId, NodeId)>,
    explicit: &mut Vec<bool>,
    at: &mut HashMap<String, usize>,
    (k, v): (NodeId, NodeId),
    by_hand: bool,
) {
    let key = tree.key_string(k).unwrap_or_default();
    if let Some(&i) = at.get(&key) {
        if by_hand && explicit[i] {
            let n = tree.node(k);
            let error = TreeError {
                message: key,
                start: n.start,
                end: n.end,
            };
            tree.duplicates.push(error);
        }
        settled[i] = (k, v);
        explicit[i] = by_hand;
    } else {
        at.insert(key, settled.len());
        settled.push((k, v));
        explicit.push(by_hand);
    }
}

/// Whether two keys of a small mapping are equal, compared in place without allocating.
fn has_repeat(tree: &Tree, pairs: &[NodeId]) -> bool {
    let keys: Vec<Option<std::borrow::Cow<'_, str>>> =
        pairs.chunks_exact(2).map(|p| tree.key(p[0])).collect();
    (1..keys.len()).any(|i| (0..i).any(|j| keys[j].is_some() && keys[j] == keys[i]))
}

fn is_merge(tree: &Tree, key: NodeId) -> bool {
    matches!(&tree.node(tree.resolve(key)).kind, NodeKind::Scalar { value, style: Style::Plain } if value == "<<")
}

/// The entries a merge key's value brings, in the order they are applied: a mapping's own
/// (already settled) entries, or, for a list of mappings, the last mapping's first so that the
/// earlier ones win.
fn merged(tree: &Tree, value: NodeId) -> Result<Vec<(NodeId, NodeId)>, TreeError> {
    let want_map = |n: NodeId| {
        let node = tree.node(n);
        TreeError {
            message: "YAML syntax error: map merge requires map or sequence of maps as the value"
                .into(),
            start: node.start,
            end: node.end,
        }
    };
    let r = tree.resolve(value);
    match tree.node(r).kind {
        NodeKind::Map { .. } => Ok(tree.pairs(r).collect()),
        NodeKind::Seq { .. } => {
            let mut out = Vec::new();
            for &item in tree.items(r).iter().rev() {
                let m = tree.resolve(item);
                if !matches!(tree.node(m).kind, NodeKind::Map { .. }) {
                    return Err(want_map(item));
                }
                out.extend(tree.pairs(m));
            }
            Ok(out)
        }
        _ => Err(want_map(value)),
    }
}

fn null_key(tree: &Tree, key: NodeId) -> TreeError {
    let n = tree.node(key);
    TreeError {
        message: "a mapping key is null, which kubectl cannot turn into JSON (`unsupported map key of type: <nil>`)".into(),
        start: n.start,
        end: n.end.max(n.start + 1),
    }
}

fn invalid_key(tree: &Tree, key: NodeId) -> TreeError {
    let n = tree.node(key);
    TreeError {
        message: "a mapping key is itself a mapping or a list, which kubectl cannot turn into JSON (`invalid map key`)".into(),
        start: n.start,
        end: n.end,
    }
}
