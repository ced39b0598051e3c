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
//! written out in full, which the file size already bounds, spends none of it. A failure and an unknown field carry their
//! path as the decoded node uses them, through aliases and merge keys, and the node to report
//! them at: in the decoded node's own text, so an alias's anchor written elsewhere (another
//! object's, even) is named as the alias's use and reported at the alias.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

mod access;

use access::{MapAccess, SeqAccess};

use super::pointer::Segment;
use super::scalar::{Typed, resolve};
use super::tree::{NodeId, NodeKind, Tree};

/// Why a decode failed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub message: String,
    /// Where to report it (see `Place::at`).
    pub node: NodeId,
    /// The path to the failing value below the decoded node, as it uses it.
    pub path: Vec<Segment>,
}

/// A place below the decoded node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The path from the decoded node, through aliases and merge keys as it uses them.
    pub path: Vec<Segment>,
    /// Where to report it: the node itself, or, when the path goes through an alias or a merge
    /// key, the outermost of them (its anchor's text may be another place's, or another
    /// object's).
    pub at: NodeId,
}

/// A decoded value and the fields its types do not declare (at their keys).
#[derive(Debug)]
pub struct Decoded<T> {
    pub value: T,
    pub unknown: Vec<Place>,
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
    let de = NodeDe::new(tree, node, None, None, &budget, &unknown);
    match T::deserialize(de) {
        Ok(value) => Ok(Decoded {
            value,
            unknown: unknown.into_inner(),
        }),
        Err(e) => {
            let place = e.place.unwrap_or(Place {
                path: Vec::new(),
                at: node,
            });
            Err(DecodeError {
                message: e.message,
                node: place.at,
                path: place.path,
            })
        }
    }
}

#[derive(Debug)]
pub struct Error {
    message: String,
    /// The innermost place the failure happened at; set on the way out.
    place: Option<Place>,
}

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            place: None,
        }
    }
}

/// One step from the decoded node down to the value being decoded.
#[derive(Clone, Copy)]
struct Step<'a> {
    parent: Option<&'a Step<'a>>,
    segment: Seg,
    /// The alias or merge key through which this step enters text written elsewhere.
    via: Option<NodeId>,
}

#[derive(Clone, Copy)]
enum Seg {
    /// A mapping entry, by its key node.
    Key(NodeId),
    Index(usize),
}

/// The place of `node` reached by `trail` (and, for a key, the step to it).
fn place(tree: &Tree, trail: Option<&Step<'_>>, node: NodeId) -> Place {
    let mut steps = Vec::new();
    let mut at = trail;
    while let Some(s) = at {
        steps.push(s);
        at = s.parent;
    }
    steps.reverse();
    let path = steps
        .iter()
        .map(|s| match s.segment {
            Seg::Key(k) => Segment::Key(tree.key_string(k).unwrap_or_default()),
            Seg::Index(i) => Segment::Index(i),
        })
        .collect();
    Place {
        path,
        at: steps.iter().find_map(|s| s.via).unwrap_or(node),
    }
}

/// How many steps of `trail` lead from the decoded node to the outermost alias or merge key
/// on it (all of them when there is none).
fn outside_aliases(trail: Option<&Step<'_>>) -> usize {
    let mut steps = 0;
    let mut outside = 0;
    let mut at = trail;
    while let Some(s) = at {
        steps += 1;
        if s.via.is_some() {
            // Counted from the end; the last one seen is the outermost.
            outside = steps;
        }
        at = s.parent;
    }
    steps - outside
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
    unknown: &'a RefCell<Vec<Place>>,
    /// How the decoded node reaches this one.
    trail: Option<&'a Step<'a>>,
}

impl<'a> NodeDe<'a> {
    /// The node `node`, reached by `trail` and through the alias `alias` (if any), or being
    /// one itself.
    fn new(
        tree: &'a Tree,
        node: NodeId,
        alias: Option<NodeId>,
        trail: Option<&'a Step<'a>>,
        budget: &'a Budget,
        unknown: &'a RefCell<Vec<Place>>,
    ) -> Self {
        let resolved = tree.resolve(node);
        NodeDe {
            tree,
            node,
            kind: tree.node(resolved).kind,
            alias: alias.or((resolved != node).then_some(node)),
            budget,
            unknown,
            trail,
        }
    }

    /// The child reached by `step`: reached through an alias if this node is one or is
    /// reached through one.
    fn child<'b>(&self, node: NodeId, step: &'b Step<'b>) -> NodeDe<'b>
    where
        'a: 'b,
    {
        NodeDe::new(
            self.tree,
            node,
            self.alias,
            Some(step),
            self.budget,
            self.unknown,
        )
    }

    /// A step below this node, into an anchor's text when this node is an alias.
    fn step(&self, segment: Seg, merged_from: Option<NodeId>) -> Step<'a> {
        let alias = matches!(self.tree.node(self.node).kind, NodeKind::Alias(_));
        Step {
            parent: self.trail,
            segment,
            via: if alias { Some(self.node) } else { merged_from },
        }
    }

    /// The failure, placed here unless a deeper node placed it.
    fn fail(&self, mut e: Error) -> Error {
        if e.place.is_none() {
            e.place = Some(place(self.tree, self.trail, self.node));
        }
        e
    }

    /// Resolves aliases, charging the budget when this node is reached through an alias; past
    /// the limit, the error is at the outermost alias (the one written in the object).
    fn enter(&self) -> Result<NodeKind<'a>, Error> {
        if self.alias.is_some() {
            let left = self.budget.left.get();
            if left == 0 {
                let mut at = place(self.tree, self.trail, self.node);
                // Named by the alias's own path, not the path into what it brings.
                at.path.truncate(outside_aliases(self.trail));
                return Err(Error {
                    message: format!(
                        "aliases bring more than {} nodes into it, passing the limit at this alias (`max-alias-expansion` counts every node an alias brings, each time it brings it)",
                        self.budget.limit
                    ),
                    place: Some(at),
                });
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
                map: id,
                pairs: self.tree.children(id).chunks_exact(2),
                value: None,
                fields,
            })
            .map_err(|e: Error| self.fail(e))
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.typed() {
            Some(Typed::Null) => visitor.visit_i64(0).map_err(|e: Error| self.fail(e)),
            // YAML-to-JSON writes an integral float without a fraction (`80.0` -> `80`).
            #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
            Some(Typed::Float(f)) if f.fract() == 0.0 && f.abs() < 1e18 => {
                self.enter()?;
                visitor.visit_i64(f as i64).map_err(|e: Error| self.fail(e))
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
                index: 0,
            }),
            NodeKind::Map { .. } => return self.map(visitor, None),
            NodeKind::Alias(_) => Err(Error::new("BUG: alias not resolved")),
        };
        value.map_err(|e: Error| self.fail(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor.visit_none().map_err(|e: Error| self.fail(e));
        }
        visitor.visit_some(self)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor.visit_str("").map_err(|e: Error| self.fail(e));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor.visit_bool(false).map_err(|e: Error| self.fail(e));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor
                .visit_seq(SeqAccess {
                    de: self,
                    items: [].iter(),
                    index: 0,
                })
                .map_err(|e: Error| self.fail(e));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.typed() == Some(Typed::Null) {
            return visitor
                .visit_map(MapAccess {
                    de: self,
                    map: self.node,
                    pairs: [].chunks_exact(2),
                    value: None,
                    fields: None,
                })
                .map_err(|e: Error| self.fail(e));
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
                    map: self.node,
                    pairs: [].chunks_exact(2),
                    value: None,
                    fields: None,
                })
                .map_err(|e: Error| self.fail(e)),
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
            .map_err(|e: Error| self.fail(e))
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
                .map_err(|e: Error| self.fail(e)),
            _ => Err(self.fail(Error::new("expected a string"))),
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

#[cfg(test)]
mod tests {
    use super::super::pointer::field_path;
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
        let keys: Vec<String> = d.unknown.iter().map(|u| text_of(&t, text, u.at)).collect();
        assert_eq!(keys, ["app", "matchLabel"]);
        assert_eq!(d.value.match_labels.map(|m| m.len()), Some(1));
    }

    #[test]
    fn fields_through_aliases_and_merges_are_placed_where_they_are_used() {
        use k8s_openapi::api::core::v1::ServiceSpec;
        let text = "x: &p {port: 1, bogus: 2}\nspec:\n  ports: [*p, {<<: *p, name: b}]\n";
        let t = tree(text);
        let spec = t.get(t.roots[0], "spec").expect("spec").1;
        let d = decode::<ServiceSpec>(&t, spec, 100).expect("decodes");
        let places: Vec<(String, String)> = d
            .unknown
            .iter()
            .map(|u| (field_path(&u.path), text_of(&t, text, u.at)))
            .collect();
        assert_eq!(
            places,
            [
                ("ports[0].bogus".to_string(), "*p".to_string()),
                ("ports[1].bogus".to_string(), "*p".to_string()),
            ]
        );
        assert_eq!(
            t.node(d.unknown[1].at).start,
            text.rfind("*p").expect("merge")
        );
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
