//! Classify stage: a YAML document -> Kubernetes objects with the views rules read.
//!
//! A document with `apiVersion` and `kind` is an object; the items of `List` and `*List` kinds
//! are objects. Only what the rules read is decoded: whole Services and `NetworkPolicies`, Cilium
//! policies' selectors and pod templates' metadata. Each object keeps the spans of those
//! subtrees (`SpanMap`), so its document's tree can be dropped afterwards.

pub mod claims;
mod classify;
mod decoder;
mod document;
pub mod gateway;
pub mod load;
mod policies;
pub mod pools;
mod span_map;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;

pub use document::{classify, not_an_object};
pub use span_map::SpanMap;

use crate::finding::ObjectRef;
use crate::k8s::policy::Policy;
use crate::source::{FileId, Origin, Span};

#[derive(Debug, Clone)]
pub enum View {
    Service(Box<Service>),
    /// A policy of any kind (see `policy::Policy`).
    Policy(Policy),
    /// An object with a pod template.
    Workload(Box<workload::Workload>),
    /// A `Namespace`, with its labels (namespace selectors read them).
    Namespace(BTreeMap<String, String>),
    /// A Gateway API `Gateway`: the addresses it requests.
    Gateway(Box<gateway::Gateway>),
    /// A load-balancer implementation's address pool.
    AddressPool(Box<pools::AddressPool>),
    /// A Calico `Tier`: whether it passes what its policies do not decide.
    CalicoTier {
        pass: bool,
    },
    /// A `CustomResourceDefinition`: the kind it defines and the versions it serves.
    Crd(Box<Crd>),
    Other,
}

/// What a `CustomResourceDefinition` makes the API server serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crd {
    pub group: String,
    pub kind: String,
    /// The versions with `served: true`.
    pub served: Vec<String>,
}

/// A Kubernetes object found in the input.
#[derive(Debug, Clone)]
pub struct Object {
    pub id: Arc<ObjectRef>,
    pub file: FileId,
    /// Pointer of the object in its document: empty, or `/items/N` for List items.
    pub pointer: String,
    pub span: Span,
    /// `metadata.labels`, kept for Services only.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The object sets no `metadata.namespace`: it is in the default namespace (`default`, or
    /// `namespace:` / `-n`), as `kubectl apply` without `-n` would place it.
    pub namespace_defaulted: bool,
    /// Boxed: most objects have none, and every object is kept for the whole run.
    pub origin: Option<Box<Origin>>,
    pub view: View,
    pub spans: SpanMap,
}

impl Object {
    /// Span of the value at `path` below the object (`/spec/externalIPs/0`).
    #[must_use]
    pub fn value_span(&self, path: &str) -> Span {
        self.spans.value(&format!("{}{path}", self.pointer))
    }

    /// Span of the key at `path` below the object.
    #[must_use]
    pub fn key_span(&self, path: &str) -> Span {
        self.spans.key(&format!("{}{path}", self.pointer))
    }

    /// Whether the node at `path` below the object exists (and its span is known).
    #[must_use]
    pub fn has(&self, path: &str) -> bool {
        self.spans.has(&format!("{}{path}", self.pointer))
    }

    /// Full pointer from the document root.
    #[must_use]
    pub fn pointer_to(&self, path: &str) -> String {
        format!("{}{path}", self.pointer)
    }
}

/// What is wrong with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The API server (or kubectl) rejects it: `EXT900`.
    Invalid,
    /// A mapping key is repeated; kubectl keeps the last value, other tools reject it: `EXT902`.
    DuplicateKey,
    /// Unrendered template syntax where a name, label or address belongs: the document is a
    /// template, skipped with a notice.
    Template,
    /// A chart or kustomization root that `helm template` or `kustomize build` failed on (or
    /// that could not be rendered offline, with `--strict-render`): `EXT903`.
    RenderFailed,
    /// A key repeated in a Helm values file; helm keeps the last value: `EXT904`.
    ValuesDuplicateKey,
}

/// A problem with a document.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    pub span: Span,
    pub origin: Option<Origin>,
    pub message: String,
    pub object: Option<Arc<ObjectRef>>,
    pub pointer: String,
    /// How to fix it, when the cause says more than the rule's general help.
    pub help: Option<String>,
}

/// What classification needs to know.
#[derive(Debug, Clone)]
pub struct ClassifyOptions {
    pub default_namespace: String,
    pub alias_budget: usize,
    /// The cluster's Kubernetes version and gates (which API versions it serves).
    pub kubernetes: crate::k8s::kubernetes::Target,
}

/// An `extip-lint.io/ignore` annotation, recorded for every object whether or not it is valid,
/// so a finding about a rejected object can still be suppressed on the object.
#[derive(Debug, Clone)]
pub struct IgnoreAnnotation {
    pub object: Arc<ObjectRef>,
    /// The annotation's value: codes or names.
    pub codes: String,
    /// `extip-lint.io/ignore-reason`.
    pub reason: Option<String>,
    /// The value's span.
    pub span: Span,
}

pub const IGNORE_ANNOTATION: &str = "extip-lint.io/ignore";
pub const REASON_ANNOTATION: &str = "extip-lint.io/ignore-reason";

/// The result of classifying one document.
#[derive(Debug, Default)]
pub struct Classified {
    pub objects: Vec<Object>,
    pub problems: Vec<Problem>,
    pub ignores: Vec<IgnoreAnnotation>,
    /// Documents that are not Kubernetes objects (values files, CI workflows, ...).
    pub ignored: usize,
}
