//! EXT900 invalid-manifest: input that is not a valid manifest (syntax errors, decode failures,
//! binary or oversized files). The loader records the problems; this rule reports them.

use super::{Rule, RuleContext};
use crate::finding::{Finding, Label, RuleMeta, Severity};
use crate::object::ProblemKind;

pub static META: RuleMeta = RuleMeta {
    code: "EXT900",
    name: "invalid-manifest",
    summary: "input that cannot be read as a valid manifest, reported where it fails",
    default_severity: Severity::Error,
    docs: include_str!("../../rules/EXT900-invalid-manifest.md"),
    security_severity: "3.0",
    tags: &["correctness"],
};

pub struct InvalidManifest;

impl Rule for InvalidManifest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for p in cx
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Invalid)
        {
            let help = p.help.clone().unwrap_or_else(|| {
                "Fix the manifest so the API server accepts it; the rest of the input was still checked.".into()
            });
            let mut f = Finding::new(
                &META,
                Label::new(p.span, "here"),
                p.message.clone().into(),
                help,
            );
            f.object.clone_from(&p.object);
            f.pointer.clone_from(&p.pointer);
            f.origin.clone_from(&p.origin);
            out.push(f);
        }
    }
}
