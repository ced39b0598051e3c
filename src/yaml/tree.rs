//! The span tree of one YAML document: an arena of nodes, each with its exact byte span, and
//! lookups by key, index and JSON-pointer path.
//!
//! Aliases stay references to their anchored node; whoever walks through them is bounded by an
//! expansion budget.

use super::pointer::Segment;
use super::scalar::Style;

/// Index of a node in `Tree::nodes`.
pub type NodeId = u32;

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A scalar, with how it is typed (see `scalar::Style`).
    Scalar {
        value: String,
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

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    /// Byte offsets into the file.
    pub start: usize,
    pub end: usize,
}

/// A problem found while building: a message and a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
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
}

impl Tree {
    #[must_use]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// The node, with aliases resolved.
    #[must_use]
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        // Aliases always point to an earlier node, so this terminates.
        while let NodeKind::Alias(t) = self.nodes[id as usize].kind {
            id = t;
        }
        id
    }

    #[must_use]
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        match self.nodes[id as usize].kind {
            NodeKind::Seq { first, len } | NodeKind::Map { first, len } => {
                &self.edges[first as usize..(first + len) as usize]
            }
            _ => &[],
        }
    }

    /// Key/value pairs of a mapping (aliases resolved for the mapping itself).
    pub fn pairs(&self, id: NodeId) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        let id = self.resolve(id);
        let kids = if matches!(self.nodes[id as usize].kind, NodeKind::Map { .. }) {
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
        if matches!(self.nodes[id as usize].kind, NodeKind::Seq { .. }) {
            self.children(id)
        } else {
            &[]
        }
    }

    /// The string of a scalar node (aliases resolved).
    #[must_use]
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[self.resolve(id) as usize].kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The typed value of a scalar node (aliases resolved).
    #[must_use]
    pub fn typed(&self, id: NodeId) -> Option<super::scalar::Typed<'_>> {
        match &self.nodes[self.resolve(id) as usize].kind {
            NodeKind::Scalar { value, style } => Some(super::scalar::resolve(value, *style)),
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
    pub fn key(&self, id: NodeId) -> Option<std::borrow::Cow<'_, str>> {
        match &self.nodes[self.resolve(id) as usize].kind {
            NodeKind::Scalar { value, style } => Some(super::scalar::key_string(value, *style)),
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
    /// The path from `root` to `target` (a value or a key node), through aliases, visiting at
    /// most a million nodes; `None` if `target` is not below `root`.
    #[must_use]
    pub fn path_to(&self, root: NodeId, target: NodeId) -> Option<Vec<Segment>> {
        let mut path = Vec::new();
        let mut budget = 1_000_000usize;
        self.find_path(root, target, &mut path, &mut budget)
            .then_some(path)
    }

    fn find_path(
        &self,
        node: NodeId,
        target: NodeId,
        path: &mut Vec<Segment>,
        budget: &mut usize,
    ) -> bool {
        if node == target {
            return true;
        }
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let id = self.resolve(node);
        match self.nodes[id as usize].kind {
            NodeKind::Map { .. } => {
                for (k, v) in self.pairs(id) {
                    let key = Segment::Key(self.key_string(k).unwrap_or_default());
                    if k == target {
                        path.push(key);
                        return true;
                    }
                    path.push(key);
                    if self.find_path(v, target, path, budget) {
                        return true;
                    }
                    path.pop();
                }
            }
            NodeKind::Seq { .. } => {
                for (i, &item) in self.items(id).iter().enumerate() {
                    path.push(Segment::Index(i));
                    if self.find_path(item, target, path, budget) {
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
