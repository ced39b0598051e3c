//! Kustomize roots for `kustomize build`: through a wrapper kustomization in a temporary folder
//! that adds origin annotations; a root with a remote resource is not built.

use std::fmt::Write as _;
use std::path::Path;

use super::{
    RenderOptions, Run, Scratch, canonical, input, kustomize_command, relative_path, run, tidy,
    unrendered,
};
use crate::input::kustomize;
use crate::input::walk::{Input, Tool, Walked};
use crate::source::display_name;

/// The remote resources anywhere in the kustomization tree under `dir`.
fn remote_resources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(d) = stack.pop() {
        let Some(file) = kustomize::file_in(&d) else {
            continue;
        };
        if !seen.insert(kustomize::normalize(&file)) {
            continue;
        }
        if let Ok(k) = kustomize::read(&file) {
            out.extend(k.remote.iter().cloned());
            stack.extend(k.uses.iter().filter(|u| u.is_dir()).cloned());
        }
    }
    out
}

pub(super) fn kustomize_build(
    dir: &Path,
    root: usize,
    opts: &RenderOptions,
    walked: &mut Walked,
) -> Option<Input> {
    let file = kustomize::file_in(dir).unwrap_or_else(|| dir.join("kustomization.yaml"));
    let remote = remote_resources(dir);
    if !remote.is_empty() {
        let why = format!(
            "it uses remote resources ({}), and extip-lint fetches nothing",
            remote.join(", ")
        );
        return unrendered(walked, opts, Tool::Kustomize, dir, root, file, &why);
    }
    let scratch = Scratch::or_notice("kustomize", walked, &format!("`{}`", display_name(dir)))?;
    // The wrapper: the root as its one resource (a folder, so the root keeps its own load
    // restrictions), with origin and transformer annotations.
    let target = canonical(dir);
    let wrapper_dir = std::fs::canonicalize(&scratch.0).unwrap_or_else(|_| scratch.0.clone());
    let relative = relative_path(&wrapper_dir, &target);
    let wrapper = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        serde_json::to_string(&relative.to_string_lossy()).unwrap_or_default()
    );
    if let Err(e) = std::fs::write(wrapper_dir.join("kustomization.yaml"), wrapper) {
        walked
            .notices
            .push(format!("cannot render `{}`: {e}", display_name(dir)));
        return None;
    }
    let (mut cmd, program, sub) = kustomize_command(&wrapper_dir);
    let mut command = format!("{program} {sub} {}", display_name(dir));
    if let Some(r) = opts.root(dir).and_then(|o| o.load_restrictor.as_deref()) {
        cmd.args(["--load-restrictor", r]);
        let _ = write!(command, " --load-restrictor {r}");
    }
    let result = run(cmd, program).map_err(|e| {
        tidy(
            &e,
            &[
                (&target, dir),
                (&relative, dir),
                (&wrapper_dir, Path::new(".")),
            ],
        )
    });
    Some(input(Run {
        tool: Tool::Kustomize,
        dir,
        file,
        root,
        result,
        base: wrapper_dir,
        variant: None,
        dependencies: Vec::new(),
        command,
    }))
}
