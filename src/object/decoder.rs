//! Decoding an object's subtrees into the API's types, at the target version: a field the API
//! does not declare, or a value of the wrong type, becomes a problem at its node, and the
//! object does not count. The views (`gateway`, `policies`, `workload`) decode through it.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::de::DeserializeOwned;

use super::{Problem, ProblemKind};
use crate::finding::ObjectRef;
use crate::source::{FileId, Origin, Span};
use crate::yaml::pointer::{Segment, field_path, join, segments, to_pointer};
use crate::yaml::scalar::{Style, Typed};
use crate::yaml::{NodeId, NodeKind, Tree, decode};

pub(super) struct Decoder<'a> {
    pub(super) file: FileId,
    pub(super) tree: &'a Tree,
    pub(super) node: NodeId,
    pub(super) obj_pointer: &'a str,
    pub(super) budget: usize,
    /// The target release, whose API decides which fields exist.
    pub(super) version: crate::k8s::kubernetes::Version,
    pub(super) id: &'a Arc<ObjectRef>,
    pub(super) origin: Option<Origin>,
    pub(super) problems: &'a mut Vec<Problem>,
}

impl Decoder<'_> {
    /// Validates a selector; an invalid one is a problem at its bad expression.
    pub(super) fn valid_selector(&mut self, sel: Option<&LabelSelector>, path: &str) -> bool {
        let Some(Err((message, i))) = sel.map(crate::k8s::selector::validate) else {
            return true;
        };
        let full = format!("{path}/matchExpressions/{i}/operator");
        let segs = segments(&full);
        let (n, _, depth) = self.tree.lookup(self.node, &segs);
        let node = self.tree.node(n);
        self.problems.push(Problem {
            kind: ProblemKind::Invalid,
            origin: self.origin.clone(),
            span: Span::new(self.file, node.start, node.end),
            message: format!("{} has an invalid selector: {message}; the API server rejects it and it is not counted", self.id),
            object: Some(Arc::clone(self.id)),
            pointer: format!("{}{}", self.obj_pointer, join(&segs[..depth])),
            help: None,
        });
        false
    }

    /// Decodes `T` at `path` below the object. A failure, and every field the API does not
    /// declare, becomes a problem at its node; either way the object does not count.
    pub(super) fn decode<T: DeserializeOwned>(&mut self, path: &str) -> Option<T> {
        let segs = segments(path);
        let (start, _, depth) = self.tree.lookup(self.node, &segs);
        if depth < segs.len() {
            return None;
        }
        // The path to the decoded node, which decode's paths continue.
        let prefix: Vec<Segment> = segs.iter().map(|s| Segment::Key(s.to_string())).collect();
        let full = |rest: &[Segment]| [prefix.as_slice(), rest].concat();
        match decode::decode::<T>(self.tree, start, self.budget) {
            Ok(d) => {
                let mut unknown = 0;
                for place in &d.unknown {
                    let path = full(&place.path);
                    let field = field_path(&path);
                    // A field the newest API dropped, but the target's still has.
                    if crate::k8s::kubernetes::field_served(&self.id.kind, &field, self.version)
                        == Some(true)
                    {
                        continue;
                    }
                    unknown += 1;
                    let removed = crate::k8s::kubernetes::field_removed(&self.id.kind, &field)
                        .map_or_else(String::new, |r| format!(" (Kubernetes {r} removed it)"));
                    self.problem_on(
                        place.at,
                        &path,
                        format!(
                            "{} has unknown field \"{field}\"{removed}; the API server rejects it (strict field validation) and it is not counted",
                            self.id
                        ),
                    );
                    self.problems.last_mut().expect("BUG: just pushed").help = Some(
                        "Correct the field's name or remove it; the rest of the object is read only once the API server would accept it.".into(),
                    );
                }
                (unknown == 0).then_some(d.value)
            }
            Err(e) => {
                let path = full(&e.path);
                let field = field_path(&path);
                let at = if field.is_empty() {
                    String::new()
                } else {
                    format!(" at `{field}`")
                };
                self.problem_on(
                    e.node,
                    &path,
                    format!("{} cannot be decoded{at}: {}", self.id, e.message),
                );
                self.problems.last_mut().expect("BUG: just pushed").help =
                    yaml11_hint(self.tree, e.node, &e.message);
                None
            }
        }
    }

    /// Records a problem at the node at `path` below the object (or its nearest ancestor).
    pub(super) fn problem_at(&mut self, path: &str, message: &str) {
        let (n, _, _) = self.tree.lookup(self.node, &segments(path));
        let message = format!("{} {message}", self.id);
        self.problem(n, message);
    }

    /// The path from the object to `node`.
    pub(super) fn path_to(&self, node: NodeId) -> Vec<Segment> {
        self.tree.path_to(self.node, node).unwrap_or_default()
    }

    /// Records a problem at `node`.
    pub(super) fn problem(&mut self, node: NodeId, message: String) {
        let path = self.path_to(node);
        self.problem_on(node, &path, message);
    }

    /// Records a problem about the value at `path` below the object, reported at `node`.
    fn problem_on(&mut self, node: NodeId, path: &[Segment], message: String) {
        let pointer = format!("{}{}", self.obj_pointer, to_pointer(path));
        let n = self.tree.node(node);
        let span = Span::new(self.file, n.start, n.end);
        // One finding per problem: a bare Pod's metadata is its pod template's too, and is
        // read twice.
        if self
            .problems
            .iter()
            .any(|p| p.span == span && p.message == message)
        {
            return;
        }
        self.problems.push(Problem {
            origin: self.origin.clone(),
            kind: ProblemKind::Invalid,
            span,
            message,
            object: Some(Arc::clone(self.id)),
            pointer,
            help: None,
        });
    }
}

/// The help for a plain scalar that YAML 1.1 typed where Kubernetes wants a string: quote it.
fn yaml11_hint(tree: &Tree, node: NodeId, message: &str) -> Option<String> {
    if !message.ends_with("expected a string") {
        return None;
    }
    let NodeKind::Scalar {
        value,
        style: Style::Plain,
    } = &tree.node(tree.resolve(node)).kind
    else {
        return None;
    };
    let what = match tree.typed(node)? {
        Typed::Bool(_) => "a boolean",
        Typed::Int(_) | Typed::UInt(_) | Typed::Float(_) => "a number",
        Typed::Null | Typed::Str(_) => return None,
    };
    Some(format!(
        "Quote the value (`\"{value}\"`): kubectl reads YAML 1.1, where `{value}` unquoted is {what}."
    ))
}
