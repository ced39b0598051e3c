//! Kustomize output -> the patch or resource line that wrote a field: the overlay's
//! kustomization names its patches and resources, and each is searched for the object and key.

use super::{
    Finding, Place, Rendering, Sources, find_keys, found_but_indices, kustomize, next_entry,
};

/// The patch or resource file that writes the finding's field.
pub(super) fn kustomize_source(
    sources: &mut Sources<'_>,
    rendering: &Rendering,
    origin: &crate::source::Origin,
    f: &Finding,
    keys: &[String],
) -> Option<Place> {
    let (kind, name) = f
        .object
        .as_deref()
        .map(|o| (o.kind.as_str(), o.name.as_str()))
        .unwrap_or_default();
    // The last patch applied that writes the field wins.
    for k_file in origin.patched_in.iter().rev() {
        let path = kustomize::normalize(&rendering.base.join(k_file));
        let Ok(k) = kustomize::read(&path) else {
            // The wrapper of a Flux or Argo CD release (gone with its temporary folder): its
            // patches are written in the release's own file.
            if k_file == "kustomization.yaml"
                && let Some(id) = rendering.source.as_deref().and_then(|p| sources.get(p))
                && let Some((s, e)) = find_json_patch(&sources.text(id), keys)
            {
                return Some((id, Some((s, e, true))));
            }
            continue;
        };
        for patch in k.patches.iter().rev() {
            if patch.target_kind.as_deref().is_some_and(|t| t != kind)
                || patch.target_name.as_deref().is_some_and(|t| t != name)
            {
                continue;
            }
            let (id, start, end) = match (&patch.file, &patch.inline) {
                (Some(file), _) => {
                    let Some(id) = sources.get(file) else {
                        continue;
                    };
                    let len = sources.text(id).len();
                    (id, 0, len)
                }
                (None, Some((_, at))) => {
                    let Some(id) = sources.get(&path) else {
                        continue;
                    };
                    let len = sources.text(id).len();
                    // An inline patch is the value of its `patch:` key: from there to the
                    // next entry of the list.
                    let text = sources.text(id);
                    let end = next_entry(&text, *at).unwrap_or(len);
                    (id, *at, end)
                }
                (None, None) => continue,
            };
            let text = sources.text(id);
            if let Some(place) = find_json_patch(&text[start..end], keys) {
                return Some((id, Some((start + place.0, start + place.1, true))));
            }
            if let Some((doc_start, doc_end)) = document_of(&text, start, end, kind, name)
                && let Some((s, e)) = found_but_indices(&text, doc_start, doc_end, keys)
            {
                return Some((id, Some((s, e, true))));
            }
        }
    }
    let path = kustomize::normalize(&rendering.base.join(&origin.path));
    let id = sources.get(&path)?;
    let text = sources.text(id);
    // A resource file's object: by kind and name (a name prefix or suffix an overlay adds is
    // not in the file, so a single document is taken as it is).
    let whole = (0, text.len());
    let (start, end) = document_of(&text, 0, text.len(), kind, name).unwrap_or(whole);
    Some((id, find_keys(&text, start, end, keys)))
}

/// The YAML document (between `---` lines) of `text[start..end]` that names `kind` and `name`.
fn document_of(
    text: &str,
    start: usize,
    end: usize,
    kind: &str,
    name: &str,
) -> Option<(usize, usize)> {
    let mut docs = Vec::new();
    let mut doc_start = start;
    let mut pos = start;
    while pos < end {
        let line_end = text[pos..end].find('\n').map_or(end, |i| pos + i);
        if text[pos..line_end].starts_with("---") {
            docs.push((doc_start, pos));
            doc_start = line_end + 1;
        }
        pos = line_end + 1;
    }
    docs.push((doc_start.min(end), end));
    let names = |d: &str, key: &str, value: &str| {
        d.lines().any(|l| {
            let t = l.trim();
            t.strip_prefix(key)
                .and_then(|r| r.strip_prefix(':'))
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == value)
        })
    };
    docs.into_iter()
        .find(|&(s, e)| names(&text[s..e], "kind", kind) && names(&text[s..e], "name", name))
}

/// A JSON 6902 patch operation whose `path` is the field or one of its parents: the span of
/// the path's value.
pub(super) fn find_json_patch(text: &str, keys: &[String]) -> Option<(usize, usize)> {
    for n in (1..=keys.len()).rev() {
        let pointer = format!("/{}", keys[..n].join("/"));
        for (at, _) in text.match_indices(&pointer) {
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let before = text[line_start..at].trim_start().trim_start_matches("- ");
            let after = &text[at + pointer.len()..];
            let ends = after.is_empty()
                || after.starts_with(['\n', '\r', '"', '\'', ' ', ','])
                || after.starts_with("/-");
            if before.starts_with("path:") && ends {
                return Some((at, at + pointer.len()));
            }
        }
    }
    None
}
