//! Sequences and mappings as serde walks them: each item or pair a step of the trail, so
//! that an error or an unknown field names its place; a mapping's keys as kubectl settles
//! them (merge keys, the last of repeated keys).

use serde::de::{self, IntoDeserializer};

use super::{Error, NodeDe, Seg, place};
use crate::yaml::scalar::{Typed, key_string};
use crate::yaml::tree::{NodeId, NodeKind};

pub(super) struct SeqAccess<'a> {
    pub(super) de: NodeDe<'a>,
    pub(super) items: std::slice::Iter<'a, NodeId>,
    pub(super) index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(&id) = self.items.next() else {
            return Ok(None);
        };
        let step = self.de.step(Seg::Index(self.index), None);
        self.index += 1;
        seed.deserialize(self.de.child(id, &step)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

pub(super) struct MapAccess<'a> {
    pub(super) de: NodeDe<'a>,
    /// The mapping (aliases resolved), for the entries a merge key brought.
    pub(super) map: NodeId,
    pub(super) pairs: std::slice::ChunksExact<'a, NodeId>,
    /// The value of the key just read, and the key.
    pub(super) value: Option<(NodeId, NodeId)>,
    /// A struct's declared fields; other keys are recorded as unknown and skipped.
    pub(super) fields: Option<&'static [&'static str]>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        loop {
            let Some(pair) = self.pairs.next() else {
                return Ok(None);
            };
            let tree = self.de.tree;
            let step = self.de.step(Seg::Key(pair[0]), self.merged_from(pair[0]));
            let NodeKind::Scalar { value, style } = tree.node(tree.resolve(pair[0])).kind else {
                let e = Error::new("a mapping key must be a scalar");
                return Err(self.de.child(pair[0], &step).fail(e));
            };
            let key = key_string(value, style);
            // An object's own `apiVersion` or `kind` that is null is no value to its type: the
            // API server takes both from the request, as for one left out.
            if self.fields.is_some()
                && self.de.trail.is_none()
                && matches!(key.as_ref(), "apiVersion" | "kind")
                && tree.typed(pair[1]) == Some(Typed::Null)
            {
                continue;
            }
            if let Some(fields) = self.fields
                && !fields.contains(&key.as_ref())
            {
                let unknown = place(tree, Some(&step), pair[0]);
                self.de.unknown.borrow_mut().push(unknown);
                continue;
            }
            self.value = Some((pair[1], pair[0]));
            return seed
                .deserialize(key.as_ref().into_deserializer())
                .map(Some)
                .map_err(|e: Error| self.de.child(pair[0], &step).fail(e));
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (id, key) = self
            .value
            .take()
            .ok_or_else(|| Error::new("BUG: value before key"))?;
        let step = self.de.step(Seg::Key(key), self.merged_from(key));
        seed.deserialize(self.de.child(id, &step))
    }
}

impl MapAccess<'_> {
    /// The merge key's value (`*base`) when a merge key brought the entry of `key`.
    fn merged_from(&self, key: NodeId) -> Option<NodeId> {
        let merged = &self.de.tree.merged;
        if merged.is_empty() {
            return None;
        }
        merged.get(&(self.map, key)).copied()
    }
}
