//! Fix stage: the changes rules plan on the nodes they know -> text edits that keep everything
//! else of the file as it is (comments, key order, quoting, indentation, line ends), and the
//! fixed texts for `--diff` and `--fix`. Only plain YAML files are edited: never rendered output,
//! the templates or patches it came from, or JSON.

use std::collections::BTreeMap;

use crate::finding::{Change, Edit, Finding, Safety};
use crate::source::{FileId, SourceFile, Span};

/// Turns every fix's changes into edits, or says why it cannot.
pub fn plan(findings: &mut [Finding], files: &[SourceFile]) {
    for f in findings {
        let file = &files[f.primary.span.file.0 as usize];
        for fix in &mut f.fixes {
            if fix.refused.is_some() {
                continue;
            }
            if file.virtual_file || file.path.is_none() {
                fix.refused = Some("the file is rendered output or standard input".into());
                continue;
            }
            if std::path::Path::new(&file.name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                fix.refused = Some("JSON files are not edited".into());
                continue;
            }
            let mut edits = Vec::new();
            for change in &fix.changes {
                match edit(change, files) {
                    Ok(e) => edits.extend(e),
                    Err(why) => {
                        fix.refused = Some(why);
                        edits.clear();
                        break;
                    }
                }
            }
            if fix.refused.is_none() && overlapping(&edits) {
                fix.refused = Some("its edits overlap".into());
                edits.clear();
            }
            fix.edits = edits;
        }
    }
}

fn overlapping(edits: &[Edit]) -> bool {
    edits.iter().enumerate().any(|(i, a)| {
        edits[i + 1..].iter().any(|b| {
            a.span.file == b.span.file && a.span.start < b.span.end && b.span.start < a.span.end
        })
    })
}

/// The line end the file uses.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset after the line holding `at` and its line end.
fn line_end_after(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// `value` quoted as `original` is.
fn requote(original: &str, value: &str) -> String {
    match original.chars().next() {
        Some('"') => format!("\"{value}\""),
        Some('\'') => format!("'{value}'"),
        _ => value.to_string(),
    }
}

fn edit(change: &Change, files: &[SourceFile]) -> Result<Vec<Edit>, String> {
    let text = |span: &Span| -> &str { &files[span.file.0 as usize].text };
    match change {
        Change::Value { span, value } => {
            let t = text(span);
            let original = &t[span.start..span.end];
            Ok(vec![Edit {
                span: *span,
                text: requote(original, value),
            }])
        }
        Change::Within { span, old, new } => {
            let t = text(span);
            let original = &t[span.start..span.end];
            let mut found = original.match_indices(old.as_str());
            match (found.next(), found.next()) {
                (Some((i, _)), None) => Ok(vec![Edit {
                    span: Span::new(span.file, span.start + i, span.start + i + old.len()),
                    text: new.clone(),
                }]),
                _ => Err(format!("`{old}` is not written once in the value")),
            }
        }
        Change::Key { span, key } => {
            let t = text(span);
            Ok(vec![Edit {
                span: *span,
                text: requote(&t[span.start..span.end], key),
            }])
        }
        Change::Remove { key, value } => {
            let t = text(key);
            let start = line_start(t, key.start);
            let before = &t[start..key.start];
            if before.trim().is_empty() {
                // Block style: the lines from the key to the value's end, with the trailing
                // comment and line end of the last.
                let last = value.end.max(key.end).saturating_sub(1).max(key.start);
                let last = t[key.start..=last].trim_end().len() + key.start - 1;
                return Ok(vec![Edit {
                    span: Span::new(key.file, start, line_end_after(t, last.max(key.start))),
                    text: String::new(),
                }]);
            }
            if before.trim() == "-" {
                return Err("the entry starts a list item".into());
            }
            // Flow style: the entry and one comma beside it.
            let after = &t[value.end..];
            let trailing = after.len() - after.trim_start_matches([' ', '\t']).len();
            if after[trailing..].starts_with(',') {
                let rest = &after[trailing + 1..];
                let spaces = rest.len() - rest.trim_start_matches(' ').len();
                return Ok(vec![Edit {
                    span: Span::new(key.file, key.start, value.end + trailing + 1 + spaces),
                    text: String::new(),
                }]);
            }
            let lead = t[..key.start].trim_end_matches([' ', '\t']);
            if lead.ends_with(',') {
                return Ok(vec![Edit {
                    span: Span::new(key.file, lead.len() - 1, value.end),
                    text: String::new(),
                }]);
            }
            Err("the entry is not one a comma separates".into())
        }
        Change::Add {
            mapping,
            key,
            value,
        } => {
            let t = text(mapping);
            let nl = newline(t);
            let body = &t[mapping.start..mapping.end];
            if body.starts_with('{') {
                let close = mapping.start + body.rfind('}').ok_or("an unclosed flow mapping")?;
                let inner = t[mapping.start + 1..close].trim();
                let text = if inner.is_empty() {
                    format!("{key}: {value}")
                } else {
                    format!(", {key}: {value}")
                };
                let at = mapping.start + 1 + t[mapping.start + 1..close].trim_end().len();
                return Ok(vec![Edit {
                    span: Span::new(mapping.file, at, at),
                    text,
                }]);
            }
            // Block style: a new first entry, at the mapping's indentation, above the comments
            // that belong to the first key.
            let first = line_start(t, mapping.start);
            let indent = &t[first..mapping.start];
            if !indent.trim().is_empty() {
                return Err("the mapping does not start its line".into());
            }
            let mut start = first;
            while start > 0 {
                let above = line_start(t, start - 1);
                let line = t[above..start].trim_end_matches(['\n', '\r']);
                if line.starts_with(indent) && line[indent.len()..].starts_with('#') {
                    start = above;
                } else {
                    break;
                }
            }
            let line = match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                Some(inner) => format!("{indent}{key}:{nl}{indent}  {inner}{nl}"),
                None => format!("{indent}{key}: {value}{nl}"),
            };
            Ok(vec![Edit {
                span: Span::new(mapping.file, start, start),
                text: line,
            }])
        }
        Change::Document { file, text: doc } => {
            let t = &files[file.0 as usize].text;
            let nl = newline(t);
            let sep = if t.ends_with('\n') || t.is_empty() {
                ""
            } else {
                nl
            };
            Ok(vec![Edit {
                span: Span::new(*file, t.len(), t.len()),
                text: format!("{sep}---{nl}{}", doc.replace('\n', nl)),
            }])
        }
    }
}

/// The fixed text of every file a fix touches: fixes of the allowed safety (unsafe ones only
/// with `unsafe_too`), each whole or not at all, the first of two that overlap. Returns the
/// texts and how many fixes went in.
#[must_use]
pub fn apply(
    findings: &[Finding],
    files: &[SourceFile],
    unsafe_too: bool,
) -> (BTreeMap<FileId, String>, usize) {
    let mut accepted: BTreeMap<FileId, Vec<(usize, &Edit)>> = BTreeMap::new();
    let mut applied = 0;
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        let Some(fix) = f.fixes.iter().find(|x| {
            x.refused.is_none() && !x.edits.is_empty() && (x.safety == Safety::Safe || unsafe_too)
        }) else {
            continue;
        };
        let clashes = fix.edits.iter().any(|e| {
            accepted.get(&e.span.file).is_some_and(|list| {
                list.iter().any(|(_, a)| {
                    a.span.start < e.span.end && e.span.start < a.span.end
                        || (a.span == e.span && a.text == e.text)
                })
            })
        });
        if clashes {
            continue;
        }
        for e in &fix.edits {
            accepted.entry(e.span.file).or_default().push((applied, e));
        }
        applied += 1;
    }
    let mut out = BTreeMap::new();
    for (file, mut edits) in accepted {
        let mut text = files[file.0 as usize].text.to_string();
        // From the end, so offsets stay valid; an insertion goes before a removal at its place,
        // and of two insertions at one place the earlier fix's comes first.
        edits.sort_by_key(|(i, e)| std::cmp::Reverse((e.span.start, e.span.end, *i)));
        for (_, e) in edits {
            text.replace_range(e.span.start..e.span.end, &e.text);
        }
        out.insert(file, text);
    }
    (out, applied)
}
