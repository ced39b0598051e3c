//! A serde `Deserializer` over a span-tree node, so k8s-openapi types decode straight from the
//! tree the way the API server decodes the JSON kubectl sends it:
//!
//! - scalars typed as go-yaml v2 types them (YAML 1.1: `yes` is a boolean, `0644` octal);
//! - `null` where a value is required becomes Go's zero value (`""`, `0`, `false`, empty), as
//!   Go's JSON decoder leaves the field unset;
//! - an integral float (`80.0`) is the integer kubectl's YAML-to-JSON conversion writes (`80`);
//! - strict field validation: a key a struct does not declare (the field lists k8s-openapi
//!   generates from the `OpenAPI` schema) is recorded as unknown, as the API server's
//!   `fieldValidation=Strict` (kubectl's default) rejects it.
//!
//! Aliases are followed within an expansion budget, which counts the nodes reached through an
//! alias (each time an alias brings them): an alias bomb stops there, while a large document
//! written out in full, which the file size already bounds, spends none of it. A failure carries
//! the node it happened at.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::scalar::{Typed, key_string, resolve};
use super::tree::{NodeId, NodeKind, Tree};

/// Why a decode failed, and at which node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub message: String,
    pub node: NodeId,
}

/// A decoded value and the key nodes of the fields its types do not declare.
#[derive(Debug)]
pub struct Decoded<T> {
    pub value: T,
    pub unknown: Vec<NodeId>,
}

/// Decodes `T` from `node`, visiting at most `budget` nodes through aliases (an alias and each
/// node it brings count every time the alias is decoded; nodes written out do not count).
pub fn decode<T: DeserializeOwned>(
    tree: &Tree,
    node: NodeId,
    budget: usize,
) -> Result<Decoded<T>, DecodeError> {
    let budget = Budget {
        left: Cell::new(budget),
        limit: budget,
    };
    let unknown = RefCell::new(Vec::new());
    let de = NodeDe::new(tree, node, None, &budget, &unknown);
    match T::deserialize(de) {
        Ok(value) => Ok(Decoded {
            value,
            unknown: unknown.into_inner(),
        }),
        Err(e) => Err(DecodeError {
            message: e.message,
            node: e.node.unwrap_or(node),
        }),
    }
}

#[derive(Debug)]
pub struct Error {
    message: String,
    /// The innermost node the failure happened at; set on the way out.
    node: Option<NodeId>,
}

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            node: None,
        }
    }

    fn at(mut self, node: NodeId) -> Self {
        self.node.get_or_insert(node);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(msg.to_string())
    }
}

/// How many more nodes may be reached through aliases, of `limit`.
struct Budget {
    left: Cell<usize>,
    limit: usize,
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    tree: &'a Tree,
    node: NodeId,
    /// What the node is, aliases resolved (read once: the deserializer asks several times).
    kind: NodeKind<'a>,
    /// The outermost alias this node is reached through, itself included, if any.
    alias: Option<NodeId>,
    budget: &'a Budget,
    unknown: &'a RefCell<Vec<NodeId>>,
}

impl<'a> NodeDe<'a> {
    /// The node `node`, reached through the alias `alias` (if any) or being one itself.
    fn new(
        tree: &'a Tree,
        node: NodeId,
        alias: Option<NodeId>,
        budget: &'a Budget,
        unknown: &'a RefCell<Vec<NodeId>>,
    ) -> Self {
        let resolved = tree.resolve(node);
        NodeDe {
            tree,
            node,
            kind: tree.node(resolved).kind,
            alias: alias.or((resolved != node).then_some(node)),
            budget,
            unknown,
        }
    }

    /// A child of this node: reached through an alias if this node is one or is reached
    /// through one.
    fn at(&self, node: NodeId) -> Self {
        NodeDe::new(self.tree, node, self.alias, self.budget, self.unknown)
    }

    /// The outermost alias this node is reached through, itself included.
    fn through_alias(&self) -> Option<NodeId> {
        self.alias
    }

    /// Resolves aliases, charging the budget when this node is reached through an alias; past
    /// the limit, the error is at the outermost alias (the one written in the object).
    fn enter(&self) -> Result<NodeKind<'a>, Error> {
        if let Some(alias) = self.through_alias() {
            let left = self.budget.left.get();
            if left == 0 {
                return Err(Error::new(format!(
                    "aliases bring more than {} nodes into it, passing the limit at this alias (`max-alias-expansion` counts every node an alias brings, each time it brings it)",
                    self.budget.limit
                ))
                .at(alias));
            }
            self.budget.left.set(left - 1);
        }
        Ok(self.kind)
    }

    /// The scalar's typed value, if the node is a scalar.
    fn typed(&self) -> Option<Typed<'a>> {
        match self.kind {
            NodeKind::Scalar { value, style } => Some(resolve(value, style)),
            _ => None,
        }
    }

    fn map<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, Error> {
        let id = self.tree.resolve(self.node);
        visitor
            .visit_map(MapAccess {
                de: self,
                pairs: self.tree.children(id).chunks_exact(2),
                value: None,
                fields,
            })
            .map_err(|e: Error| e.at(self.node))
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.typed() {
            Some(Typed::Null) => visitor.visit_i64(0).map_err(|e: Error| e.at(self.node)),
            // YAML-to-JSON writes an integral float without a fraction (`80.0` -> `80`).
            #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
            Some(Typed::Float(f)) if f.fract() == 0.0 && f.abs() < 1e18 => {
                self.enter()?;
                visitor
                    .visit_i64(f as i64)
                    .map_err(|e: Error| e.at(self.node))
            }
            _ => de::Deserializer::deserialize_any(self, visitor),
        }
    }
}

macro_rules! integers {
    ($($name:ident)*) => {
        $(
            fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.integer(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = match self.enter()? {
            NodeKind::Scalar { value, style } => match resolve(value, style) {
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
            NodeKind::Map { .. } => return self.map(visitor, None),
            NodeKind::Alias(_) => Err(Error::new("BUG: alias not resolved")),
        };
        value.map_err(|e: Error| e.at(self.node))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor.visit_none().map_err(|e: Error| e.at(self.node));
        }
        visitor.visit_some(self)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor.visit_str("").map_err(|e: Error| e.at(self.node));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor
                .visit_bool(false)
                .map_err(|e: Error| e.at(self.node));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor
                .visit_seq(SeqAccess {
                    de: self,
                    items: [].iter(),
                })
                .map_err(|e: Error| e.at(self.node));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor
                .visit_map(MapAccess {
                    de: self,
                    pairs: [].chunks_exact(2),
                    value: None,
                    fields: None,
                })
                .map_err(|e: Error| e.at(self.node));
        }
        self.deserialize_any(visitor)
    }

    /// A struct's field list is what the API declares: any other key is an unknown field.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.typed() {
            Some(Typed::Null) => visitor
                .visit_map(MapAccess {
                    de: self,
                    pairs: [].chunks_exact(2),
                    value: None,
                    fields: None,
                })
                .map_err(|e: Error| e.at(self.node)),
            None if matches!(self.kind, NodeKind::Map { .. }) => {
                self.enter()?;
                self.map(visitor, Some(fields))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    integers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|e: Error| e.at(self.node))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.enter()? {
            NodeKind::Scalar { value, .. } => visitor
                .visit_enum(value.into_deserializer())
                .map_err(|e: Error| e.at(self.node)),
            _ => Err(Error::new("expected a string").at(self.node)),
        }
    }

    /// Skipped without walking, so a deep or aliased subtree the rules never read costs nothing.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple tuple_struct identifier
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
    /// A struct's declared fields; other keys are recorded as unknown and skipped.
    fields: Option<&'static [&'static str]>,
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
            let key = match self.de.tree.node(self.de.tree.resolve(pair[0])).kind {
                NodeKind::Scalar { value, style } => key_string(value, style),
                _ => return Err(Error::new("a mapping key must be a scalar").at(pair[0])),
            };
            if let Some(fields) = self.fields
                && !fields.contains(&key.as_ref())
            {
                self.de.unknown.borrow_mut().push(pair[0]);
                continue;
            }
            self.value = Some(pair[1]);
            return seed
                .deserialize(key.as_ref().into_deserializer())
                .map(Some)
                .map_err(|e: Error| e.at(pair[0]));
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let id = self
            .value
            .take()
            .ok_or_else(|| Error::new("BUG: value before key"))?;
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

    fn text_of(t: &Tree, text: &str, n: NodeId) -> String {
        text[t.node(n).start..t.node(n).end].to_string()
    }

    #[test]
    fn yes_is_not_a_string_label_and_the_error_is_at_the_value() {
        let text = "a: x\nenabled: yes\n";
        let t = tree(text);
        let e = decode::<BTreeMap<String, String>>(&t, t.roots[0], 100).expect_err("bool");
        assert_eq!(text_of(&t, text, e.node), "yes");
        assert!(e.message.contains("boolean"), "{}", e.message);
    }

    #[test]
    fn null_is_the_zero_value_where_a_value_is_required() {
        let t = tree("a: ~\nb:\n");
        let m = decode::<BTreeMap<String, String>>(&t, t.roots[0], 100).expect("decodes");
        assert_eq!(
            m.value,
            BTreeMap::from([("a".into(), String::new()), ("b".into(), String::new())])
        );
        let t = tree("[~, 80.0, 7]");
        let v = decode::<Vec<i32>>(&t, t.roots[0], 100).expect("decodes");
        assert_eq!(v.value, [0, 80, 7]);
    }

    #[test]
    fn undeclared_fields_are_recorded_at_their_keys() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
        let text = "app: db\nmatchLabels: {a: b}\nmatchLabel: {c: d}\n";
        let t = tree(text);
        let d = decode::<LabelSelector>(&t, t.roots[0], 100).expect("decodes");
        let keys: Vec<String> = d.unknown.iter().map(|&k| text_of(&t, text, k)).collect();
        assert_eq!(keys, ["app", "matchLabel"]);
        assert_eq!(d.value.match_labels.map(|m| m.len()), Some(1));
    }

    #[test]
    fn alias_bomb_hits_the_budget() {
        let t = tree("a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n");
        assert!(decode::<serde_json::Value>(&t, t.roots[0], 30).is_err());
        assert!(decode::<serde_json::Value>(&t, t.roots[0], 1000).is_ok());
    }

    #[test]
    fn nodes_written_out_spend_no_budget() {
        let text = format!("ips: [{}]\n", vec!["192.0.2.1"; 10_000].join(", "));
        let t = tree(&text);
        let d = decode::<BTreeMap<String, Vec<String>>>(&t, t.roots[0], 1).expect("decodes");
        assert_eq!(d.value["ips"].len(), 10_000);
    }

    #[test]
    fn the_budget_counts_what_aliases_bring_and_fails_at_the_outermost_alias() {
        // Each use of `*b` brings 4 nodes: the alias and the 3 items.
        let text = "base: &b [x, y, z]\nuses: [*b, *b, *b]\n";
        let t = tree(text);
        let ok = decode::<serde_json::Value>(&t, t.roots[0], 12);
        assert!(ok.is_ok(), "{ok:?}");
        let e = decode::<serde_json::Value>(&t, t.roots[0], 11).expect_err("over");
        assert_eq!(text_of(&t, text, e.node), "*b");
        assert_eq!(t.node(e.node).start, text.rfind("*b").expect("third use"));
        assert!(
            e.message.starts_with(
                "aliases bring more than 11 nodes into it, passing the limit at this alias"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn octal_and_quoted_numbers() {
        let t = tree("a: 0644\nb: \"80\"\n");
        let v = decode::<serde_json::Value>(&t, t.roots[0], 100).expect("decodes");
        assert_eq!(v.value, serde_json::json!({"a": 420, "b": "80"}));
    }
}
