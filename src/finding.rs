//! Findings: what a rule (or the loader, through EXT900) reports, with byte spans only.
//! Lines and columns are computed by the renderers.

use std::fmt;
use std::sync::Arc;

use crate::object::Origin;
use crate::rules::RuleMeta;
use crate::source::Span;

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
    pub message: String,
    pub help: String,
    pub notes: Vec<String>,
    pub suppressed: Option<Suppression>,
    /// The Helm template or Kustomize source the object was rendered from.
    pub origin: Option<Origin>,
}

impl Finding {
    /// Sort key: file, position, rule, message.
    #[must_use]
    pub fn sort_key(&self) -> (Span, &'static str, &str) {
        (self.primary.span, self.rule.code, &self.message)
    }
}
