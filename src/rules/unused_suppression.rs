//! EXT901 unused-suppression: a suppression that suppressed nothing or names an unknown rule.
//! Its findings come from the filter stage (`suppress`), which knows what each suppression did.

use super::{Rule, RuleContext};
use crate::finding::{Finding, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "EXT901",
    name: "unused-suppression",
    summary: "suppression comment or annotation that suppressed nothing or names an unknown rule",
    default_severity: Severity::Warning,
    docs: include_str!("../../rules/EXT901-unused-suppression.md"),
    security_severity: "1.0",
    tags: &["maintainability"],
};

pub struct UnusedSuppression;

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _cx: &RuleContext<'_>, _out: &mut Vec<Finding>) {}
}
