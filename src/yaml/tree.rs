//! The span tree of one YAML document: an arena of nodes, each with its exact byte span, and
//! lookups by key, index and JSON-pointer path. Compact, because a document's tree is alive while
//! it is classified: 20 bytes a node, and scalar values read from the file's text where they are
//! written verbatim (a 200 MB document's tree is about its size, not ten times it).
//!
//! Aliases stay references to their anchored node; whoever walks through them is bounded by an
//! expansion budget.

use std::sync::Arc;

use super::pointer::Segment;
use super::scalar::Style;

/// Index of a node in the tree.
pub type NodeId = u32;

/// What a node is, as read from the tree (`Tree::node`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind<'a> {
    /// A scalar, with how it is typed (see `scalar::Style`).
    Scalar {
        value: &'a str,
        style: Style,
    },
    /// Children are `Tree::edges[range]`.
    Seq {
        first: u32,
        len: u32,
    },
    /// Children are alternating key and value ids in `Tree::edges[range]`.
    Map {
        first: u32,
        len: u32,
    },
    Alias(NodeId),
}

/// A node as read from the tree: its kind and its byte offsets in the file.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    pub start: usize,
    pub end: usize,
}

/// A node as stored: 20 bytes, with no allocation of its own. A scalar's value is the text of
/// the file (`Tree::source`) where it is written verbatim there, which is nearly always; only
/// values that differ from their text (escapes, folded lines, block scalars, `!!binary`) are
/// copied, into `Tree::strings`. Offsets are `u32`: a tree is never read from a text of 4 GiB or
/// more (`build` refuses it).
#[derive(Debug, Clone, Copy)]
struct Packed {
    start: u32,
    end: u32,
    /// Scalar: the value's offset; collection: its first edge; alias: its target.
    a: u32,
    /// Scalar: the value's length; collection: its number of edges.
    b: u32,
    kind: u8,
    style: Style,
}

// Every node of a document is alive while the document is classified: keep them at 20 bytes.
const _: () = assert!(std::mem::size_of::<Packed>() == 20);

const SCALAR_IN_SOURCE: u8 = 0;
const SCALAR_IN_STRINGS: u8 = 1;
const SEQ: u8 = 2;
const MAP: u8 = 3;
const ALIAS: u8 = 4;

/// A problem found while building: a message and a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Default)]
pub struct Tree {
    nodes: Vec<Packed>,
    pub(super) edges: Vec<NodeId>,
    /// Node ids in document order of roots (one per document in the chunk).
    pub roots: Vec<NodeId>,
    /// Problems that do not stop the document from being read: duplicate keys (the last
    /// value is kept, the earlier pair dropped).
    pub duplicates: Vec<TreeError>,
    /// Where content after the document starts that kubectl never reads (after `...`, or a
    /// second document without a `---` line), if any.
    pub unread: Option<usize>,
    /// Entries a merge key brought into a mapping, `(mapping, key)`, with the merge key's value
    /// (`*base`): where the mapping uses text written elsewhere.
    pub merged: std::collections::HashMap<(NodeId, NodeId), NodeId>,
    /// The values of scalars that are not written verbatim in `source`, one after the other.
    strings: String,
    /// The file text the tree was read from, when scalar values point into it.
    source: Option<Arc<str>>,
}

/// The largest text a tree is read from (offsets are `u32`).
pub const MAX_TEXT: usize = u32::MAX as usize;

fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

impl Tree {
    /// An empty tree whose scalars may point into `source` (see `push_scalar_in_source`).
    #[must_use]
    pub(super) fn over(source: Option<Arc<str>>, nodes: usize) -> Tree {
        Tree {
            nodes: Vec::with_capacity(nodes),
            edges: Vec::with_capacity(nodes),
            source,
            ..Tree::default()
        }
    }

    /// How many nodes the tree has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node, in the order they were read.
    pub fn iter(&self) -> impl Iterator<Item = Node<'_>> + '_ {
        (0..self.nodes.len()).map(|i| self.node(i as NodeId))
    }

    #[must_use]
    #[inline]
    pub fn node(&self, id: NodeId) -> Node<'_> {
        let p = self.nodes[id as usize];
        Node {
            kind: self.kind_of(&p),
            start: p.start as usize,
            end: p.end as usize,
        }
    }

    #[inline]
    fn kind_of(&self, p: &Packed) -> NodeKind<'_> {
        let range = p.a as usize..(p.a as usize + p.b as usize);
        match p.kind {
            SCALAR_IN_SOURCE => NodeKind::Scalar {
                value: self
                    .source
                    .as_deref()
                    .and_then(|s| s.get(range))
                    .unwrap_or_default(),
                style: p.style,
            },
            SCALAR_IN_STRINGS => NodeKind::Scalar {
                value: self.strings.get(range).unwrap_or_default(),
                style: p.style,
            },
            SEQ => NodeKind::Seq {
                first: p.a,
                len: p.b,
            },
            MAP => NodeKind::Map {
                first: p.a,
                len: p.b,
            },
            _ => NodeKind::Alias(p.a),
        }
    }

    fn add(&mut self, p: Packed) -> NodeId {
        self.nodes.push(p);
        (self.nodes.len() - 1) as NodeId
    }

    /// Adds a scalar whose value is copied into the tree.
    pub(super) fn push_scalar(
        &mut self,
        value: &str,
        style: Style,
        start: usize,
        end: usize,
    ) -> NodeId {
        let at = offset(self.strings.len());
        self.strings.push_str(value);
        self.add(Packed {
            start: offset(start),
            end: offset(end),
            a: at,
            b: offset(value.len()),
            kind: SCALAR_IN_STRINGS,
            style,
        })
    }

    /// Adds a scalar whose value is the source text at `value_at..value_at + len`.
    pub(super) fn push_scalar_in_source(
        &mut self,
        value_at: usize,
        len: usize,
        style: Style,
        start: usize,
        end: usize,
    ) -> NodeId {
        self.add(Packed {
            start: offset(start),
            end: offset(end),
            a: offset(value_at),
            b: offset(len),
            kind: SCALAR_IN_SOURCE,
            style,
        })
    }

    /// Adds an empty mapping or sequence, to be closed with `close`.
    pub(super) fn push_collection(&mut self, map: bool, start: usize, end: usize) -> NodeId {
        self.add(Packed {
            start: offset(start),
            end: offset(end),
            a: 0,
            b: 0,
            kind: if map { MAP } else { SEQ },
            style: Style::Str,
        })
    }

    pub(super) fn push_alias(&mut self, target: NodeId, start: usize, end: usize) -> NodeId {
        self.add(Packed {
            start: offset(start),
            end: offset(end),
            a: target,
            b: 0,
            kind: ALIAS,
            style: Style::Str,
        })
    }

    /// Gives a collection its children, `edges[first..first + len]`, and its end.
    pub(super) fn close(&mut self, id: NodeId, first: u32, len: u32, end: usize) {
        let p = &mut self.nodes[id as usize];
        p.a = first;
        p.b = len;
        p.end = offset(end);
    }

    /// Moves every node's span by `by` (a chunk's offsets become the file's).
    pub(super) fn shift(&mut self, by: usize) {
        let by = offset(by);
        for p in &mut self.nodes {
            p.start = p.start.saturating_add(by);
            p.end = p.end.saturating_add(by);
        }
    }

    /// The node, with aliases resolved.
    #[must_use]
    #[inline]
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        // Aliases always point to an earlier node, so this terminates.
        loop {
            let p = &self.nodes[id as usize];
            if p.kind != ALIAS {
                return id;
            }
            id = p.a;
        }
    }

    #[must_use]
    #[inline]
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let p = &self.nodes[id as usize];
        if p.kind == SEQ || p.kind == MAP {
            &self.edges[p.a as usize..(p.a + p.b) as usize]
        } else {
            &[]
        }
    }

    #[inline]
    fn is(&self, id: NodeId, kind: u8) -> bool {
        self.nodes[id as usize].kind == kind
    }

    /// Key/value pairs of a mapping (aliases resolved for the mapping itself).
    pub fn pairs(&self, id: NodeId) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        let id = self.resolve(id);
        let kids = if self.is(id, MAP) {
            self.children(id)
        } else {
            &[]
        };
        kids.chunks_exact(2).map(|p| (p[0], p[1]))
    }

    /// Items of a sequence (aliases resolved for the sequence itself).
    #[must_use]
    pub fn items(&self, id: NodeId) -> &[NodeId] {
        let id = self.resolve(id);
        if self.is(id, SEQ) {
            self.children(id)
        } else {
            &[]
        }
    }

    /// The string of a scalar node (aliases resolved).
    #[must_use]
    #[inline]
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match self.node(self.resolve(id)).kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The typed value of a scalar node (aliases resolved).
    #[must_use]
    pub fn typed(&self, id: NodeId) -> Option<super::scalar::Typed<'_>> {
        match self.node(self.resolve(id)).kind {
            NodeKind::Scalar { value, style } => Some(super::scalar::resolve(value, style)),
            _ => None,
        }
    }

    /// The value of `key` in a mapping; the last one wins, as in Kubernetes' decoder.
    #[must_use]
    pub fn get(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.pairs(map)
            .filter(|&(k, _)| self.key(k).as_deref() == Some(key))
            .last()
    }

    /// A mapping key as Kubernetes sees it after YAML-to-JSON conversion.
    #[must_use]
    pub fn key_string(&self, id: NodeId) -> Option<String> {
        self.key(id).map(std::borrow::Cow::into_owned)
    }

    /// Like `key_string`, borrowing when the key is already a string (the common case).
    #[must_use]
    #[inline]
    pub fn key(&self, id: NodeId) -> Option<std::borrow::Cow<'_, str>> {
        match self.node(self.resolve(id)).kind {
            NodeKind::Scalar { value, style } => Some(super::scalar::key_string(value, style)),
            _ => None,
        }
    }
}

/// Limits applied while building.
#[derive(Debug, Clone, Copy)]
pub struct BuildLimits {
    pub max_depth: usize,
}

impl Tree {
    /// The path from `root` to `target` (a value or a key node): without an alias when there is
    /// such a path, else through aliases, visiting at most a million nodes each way; `None` if
    /// `target` is not below `root`.
    #[must_use]
    pub fn path_to(&self, root: NodeId, target: NodeId) -> Option<Vec<Segment>> {
        let mut path = Vec::new();
        // Without aliases first: linear in the object, however many aliases it repeats.
        for aliases in [false, true] {
            let mut budget = 1_000_000usize;
            if self.find_path(root, target, &mut path, &mut budget, aliases) {
                return Some(path);
            }
            path.clear();
        }
        None
    }

    fn find_path(
        &self,
        node: NodeId,
        target: NodeId,
        path: &mut Vec<Segment>,
        budget: &mut usize,
        aliases: bool,
    ) -> bool {
        if node == target {
            return true;
        }
        if *budget == 0 || (!aliases && self.is(node, ALIAS)) {
            return false;
        }
        *budget -= 1;
        let id = self.resolve(node);
        match self.node(id).kind {
            NodeKind::Map { .. } => {
                for (k, v) in self.pairs(id) {
                    let key = Segment::Key(self.key_string(k).unwrap_or_default());
                    if k == target {
                        path.push(key);
                        return true;
                    }
                    path.push(key);
                    if self.find_path(v, target, path, budget, aliases) {
                        return true;
                    }
                    path.pop();
                }
            }
            NodeKind::Seq { .. } => {
                for (i, &item) in self.items(id).iter().enumerate() {
                    path.push(Segment::Index(i));
                    if self.find_path(item, target, path, budget, aliases) {
                        return true;
                    }
                    path.pop();
                }
            }
            _ => {}
        }
        false
    }

    /// Finds the node at a JSON-pointer-like path of keys and indices, falling back to the
    /// deepest ancestor that exists. Returns the value node, the key node of the last matched
    /// mapping entry, and how many segments matched.
    #[must_use]
    pub fn lookup<S: AsRef<str>>(
        &self,
        root: NodeId,
        path: &[S],
    ) -> (NodeId, Option<NodeId>, usize) {
        let mut node = root;
        let mut key = None;
        for (depth, seg) in path.iter().enumerate() {
            let seg = seg.as_ref();
            let resolved = self.resolve(node);
            let next = match &self.node(resolved).kind {
                NodeKind::Map { .. } => self.get(resolved, seg).map(|(k, v)| (Some(k), v)),
                NodeKind::Seq { .. } => seg
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.items(resolved).get(i))
                    .map(|&v| (None, v)),
                _ => None,
            };
            match next {
                Some((k, v)) => {
                    key = k;
                    node = v;
                }
                None => return (node, key, depth),
            }
        }
        (node, key, path.len())
    }
}
