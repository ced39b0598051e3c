//! EXT901 unused-suppression: a suppression that suppressed nothing or names an unknown rule.
//! Its findings come from the filter stage (`suppress`), which knows what each suppression did.

use super::{Check, Rule};
use crate::finding::{RuleMeta, Severity};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT901",
        name: "unused-suppression",
        since: "0.1.0",
        summary: "suppression comment or annotation that suppressed nothing or names an unknown rule",
        default_severity: Severity::Warning,
        docs: include_str!("../../rules/EXT901-unused-suppression.md"),
        security_severity: "1.0",
        tags: &["maintainability"],
    },
    check: Check::Suppressions,
};
