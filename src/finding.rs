//! Findings: what a rule (or the loader, through EXT900) reports, with byte spans only, and the
//! data that describes a rule. Lines and columns are computed by the renderers: a message that
//! refers to a place in the input carries its span (`Message`), never a `file:line`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::source::{FileId, Origin, Span};

/// Severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" => Some(Severity::Note),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The kind, with the project when several APIs share the kind's name: `NetworkPolicy`,
    /// `Calico NetworkPolicy`, `Antrea ClusterNetworkPolicy`.
    #[must_use]
    pub fn kind_label(&self) -> String {
        let group = self.api_version.split_once('/').map_or("", |(g, _)| g);
        let project = match group {
            "projectcalico.org" | "crd.projectcalico.org" => "Calico ",
            "crd.antrea.io" => "Antrea ",
            _ => "",
        };
        format!("{project}{}", self.kind)
    }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    #[must_use]
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.qualified_name())
    }
}

/// What users, docs and SARIF know about a rule. Rules declare one each; the registry
/// (`rules::ALL`) lists them.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    /// The extip-lint release that introduced the rule.
    pub since: &'static str,
    pub summary: &'static str,
    pub default_severity: Severity,
    /// The rule's Markdown documentation (`rules/<CODE>-<name>.md`).
    pub docs: &'static str,
    /// GitHub code scanning's `security-severity` (0.0 to 10.0).
    pub security_severity: &'static str,
    pub tags: &'static [&'static str],
}

impl RuleMeta {
    /// The doc file name under `rules/`.
    #[must_use]
    pub fn doc_file(&self) -> String {
        format!("{}-{}.md", self.code, self.name)
    }

    /// Whether `code_or_name` names this rule (`EXT002` in any case, or `external-ip-not-allowed`).
    #[must_use]
    pub fn is(&self, code_or_name: &str) -> bool {
        self.code.eq_ignore_ascii_case(code_or_name) || self.name == code_or_name
    }
}

/// Text for people that may refer to places in the input. A place is kept as a span and turned
/// into `path:line:col` only by a renderer, so no stage before rendering computes a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    text: String,
    /// Where each place goes: a byte offset into `text`, in increasing order.
    places: Vec<(usize, Span)>,
}

impl Message {
    /// Appends text.
    pub fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends a place, shown as `path:line:col` when rendered.
    pub fn push_place(&mut self, span: Span) {
        self.places.push((self.text.len(), span));
    }

    /// Appends another message, places included.
    pub fn append(&mut self, other: &Message) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.places
            .extend(other.places.iter().map(|&(at, span)| (base + at, span)));
    }

    /// The text without its places: stable when lines move (fingerprints, sorting).
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text with each place written by `place`.
    #[must_use]
    pub fn render(&self, mut place: impl FnMut(Span) -> String) -> Cow<'_, str> {
        if self.places.is_empty() {
            return Cow::Borrowed(&self.text);
        }
        let mut out = String::with_capacity(self.text.len() + 32 * self.places.len());
        let mut from = 0;
        for &(at, span) in &self.places {
            out.push_str(&self.text[from..at]);
            out.push_str(&place(span));
            from = at;
        }
        out.push_str(&self.text[from..]);
        Cow::Owned(out)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message {
            text,
            places: Vec::new(),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::from(text.to_string())
    }
}

/// A span with a short text shown under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

impl Label {
    pub fn new(span: Span, text: impl Into<String>) -> Self {
        Label {
            span,
            text: text.into(),
        }
    }
}

/// How a finding was suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// `comment`, `file comment` or `annotation`.
    pub kind: SuppressionKind,
    pub reason: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    /// `# extip-lint: ignore ...` on or above the line, or `ignore-file`.
    Comment,
    /// The `extip-lint.io/ignore` annotation of the object.
    Annotation,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub object: Option<Arc<ObjectRef>>,
    /// JSON pointer of the node the finding is about, from the document root.
    pub pointer: String,
    pub primary: Label,
    pub related: Vec<Label>,
    pub message: Message,
    pub help: String,
    pub notes: Vec<String>,
    pub suppressed: Option<Suppression>,
    /// The Helm template or Kustomize source the object was rendered from.
    pub origin: Option<Origin>,
    /// The cluster the finding is about (see `cluster`).
    pub cluster: Option<Arc<str>>,
    /// Ways to fix it (`--diff`, `--fix`).
    pub fixes: Vec<Fix>,
}

/// Whether a fix keeps what the cluster does (`--fix`) or changes it (`--unsafe-fixes` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    Safe,
    Unsafe,
}

/// One way to fix a finding: changes to the YAML, planned by the rule on the nodes it knows,
/// and made into text edits (`edits`) by the fix stage, which sees the text.
#[derive(Debug, Clone)]
pub struct Fix {
    /// What it does, for people: `Use a LoadBalancer Service with metallb.io/loadBalancerIPs`.
    pub title: String,
    pub safety: Safety,
    pub changes: Vec<Change>,
    /// The text edits, filled in by the fix stage; empty when the changes cannot be made as
    /// text edits (then `refused` says why).
    pub edits: Vec<Edit>,
    pub refused: Option<String>,
}

/// A change to a YAML file, by the spans of the nodes it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Replace a scalar (its span) with `value`, quoted as it was.
    Value { span: Span, value: String },
    /// Replace `old` inside a scalar (a list entry in an annotation) with `new`.
    Within {
        span: Span,
        old: String,
        new: String,
    },
    /// Rename a key (its span).
    Key { span: Span, key: String },
    /// Remove a mapping entry: its key and value spans.
    Remove { key: Span, value: Span },
    /// Add `key: value` to the mapping at `mapping` (its value span); `value` is one line of
    /// YAML (a scalar or a flow collection).
    Add {
        mapping: Span,
        key: String,
        value: String,
    },
    /// Add a document at the end of the file (lines of YAML, without `---`).
    Document { file: FileId, text: String },
}

/// A text edit of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

impl Finding {
    /// A finding of `rule` at `primary`, at the rule's default severity, about no object yet;
    /// the caller fills in the rest. Label, message and help are distinct types, so they cannot
    /// be passed in each other's place.
    #[must_use]
    pub fn new(rule: &'static RuleMeta, primary: Label, message: Message, help: String) -> Self {
        Finding {
            rule,
            severity: rule.default_severity,
            object: None,
            pointer: String::new(),
            primary,
            related: Vec::new(),
            message,
            help,
            notes: Vec::new(),
            suppressed: None,
            origin: None,
            cluster: None,
            fixes: Vec::new(),
        }
    }

    /// Sort key: file, position, rule, message.
    #[must_use]
    pub fn sort_key(&self) -> (Span, &'static str, &str) {
        (self.primary.span, self.rule.code, self.message.text())
    }
}

/// The cluster of the files no configured cluster holds.
pub const DEFAULT_CLUSTER: &str = "default";

/// FNV-1a 64 of the parts, each followed by a NUL, in hex: stable across releases and
/// platforms (fingerprints must not change, or every user's alerts and baselines reopen).
#[must_use]
pub fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// What a finding is about, independent of where it is written: `Service/shop/web`, the file
/// for a finding about no object, prefixed by the cluster unless it is the default one.
#[must_use]
pub fn identity(cluster: Option<&str>, object: Option<&ObjectRef>, file_name: &str) -> String {
    let mut identity = object.map_or_else(
        || format!("file:{file_name}"),
        |o| {
            format!(
                "{}/{}/{}",
                o.kind,
                o.namespace.as_deref().unwrap_or(""),
                o.name
            )
        },
    );
    // The same object in two clusters is two things; the default cluster adds nothing, so
    // fingerprints of runs without clusters stay as they were.
    if let Some(c) = cluster.filter(|c| *c != DEFAULT_CLUSTER) {
        identity = format!("{c}:{identity}");
    }
    identity
}

impl Finding {
    /// The finding's fingerprint: rule, identity, and the field (or, without an object, the
    /// message without places). It survives lines moving; SARIF `partialFingerprints`,
    /// `--diff-base` and baselines all use it.
    #[must_use]
    pub fn fingerprint(&self, file_name: &str) -> String {
        let identity = identity(self.cluster.as_deref(), self.object.as_deref(), file_name);
        let what = if self.object.is_some() {
            self.pointer.as_str()
        } else {
            self.message.text()
        };
        fnv1a(&[self.rule.code, &identity, what])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn places_are_written_where_they_were_pushed() {
        let mut inner = Message::from("auto: annotation at ");
        inner.push_place(Span::new(FileId(1), 5, 9));
        let mut m = Message::from("profile is cloud (");
        m.append(&inner);
        m.push_str(")");
        assert_eq!(m.text(), "profile is cloud (auto: annotation at )");
        let shown = m.render(|s| format!("f{}:{}", s.file.0, s.start));
        assert_eq!(shown, "profile is cloud (auto: annotation at f1:5)");
    }
}
