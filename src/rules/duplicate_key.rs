//! EXT902 duplicate-key: a mapping key written twice. `kubectl apply -f` keeps the last value
//! without a word; kustomize, Flux and Argo CD (go-yaml v3, kyaml) reject the document. The
//! loader reads the document as kubectl does and records each repeat; this rule reports them.

use super::{Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::ProblemKind;

pub static META: RuleMeta = RuleMeta {
    code: "EXT902",
    name: "duplicate-key",
    summary: "mapping key written twice: kubectl keeps the last value, kustomize, Flux and Argo CD reject the document",
    default_severity: Severity::Error,
    docs: include_str!("../../rules/EXT902-duplicate-key.md"),
    security_severity: "4.0",
    tags: &["correctness", "kubernetes"],
};

pub struct DuplicateKey;

impl Rule for DuplicateKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for p in cx
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::DuplicateKey)
        {
            // For a duplicate key, the problem's message is the key.
            let mut f = Finding::new(
                &META,
                Label::new(p.span, "written again here"),
                format!(
                    "duplicate mapping key `{}`: `kubectl apply -f` keeps the last value, while kustomize, Flux and Argo CD reject the document",
                    p.message
                )
                .into(),
                "Remove one of the two entries; the document is checked with the last value, as kubectl reads it.".into(),
            );
            f.origin.clone_from(&p.origin);
            out.push(f);
        }
    }
}
