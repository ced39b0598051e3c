//! Code actions on the findings under the cursor: each planned fix (`fix::plan`: kept only if
//! the file, edited, reads back as the fix means) as a quick fix, unsafe ones labelled as such;
//! "suppress with a reason", which inserts the suppression comment above the finding's line;
//! and `source.fixAll`, every safe fix of the file checked together (`fix::apply`). The server
//! never writes a file: each action is a `WorkspaceEdit` the editor applies.

use std::collections::HashMap;
use std::path::Path;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, Uri, WorkspaceEdit,
};

use super::diagnostics;
use super::text::{self, Units};
use super::workspace::Linted;
use crate::finding::{Edit, Finding, Safety};
use crate::source::{FileId, SourceFile};

/// The kind of the action that applies every safe fix of a file.
pub const FIX_ALL: &str = "source.fixAll.extip-lint";

/// Whether an action of `kind` is wanted by a request that asks `only` for these kinds (or for
/// any, without `only`): a kind is wanted when it is one of them or below one (`source.fixAll`
/// takes `source.fixAll.extip-lint`).
fn wanted(kind: &str, only: Option<&[CodeActionKind]>) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|o| {
            let o = o.as_str();
            kind == o || kind.strip_prefix(o).is_some_and(|r| r.starts_with('.'))
        })
    })
}

/// The actions for `range` of the file `file` (whose text is the editor's).
#[must_use]
pub fn actions(
    linted: &Linted,
    file: FileId,
    uri: &Uri,
    range: Range,
    only: Option<&[CodeActionKind]>,
    units: Units,
    uri_of: &dyn Fn(&Path) -> Option<Uri>,
) -> Vec<CodeActionOrCommand> {
    let report = &linted.report;
    let source = &report.files[file];
    let starts = source.line_starts();
    let from = text::offset(&source.text, starts, range.start, units);
    let to = text::offset(&source.text, starts, range.end, units);
    let mut out = Vec::new();
    let quick = wanted(CodeActionKind::QUICKFIX.as_str(), only);
    for f in crate::render::active(report).filter(|f| {
        f.primary.span.file == file && f.primary.span.start <= to && from <= f.primary.span.end
    }) {
        if !quick {
            break;
        }
        let diagnostic = diagnostics::diagnostic(report, f, units, uri_of);
        for fix in f
            .fixes
            .iter()
            .filter(|x| x.refused.is_none() && !x.edits.is_empty())
        {
            let title = match fix.safety {
                Safety::Safe => format!("{}: {}", f.rule.code, fix.title),
                Safety::Unsafe => format!(
                    "{}: {} (unsafe: changes what the cluster does)",
                    f.rule.code, fix.title
                ),
            };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(edit(uri, source, &fix.edits, units)),
                is_preferred: Some(fix.safety == Safety::Safe),
                ..CodeAction::default()
            }));
        }
        if let Some(e) = suppression(source, f) {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("{}: suppress here, with a reason", f.rule.code),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic]),
                edit: Some(edit(uri, source, &[e], units)),
                ..CodeAction::default()
            }));
        }
    }
    if wanted(FIX_ALL, only) {
        let mine: Vec<Finding> = report
            .findings
            .iter()
            .filter(|f| f.primary.span.file == file)
            .cloned()
            .collect();
        let limits = linted.settings.limits.build();
        if let Some(fixed) = crate::verdict::fix::apply(&mine, &report.files, false, limits)
            .into_iter()
            .find(|x| x.file == file)
        {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "Apply every safe extip-lint fix of the file ({})",
                    fixed.applied
                ),
                kind: Some(CodeActionKind::from(FIX_ALL)),
                edit: Some(edit(uri, source, &fixed.edits, units)),
                ..CodeAction::default()
            }));
        }
    }
    out
}

fn edit(uri: &Uri, file: &SourceFile, edits: &[Edit], units: Units) -> WorkspaceEdit {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let edits = sorted
        .into_iter()
        .map(|e| TextEdit {
            range: text::range(file, e.span.start, e.span.end, units),
            new_text: e.text.clone(),
        })
        .collect();
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

/// The comment that suppresses `f`, alone on the line above its line and indented as it is:
/// `# extip-lint: ignore EXT003 -- <why this is accepted>`, the reason for the user to write.
/// None in a JSON file (no comments) and for EXT901 (a finding about a suppression).
fn suppression(file: &SourceFile, f: &Finding) -> Option<Edit> {
    let text = &file.text;
    if f.rule.code == "EXT901" || text.trim_start().starts_with(['{', '[']) {
        return None;
    }
    let starts = file.line_starts();
    let at = f.primary.span.start;
    let line = starts.partition_point(|&s| s <= at).saturating_sub(1);
    let start = starts[line];
    let rest = &text[start..];
    let indent = &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()];
    // At the column where the line's text starts (a list item's dash), ending as it ends.
    let this_line = rest.split('\n').next().unwrap_or_default();
    let eol = if this_line.ends_with('\r') {
        "\r\n"
    } else {
        "\n"
    };
    Some(Edit {
        span: crate::source::Span::new(file.id, start, start),
        text: format!(
            "{indent}# extip-lint: ignore {} -- <why this is accepted>{eol}",
            f.rule.code
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_all_kind_is_wanted_below_source_fix_all() {
        let only = [CodeActionKind::SOURCE_FIX_ALL];
        assert!(wanted(FIX_ALL, Some(&only)));
        assert!(!wanted(CodeActionKind::QUICKFIX.as_str(), Some(&only)));
        assert!(wanted(FIX_ALL, None));
        assert!(!wanted(
            FIX_ALL,
            Some(&[CodeActionKind::from("source.fix")])
        ));
    }
}
