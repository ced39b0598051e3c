//! EXT903 render-failed: a chart or kustomization root that `helm template` or `kustomize build`
//! failed on, so what it renders was not checked. The render stage records the failure (helm's
//! or kustomize's first error line, paths relative to the repository) and lints the root's own
//! plain manifests as written instead; the runner reports it at the root's `Chart.yaml` or
//! kustomization file.

use super::{Check, Rule};
use crate::finding::{RuleMeta, Severity};
use crate::object::{Problem, ProblemKind};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT903",
        name: "render-failed",
        since: "0.1.0",
        summary: "a chart or kustomization that --render could not render offline: what it renders was not checked",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT903-render-failed.md"),
        security_severity: "2.0",
        tags: &["correctness"],
    },
    check: Check::Problems {
        kind: ProblemKind::RenderFailed,
        label: "not rendered",
        message: |p: &Problem| p.message.clone(),
        help: |p: &Problem| {
            p.help
                .clone()
                .unwrap_or_else(|| "Render the root yourself to see the whole error.".into())
        },
        names_object: false,
    },
};
