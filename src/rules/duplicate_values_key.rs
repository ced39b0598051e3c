//! EXT904 duplicate-values-key: a key written twice in a Helm values file. Helm reads values
//! files with sigs.k8s.io/yaml, which keeps the last value without a word: the first entry,
//! and everything under it, is ignored rather than merged. The loader reads values files for
//! this alone (they are never manifests); the runner reports each repeat.

use super::{Check, Rule};
use crate::finding::{RuleMeta, Severity};
use crate::object::{Problem, ProblemKind};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT904",
        name: "duplicate-values-key",
        since: "0.1.0",
        summary: "key written twice in a Helm values file: helm keeps the last value and ignores the first entry",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT904-duplicate-values-key.md"),
        security_severity: "3.0",
        tags: &["correctness", "helm"],
    },
    check: Check::Problems {
        kind: ProblemKind::ValuesDuplicateKey,
        label: "written again here",
        // The problem's message is the key.
        message: |p: &Problem| {
            format!(
                "duplicate key `{0}` in a Helm values file: helm keeps the last value, so the first `{0}:` entry is ignored, not merged with this one",
                p.message
            )
        },
        help: |_| {
            "Merge the two entries into one; helm renders the chart with this last one only.".into()
        },
        names_object: false,
    },
};
