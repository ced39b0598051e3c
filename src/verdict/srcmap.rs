//! Map stage: findings about rendered objects -> the source lines that produced them. A Helm
//! object's `# Source:` names its template in the chart; a Kustomize object's origin annotation
//! names its resource file, and its transformer annotations the kustomizations whose patches
//! changed it. The line is the one that writes the finding's field, found by following the
//! field's keys through the source text by indentation (templates are not YAML); when the keys
//! cannot be followed, the finding points at the source's first line and says so. The rendered
//! place stays as a related label.

mod overlay;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::{Finding, Label};
use crate::input::kustomize;
use crate::source::{Encoding, FileId, Rendering, SourceFile, Span, Tool, display_name};
use crate::yaml::pointer::segments;

/// Source files read for mapping, by path, so each is read and added once.
struct Sources<'a> {
    files: &'a mut Vec<SourceFile>,
    by_path: HashMap<PathBuf, Option<FileId>>,
}

impl Sources<'_> {
    /// The file at `path` (added to the run's files when first needed), if it can be read.
    fn get(&mut self, path: &Path) -> Option<FileId> {
        let key = kustomize::normalize(path);
        if let Some(id) = self.by_path.get(&key) {
            return *id;
        }
        let text = crate::source::read_regular_text(path, crate::source::DEFAULT_MAX_FILE_SIZE);
        let id = text.ok().map(|text| {
            let id = FileId(self.files.len() as u32);
            self.files.push(SourceFile::new(
                id,
                display_name(&key),
                Some(key.clone()),
                Arc::from(text),
                Encoding::Utf8,
            ));
            id
        });
        self.by_path.insert(key, id);
        id
    }

    fn text(&self, id: FileId) -> Arc<str> {
        Arc::clone(&self.files[id].text)
    }
}

/// Points every finding about a rendered object at its source, when the source can be found.
pub fn map(findings: &mut [Finding], files: &mut Vec<SourceFile>) {
    let mut sources = Sources {
        files,
        by_path: HashMap::new(),
    };
    for f in findings {
        let file = &sources.files[f.primary.span.file];
        let Some(rendering) = file.rendering.clone() else {
            continue;
        };
        let rendered_name = file.name.clone();
        let rendered_text = Arc::clone(&file.text);
        let by = rendering.command.as_ref().map_or_else(
            || format!("rendered here, by {rendered_name}"),
            |c| format!("in the rendered output of {rendered_name} (reproduce it with `{c}`)"),
        );
        // Helm output names each document's template in its `# Source:` line, whether or not
        // the finding is about an object (a repeated key is not).
        let document = (rendering.tool == Tool::Helm)
            .then(|| helm_document(&rendered_text, f.primary.span.start))
            .flatten();
        let origin_path = f
            .origin
            .as_ref()
            .map(|o| o.path.clone())
            .or_else(|| document.as_ref().map(|d| d.source.clone()));
        let Some(origin_path) = origin_path else {
            // Rendered output with no source named (a generated object, a renderer failure
            // already on its file): the chart or kustomization itself.
            if file.virtual_file
                && let Some(id) = rendering.source.as_deref().and_then(|p| sources.get(p))
            {
                let rendered = f.primary.span;
                f.primary.span = Span::new(id, 0, 0);
                f.related.push(Label::new(rendered, by.clone()));
                f.notes.push(format!(
                    "{rendered_name} names no source file for this object; this points at {}",
                    sources.files[id].name
                ));
                for fix in &mut f.fixes {
                    fix.refused = Some(format!("the object is rendered by {rendered_name}"));
                }
            }
            continue;
        };
        let keys: Vec<String> = segments(&f.pointer)
            .into_iter()
            .map(std::borrow::Cow::into_owned)
            .collect();
        let found = match rendering.tool {
            Tool::Helm => helm_source(&rendering, &origin_path)
                .and_then(|p| sources.get(&p))
                .map(|id| {
                    let text = sources.text(id);
                    let kind = f.object.as_deref().map(|o| o.kind.as_str());
                    let (start, end) = document
                        .as_ref()
                        .and_then(|d| template_document(&text, d.index, kind))
                        .unwrap_or((0, text.len()));
                    let place = if keys.is_empty()
                        && let Some(d) = &document
                        && let Some(p) =
                            same_key(&rendered_text, d, f.primary.span, &text, start, end)
                    {
                        Some(p)
                    } else if keys.is_empty() {
                        Some((start, start, false))
                    } else {
                        find_keys(&text, start, end, &keys).or(Some((start, start, false)))
                    };
                    (id, place)
                }),
            Tool::Kustomize => {
                let Some(origin) = f.origin.clone() else {
                    continue;
                };
                overlay::kustomize_source(&mut sources, &rendering, &origin, f, &keys)
            }
        };
        let Some((id, place)) = found else { continue };
        let rendered = f.primary.span;
        let (span, exact) = match place {
            Some((start, end, exact)) => (Span::new(id, start, end), exact),
            None => (Span::new(id, 0, 0), false),
        };
        f.primary.span = span;
        f.related.push(Label::new(rendered, by));
        // The values line that set the value the finding is about, when one did.
        if rendering.tool == Tool::Helm
            && let Some(value) = rendered_text
                .get(rendered.start..rendered.end)
                .map(|v| v.trim().trim_matches(['"', '\'']))
                .filter(|v| !v.is_empty() && !v.contains('\n'))
            && let Some(at) = rendering.values.iter().rev().find_map(|p| {
                let id = sources.get(p)?;
                let (s, e) = value_in(&sources.text(id), value)?;
                Some(Span::new(id, s, e))
            })
        {
            f.related
                .push(Label::new(at, format!("`{value}` is set here")));
        }
        if !exact && !keys.is_empty() {
            f.notes.push(format!(
                "the line that writes `{}` was not found in {}; this is the nearest the source shows",
                crate::yaml::pointer::field_path(
                    &keys
                        .iter()
                        .map(|k| k.parse().map_or_else(
                            |_| crate::yaml::pointer::Segment::Key(k.clone()),
                            crate::yaml::pointer::Segment::Index
                        ))
                        .collect::<Vec<_>>()
                ),
                sources.files[id].name
            ));
        }
        f.origin = None;
        for fix in &mut f.fixes {
            fix.refused = Some(format!(
                "the object is rendered by {rendered_name}: change {} instead",
                sources.files[id].name
            ));
        }
    }
}

/// Where `value` is written as a whole YAML scalar in `text` (`key: value`, `- value`, in a flow
/// list, quoted or not), outside comments: the last place, since the last value wins.
fn value_in(text: &str, value: &str) -> Option<(usize, usize)> {
    let before_ok = |c: char| matches!(c, ' ' | '[' | ',' | '"' | '\'' | '=' | '{');
    let after_ok = |c: char| matches!(c, ' ' | ']' | ',' | '"' | '\'' | '\n' | '\r' | '}' | '#');
    text.match_indices(value)
        .filter(|&(at, _)| {
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[line_start..at];
            !before.contains('#')
                && before.chars().last().is_some_and(before_ok)
                && text[at + value.len()..].chars().next().is_none_or(after_ok)
        })
        .last()
        .map(|(at, _)| (at, at + value.len()))
}

/// One document of Helm output: the template its `# Source:` line names, which of that
/// template's documents it is (0 for the first), and its span in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HelmDocument {
    source: String,
    index: usize,
    start: usize,
    end: usize,
}

/// The document of Helm output `text` that holds byte `at`.
fn helm_document(text: &str, at: usize) -> Option<HelmDocument> {
    // Document starts: the text's start and every line after a `---` line.
    let mut starts = vec![0];
    let mut pos = 0;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        if text[pos..end].trim_end() == "---" || text[pos..end].starts_with("--- ") {
            starts.push((end + 1).min(text.len()));
        }
        pos = end + 1;
    }
    let source_of = |start: usize| -> Option<String> {
        text[start..]
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            .find_map(|l| {
                l.trim()
                    .strip_prefix("# Source:")
                    .map(|s| s.trim().to_string())
            })
    };
    let n = starts.iter().rposition(|&s| s <= at)?;
    let source = source_of(starts[n])?;
    let index = starts[..n]
        .iter()
        .filter(|&&s| source_of(s).as_deref() == Some(source.as_str()))
        .count();
    let end = starts.get(n + 1).map_or(text.len(), |&s| s);
    Some(HelmDocument {
        source,
        index,
        start: starts[n],
        end,
    })
}

/// The span of a template's `index`-th document (between `---` lines): the one the output's
/// `index`-th document of that template came from. When the template has fewer documents (a
/// `range` writes several from one) or the `kind` does not match, the first document that names
/// `kind`, else the whole template.
fn template_document(text: &str, index: usize, kind: Option<&str>) -> Option<(usize, usize)> {
    let mut docs = Vec::new();
    let mut doc_start = 0;
    let mut pos = 0;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        if text[pos..end].trim_end() == "---" || text[pos..end].starts_with("--- ") {
            docs.push((doc_start, pos));
            doc_start = (end + 1).min(text.len());
        }
        pos = end + 1;
    }
    docs.push((doc_start, text.len()));
    // Documents with nothing but template actions and comments render to nothing.
    docs.retain(|&(s, e)| {
        text[s..e].lines().any(|l| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#') || (t.starts_with("{{") && t.ends_with("}}")))
        })
    });
    let names_kind = |&(s, e): &(usize, usize)| {
        kind.is_none_or(|k| {
            text[s..e].lines().any(|l| {
                l.trim()
                    .strip_prefix("kind:")
                    .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == k)
            })
        })
    };
    if docs.len() <= 1 {
        return docs.first().copied();
    }
    if let Some(d) = docs.get(index).filter(|d| names_kind(d)) {
        return Some(*d);
    }
    docs.iter().find(|d| names_kind(d)).copied()
}

/// For a finding at a key of the output (a repeated key): the same key in the template's
/// document, by its order among the lines of the document that write that key.
fn same_key(
    rendered: &str,
    doc: &HelmDocument,
    at: Span,
    template: &str,
    start: usize,
    end: usize,
) -> Option<(usize, usize, bool)> {
    let key = rendered.get(at.start..at.end)?.trim_matches(['"', '\'']);
    if key.is_empty() || at.start < doc.start || at.start > doc.end {
        return None;
    }
    let writes = |line: &str| {
        let t = line.trim_start();
        let t = t.strip_prefix("- ").unwrap_or(t);
        t.strip_prefix(key)
            .or_else(|| t.strip_prefix(&format!("\"{key}\"")))
            .is_some_and(|r| r.starts_with(':'))
    };
    let nth = rendered[doc.start..at.start]
        .lines()
        .filter(|l| writes(l))
        .count();
    let mut seen = 0;
    let mut pos = start;
    for line in template[start..end].split_inclusive('\n') {
        if writes(line) {
            if seen == nth {
                let col = line.find(key).unwrap_or(0);
                return Some((pos + col, pos + col + key.len(), true));
            }
            seen += 1;
        }
        pos += line.len();
    }
    None
}

/// The template of a `# Source:` path (`chart/templates/svc.yaml`, or
/// `chart/charts/dep/templates/svc.yaml` for a dependency) in the chart folder.
fn helm_source(rendering: &Rendering, source: &str) -> Option<PathBuf> {
    let (_, rest) = source.split_once('/')?;
    // A `file://` dependency built into a copy of the chart: its own folder. The longest
    // prefix wins (a dependency's dependency).
    let dependency = rendering
        .dependencies
        .iter()
        .filter(|(prefix, _)| {
            rest.strip_prefix(prefix.as_str())
                .is_some_and(|r| r.starts_with('/'))
        })
        .max_by_key(|(prefix, _)| prefix.len());
    if let Some((prefix, dir)) = dependency {
        return Some(dir.join(&rest[prefix.len() + 1..]));
    }
    Some(rendering.base.join(rest))
}

/// A source file, and the span in it with whether it is exact (`None`: not found).
type Place = (FileId, Option<(usize, usize, bool)>);

/// Where the next list entry at the indentation of the one holding `at` starts.
fn next_entry(text: &str, at: usize) -> Option<usize> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let key_indent = indent(&text[line_start..]);
    let mut pos = text[at..].find('\n').map(|i| at + i + 1)?;
    while pos < text.len() {
        let line = &text[pos..text[pos..].find('\n').map_or(text.len(), |i| pos + i)];
        if !line.trim().is_empty() && indent(line) < key_indent {
            return Some(pos);
        }
        if line.trim_start().starts_with("- ") && indent(line) < key_indent + 2 {
            return Some(pos);
        }
        pos += line.len() + 1;
    }
    None
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Follows `keys` through `text[start..end]` by indentation: each key on a line deeper than its
/// parent's, list items by their `- ` at one indentation (or in a flow list on the key's line).
/// Lines of template actions (`{{ }}`) and comments are passed over. The span of the deepest
/// step found, and whether all were, or all but list indices at the end (`Some(false)` then
/// means only those were missing).
#[must_use]
pub fn find_keys(
    text: &str,
    start: usize,
    end: usize,
    keys: &[String],
) -> Option<(usize, usize, bool)> {
    let (s, e, matched) = follow(text, start, end, keys)?;
    Some((s, e, matched == keys.len()))
}

/// Whether `keys` were followed up to, at most, list indices at their end.
fn found_but_indices(
    text: &str,
    start: usize,
    end: usize,
    keys: &[String],
) -> Option<(usize, usize)> {
    let (s, e, matched) = follow(text, start, end, keys)?;
    keys[matched..]
        .iter()
        .all(|k| k.parse::<usize>().is_ok())
        .then_some((s, e))
}

/// `find_keys`, with how many steps were followed.
fn follow(text: &str, start: usize, end: usize, keys: &[String]) -> Option<(usize, usize, usize)> {
    let mut pos = start;
    let mut parent_indent: Option<usize> = None;
    let mut found: Option<(usize, usize)> = None;
    for (depth, key) in keys.iter().enumerate() {
        let index = key.parse::<usize>().ok();
        let mut hit = None;
        let mut items = 0;
        let mut item_indent: Option<usize> = None;
        let mut p = pos;
        while p < end {
            let line_end = text[p..end].find('\n').map_or(end, |i| p + i);
            let line = &text[p..line_end];
            let trimmed = line.trim_start();
            let ind = line.len() - trimmed.len();
            let skip = trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("{{");
            if !skip
                && depth > 0
                && parent_indent.is_some_and(|pi| ind <= pi)
                && !trimmed.starts_with("- ")
            {
                break;
            }
            if !skip {
                if let Some(i) = index {
                    let item = trimmed.starts_with("- ") || trimmed == "-";
                    if item && item_indent.is_none_or(|ii| ii == ind) {
                        item_indent = Some(ind);
                        if items == i {
                            let s = p + ind + 2;
                            let value_end = p + line.trim_end().len();
                            hit = Some((s.min(value_end), value_end, ind + 1, line_end));
                            break;
                        }
                        items += 1;
                    } else if !item && item_indent.is_some_and(|ii| ind <= ii) {
                        break;
                    }
                } else {
                    let body = trimmed.strip_prefix("- ").unwrap_or(trimmed);
                    let offset = trimmed.len() - body.len();
                    let quoted = format!("\"{key}\":");
                    let plain = format!("{key}:");
                    if body.starts_with(&plain) || body.starts_with(&quoted) {
                        let s = p + ind + offset;
                        let len = if body.starts_with(&quoted) {
                            key.len() + 2
                        } else {
                            key.len()
                        };
                        hit = Some((s, s + len, ind + offset, line_end));
                        break;
                    }
                }
            }
            p = line_end + 1;
        }
        // A flow list on the parent key's line: `externalIPs: [192.0.2.1, 192.0.2.2]`.
        if hit.is_none()
            && let (Some(i), Some((ks, _))) = (index, found)
        {
            let line_end = text[ks..end].find('\n').map_or(end, |n| ks + n);
            let line = &text[ks..line_end];
            if let (Some(open), Some(close)) = (line.find('['), line.rfind(']')) {
                let mut at = ks + open + 1;
                for (n, item) in line[open + 1..close].split(',').enumerate() {
                    if n == i {
                        let lead = item.len() - item.trim_start().len();
                        let s = at + lead;
                        hit = Some((s, s + item.trim().len(), 0, line_end));
                        break;
                    }
                    at += item.len() + 1;
                }
            }
        }
        let Some((s, e, ind, line_end)) = hit else {
            return found.map(|(s, e)| (s, e, depth));
        };
        found = Some((s, e));
        parent_indent = Some(ind);
        pos = (line_end + 1).min(end);
    }
    found.map(|(s, e)| (s, e, keys.len()))
}

#[cfg(test)]
mod tests {
    use super::overlay::find_json_patch;
    use super::*;

    fn keys(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    fn at(text: &str, p: &str) -> Option<(String, bool)> {
        find_keys(text, 0, text.len(), &keys(p))
            .map(|(s, e, exact)| (text[s..e].to_string(), exact))
    }

    #[test]
    fn keys_are_followed_through_a_template() {
        let t = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ include \"x.fullname\" . }}\nspec:\n  {{- if .Values.ips }}\n  externalIPs:\n    {{- toYaml .Values.ips | nindent 4 }}\n  {{- end }}\n  ports:\n    - port: 80\n      name: http\n    - port: 443\n";
        assert_eq!(
            at(t, "/spec/externalIPs"),
            Some(("externalIPs".into(), true))
        );
        assert_eq!(
            at(t, "/spec/externalIPs/0"),
            Some(("externalIPs".into(), false))
        );
        assert_eq!(at(t, "/spec/ports/1"), Some(("port: 443".into(), true)));
        assert_eq!(at(t, "/spec/ports/0/name"), Some(("name".into(), true)));
        assert_eq!(at(t, "/metadata/labels"), Some(("metadata".into(), false)));
        assert_eq!(at(t, "/status"), None);
    }

    #[test]
    fn a_key_is_not_taken_from_another_block() {
        let t = "spec:\n  selector:\n    app: x\nstatus:\n  loadBalancer: {}\n  externalIPs: []\n";
        assert_eq!(at(t, "/spec/externalIPs"), Some(("spec".into(), false)));
    }

    #[test]
    fn a_value_is_found_where_it_is_written_whole() {
        let t =
            "# 192.0.2.1 in a comment\na: 192.0.2.10\nb: [192.0.2.1, x]\nc:\n  - \"192.0.2.1\"\n";
        let (s, e) = value_in(t, "192.0.2.1").expect("found");
        assert_eq!(&t[s..e], "192.0.2.1");
        assert_eq!(t[..s].lines().count(), 5, "the last place wins");
        assert!(value_in("a: 192.0.2.10\n", "192.0.2.1").is_none());
    }

    #[test]
    fn each_document_of_helm_output_names_its_template_and_place() {
        let out = "---\n# Source: c/templates/a.yaml\nkind: Service\n---\n# Source: c/templates/a.yaml\nkind: Service\n---\n# Source: c/templates/b.yaml\nkind: Pod\n";
        let at = out.rfind("kind: Service").expect("second");
        let d = helm_document(out, at).expect("document");
        assert_eq!((d.source.as_str(), d.index), ("c/templates/a.yaml", 1));
        let template = "kind: Service\nmetadata: {name: a}\n---\n{{- if .x }}\n---\nkind: Service\nmetadata: {name: b}\n";
        let (s, _) = template_document(template, 1, Some("Service")).expect("found");
        assert!(template[s..].starts_with("kind: Service\nmetadata: {name: b}"));
    }

    #[test]
    fn json_patches_are_found_by_path() {
        let t = "- op: add\n  path: /spec/loadBalancerIP\n  value: 192.0.2.9\n- op: add\n  path: /spec/externalIPs/-\n  value: 192.0.2.1\n";
        let k = keys("/spec/externalIPs/0");
        let (s, e) = find_json_patch(t, &k).expect("found");
        assert_eq!(&t[s..e], "/spec/externalIPs");
        assert!(find_json_patch(t, &keys("/spec/ports")).is_none());
    }
}
