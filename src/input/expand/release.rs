//! Flux and Argo CD releases (found by `gitops`): each rendered with exactly its own inputs, as
//! a cluster of its own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::helm::{chart_paths, helm_command, prepare, stable_names};
use super::{
    NOT_RENDERED, RenderOptions, Run, Scratch, canonical, in_namespace, kustomize_command,
    relative_path, rendered, run, tidy, with_values,
};
use crate::input::gitops::{self, Target};
use crate::input::kustomize;
use crate::input::walk::{Input, Tool, Walked};
use crate::source::display_name;

/// Renders the Flux and Argo CD releases declared in the plain manifests of `walked`, each with exactly
/// its own inputs and as a cluster of its own.
pub(super) fn releases(walked: &mut Walked, opts: &RenderOptions) -> Vec<Input> {
    // Releases are in plain manifests: those read as they are, and those a kustomization lists
    // (a Flux cluster folder's kustomization lists its releases).
    let files: Vec<PathBuf> = walked.inputs[..walked.reported.min(walked.inputs.len())]
        .iter()
        .chain(walked.withheld.iter().map(|w| &w.input))
        .filter_map(|i| match i {
            Input::File {
                path,
                role: crate::input::walk::Role::Manifest,
                ..
            } => Some(path.clone()),
            _ => None,
        })
        .collect();
    let root_of = |file: &Path| -> PathBuf {
        opts.repository
            .clone()
            .or_else(|| gitops::repository_root(file))
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let found = gitops::find(&files, &root_of);
    let mut out = Vec::new();
    for r in found {
        let root = walked
            .inputs
            .iter()
            .chain(walked.withheld.iter().map(|w| &w.input))
            .find_map(|i| match i {
                Input::File { path, root, .. } if *path == r.file => Some(*root),
                _ => None,
            })
            .unwrap_or(0);
        match &r.target {
            Target::Plain(dir) => walked.notices.push(format!(
                "{}: its source `{}` is a folder of plain manifests, linted as written",
                r.name,
                display_name(dir)
            )),
            Target::Unrendered(why) => {
                walked.unrendered.push((r.name.clone(), why.clone()));
                if opts.strict {
                    out.push(rendered(
                        Run {
                            tool: Tool::Helm,
                            dir: r.file.parent().unwrap_or(Path::new(".")),
                            file: r.file.clone(),
                            root,
                            result: Err(format!("{NOT_RENDERED}{why}")),
                            base: PathBuf::from("."),
                            variant: None,
                            dependencies: Vec::new(),
                            command: format!("flux or argocd, which fetch what {} names", r.name),
                        },
                        Some(r.name.clone()),
                        r.offset,
                    ));
                }
            }
            Target::Chart { .. } => {
                if let Some(i) = release_chart(&r, root, opts, walked) {
                    out.push(i);
                }
            }
            Target::Kustomize { .. } => {
                if let Some(i) = release_kustomization(&r, root, walked) {
                    out.push(i);
                }
            }
        }
    }
    out
}

fn release_chart(
    r: &gitops::Release,
    root: usize,
    opts: &RenderOptions,
    walked: &mut Walked,
) -> Option<Input> {
    let Target::Chart {
        dir,
        release,
        namespace,
        value_files,
        values,
        set,
        sources: value_sources,
    } = &r.target
    else {
        return None;
    };
    let prepared = match prepare(dir) {
        Ok(p) => p,
        Err(why) => {
            walked.unrendered.push((r.name.clone(), why));
            return None;
        }
    };
    let scratch = Scratch::or_notice("values", walked, &r.name)?;
    let mut files = value_files.clone();
    for (n, v) in values.iter().enumerate() {
        let f = scratch.0.join(format!("values-{n}.json"));
        if std::fs::write(&f, v.to_string()).is_err() {
            walked
                .notices
                .push(format!("cannot render {}: cannot write its values", r.name));
            return None;
        }
        files.push(f);
    }
    let namespace = namespace.as_deref().unwrap_or(&opts.namespace);
    let (mut cmd, helm_scratch) =
        match helm_command(&prepared.dir, release, namespace, opts, &files, &[]) {
            Ok(c) => c,
            Err(e) => {
                walked
                    .notices
                    .push(format!("cannot render {}: {e}", r.name));
                return None;
            }
        };
    for (s, string) in set {
        cmd.args([if *string { "--set-string" } else { "--set" }, s]);
    }
    let mut command = format!(
        "helm template {release} {} --namespace {namespace} --kube-version {}",
        display_name(dir),
        opts.kube_version
    );
    for f in value_files {
        let _ = write!(command, " --values {}", display_name(f));
    }
    if !values.is_empty() {
        let _ = write!(command, " --values <the values {} gives>", r.name);
    }
    for (s, string) in set {
        let _ = write!(
            command,
            " {} {s}",
            if *string { "--set-string" } else { "--set" }
        );
    }
    let result = run(cmd, "helm")
        .map(|out| stable_names(out, dir, &prepared.dependencies))
        .map_err(|e| {
            let e = tidy(
                &e,
                &[
                    (&prepared.dir, dir.as_path()),
                    (&scratch.0, Path::new("values")),
                ],
            );
            chart_paths(&e, dir)
        });
    drop(helm_scratch);
    let mut sources = vec![dir.join("values.yaml")];
    sources.extend(value_files.iter().cloned());
    sources.extend(value_sources.iter().cloned());
    // Inline values and parameters are written in the release's own file.
    sources.push(r.file.clone());
    // Objects the chart does not place go where helm installs the release.
    Some(in_namespace(
        with_values(
            rendered(
                Run {
                    tool: Tool::Helm,
                    dir,
                    file: r.file.clone(),
                    root,
                    result,
                    base: dir.clone(),
                    variant: None,
                    dependencies: prepared.dependencies.clone(),
                    command,
                },
                Some(r.name.clone()),
                r.offset,
            ),
            sources,
        ),
        Some(namespace),
    ))
}

fn release_kustomization(r: &gitops::Release, root: usize, walked: &mut Walked) -> Option<Input> {
    let Target::Kustomize {
        dir,
        namespace,
        name_prefix,
        name_suffix,
        patches,
        default_namespace,
        common_labels,
        labels,
        annotations,
    } = &r.target
    else {
        return None;
    };
    let scratch = Scratch::or_notice("kustomize", walked, &r.name)?;
    let wrapper_dir = std::fs::canonicalize(&scratch.0).unwrap_or_else(|_| scratch.0.clone());
    let target = canonical(dir);
    // A folder without a kustomization is built as Flux builds it: every manifest in it, listed
    // by a kustomization Flux writes into the folder, so none of them is outside its root.
    let generated = kustomize::file_in(dir).is_none();
    let listed = if generated {
        manifests_in(&target)
    } else {
        Vec::new()
    };
    let resources: Vec<PathBuf> = if generated {
        listed
            .iter()
            .map(|f| relative_path(&wrapper_dir, f))
            .collect()
    } else {
        vec![relative_path(&wrapper_dir, &target)]
    };
    let mut wrapper = serde_json::Map::new();
    wrapper.insert(
        "apiVersion".into(),
        "kustomize.config.k8s.io/v1beta1".into(),
    );
    wrapper.insert("kind".into(), "Kustomization".into());
    wrapper.insert(
        "resources".into(),
        resources
            .iter()
            .map(|p| serde_json::Value::String(p.to_string_lossy().into_owned()))
            .collect(),
    );
    if let Some(ns) = namespace {
        wrapper.insert("namespace".into(), ns.clone().into());
    }
    if let Some(p) = name_prefix {
        wrapper.insert("namePrefix".into(), p.clone().into());
    }
    if let Some(p) = name_suffix {
        wrapper.insert("nameSuffix".into(), p.clone().into());
    }
    if !patches.is_empty() {
        wrapper.insert("patches".into(), serde_json::Value::Array(patches.clone()));
    }
    // Labels: on selectors too (Argo CD `commonLabels`), or on metadata only (Flux).
    let mut label_sets = Vec::new();
    if let Some(l) = common_labels {
        label_sets.push(serde_json::json!({"pairs": l, "includeSelectors": true}));
    }
    if let Some(l) = labels.as_ref().filter(|l| l.is_object()) {
        label_sets.push(serde_json::json!({"pairs": l, "includeSelectors": false}));
    }
    if !label_sets.is_empty() {
        wrapper.insert("labels".into(), serde_json::Value::Array(label_sets));
    }
    if let Some(a) = annotations.as_ref().filter(|a| a.is_object()) {
        wrapper.insert("commonAnnotations".into(), a.clone());
    }
    wrapper.insert(
        "buildMetadata".into(),
        serde_json::json!(["originAnnotations", "transformerAnnotations"]),
    );
    if std::fs::write(
        wrapper_dir.join("kustomization.yaml"),
        serde_json::Value::Object(wrapper).to_string(),
    )
    .is_err()
    {
        walked.notices.push(format!(
            "cannot render {}: cannot write its wrapper",
            r.name
        ));
        return None;
    }
    let (mut cmd, program, sub) = kustomize_command(&wrapper_dir);
    if generated {
        // The wrapper lists the folder's files from outside it, where Flux's list is inside.
        cmd.args(["--load-restrictor", "LoadRestrictionsNone"]);
    }
    let relative = relative_path(&wrapper_dir, &target);
    let result = run(cmd, program).map_err(|e| {
        tidy(
            &e,
            &[
                (&target, dir.as_path()),
                (&relative, dir.as_path()),
                (&wrapper_dir, Path::new(".")),
            ],
        )
    });
    if result.is_ok() && !listed.is_empty() {
        // What the release built from the folder's files stands for them, as a kustomize
        // root's output stands for its resources: they are not linted a second time as written.
        withhold_files(walked, &listed);
    }
    Some(in_namespace(
        rendered(
            Run {
                tool: Tool::Kustomize,
                dir,
                file: r.file.clone(),
                root,
                result,
                base: wrapper_dir,
                variant: None,
                dependencies: Vec::new(),
                command: format!("{program} {sub} {}", display_name(dir)),
            },
            Some(r.name.clone()),
            r.offset,
        ),
        default_namespace.as_deref(),
    ))
}

/// Takes the reported plain inputs of `files` out of the walk.
fn withhold_files(walked: &mut Walked, files: &[PathBuf]) {
    let files: std::collections::BTreeSet<PathBuf> = files.iter().map(|f| canonical(f)).collect();
    let reported = walked.reported;
    let mut kept = Vec::with_capacity(walked.inputs.len());
    for (i, input) in std::mem::take(&mut walked.inputs).into_iter().enumerate() {
        let plain = matches!(&input, Input::File { path, .. } if files.contains(&canonical(path)));
        if plain && i < reported {
            walked.reported -= 1;
            continue;
        }
        kept.push(input);
    }
    walked.inputs = kept;
}

/// The manifests of a folder without a kustomization, as Flux's generator takes them: the YAML
/// files, and the subfolders that have a kustomization (not looked into), sorted.
fn manifests_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            if kustomize::file_in(&p).is_some() {
                out.push(p);
            } else {
                out.extend(manifests_in(&p));
            }
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(p);
        }
    }
    out
}
