//! A document -> its objects, as kubectl reads them: a list's items (any object with `items`),
//! an object's type meta, and what kubectl says about a document that is no object.

use super::classify::{object, origin};
use super::{Classified, ClassifyOptions, Problem, ProblemKind};
use crate::source::{FileId, Span};
use crate::yaml::scalar::Typed;
use crate::yaml::{Document, NodeId, NodeKind, Tree};

/// Classifies one document into objects.
#[must_use]
pub fn classify(file: FileId, doc: &Document, opts: &ClassifyOptions) -> Classified {
    let mut out = Classified::default();
    let tree = &doc.tree;
    // kubectl reads any object with an `items` field as a list, whatever its kind (the
    // unstructured decoder looks for `items`, not for a kind ending in `List`): the object
    // itself is never applied, only its items. A list needs a kind, not an `apiVersion`.
    if let Some((_, items)) = tree.get(doc.root, "items")
        && let Some(kind) = scalar_field(tree, doc.root, "kind")
    {
        let api_version = scalar_field(tree, doc.root, "apiVersion").unwrap_or_default();
        list(file, doc, items, api_version, kind, opts, &mut out);
        return out;
    }
    let Some((api_version, kind)) =
        type_meta(tree, doc.root).or_else(|| without_api_version(tree, doc.root))
    else {
        out.ignored += 1;
        return out;
    };
    object(
        file,
        doc,
        doc.root,
        String::new(),
        api_version,
        kind,
        opts,
        &mut out,
    );
    out
}

/// The items of a list as kubectl decodes them: `items` must be a sequence (`null` is an empty
/// one) of mappings (or nulls), or the whole list fails and none of its items is applied. An
/// item that sets neither `apiVersion` nor `kind` takes the list's `apiVersion` and its kind
/// minus `List` (`PodList` items, as the API server returns them, are Pods); an item that sets
/// only one of them lacks the other.
fn list(
    file: FileId,
    doc: &Document,
    items: NodeId,
    api_version: &str,
    kind: &str,
    opts: &ClassifyOptions,
    out: &mut Classified,
) {
    let tree = &doc.tree;
    let fail = |node: NodeId, pointer: String, message: String| {
        let n = tree.node(node);
        Problem {
            kind: ProblemKind::Invalid,
            span: Span::new(file, n.start, n.end),
            origin: origin(doc, tree, node),
            message,
            object: None,
            pointer,
            help: Some(
                "kubectl reads an object with `items` as a list; make `items` a list of objects, or remove it if this is not meant to be a list."
                    .into(),
            ),
        }
    };
    match &tree.node(tree.resolve(items)).kind {
        NodeKind::Seq { .. } => {}
        NodeKind::Scalar { .. } if tree.typed(items) == Some(Typed::Null) => return,
        _ => {
            let what = json_type(tree, items);
            out.problems.push(fail(
                items,
                "/items".into(),
                format!(
                    "`items` of {kind} is {}, not a list: kubectl fails on the whole list (`json: cannot unmarshal {what} into Go struct field decodeList.items of type []json.RawMessage`), so nothing in it is applied",
                    json_article(what)
                ),
            ));
            return;
        }
    }
    let items = tree.items(items);
    if let Some((i, &bad)) = items.iter().enumerate().find(|&(_, &item)| {
        !matches!(tree.node(tree.resolve(item)).kind, NodeKind::Map { .. })
            && tree.typed(item) != Some(Typed::Null)
    }) {
        let what = json_type(tree, bad);
        out.problems.push(fail(
            bad,
            format!("/items/{i}"),
            format!(
                "item {i} of {kind} is {}, not an object: kubectl fails on the whole list (`json: cannot unmarshal {what} into Go value of type map[string]interface {{}}`), so none of its items is applied",
                json_article(what)
            ),
        ));
        return;
    }
    let item_kind = kind.strip_suffix("List").unwrap_or(kind);
    for (i, &item) in items.iter().enumerate() {
        let field = |key: &str| scalar_field(tree, item, key);
        let (av, k) = match (field("apiVersion"), field("kind")) {
            (None, None) => (api_version, item_kind),
            (av, k) => (av.unwrap_or_default(), k.unwrap_or_default()),
        };
        if !k.is_empty() && !av.is_empty() {
            object(file, doc, item, format!("/items/{i}"), av, k, opts, out);
            continue;
        }
        let n = tree.node(item);
        let missing = if k.is_empty() {
            "`kind`; kubectl cannot read it (`Object 'Kind' is missing`)"
        } else {
            "`apiVersion`, so the API server cannot tell which API it belongs to"
        };
        out.problems.push(Problem {
            kind: ProblemKind::Invalid,
            span: Span::new(file, n.start, n.start),
            origin: origin(doc, tree, item),
            message: format!("item {i} of {kind} has no {missing}"),
            object: None,
            pointer: format!("/items/{i}"),
            help: None,
        });
    }
}

/// What kubectl says about a document that is not an object (no `kind`, or not a mapping, or
/// a kind that is none of Kubernetes' without an `apiVersion`).
#[must_use]
pub fn not_an_object(doc: &Document) -> String {
    let tree = &doc.tree;
    if matches!(tree.node(tree.resolve(doc.root)).kind, NodeKind::Map { .. }) {
        match scalar_field(tree, doc.root, "kind") {
            Some(kind) => format!("`no matches for kind \"{kind}\" in version \"\"`"),
            None => "`Object 'Kind' is missing`".into(),
        }
    } else {
        format!(
            "`json: cannot unmarshal {} into Go value of type unstructured.detector`",
            json_type(tree, doc.root)
        )
    }
}

/// A non-empty scalar field of a mapping, as kubectl reads `apiVersion` and `kind`: `null` (or
/// `~`) counts as no value, as Go's JSON decoder leaves the string empty. Another value that is
/// no string (`1`, YAML 1.1's `yes`) fails kubectl; it is kept as written, so that no API
/// serves it.
fn scalar_field<'t>(tree: &'t Tree, node: NodeId, key: &str) -> Option<&'t str> {
    let (_, v) = tree.get(node, key)?;
    if tree.typed(v)? == Typed::Null {
        return None;
    }
    tree.scalar(v).filter(|s| !s.is_empty())
}

/// The JSON type of a node, as Go's decoder names it in its errors.
fn json_type(tree: &Tree, node: NodeId) -> &'static str {
    match &tree.node(tree.resolve(node)).kind {
        NodeKind::Map { .. } => "object",
        NodeKind::Seq { .. } => "array",
        NodeKind::Scalar { .. } => match tree.typed(node) {
            Some(Typed::Bool(_)) => "bool",
            Some(Typed::Int(_) | Typed::UInt(_) | Typed::Float(_)) => "number",
            _ => "string",
        },
        NodeKind::Alias(_) => "value",
    }
}

/// `an object`, `a string`: a JSON type with its article.
fn json_article(what: &str) -> String {
    match what {
        "object" | "array" => format!("an {what}"),
        _ => format!("a {what}"),
    }
}

/// A document with a `kind` and no `apiVersion` that kubectl applies or fails as an object: it
/// looks the kind up in the core group (a core kind is sent as it is, and the API server takes
/// it as `v1`), so a core kind is a `v1` object, and another built-in kind an object no API
/// serves (`no matches for kind "Deployment" in version ""`). Any other such document (a CI
/// file's `kind: pipeline`) is not taken for a manifest.
fn without_api_version(tree: &Tree, node: NodeId) -> Option<(&'static str, &str)> {
    let kind = scalar_field(tree, node, "kind")?;
    if scalar_field(tree, node, "apiVersion").is_some() {
        return None;
    }
    let apis = crate::k8s::kubernetes::BUILT_IN;
    if apis
        .iter()
        .any(|(g, v, kinds)| g.is_empty() && *v == "v1" && kinds.contains(&kind))
    {
        return Some(("v1", kind));
    }
    if apis.iter().any(|(_, _, kinds)| kinds.contains(&kind)) {
        return Some(("", kind));
    }
    None
}

fn type_meta(tree: &Tree, node: NodeId) -> Option<(&str, &str)> {
    Some((
        scalar_field(tree, node, "apiVersion")?,
        scalar_field(tree, node, "kind")?,
    ))
}
