//! Kustomize roots among the walked files: which kustomizations are roots (not Components,
//! not bases another root includes), and the files their generators and patches read, which
//! are never manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Input, Walked, Withheld, display_name, kustomize};

/// Reads the kustomizations found: the roots (those no other kustomization uses) are kept for
/// rendering, and the files kustomize reads as patches, generator inputs and so on are not read
/// as manifests of their own (with `--render`, neither are the resources it builds from).
pub(super) fn kustomizations(out: &mut Walked, found: Vec<(PathBuf, usize)>, render: bool) {
    if found.is_empty() {
        return;
    }
    let mut read: BTreeMap<PathBuf, kustomize::Kustomization> = BTreeMap::new();
    let mut stack: Vec<PathBuf> = found.iter().map(|(p, _)| p.clone()).collect();
    while let Some(file) = stack.pop() {
        let key = kustomize::normalize(&file);
        if read.contains_key(&key) {
            continue;
        }
        let k = match kustomize::read(&file) {
            Ok(k) => k,
            Err(e) => {
                out.notices.push(format!(
                    "cannot read kustomization `{}`: {e}",
                    display_name(&file)
                ));
                continue;
            }
        };
        for u in &k.uses {
            if let Some(f) = kustomize::file_in(u) {
                stack.push(f);
            }
        }
        read.insert(key, k);
    }
    // A Component is applied by the kustomizations that list it, never built on its own.
    let is_component = |file: &Path| {
        read.get(&kustomize::normalize(file))
            .is_some_and(|k| k.component)
    };
    let used_dirs: std::collections::BTreeSet<PathBuf> = read
        .values()
        .flat_map(|k| k.uses.iter().map(|u| kustomize::normalize(u)))
        .collect();
    let mut not_objects: std::collections::BTreeSet<PathBuf> = read
        .values()
        .flat_map(|k| k.inputs.iter().cloned())
        .collect();

    let mut components = 0;
    for (file, root) in found {
        let dir = kustomize::normalize(file.parent().unwrap_or(Path::new(".")));
        if used_dirs.contains(&dir) {
            continue;
        }
        if is_component(&file) {
            components += 1;
            continue;
        }
        out.kustomizations
            .push((file.parent().unwrap_or(Path::new(".")).to_path_buf(), root));
    }
    if components > 0 {
        *out.skipped
            .entry("kustomize Components no kustomization uses, never built on their own".into())
            .or_default() += components;
    }
    // The roots that read each resource file, through any depth of folders.
    let mut readers: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    if render {
        for (root, _) in &out.kustomizations {
            let mut stack = vec![kustomize::normalize(root)];
            let mut seen = std::collections::BTreeSet::new();
            while let Some(d) = stack.pop() {
                if !seen.insert(d.clone()) {
                    continue;
                }
                let Some(k) =
                    kustomize::file_in(&d).and_then(|f| read.get(&kustomize::normalize(&f)))
                else {
                    continue;
                };
                for u in &k.uses {
                    if u.is_dir() {
                        stack.push(u.clone());
                    } else {
                        readers.entry(u.clone()).or_default().push(root.clone());
                    }
                }
            }
        }
    }
    // With `--render`, resources are read through `kustomize build` of the roots that use
    // them (a resource of a Component or base no root uses is read as written).
    not_objects.extend(readers.keys().cloned());
    let mut dropped = 0;
    let mut kept = Vec::with_capacity(out.inputs.len());
    for i in std::mem::take(&mut out.inputs) {
        let key = match &i {
            Input::File { path, .. } => Some(kustomize::normalize(path)),
            _ => None,
        };
        match key {
            Some(key) if not_objects.contains(&key) => {
                dropped += 1;
                if let Some(roots) = readers.get(&key) {
                    out.withheld.push(Withheld {
                        input: i,
                        roots: roots.clone(),
                    });
                }
            }
            _ => kept.push(i),
        }
    }
    out.inputs = kept;
    if dropped > 0 {
        let why = if render {
            "read by kustomize as resources, patches or generator inputs"
        } else {
            "kustomize patches and generator inputs, not manifests of their own"
        };
        *out.skipped.entry(why.into()).or_default() += dropped;
    }
    if !render && !out.kustomizations.is_empty() {
        let roots: Vec<String> = out
            .kustomizations
            .iter()
            .map(|(d, _)| display_name(d))
            .collect();
        // The first few by name (`--render` renders them all).
        let shown = if roots.len() > 4 {
            format!("{}, and {} more", roots[..3].join(", "), roots.len() - 3)
        } else {
            roots.join(", ")
        };
        out.notices.push(format!(
            "found {} kustomization root{} ({shown}); their files are linted as written, without the overlays: pass --render (or `render: true`) to lint what `kustomize build` gives",
            roots.len(),
            if roots.len() == 1 { "" } else { "s" },
        ));
    }
}
