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

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

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
        match tree.node(tree.resolve(p[0])).kind {
            NodeKind::Scalar { value, style } => {
                if resolve(value, style) == Typed::Null {
                    return Err(null_key(tree, p[0]));
                }
                merges |= style == Style::Plain && value == "<<";
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
    if !merges {
        settle_repeats(tree, pending, from);
        return Ok(());
    }
    // The entries are found by key through a table of their indices (keys are not copied); repeats
    // are recorded once the tree is free to change.
    let mut duplicates = Vec::new();
    // Keys a merge brought in, with the merge key's value, recorded in `tree.merged` after.
    let mut brought = Vec::new();
    let settled = {
        let mut settled = Settled {
            tree,
            entries: Vec::with_capacity(pairs),
            explicit: Vec::with_capacity(pairs),
            at: HashTable::with_capacity(pairs),
            hasher: RandomState::new(),
            duplicates: &mut duplicates,
        };
        for p in pending[from..].chunks_exact(2) {
            let (k, v) = (p[0], p[1]);
            if is_merge(tree, k) {
                for (mk, mv) in merged(tree, v)? {
                    brought.push((mk, v));
                    settled.set((mk, mv), false);
                }
            } else {
                settled.set((k, v), true);
            }
        }
        settled.entries
    };
    tree.duplicates.extend(duplicates);
    tree.merged
        .extend(brought.into_iter().map(|(key, base)| ((map, key), base)));
    pending.truncate(from);
    pending.extend(settled.into_iter().flat_map(|(k, v)| [k, v]));
    Ok(())
}

/// Settles a mapping without merge keys in place: a repeated key's later entry takes the first
/// one's place and is recorded as a duplicate. A mapping of millions of entries (a large
/// ConfigMap) costs a table of indices, nothing per key.
fn settle_repeats(tree: &mut Tree, pending: &mut Vec<NodeId>, from: usize) {
    let hasher = RandomState::new();
    let mut duplicates = Vec::new();
    // Which entries a later repeat replaced; allocated at the first repeat.
    let mut dropped: Vec<bool> = Vec::new();
    let entries = &mut pending[from..];
    let pairs = entries.len() / 2;
    {
        let tree: &Tree = tree;
        let key_of =
            |entries: &[NodeId], i: u32| tree.key(entries[2 * i as usize]).unwrap_or_default();
        let mut at: HashTable<u32> = HashTable::with_capacity(pairs);
        for j in 0..pairs {
            let k = entries[2 * j];
            let key = tree.key(k).unwrap_or_default();
            let hash = hasher.hash_one(&*key);
            let found = at.find(hash, |&i| key_of(entries, i) == key).copied();
            if let Some(i) = found {
                let n = tree.node(k);
                duplicates.push(TreeError {
                    message: key.into_owned(),
                    start: n.start,
                    end: n.end,
                });
                let i = i as usize;
                entries[2 * i] = k;
                entries[2 * i + 1] = entries[2 * j + 1];
                if dropped.is_empty() {
                    dropped = vec![false; pairs];
                }
                dropped[j] = true;
            } else {
                let entries: &[NodeId] = entries;
                at.insert_unique(hash, j as u32, |&i| hasher.hash_one(&*key_of(entries, i)));
            }
        }
    }
    tree.duplicates.extend(duplicates);
    if dropped.is_empty() {
        return;
    }
    let mut kept = from;
    for (j, _) in dropped.iter().enumerate().filter(|(_, d)| !**d) {
        pending[kept] = pending[from + 2 * j];
        pending[kept + 1] = pending[from + 2 * j + 1];
        kept += 2;
    }
    pending.truncate(kept);
}

/// A mapping's entries as decoded so far.
struct Settled<'t, 'd> {
    tree: &'t Tree,
    entries: Vec<(NodeId, NodeId)>,
    /// Whether each entry was written by hand (not brought by a merge key).
    explicit: Vec<bool>,
    /// Indices into `entries`, hashed by key (`SipHash` with a random key: hostile input cannot
    /// make the keys collide).
    at: HashTable<u32>,
    hasher: RandomState,
    duplicates: &'d mut Vec<TreeError>,
}

impl Settled<'_, '_> {
    /// Writes one entry; a key written twice by hand is a duplicate.
    fn set(&mut self, (k, v): (NodeId, NodeId), by_hand: bool) {
        let Settled {
            tree,
            entries,
            hasher,
            ..
        } = self;
        let tree: &Tree = tree;
        let key_of = |i: u32| tree.key(entries[i as usize].0).unwrap_or_default();
        let key = tree.key(k).unwrap_or_default();
        let hash = hasher.hash_one(&*key);
        if let Some(&i) = self.at.find(hash, |&i| key_of(i) == key) {
            let i = i as usize;
            if by_hand && self.explicit[i] {
                let n = tree.node(k);
                self.duplicates.push(TreeError {
                    message: key.into_owned(),
                    start: n.start,
                    end: n.end,
                });
            }
            self.entries[i] = (k, v);
            self.explicit[i] = by_hand;
        } else {
            let i = self.entries.len() as u32;
            self.entries.push((k, v));
            self.explicit.push(by_hand);
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.at.insert_unique(hash, i, |&i| {
                hasher.hash_one(&*tree.key(entries[i as usize].0).unwrap_or_default())
            });
        }
    }
}

/// Whether two keys of a small mapping are equal, compared in place without allocating.
fn has_repeat(tree: &Tree, pairs: &[NodeId]) -> bool {
    let keys: Vec<Option<std::borrow::Cow<'_, str>>> =
        pairs.chunks_exact(2).map(|p| tree.key(p[0])).collect();
    (1..keys.len()).any(|i| (0..i).any(|j| keys[j].is_some() && keys[j] == keys[i]))
}

fn is_merge(tree: &Tree, key: NodeId) -> bool {
    matches!(tree.node(tree.resolve(key)).kind, NodeKind::Scalar { value, style: Style::Plain } if value == "<<")
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

#[cfg(test)]
mod tests {
    use super::super::{BuildLimits, build};

    /// The entries of the root mapping as `key=value`, and the duplicates' texts.
    fn settled(text: &str) -> (Vec<String>, Vec<String>) {
        let tree = build(text, 0, BuildLimits { max_depth: 16 }).expect("parses");
        let pairs = tree
            .pairs(tree.roots[0])
            .map(|(k, v)| {
                let k = tree.key_string(k).unwrap_or_default();
                format!("{k}={}", tree.scalar(v).unwrap_or("?"))
            })
            .collect();
        let dups = tree
            .duplicates
            .iter()
            .map(|d| format!("{}@{}", d.message, d.start))
            .collect();
        (pairs, dups)
    }

    #[test]
    fn a_large_mapping_keeps_the_first_place_and_the_last_value_of_a_repeat() {
        use std::fmt::Write;
        let mut text = String::new();
        for i in 0..40 {
            let _ = writeln!(text, "k{i}: v{i}");
        }
        let repeat = text.len();
        text.push_str("k3: again\nk7: x\nk3: last\n");
        let (pairs, dups) = settled(&text);
        assert_eq!(pairs.len(), 40);
        assert_eq!(pairs[3], "k3=last");
        assert_eq!(pairs[7], "k7=x");
        assert_eq!(pairs[39], "k39=v39");
        assert_eq!(
            dups,
            [
                format!("k3@{repeat}"),
                format!("k7@{}", repeat + 10),
                format!("k3@{}", repeat + 16)
            ]
        );
    }

    #[test]
    fn merge_keys_in_a_large_mapping_are_overridden_by_later_keys() {
        use std::fmt::Write;
        let mut text = String::from("base: &b {k1: from-merge, extra: m}\nroot:\n  <<: *b\n");
        for i in 0..20 {
            let _ = writeln!(text, "  k{i}: v{i}");
        }
        let tree = build(&text, 0, BuildLimits { max_depth: 16 }).expect("parses");
        let root = tree.get(tree.roots[0], "root").expect("root").1;
        let get = |k: &str| tree.get(root, k).and_then(|(_, v)| tree.scalar(v));
        assert_eq!((get("k1"), get("extra")), (Some("v1"), Some("m")));
        assert!(tree.duplicates.is_empty());
    }
}
