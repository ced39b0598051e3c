//! A serde `Deserializer` over a span-tree node, so k8s-openapi types decode straight from the
//! tree with Kubernetes' scalar typing. Aliases are followed within an expansion budget; a
//! decode failure carries the path of the failing field so it can be mapped back to a span.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::scalar::{Typed, key_string, resolve};
use super::tree::{NodeId, NodeKind, Tree};

/// Why a decode failed, and where: `path` is a list of JSON-pointer segments from the decoded
/// node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub message: String,
    pub path: Vec<String>,
}

/// Decodes `T` from `node`, visiting at most `budget` nodes (aliases count each time they are
/// expanded).
pub fn decode<T: DeserializeOwned>(
    tree: &Tree,
    node: NodeId,
    budget: usize,
) -> Result<T, DecodeError> {
    let de = |budget| NodeDe { tree, node, budget };
    // Most documents decode: try without path tracking, which costs a little on every field,
    // and decode again with it only to find where a failure is. Decoding is deterministic, so
    // the second run fails the same way.
    let first = Cell::new(budget);
    if let Ok(v) = T::deserialize(de(&first)) {
        return Ok(v);
    }
    let second = Cell::new(budget);
    serde_path_to_error::deserialize(de(&second)).map_err(|e| {
        let path = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .collect();
        DecodeError {
            message: e.into_inner().0,
            path,
        }
    })
}

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    tree: &'a Tree,
    node: NodeId,
    budget: &'a Cell<usize>,
}

impl<'a> NodeDe<'a> {
    fn at(&self, node: NodeId) -> Self {
        NodeDe { node, ..*self }
    }

    /// Resolves aliases and charges the budget for this visit.
    fn enter(&self) -> Result<&'a NodeKind, Error> {
        let left = self.budget.get();
        if left == 0 {
            return Err(Error(
                "alias expansion exceeds the limit (`max-alias-expansion`)".into(),
            ));
        }
        self.budget.set(left - 1);
        Ok(&self.tree.node(self.tree.resolve(self.node)).kind)
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.enter()? {
            NodeKind::Scalar { value, plain } => match resolve(value, *plain) {
                Typed::Null => visitor.visit_unit(),
                Typed::Bool(b) => visitor.visit_bool(b),
                Typed::Int(i) => visitor.visit_i64(i),
                Typed::UInt(u) => visitor.visit_u64(u),
                Typed::Float(f) => visitor.visit_f64(f),
                Typed::Str(s) => visitor.visit_str(s),
            },
            NodeKind::Seq { .. } => visitor.visit_seq(SeqAccess {
                de: self,
                items: self.tree.items(self.node).iter(),
            }),
            NodeKind::Map { .. } => {
                let id = self.tree.resolve(self.node);
                visitor.visit_map(MapAccess {
                    de: self,
                    pairs: self.tree.children(id).chunks_exact(2),
                    value: None,
                })
            }
            NodeKind::Alias(_) => Err(Error("BUG: alias not resolved".into())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let NodeKind::Scalar { value, plain } =
            &self.tree.node(self.tree.resolve(self.node)).kind
            && resolve(value, *plain) == Typed::Null
        {
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.enter()? {
            NodeKind::Scalar { value, .. } => {
                visitor.visit_enum(value.as_str().into_deserializer())
            }
            _ => Err(Error("expected a string".into())),
        }
    }

    /// Unknown fields are skipped without walking them, so a deep or aliased subtree the rules
    /// never read costs nothing.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct SeqAccess<'a> {
    de: NodeDe<'a>,
    items: std::slice::Iter<'a, NodeId>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            Some(&id) => seed.deserialize(self.de.at(id)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a> {
    de: NodeDe<'a>,
    pairs: std::slice::ChunksExact<'a, NodeId>,
    value: Option<NodeId>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(pair) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some(pair[1]);
        let key = match &self.de.tree.node(self.de.tree.resolve(pair[0])).kind {
            NodeKind::Scalar { value, plain } => key_string(value, *plain),
            _ => return Err(Error("a mapping key must be a scalar".into())),
        };
        seed.deserialize(key.as_ref().into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let id = self
            .value
            .take()
            .ok_or_else(|| Error("BUG: value before key".into()))?;
        seed.deserialize(self.de.at(id))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BuildLimits, build};
    use super::*;
    use std::collections::BTreeMap;

    fn tree(text: &str) -> Tree {
        build(text, 0, BuildLimits { max_depth: 64 }).expect("parses")
    }

    #[test]
    fn yes_is_not_a_string_label() {
        let t = tree("a: x\nenabled: yes\n");
        let e = decode::<BTreeMap<String, String>>(&t, t.roots[0], 100).expect_err("bool");
        assert_eq!(e.path, ["enabled"]);
        assert!(e.message.contains("boolean"), "{}", e.message);
    }

    #[test]
    fn alias_bomb_hits_the_budget() {
        let t = tree("a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n");
        assert!(decode::<serde_json::Value>(&t, t.roots[0], 30).is_err());
        assert!(decode::<serde_json::Value>(&t, t.roots[0], 1000).is_ok());
    }

    #[test]
    fn octal_and_quoted_numbers() {
        let t = tree("a: 0644\nb: \"80\"\n");
        let v: serde_json::Value = decode(&t, t.roots[0], 100).expect("decodes");
        assert_eq!(v, serde_json::json!({"a": 420, "b": "80"}));
    }
}
