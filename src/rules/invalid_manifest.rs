//! EXT900 invalid-manifest: input that is not a valid manifest (syntax errors, decode failures,
//! binary or oversized files). The loader records the problems; the runner reports them.

use super::{Check, Rule};
use crate::finding::{RuleMeta, Severity};
use crate::object::{Problem, ProblemKind};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT900",
        name: "invalid-manifest",
        since: "0.1.0",
        summary: "input that cannot be read as a valid manifest, reported where it fails",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT900-invalid-manifest.md"),
        security_severity: "3.0",
        tags: &["correctness"],
    },
    check: Check::Problems {
        kind: ProblemKind::Invalid,
        label: "here",
        message: |p: &Problem| p.message.clone(),
        help: |p: &Problem| {
            p.help.clone().unwrap_or_else(|| {
                "Fix the manifest so the API server accepts it; the rest of the input was still checked.".into()
            })
        },
        names_object: true,
    },
};
