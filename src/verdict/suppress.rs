//! Filter stage: findings + suppressions -> kept, suppressed (marked, not dropped) and unused
//! suppressions (EXT901).
//!
//! Suppressions are the `extip-lint.io/ignore` annotation (survives Helm and Kustomize) and
//! `# extip-lint: ignore CODES -- reason` comments (this line or, alone on a line, the next) or
//! `# extip-lint: ignore-file CODES -- reason`.

use std::sync::Arc;

use crate::finding::{Finding, Label, ObjectRef, RuleMeta, Severity, Suppression, SuppressionKind};
use crate::object::IgnoreAnnotation;
use crate::rules::{self, EXT901, Enabled};
use crate::source::{FileId, SourceFile, Span};

const COMMENT_MARK: &str = "# extip-lint:";

#[derive(Debug)]
enum Scope {
    /// Findings starting on this 1-based line of the file.
    Line(usize),
    File,
    Object(Arc<ObjectRef>),
}

#[derive(Debug)]
struct Entry {
    file: FileId,
    scope: Scope,
    /// As written, with the rule it names (if any) and whether it was used.
    codes: Vec<(String, Option<&'static RuleMeta>, bool)>,
    reason: Option<String>,
    span: Span,
    kind: SuppressionKind,
}

/// Marks suppressed findings and appends EXT901 findings (when `unused` has a severity). A
/// suppression of a rule that did not run (not in `enabled`) is not unused.
pub fn apply(
    files: &[SourceFile],
    ignores: &[IgnoreAnnotation],
    findings: &mut Vec<Finding>,
    unused: Option<Severity>,
    enabled: &Enabled,
) {
    let mut entries = Vec::new();
    // Directives that suppress nothing by their form: no rule named, an unknown directive.
    let mut malformed: Vec<(Span, String, Option<Arc<ObjectRef>>)> = Vec::new();
    for f in files {
        comments(f, &mut entries, &mut malformed);
    }
    for a in ignores {
        entries.push(Entry {
            file: a.span.file,
            scope: Scope::Object(Arc::clone(&a.object)),
            codes: parse_codes(&a.codes),
            reason: a.reason.clone(),
            span: a.span,
            kind: SuppressionKind::Annotation,
        });
    }
    // A suppression must say what it suppresses: a bare one would silence every rule there,
    // those added later included, so it is EXT901 and suppresses nothing.
    for e in entries.iter().filter(|e| e.codes.is_empty()) {
        let object = match &e.scope {
            Scope::Object(id) => Some(Arc::clone(id)),
            _ => None,
        };
        malformed.push((
            e.span,
            "suppression names no rule, so it suppresses nothing".into(),
            object,
        ));
    }
    if entries.is_empty() && malformed.is_empty() {
        return;
    }
    for finding in findings.iter_mut() {
        let span = finding.primary.span;
        let line = files
            .get(span.file.index())
            .map(|f| f.position(span.start).line);
        for e in &mut entries {
            let in_scope = e.file == span.file
                && match &e.scope {
                    Scope::Line(l) => Some(*l) == line,
                    Scope::File => true,
                    Scope::Object(id) => finding.object.as_ref().is_some_and(|o| o == id),
                };
            if !in_scope {
                continue;
            }
            for (_, code, used) in &mut e.codes {
                if code.is_some_and(|c| c.code == finding.rule.code) {
                    *used = true;
                    finding.suppressed.get_or_insert_with(|| Suppression {
                        kind: e.kind,
                        reason: e.reason.clone(),
                        span: e.span,
                    });
                }
            }
        }
    }
    let Some(severity) = unused else { return };
    for (span, message, object) in malformed {
        let mut f = Finding::new(
            EXT901,
            Label::new(span, "suppresses nothing"),
            message.into(),
            "Name the rules it suppresses: `# extip-lint: ignore EXT003 -- reason` (codes or names, see `extip-lint --list-rules`); the directives are `ignore` and `ignore-file`."
                .into(),
        );
        f.severity = severity;
        f.object = object;
        findings.push(f);
    }
    for e in &entries {
        for (raw, code, used) in &e.codes {
            let message = match code {
                None => format!("suppression names `{raw}`, which is not a rule"),
                Some(c) if !used && enabled.contains(c) => {
                    format!("suppression of `{raw}` suppressed nothing")
                }
                Some(_) => continue,
            };
            let mut f = Finding::new(
                EXT901,
                Label::new(e.span, "unused suppression"),
                message.into(),
                "Remove the suppression, or correct the rule code (see `extip-lint --list-rules`)."
                    .into(),
            );
            f.severity = severity;
            if let Scope::Object(id) = &e.scope {
                f.object = Some(Arc::clone(id));
            }
            findings.push(f);
        }
    }
}

fn parse_codes(list: &str) -> Vec<(String, Option<&'static RuleMeta>, bool)> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| (s.to_string(), rules::find(s), false))
        .collect()
}

/// Finds `# extip-lint:` comments in a file; those with an unknown directive go to `malformed`.
fn comments(
    file: &SourceFile,
    out: &mut Vec<Entry>,
    malformed: &mut Vec<(Span, String, Option<Arc<ObjectRef>>)>,
) {
    let text: &str = &file.text;
    let mut from = 0;
    while let Some(i) = text[from..].find(COMMENT_MARK) {
        let at = from + i;
        from = at + COMMENT_MARK.len();
        let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
        let before = &text[line_start..at];
        if !(before.is_empty() || before.ends_with([' ', '\t'])) {
            continue;
        }
        let line_end = text[at..].find('\n').map_or(text.len(), |p| at + p);
        let body = text[from..line_end].trim_end_matches('\r').trim();
        let (directive, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let (codes, reason) = match rest.split_once("--") {
            Some((c, r)) => (c, Some(r.trim().to_string()).filter(|r| !r.is_empty())),
            None => (rest, None),
        };
        let line = file.position(at).line;
        let span = Span::new(
            file.id,
            at,
            line_end - usize::from(text[..line_end].ends_with('\r')),
        );
        let scope = match directive {
            "ignore-file" => Scope::File,
            "ignore" if before.trim().is_empty() => Scope::Line(line + 1),
            "ignore" => Scope::Line(line),
            other => {
                malformed.push((
                    span,
                    format!("`{other}` is not an extip-lint directive, so the comment suppresses nothing"),
                    None,
                ));
                continue;
            }
        };
        out.push(Entry {
            file: file.id,
            scope,
            codes: parse_codes(codes),
            reason,
            span,
            kind: SuppressionKind::Comment,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_parsed() {
        let c = parse_codes("EXT002, service-without-network-policy nope");
        let codes: Vec<_> = c.iter().map(|c| c.1.map(|m| m.code)).collect();
        assert_eq!(codes, [Some("EXT002"), Some("EXT003"), None]);
    }

    #[test]
    fn comment_alone_covers_the_next_line_and_trailing_covers_its_own() {
        let text = "# extip-lint: ignore EXT002 -- routed by netops\na: 1 # extip-lint: ignore EXT004\nb: \"# extip-lint: ignore EXT001\"\n";
        let f = SourceFile::new(
            FileId(0),
            "t".into(),
            None,
            Arc::from(text),
            crate::source::Encoding::Utf8,
        );
        let mut out = Vec::new();
        comments(&f, &mut out, &mut Vec::new());
        assert_eq!(out.len(), 2);
        assert!(matches!(out[0].scope, Scope::Line(2)));
        assert_eq!(out[0].reason.as_deref(), Some("routed by netops"));
        assert!(matches!(out[1].scope, Scope::Line(2)));
    }
}
