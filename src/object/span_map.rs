//! Span maps: the spans of the nodes rules may point at, by JSON pointer, kept per object for
//! the whole run once the document's tree is dropped.

use crate::source::{FileId, Span};
use crate::yaml::pointer::{child, escape, segments};
use crate::yaml::{NodeId, NodeKind, Tree};

/// Spans of the nodes rules may point at, by JSON pointer from the document root.
/// Kept compact (every object holds one for the whole run): all pointers in one string, offsets
/// as `u32` (files are far below 4 GiB, see `max-file-size`), the file once.
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    file: FileId,
    /// The pointers, sorted, one after the other.
    pointers: Box<str>,
    /// For each pointer: its end in `pointers`, then key start/end (equal to the value's for
    /// sequence items) and value start/end.
    entries: Box<[[u32; 5]]>,
}

impl SpanMap {
    /// Builds the map from unsorted `(pointer, [key start, key end, value start, value end])`.
    pub(super) fn new(file: FileId, mut spans: Vec<(String, [u32; 4])>) -> SpanMap {
        spans.sort_by(|a, b| a.0.cmp(&b.0));
        spans.dedup_by(|a, b| a.0 == b.0);
        let mut pointers = String::with_capacity(spans.iter().map(|s| s.0.len()).sum());
        let entries = spans
            .iter()
            .map(|(p, [ks, ke, vs, ve])| {
                pointers.push_str(p);
                [pointers.len() as u32, *ks, *ke, *vs, *ve]
            })
            .collect();
        SpanMap {
            file,
            pointers: pointers.into_boxed_str(),
            entries,
        }
    }

    /// The value span at `pointer`, or the nearest ancestor's.
    #[must_use]
    pub fn value(&self, pointer: &str) -> Span {
        let e = self.find(pointer);
        Span::new(self.file, e[3] as usize, e[4] as usize)
    }

    /// The key span of the entry at `pointer` (its value span for sequence items), or the
    /// nearest ancestor's.
    #[must_use]
    pub fn key(&self, pointer: &str) -> Span {
        let e = self.find(pointer);
        Span::new(self.file, e[1] as usize, e[2] as usize)
    }

    /// Whether the node at `pointer` was recorded (it exists and is within the bounds below).
    #[must_use]
    pub fn has(&self, pointer: &str) -> bool {
        self.position(pointer).is_some()
    }

    /// The index of the entry recorded for exactly `pointer` (entries are sorted by pointer).
    fn position(&self, pointer: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.entries.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.pointer(mid).cmp(pointer) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn pointer(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.entries[i - 1][0] };
        &self.pointers[start as usize..self.entries[i][0] as usize]
    }

    fn find(&self, mut pointer: &str) -> [u32; 5] {
        let Some(&root) = self.entries.first() else {
            return [0; 5];
        };
        loop {
            if let Some(i) = self.position(pointer) {
                return self.entries[i];
            }
            match pointer.rfind('/') {
                Some(i) => pointer = &pointer[..i],
                // The object's own pointer is a prefix of every other, so it sorts first.
                None => return root,
            }
        }
    }
}

/// Rules point at most 9 segments below an object
/// (`/spec/ingress/0/from/0/podSelector/matchExpressions/0/operator`). Deeper nodes, keys longer
/// than any Kubernetes key (317 characters), anything past a per-object total, and alias
/// expansions past a small budget fall back to their nearest recorded ancestor. Without these
/// bounds a deeply nested, long-keyed or alias-expanded document would cost memory far beyond
/// its size, for the whole run.
const MAX_POINTER_SEGMENTS: usize = 16;
const MAX_POINTER_LEN: usize = 512;
const MAX_POINTER_BYTES: usize = 1 << 20;
/// Nodes recorded through aliases, per object: a shared list of addresses is pointed at where it
/// is written, an alias bomb is not expanded.
const MAX_ALIASED_NODES: usize = 256;

/// Records the spans of the nodes under the given subtrees of the object (see the bounds above).
pub(super) fn span_map(
    file: FileId,
    tree: &Tree,
    node: NodeId,
    base: &str,
    subtrees: &[&str],
) -> SpanMap {
    let mut entries: Vec<(String, [u32; 4])> = Vec::new();
    let root = tree.node(node);
    let (rs, re) = (root.start as u32, root.end as u32);
    entries.push((base.into(), [rs, re, rs, re]));
    let mut bytes = 0;
    let mut aliased = MAX_ALIASED_NODES;
    for sub in subtrees {
        let segs = segments(sub);
        let (n, key, depth) = tree.lookup(node, &segs);
        if depth < segs.len() {
            continue;
        }
        let mut stack = vec![(n, key, format!("{base}{sub}"), segs.len(), false)];
        while let Some((n, key, pointer, depth, via_alias)) = stack.pop() {
            if bytes > MAX_POINTER_BYTES {
                break;
            }
            let via_alias = via_alias || matches!(tree.node(n).kind, NodeKind::Alias(_));
            if via_alias {
                if aliased == 0 {
                    continue;
                }
                aliased -= 1;
            }
            bytes += pointer.len();
            let v = tree.node(n);
            let (vs, ve) = (v.start as u32, v.end as u32);
            let (ks, ke) = key.map_or((vs, ve), |k| {
                let k = tree.node(k);
                (k.start as u32, k.end as u32)
            });
            let deeper = depth < MAX_POINTER_SEGMENTS;
            let r = tree.resolve(n);
            match tree.node(r).kind {
                NodeKind::Map { .. } if deeper => {
                    for (k, v) in tree.pairs(r) {
                        if let Some(ks) = tree.key(k) {
                            let ks = escape(&ks);
                            if pointer.len() + ks.len() < MAX_POINTER_LEN {
                                let p = child(&pointer, &ks);
                                stack.push((v, Some(k), p, depth + 1, via_alias));
                            }
                        }
                    }
                }
                NodeKind::Seq { .. } if deeper => {
                    for (i, &item) in tree.items(r).iter().enumerate() {
                        let p = child(&pointer, &i.to_string());
                        stack.push((item, None, p, depth + 1, via_alias));
                    }
                }
                _ => {}
            }
            entries.push((pointer, [ks, ke, vs, ve]));
        }
    }
    SpanMap::new(file, entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{BuildLimits, parse};

    #[test]
    fn span_map_finds_the_pointer_or_its_nearest_ancestor() {
        let m = SpanMap::new(
            FileId(3),
            vec![
                ("/items/0/spec/a".into(), [10, 11, 12, 13]),
                ("/items/0".into(), [0, 99, 0, 99]),
                ("/items/0/spec".into(), [5, 9, 5, 40]),
                ("/items/0/spec/ab".into(), [20, 22, 24, 26]),
            ],
        );
        assert_eq!(m.value("/items/0/spec/a"), Span::new(FileId(3), 12, 13));
        assert_eq!(m.key("/items/0/spec/ab"), Span::new(FileId(3), 20, 22));
        assert_eq!(m.value("/items/0/spec/abc/7"), Span::new(FileId(3), 5, 40));
        assert_eq!(m.value("/items/0/status"), Span::new(FileId(3), 0, 99));
        assert_eq!(m.value("/other"), Span::new(FileId(3), 0, 99));
    }

    #[test]
    fn span_maps_stay_small_for_deep_long_keyed_or_aliased_documents() {
        use std::fmt::Write as _;

        let deep = format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: a}}\nspec:\n  externalIPs: [1.2.3.4]\n  x: {}{}\n",
            "[".repeat(60),
            "]".repeat(60)
        );
        let long = format!(
            // An explicit key: implicit ones may not be longer than 1024 characters.
            "apiVersion: v1\nkind: Service\nmetadata: {{name: a}}\nspec:\n  externalIPs: [1.2.3.4]\n  ? {}\n  : {{a: [1, 2, 3]}}\n",
            "k".repeat(5000)
        );
        let mut bomb = String::from(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nx0: &a0 [x, x, x, x, x, x, x, x]\n",
        );
        for i in 1..3 {
            let refs = vec![format!("*a{}", i - 1); 8].join(", ");
            let _ = writeln!(bomb, "x{i}: &a{i} [{refs}]");
        }
        bomb.push_str("spec:\n  externalIPs: [1.2.3.4]\n  x: *a2\n");
        // The junk is an unknown field, so the API server would reject these Services; span
        // maps are built for whatever is read, so they are built here straight from the tree.
        for text in [deep, long, bomb] {
            let (docs, _) = parse(&text, BuildLimits { max_depth: 64 });
            let d = &docs[0];
            let spans = span_map(FileId(0), &d.tree, d.root, "", &["/spec"]);
            let ip = spans.value("/spec/externalIPs/0");
            assert_eq!(&text[ip.start..ip.end], "1.2.3.4");
            assert!(
                spans.entries.len() < 40 + MAX_ALIASED_NODES,
                "{}",
                spans.entries.len()
            );
            assert!(spans.pointers.len() < 8192, "{}", spans.pointers.len());
        }
    }
}
