//! EXT902 duplicate-key: a mapping key written twice. `kubectl apply -f` keeps the last value
//! without a word; kustomize, Flux and Argo CD (go-yaml v3, kyaml) reject the document. The
//! loader reads the document as kubectl does and records each repeat; the runner reports them.

use super::{Check, Rule};
use crate::finding::{RuleMeta, Severity};
use crate::object::{Problem, ProblemKind};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT902",
        name: "duplicate-key",
        since: "0.1.0",
        summary: "mapping key written twice: kubectl keeps the last value, kustomize, Flux and Argo CD reject the document",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT902-duplicate-key.md"),
        security_severity: "4.0",
        tags: &["correctness", "kubernetes"],
    },
    check: Check::Problems {
        kind: ProblemKind::DuplicateKey,
        label: "written again here",
        // For a duplicate key, the problem's message is the key.
        message: |p: &Problem| {
            format!(
                "duplicate mapping key `{}`: `kubectl apply -f` keeps the last value, while kustomize, Flux and Argo CD reject the document",
                p.message
            )
        },
        help: |_| {
            "Remove one of the two entries; the document is checked with the last value, as kubectl reads it.".into()
        },
        names_object: false,
    },
};
