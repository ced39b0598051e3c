//! Changes -> text edits: each change a rule plans on the nodes it knows becomes an edit that
//! keeps everything else of the file as it is (comments, key order, quoting, indentation, line
//! ends). In a JSON stream the edits are JSON. Whether an edit does what the change means is
//! not decided here: `check` reads the result back.

use crate::finding::{Change, Edit};
use crate::source::{SourceFile, Span};
use crate::yaml::BuildLimits;

/// Limits for reading the small texts a fix writes.
const SNIPPET: BuildLimits = BuildLimits { max_depth: 64 };

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

/// `value` quoted as `original` is; a JSON string in a JSON stream.
fn requote(original: &str, value: &str, json: bool) -> String {
    if json {
        return serde_json::to_string(value).unwrap_or_default();
    }
    match original.chars().next() {
        Some('"') => format!("\"{value}\""),
        Some('\'') => format!("'{value}'"),
        // Plain where nothing in it could be read as syntax or another type; else quoted.
        _ if !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
            && value.starts_with(|c: char| c.is_ascii_alphabetic())
            && !matches!(
                value.to_ascii_lowercase().as_str(),
                "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
            ) =>
        {
            value.to_string()
        }
        _ => serde_json::to_string(value).unwrap_or_default(),
    }
}

/// The edits that make `change` in `files`; `json` when the file is a JSON stream.
pub fn edit(change: &Change, files: &[SourceFile], json: bool) -> Result<Vec<Edit>, String> {
    let text = |span: &Span| -> &str { &files[span.file].text };
    match change {
        Change::Value { span, value } => {
            let t = text(span);
            let original = &t[span.start..span.end];
            // An anchor or a tag before the value stays: aliases elsewhere may use it.
            let mut props = 0;
            while let Some(rest) = original[props..].strip_prefix(['&', '!']) {
                let token = rest
                    .find([' ', '\t', '\n', '\r'])
                    .map_or(rest.len(), |i| i + 1);
                let after = &original[props + 1 + token..];
                props = original.len() - after.trim_start_matches([' ', '\t']).len();
            }
            Ok(vec![Edit {
                span: Span::new(span.file, span.start + props, span.end),
                text: requote(&original[props..], value, json),
            }])
        }
        Change::Within { span, old, new } => {
            let t = text(span);
            let original = &t[span.start..span.end];
            let mut found = original.match_indices(old.as_str());
            match (found.next(), found.next()) {
                (Some((i, _)), None) => Ok(vec![Edit {
                    span: Span::new(span.file, span.start + i, span.start + i + old.len()),
                    text: if json {
                        let quoted = serde_json::to_string(new).unwrap_or_default();
                        quoted[1..quoted.len() - 1].to_string()
                    } else {
                        new.clone()
                    },
                }]),
                _ => Err(format!("`{old}` is not written once in the value")),
            }
        }
        Change::Key { span, key } => {
            let t = text(span);
            Ok(vec![Edit {
                span: *span,
                text: requote(&t[span.start..span.end], key, json),
            }])
        }
        Change::Remove { key, value } => {
            let t = text(key);
            let start = line_start(t, key.start);
            let before = &t[start..key.start];
            if before.trim().is_empty() {
                // Block style: the lines from the key to the value's end, with the trailing
                // comment and line end of the last.
                let end = value.end.max(key.end);
                let content_end = key.start + t[key.start..end].trim_end().len();
                return Ok(vec![Edit {
                    span: Span::new(key.file, start, line_end_after(t, content_end)),
                    text: String::new(),
                }]);
            }
            if before.trim() == "-" {
                return Err("the entry starts a list item".into());
            }
            // Flow style: the entry and one comma beside it; the comma before it when the one
            // after it is a trailing comma (`{a: 1, b: 2, }`), so the mapping's end stays.
            let after = &t[value.end..];
            let trailing = after.len() - after.trim_start_matches([' ', '\t']).len();
            let lead = t[..key.start].trim_end_matches([' ', '\t']);
            let closes = after[trailing..]
                .strip_prefix(',')
                .is_some_and(|rest| rest.trim_start().starts_with(['}', ']']));
            if closes && lead.ends_with(',') {
                return Ok(vec![Edit {
                    span: Span::new(key.file, lead.len() - 1, value.end),
                    text: String::new(),
                }]);
            }
            if after[trailing..].starts_with(',') {
                let rest = &after[trailing + 1..];
                let spaces = rest.len() - rest.trim_start_matches(' ').len();
                return Ok(vec![Edit {
                    span: Span::new(key.file, key.start, value.end + trailing + 1 + spaces),
                    text: String::new(),
                }]);
            }
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
                let entry = if json {
                    let value = super::check::snippet(&format!("{key}: {value}"), SNIPPET)?;
                    let Some((k, v)) = value.as_object().and_then(|m| m.iter().next()) else {
                        return Err("BUG: a snippet `key: value` is a mapping".into());
                    };
                    format!(
                        "{}: {}",
                        serde_json::to_string(k).unwrap_or_default(),
                        serde_json::to_string(v).unwrap_or_default()
                    )
                } else {
                    format!("{key}: {value}")
                };
                // `{}`, `{a: 1}`, and `{a: 1, }` (a trailing comma YAML allows).
                let text = if inner.is_empty() {
                    entry
                } else if inner.ends_with(',') {
                    format!(" {entry}")
                } else {
                    format!(", {entry}")
                };
                let at = mapping.start + 1 + t[mapping.start + 1..close].trim_end().len();
                return Ok(vec![Edit {
                    span: Span::new(mapping.file, at, at),
                    text,
                }]);
            }
            if json {
                return Err("BUG: a JSON mapping is a flow mapping".into());
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
            let t = &files[*file].text;
            let nl = newline(t);
            let sep = if t.ends_with('\n') || t.is_empty() {
                ""
            } else {
                nl
            };
            let text = if json {
                // A JSON stream takes one more value; a `---` line would end it.
                let value = super::check::snippet(doc, SNIPPET)?;
                let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
                format!("{sep}{}{nl}", pretty.replace('\n', nl))
            } else {
                format!("{sep}---{nl}{}", doc.replace('\n', nl))
            };
            Ok(vec![Edit {
                span: Span::new(*file, t.len(), t.len()),
                text,
            }])
        }
    }
}
