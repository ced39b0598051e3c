//! The transaction check: a file's text with some fixes' edits applied is read again, as kubectl
//! reads it, and the fixes are kept only if every document reads back exactly as intended.
//!
//! What is intended comes from the changes, not from the edits: each change names a node by its
//! span, which is placed in the original reading (document, and path through the nodes as
//! written, never through an alias or a merge key), and applied to that document's value (the
//! JSON kubectl would send). The edited text must read back to exactly those values: the same
//! documents, every other document and field as it was. So an edit that also changes what an
//! alias or a merge key copies, revives a value a repeated key shadowed, breaks the syntax, or
//! turns a JSON stream into YAML, is caught by what it does, whatever the reason.

use serde_json::Value;

use crate::finding::{Change, Edit};
use crate::source::Span;
use crate::yaml::pointer::{Segment, to_pointer};
use crate::yaml::{self, BuildLimits, Document, NodeId, NodeKind, Tree};

/// How a document reads: its value, or why it cannot be read.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    Value(Value),
    Broken(String),
}

/// A file read for checking: the pieces kubectl cuts it into (one for a JSON stream), each with
/// its documents, their trees (to place changes) and values.
pub struct Original {
    json: bool,
    parts: Vec<Part>,
}

/// One piece of the file and what it reads as.
struct Part {
    start: usize,
    end: usize,
    docs: Vec<(Option<Document>, Reading)>,
}

/// Budget of nodes decoding one document may visit (aliases count each time).
const BUDGET: usize = 10_000_000;

fn reading(d: &Document) -> Reading {
    match yaml::decode::decode::<Value>(&d.tree, d.root, BUDGET) {
        Ok(v) => Reading::Value(v.value),
        Err(e) => Reading::Broken(e.message),
    }
}

/// What one YAML piece reads as. Repeated keys are no reason not to read a document: kubectl
/// keeps the last value, and the value read says so.
fn read_piece(text: &str, piece: &yaml::Piece, limits: BuildLimits) -> Part {
    let (start, end) = match piece {
        yaml::Piece::Chunk { start, end } | yaml::Piece::BadSeparator { start, end, .. } => {
            (*start, *end)
        }
    };
    let mut docs = Vec::new();
    let p = yaml::parse_piece(text, piece, limits, |d| {
        let r = reading(&d);
        docs.push((Some(d), r));
    });
    if let Some(b) = p.broken {
        docs.push((None, Reading::Broken(b.error.message)));
    }
    Part { start, end, docs }
}

/// Reads a whole text: its parts, and whether it is a JSON stream.
fn read(text: &str, limits: BuildLimits) -> (bool, Vec<Part>) {
    match yaml::cut(text, limits) {
        yaml::Cut::Json(stream) => {
            let mut docs = Vec::new();
            for tree in stream.docs {
                if let Some(d) = yaml::json_document(tree) {
                    let r = reading(&d);
                    docs.push((Some(d), r));
                }
            }
            docs.extend(stream.error.map(|e| (None, Reading::Broken(e.message))));
            (
                true,
                vec![Part {
                    start: 0,
                    end: text.len(),
                    docs,
                }],
            )
        }
        yaml::Cut::Yaml(pieces) | yaml::Cut::YamlAfterJson { pieces, .. } => (
            false,
            pieces.iter().map(|p| read_piece(text, p, limits)).collect(),
        ),
    }
}

impl Original {
    #[must_use]
    pub fn read(text: &str, limits: BuildLimits) -> Self {
        let (json, parts) = read(text, limits);
        Original { json, parts }
    }

    fn docs(&self) -> impl Iterator<Item = &(Option<Document>, Reading)> {
        self.parts.iter().flat_map(|p| &p.docs)
    }

    /// How `edited` (this text with `edits` made) reads. Pieces no edit touches read as before
    /// and are not parsed again: only the documents of the pieces edits touch are compared.
    fn reread(&self, edited: &str, edits: &[Edit], limits: BuildLimits) -> Reread {
        let full = || {
            Reread::Full(
                read(edited, limits)
                    .1
                    .into_iter()
                    .flat_map(|p| p.docs.into_iter().map(|(_, r)| r))
                    .collect(),
            )
        };
        let pieces = match yaml::cut(edited, limits) {
            yaml::Cut::Yaml(pieces) if !self.json => pieces,
            _ => return full(),
        };
        // Where an original position lands in the edited text.
        let shift = |at: usize| -> usize {
            let mut out = at;
            for e in edits {
                if e.span.end <= at && !(e.span.start == at && e.span.end == at) {
                    out = out + e.text.len() - (e.span.end - e.span.start);
                }
            }
            out
        };
        let touched = |p: &Part| {
            edits
                .iter()
                .any(|e| e.span.start <= p.end && e.span.end >= p.start)
        };
        let mut untouched = std::collections::HashMap::new();
        let mut old_docs = Vec::new();
        let mut first = 0;
        for p in &self.parts {
            if touched(p) {
                old_docs.extend(first..first + p.docs.len());
            } else {
                untouched.insert((shift(p.start), shift(p.end)), p.docs.len());
            }
            first += p.docs.len();
        }
        let mut reused = 0;
        let mut now = Vec::new();
        for piece in &pieces {
            let (yaml::Piece::Chunk { start, end } | yaml::Piece::BadSeparator { start, end, .. }) =
                piece;
            if untouched.contains_key(&(*start, *end)) {
                reused += 1;
            } else {
                now.extend(
                    read_piece(edited, piece, limits)
                        .docs
                        .into_iter()
                        .map(|(_, r)| r),
                );
            }
        }
        if reused != untouched.len() {
            return full();
        }
        Reread::Partial { old_docs, now }
    }

    /// Whether `edited` (this text with `edits` made for `changes`) reads back exactly as the
    /// changes mean: the reason when it does not.
    pub fn verify(
        &self,
        edited: &str,
        edits: &[Edit],
        changes: &[&Change],
        limits: BuildLimits,
    ) -> Result<(), String> {
        let (now, want): (Vec<Reading>, Vec<(usize, Value)>) =
            match self.reread(edited, edits, limits) {
                Reread::Partial { old_docs, now } => {
                    let want = self.intended(changes, limits, Some(&old_docs))?;
                    match want {
                        Some(want) => (now, want),
                        None => (
                            full_now(edited, limits),
                            self.all_intended(changes, limits)?,
                        ),
                    }
                }
                Reread::Full(now) => (now, self.all_intended(changes, limits)?),
            };
        let before: Vec<&Reading> = self.docs().map(|(_, r)| r).collect();
        for r in &now {
            if let Reading::Broken(why) = r
                && !before.contains(&r)
            {
                return Err(format!("the edited file would not read: {why}"));
            }
        }
        if now.len() != want.len() {
            return Err(format!(
                "where it is edited, the file would hold {} documents where {} are meant",
                now.len(),
                want.len()
            ));
        }
        for (got, (i, want)) in now.iter().zip(&want) {
            let got = match got {
                Reading::Value(v) => v,
                Reading::Broken(_) if matches!(before.get(*i), Some(Reading::Broken(_))) => {
                    continue;
                }
                Reading::Broken(why) => {
                    return Err(format!("the edited file would not read: {why}"));
                }
            };
            if let Some(path) = difference(got, want) {
                let object =
                    name(object_of(want, &path)).map_or_else(String::new, |n| format!(" (`{n}`)"));
                return Err(format!(
                    "document {}{object} would not read back as meant at `{}`: the node is shared through an anchor, alias or merge key, or shadowed by a repeated key",
                    i + 1,
                    if path.is_empty() { "/" } else { &path }
                ));
            }
        }
        Ok(())
    }

    fn all_intended(
        &self,
        changes: &[&Change],
        limits: BuildLimits,
    ) -> Result<Vec<(usize, Value)>, String> {
        let all: Vec<usize> = (0..self.docs().count()).collect();
        self.intended(changes, limits, Some(&all))?
            .ok_or_else(|| "BUG: every document is selected".to_string())
    }

    /// The document holding `span` and the path to the node that starts and ends there, through
    /// the nodes as written; `key` when the span is a mapping key's.
    fn place(&self, span: Span) -> Result<(usize, Vec<Segment>, bool), String> {
        for (i, (doc, _)) in self.docs().enumerate() {
            let Some(doc) = doc else { continue };
            if span.start < doc.start || span.end > doc.end {
                continue;
            }
            let mut path = Vec::new();
            return match find(&doc.tree, doc.root, span, &mut path) {
                Some(key) => Ok((i, path, key)),
                None => Err(
                    "the node it changes is not part of what kubectl reads (a repeated key?)"
                        .into(),
                ),
            };
        }
        Err("the node it changes is in no document kubectl reads".into())
    }

    /// The values the documents `docs` (original indices, in order) must have once `changes`
    /// are made, each with its index, then the documents the changes add; `None` when a change
    /// is about a document not among `docs`.
    fn intended(
        &self,
        changes: &[&Change],
        limits: BuildLimits,
        docs: Option<&Vec<usize>>,
    ) -> Result<Option<Vec<(usize, Value)>>, String> {
        let all: Vec<&Reading> = self.docs().map(|(_, r)| r).collect();
        let selected: Vec<usize> = docs.cloned().unwrap_or_else(|| (0..all.len()).collect());
        // A document that does not read stays as it is; fixes never touch one.
        let mut out: Vec<(usize, Value)> = selected
            .iter()
            .map(|&i| match all[i] {
                Reading::Value(v) => (i, v.clone()),
                Reading::Broken(_) => (i, Value::Null),
            })
            .collect();
        let mut appended = Vec::new();
        let slot =
            |out: &mut Vec<(usize, Value)>, doc: usize| out.iter().position(|(i, _)| *i == doc);
        for change in changes {
            match change {
                Change::Value { span, value } => {
                    let (doc, path, _) = self.place(*span)?;
                    let Some(k) = slot(&mut out, doc) else {
                        return Ok(None);
                    };
                    *at(&mut out[k].1, &path)? = Value::String(value.clone());
                }
                Change::Within { span, old, new } => {
                    let (doc, path, _) = self.place(*span)?;
                    let Some(k) = slot(&mut out, doc) else {
                        return Ok(None);
                    };
                    let v = at(&mut out[k].1, &path)?;
                    let Value::String(s) = v else {
                        return Err("the value it changes is not a string".into());
                    };
                    *s = s.replacen(old.as_str(), new, 1);
                }
                Change::Key { span, key } => {
                    let (doc, mut path, _) = self.place(*span)?;
                    let Some(k) = slot(&mut out, doc) else {
                        return Ok(None);
                    };
                    let Some(Segment::Key(old)) = path.pop() else {
                        return Err("BUG: a key's path ends in its key".into());
                    };
                    let map = object_at(&mut out[k].1, &path)?;
                    let v = map.remove(&old).ok_or("the key it renames is not read")?;
                    map.insert(key.clone(), v);
                }
                Change::Remove { key, .. } => {
                    let (doc, mut path, _) = self.place(*key)?;
                    let Some(k) = slot(&mut out, doc) else {
                        return Ok(None);
                    };
                    let Some(Segment::Key(old)) = path.pop() else {
                        return Err("BUG: a key's path ends in its key".into());
                    };
                    object_at(&mut out[k].1, &path)?
                        .remove(&old)
                        .ok_or("the key it removes is not read")?;
                }
                Change::Add {
                    mapping,
                    key,
                    value,
                } => {
                    let (doc, path, _) = self.place(*mapping)?;
                    let Some(k) = slot(&mut out, doc) else {
                        return Ok(None);
                    };
                    let entry = snippet(&format!("{key}: {value}"), limits)?;
                    let Value::Object(entry) = entry else {
                        return Err("BUG: a snippet `key: value` is a mapping".into());
                    };
                    object_at(&mut out[k].1, &path)?.extend(entry);
                }
                Change::Document { text, .. } => appended.push(snippet(text, limits)?),
            }
        }
        let n = all.len();
        out.extend(appended.into_iter().enumerate().map(|(j, v)| (n + j, v)));
        Ok(Some(out))
    }
}

/// How a whole edited text reads.
fn full_now(edited: &str, limits: BuildLimits) -> Vec<Reading> {
    read(edited, limits)
        .1
        .into_iter()
        .flat_map(|p| p.docs.into_iter().map(|(_, r)| r))
        .collect()
}

/// How an edited file reads: the documents of the edited pieces only (with the original
/// indices of the documents they replace), or all of them.
enum Reread {
    Partial {
        old_docs: Vec<usize>,
        now: Vec<Reading>,
    },
    Full(Vec<Reading>),
}

/// The value of a YAML snippet the fix writes (a `key: value` entry or a document).
pub(super) fn snippet(text: &str, limits: BuildLimits) -> Result<Value, String> {
    let (docs, broken) = yaml::parse(text, limits);
    if let Some(b) = broken.first() {
        return Err(format!(
            "BUG: the text the fix writes does not read: {}",
            b.error.message
        ));
    }
    let doc = docs
        .first()
        .ok_or("BUG: the text the fix writes is empty")?;
    yaml::decode::decode::<Value>(&doc.tree, doc.root, BUDGET)
        .map(|d| d.value)
        .map_err(|e| e.message)
}

/// The node `span` names below `node`, through the nodes written inside `node`: pushes its path
/// and says whether it is a key. Merged entries (written elsewhere) and aliases are not entered.
fn find(tree: &Tree, node: NodeId, span: Span, path: &mut Vec<Segment>) -> Option<bool> {
    let n = tree.node(node);
    if n.start == span.start && n.end == span.end {
        return Some(false);
    }
    // A child written inside this node that holds the span; an alias only as the span itself
    // (replacing an alias use changes that use alone).
    let inside = |id: NodeId| {
        let c = tree.node(id);
        let holds =
            c.start >= n.start && c.end <= n.end && c.start <= span.start && span.end <= c.end;
        holds
            && (!matches!(c.kind, NodeKind::Alias(_))
                || (c.start == span.start && c.end == span.end))
    };
    match n.kind {
        NodeKind::Map { .. } => {
            for (k, v) in tree.pairs(node) {
                let key = tree.node(k);
                let written_here = key.start >= n.start && key.end <= n.end;
                if !written_here {
                    continue;
                }
                let seg = Segment::Key(tree.key_string(k).unwrap_or_default());
                if key.start == span.start && key.end == span.end {
                    path.push(seg);
                    return Some(true);
                }
                if inside(v) {
                    path.push(seg);
                    return find(tree, v, span, path);
                }
            }
            None
        }
        NodeKind::Seq { .. } => {
            for (i, &item) in tree.items(node).iter().enumerate() {
                if inside(item) {
                    path.push(Segment::Index(i));
                    return find(tree, item, span, path);
                }
            }
            None
        }
        _ => None,
    }
}

fn at<'a>(value: &'a mut Value, path: &[Segment]) -> Result<&'a mut Value, String> {
    let mut v = value;
    for seg in path {
        v = match (seg, v) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        }
        .ok_or_else(|| format!("`{}` is not read as written", to_pointer(path)))?;
    }
    Ok(v)
}

fn object_at<'a>(
    value: &'a mut Value,
    path: &[Segment],
) -> Result<&'a mut serde_json::Map<String, Value>, String> {
    match at(value, path)? {
        Value::Object(m) => Ok(m),
        // An empty value (`annotations:`) is read as null; the fix makes it a mapping.
        v @ Value::Null => {
            *v = Value::Object(serde_json::Map::new());
            match v {
                Value::Object(m) => Ok(m),
                _ => Err("BUG: just made a mapping".into()),
            }
        }
        _ => Err(format!("`{}` is not a mapping", to_pointer(path))),
    }
}

/// The first path (a JSON pointer) where two values differ.
fn difference(got: &Value, want: &Value) -> Option<String> {
    match (got, want) {
        (Value::Object(got), Value::Object(want)) => {
            for (key, value) in got {
                match want.get(key) {
                    Some(other) => {
                        if let Some(rest) = difference(value, other) {
                            return Some(format!("/{}{rest}", yaml::pointer::escape(key)));
                        }
                    }
                    None => return Some(format!("/{}", yaml::pointer::escape(key))),
                }
            }
            want.keys()
                .find(|key| !got.contains_key(*key))
                .map(|key| format!("/{}", yaml::pointer::escape(key)))
        }
        (Value::Array(got), Value::Array(want)) if got.len() == want.len() => got
            .iter()
            .zip(want)
            .enumerate()
            .find_map(|(i, (value, other))| {
                difference(value, other).map(|rest| format!("/{i}{rest}"))
            }),
        _ if got == want => None,
        _ => Some(String::new()),
    }
}

/// The object a path leads into: a `List`'s item, or the document itself.
fn object_of<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let mut parts = path.split('/').skip(1);
    if let (Some("items"), Some(i)) = (parts.next(), parts.next())
        && let Some(item) = i
            .parse::<usize>()
            .ok()
            .and_then(|i| doc.get("items")?.get(i))
    {
        return item;
    }
    doc
}

/// `Kind namespace/name` of an object's value, when it has them.
fn name(v: &Value) -> Option<String> {
    let kind = v.get("kind")?.as_str()?;
    let meta = v.get("metadata")?;
    let n = meta.get("name")?.as_str()?;
    Some(match meta.get("namespace").and_then(Value::as_str) {
        Some(ns) => format!("{kind} {ns}/{n}"),
        None => format!("{kind} {n}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    const LIMITS: BuildLimits = BuildLimits { max_depth: 64 };

    fn span(text: &str, needle: &str, nth: usize) -> Span {
        let at = text.match_indices(needle).nth(nth).expect("in the text").0;
        Span::new(FileId(0), at, at + needle.len())
    }

    const MERGED: &str = "kind: List\nitems:\n- kind: ConfigMap\n  data: &base\n    ips: [a]\n- kind: Service\n  spec:\n    <<: *base\n    port: 80\n    ips: [b]\n";

    #[test]
    fn nodes_are_placed_where_they_are_written() {
        let o = Original::read(MERGED, LIMITS);
        let (doc, path, key) = o.place(span(MERGED, "ips", 1)).expect("placed");
        assert_eq!(
            (doc, to_pointer(&path), key),
            (0, "/items/1/spec/ips".into(), true)
        );
        let (_, path, key) = o.place(span(MERGED, "[a]", 0)).expect("placed");
        assert_eq!(
            (to_pointer(&path), key),
            ("/items/0/data/ips".into(), false)
        );
        let spec = &MERGED[MERGED.find("<<").expect("merge")..MERGED.len() - 1];
        let (_, path, _) = o.place(span(MERGED, spec, 0)).expect("placed");
        assert_eq!(to_pointer(&path), "/items/1/spec");
    }

    #[test]
    fn removing_a_key_that_overrides_a_merged_one_is_caught() {
        let o = Original::read(MERGED, LIMITS);
        let key = span(MERGED, "ips", 1);
        let value = span(MERGED, "[b]", 0);
        let change = Change::Remove { key, value };
        let at = MERGED.find("    ips: [b]\n").expect("the entry");
        let edit = Edit {
            span: Span::new(FileId(0), at, at + "    ips: [b]\n".len()),
            text: String::new(),
        };
        let edited = MERGED.replace("    ips: [b]\n", "");
        let why = o
            .verify(&edited, &[edit], &[&change], LIMITS)
            .expect_err("the merged value comes back");
        assert!(why.contains("/items/1/spec/ips"), "{why}");
    }
}
