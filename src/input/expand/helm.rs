//! Charts for `helm template`: `file://` dependencies built into a temporary copy of the chart,
//! each chart rendered with its default values and with each `ci/*-values.yaml`, helm's errors
//! named from the repository, and names generated at random made stable.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{
    RenderOptions, Run, Scratch, canonical, in_namespace, input, one_line, run, tidy, unrendered,
    with_values,
};
use crate::input::chart::{self, Repository};
use crate::input::walk::{Input, Tool, Walked};
use crate::source::display_name;

/// A chart folder ready for `helm template`: the chart itself, or a temporary copy with its
/// `file://` dependencies built in.
pub(super) struct Prepared {
    pub(super) dir: PathBuf,
    /// `charts/<name>` prefixes of the output's source paths -> the folders they come from.
    pub(super) dependencies: Vec<(String, PathBuf)>,
    /// Keeps the copy until the renders are done.
    _scratch: Option<Scratch>,
}

/// How many levels of `file://` dependencies are followed.
const MAX_DEPENDENCY_DEPTH: usize = 8;

/// Prepares chart `dir`: `Err` names the remote dependencies that are not vendored.
pub(super) fn prepare(dir: &Path) -> Result<Prepared, String> {
    let mut remote = Vec::new();
    let mut local = Vec::new();
    missing_dependencies(dir, "", 0, &mut remote, &mut local);
    if !remote.is_empty() {
        return Err(format!(
            "its dependencies are not vendored under `charts/` ({}), and extip-lint fetches nothing (`helm dependency build` does)",
            remote.join(", ")
        ));
    }
    if local.is_empty() {
        return Ok(Prepared {
            dir: dir.to_path_buf(),
            dependencies: Vec::new(),
            _scratch: None,
        });
    }
    let scratch = Scratch::new("chart").map_err(|e| format!("cannot copy the chart: {e}"))?;
    let name = dir
        .file_name()
        .map_or_else(|| "chart".into(), std::ffi::OsStr::to_os_string);
    let copy = scratch.0.join(name);
    copy_dir(dir, &copy, 0).map_err(|e| format!("cannot copy the chart: {e}"))?;
    let mut dependencies = Vec::new();
    for (prefix, from) in local {
        let to = copy.join(&prefix);
        copy_dir(&from, &to, 0)
            .map_err(|e| format!("cannot copy dependency `{}`: {e}", display_name(&from)))?;
        dependencies.push((prefix, from));
    }
    Ok(Prepared {
        dir: copy,
        dependencies,
        _scratch: Some(scratch),
    })
}

/// The dependencies of chart `dir` (at `prefix` in the chart being rendered) that are not
/// vendored: remote ones by name and source, `file://` ones with the `charts/...` prefix they
/// take in the copy, and theirs in turn.
fn missing_dependencies(
    dir: &Path,
    prefix: &str,
    depth: usize,
    remote: &mut Vec<String>,
    local: &mut Vec<(String, PathBuf)>,
) {
    let Some(c) = chart::read(dir) else { return };
    for d in c.dependencies {
        if chart::vendored(dir, &d.name) {
            continue;
        }
        match d.repository {
            Repository::Remote(r) => remote.push(format!("`{}` from `{r}`", d.name)),
            Repository::Local(from) if depth < MAX_DEPENDENCY_DEPTH && from.is_dir() => {
                let at = format!("{prefix}charts/{}", d.name);
                missing_dependencies(&from, &format!("{at}/"), depth + 1, remote, local);
                local.push((at, from));
            }
            // Missing or too deep: helm says what is wrong.
            Repository::Local(_) | Repository::None => {}
        }
    }
}

/// Copies folder `from` to `to`, regular files and folders only (symbolic links are followed, as
/// helm follows them, to a bounded depth); a dependency's own `charts/` comes along.
fn copy_dir(from: &Path, to: &Path, depth: usize) -> std::io::Result<()> {
    if depth > 32 {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name == ".git" {
            continue;
        }
        let src = e.path();
        let meta = std::fs::metadata(&src)?;
        if meta.is_dir() {
            copy_dir(&src, &to.join(&name), depth + 1)?;
        } else if meta.is_file() {
            std::fs::copy(&src, to.join(&name))?;
        }
    }
    Ok(())
}

/// Renders chart `dir`: with its default values, and with each `ci/*-values.yaml`.
pub(super) fn helm(
    dir: &Path,
    root: usize,
    opts: &RenderOptions,
    walked: &mut Walked,
) -> Vec<Input> {
    let chart_file = dir.join("Chart.yaml");
    let prepared = match prepare(dir) {
        Ok(p) => p,
        Err(why) => {
            return unrendered(walked, opts, Tool::Helm, dir, root, chart_file, &why)
                .into_iter()
                .collect();
        }
    };
    let own = opts.root(dir);
    let mut values: Vec<PathBuf> = Vec::new();
    let canonical_dir = canonical(dir);
    for (chart, files) in &opts.values {
        if canonical(chart) == canonical_dir {
            values.extend(files.iter().cloned());
        }
    }
    if let Some(o) = own {
        values.extend(o.values.iter().cloned());
    }
    let variants: Vec<Option<PathBuf>> = std::iter::once(None)
        .chain(chart::ci_values(dir).into_iter().map(Some))
        .collect();
    let mut out = Vec::new();
    for variant in &variants {
        let mut files = values.clone();
        files.extend(variant.iter().cloned());
        let release = own
            .and_then(|o| o.release.as_deref())
            .unwrap_or(&opts.release);
        let namespace = own
            .and_then(|o| o.namespace.as_deref())
            .unwrap_or(&opts.namespace);
        let api_versions: &[String] = own.map_or(&[], |o| &o.api_versions);
        let (cmd, scratch) = match helm_command(
            &prepared.dir,
            release,
            namespace,
            opts,
            &files,
            api_versions,
        ) {
            Ok(c) => c,
            Err(e) => {
                walked
                    .notices
                    .push(format!("cannot render chart `{}`: {e}", display_name(dir)));
                return out;
            }
        };
        let mut command = format!(
            "helm template {release} {} --namespace {namespace} --kube-version {}",
            display_name(dir),
            opts.kube_version
        );
        for f in &files {
            let _ = write!(command, " --values {}", display_name(f));
        }
        for a in api_versions {
            let _ = write!(command, " --api-versions {a}");
        }
        if !prepared.dependencies.is_empty() {
            command = format!("helm dependency build {} && {command}", display_name(dir));
        }
        let result = run(cmd, "helm")
            .map(|out| stable_names(out, dir, &prepared.dependencies))
            .map_err(|e| chart_paths(&tidy(&e, &[(&prepared.dir, dir)]), dir));
        drop(scratch);
        if let Err(e) = &result
            && (e.contains("missing in charts/ directory")
                || e.contains("found in Chart.yaml, but missing"))
        {
            let why = format!(
                "its dependencies are not vendored under `charts/` (extip-lint fetches nothing; `helm dependency build` does): {}",
                one_line(e)
            );
            return unrendered(walked, opts, Tool::Helm, dir, root, chart_file, &why)
                .into_iter()
                .collect();
        }
        let mut sources = vec![dir.join("values.yaml")];
        sources.extend(files.iter().cloned());
        // Objects the chart does not place go where `helm.charts` installs it (else where the
        // cluster's `namespace` puts them).
        out.push(in_namespace(
            with_values(
                input(Run {
                    tool: Tool::Helm,
                    dir,
                    file: chart_file.clone(),
                    root,
                    result,
                    base: dir.to_path_buf(),
                    variant: variant.as_ref().map(|v| crate::source::relative_to(v, dir)),
                    dependencies: prepared.dependencies.clone(),
                    command,
                }),
                sources,
            ),
            own.and_then(|o| o.namespace.as_deref()),
        ));
    }
    // Chart-testing renders a chart that has `ci/` values with those only: defaults that fail
    // there (a `required` value) are a notice when a CI variant renders.
    let ci_ok = out
        .iter()
        .skip(1)
        .any(|i| matches!(i, Input::Rendered(r) if r.error.is_none()));
    if ci_ok && matches!(out.first(), Some(Input::Rendered(r)) if r.error.is_some()) {
        out.remove(0);
        walked.notices.push(format!(
            "chart `{}` does not render with its default values alone; it was checked with its `ci/*-values.yaml`, as chart-testing checks it",
            display_name(dir)
        ));
    }
    out
}

/// The `helm template` command for chart folder `dir`, with helm's own state in a scratch folder.
pub(super) fn helm_command(
    dir: &Path,
    release: &str,
    namespace: &str,
    opts: &RenderOptions,
    values: &[PathBuf],
    api_versions: &[String],
) -> std::io::Result<(Command, Scratch)> {
    let scratch = Scratch::new("helm")?;
    let mut cmd = Command::new("helm");
    // Helm's own state goes to an empty scratch folder: no plugins, repositories or registry
    // logins of the user's are used, and nothing is cached.
    for var in [
        "HELM_CACHE_HOME",
        "HELM_CONFIG_HOME",
        "HELM_DATA_HOME",
        "HELM_PLUGINS",
    ] {
        cmd.env(var, scratch.0.join(var));
    }
    cmd.env("HELM_REGISTRY_CONFIG", scratch.0.join("registry.json"))
        .env(
            "HELM_REPOSITORY_CONFIG",
            scratch.0.join("repositories.yaml"),
        )
        .arg("template")
        .arg(release)
        .arg(dir)
        .args(["--namespace", namespace])
        .args(["--kube-version", &opts.kube_version]);
    for f in values {
        cmd.arg("--values").arg(f);
    }
    for a in api_versions {
        cmd.args(["--api-versions", a]);
    }
    Ok((cmd, scratch))
}

/// A helm error with the template paths it names (`web/templates/svc.yaml:3:5`, by the chart's
/// name) written from the repository (`charts/web/templates/svc.yaml:3:5`).
pub(super) fn chart_paths(error: &str, dir: &Path) -> String {
    let Some(name) = chart::read(dir).map(|c| c.name).filter(|n| !n.is_empty()) else {
        return error.to_string();
    };
    let shown = display_name(dir);
    let mut out = error.to_string();
    for lead in ["(", "template: ", "\""] {
        out = out.replace(&format!("{lead}{name}/"), &format!("{lead}{shown}/"));
    }
    out
}

/// The template functions that make a name different on every render.
const RANDOM: &[&str] = &[
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "randInt",
    "uuidv4",
    "now",
    "date",
];

/// Helm output with the names that templates generate at random (`randAlphaNum`, `uuidv4`,
/// `now` in `metadata.name`) replaced by a name made of the object's kind and template, so the
/// same chart gives the same report on every run. `dependencies` maps `charts/<name>` of the
/// output's `# Source:` paths to folders outside the chart.
pub(super) fn stable_names(
    out: Vec<u8>,
    chart: &Path,
    dependencies: &[(String, PathBuf)],
) -> Vec<u8> {
    let text = match String::from_utf8(out) {
        Ok(t) if t.contains("# Source:") => t,
        Ok(t) => return t.into_bytes(),
        Err(e) => return e.into_bytes(),
    };
    let mut templates: BTreeMap<String, bool> = BTreeMap::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut result = String::with_capacity(text.len());
    for doc in text.split_inclusive("\n---\n") {
        let Some(source) = doc
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .map(str::trim)
        else {
            result.push_str(doc);
            continue;
        };
        let generated = *templates.entry(source.to_string()).or_insert_with(|| {
            let Some((_, rest)) = source.split_once('/') else {
                return false;
            };
            let file = dependencies
                .iter()
                .filter(|(p, _)| {
                    rest.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                })
                .max_by_key(|(p, _)| p.len())
                .map_or_else(|| chart.join(rest), |(p, d)| d.join(&rest[p.len() + 1..]));
            crate::source::read_regular_text(&file, crate::source::DEFAULT_MAX_FILE_SIZE).is_ok_and(
                |t| {
                    metadata_name_lines(&t).iter().any(|l| {
                        l.split(|c: char| !c.is_ascii_alphanumeric())
                            .any(|word| RANDOM.contains(&word))
                    })
                },
            )
        });
        let line = if generated {
            metadata_name_lines(doc).first().copied()
        } else {
            None
        };
        let Some(line) = line else {
            result.push_str(doc);
            continue;
        };
        let kind = doc
            .lines()
            .find_map(|l| l.strip_prefix("kind:"))
            .map(|k| k.trim().trim_matches(['"', '\'']).to_lowercase())
            .unwrap_or_default();
        let n = seen.entry((source.to_string(), kind.clone())).or_default();
        let stem = source
            .split_once('/')
            .map_or(source, |(_, r)| r)
            .trim_end_matches(".yaml")
            .trim_end_matches(".yml")
            .replace(['/', '_', '.'], "-")
            .to_lowercase();
        let name = if *n == 0 {
            format!("generated-{kind}-{stem}")
        } else {
            format!("generated-{kind}-{stem}-{n}")
        };
        *n += 1;
        let indent = line.len() - line.trim_start().len();
        let replaced = format!("{}name: {name}", " ".repeat(indent));
        result.push_str(&doc.replacen(line, &replaced, 1));
    }
    result.into_bytes()
}

/// The `name:` lines directly under a top-level `metadata:` of a document or template.
fn metadata_name_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_metadata = false;
    let mut child_indent = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("{{") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            in_metadata = trimmed.starts_with("metadata:");
            child_indent = None;
            continue;
        }
        if in_metadata {
            let ci = *child_indent.get_or_insert(indent);
            if indent == ci && trimmed.starts_with("name:") {
                out.push(line);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names_are_replaced_by_kind_and_template() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
        std::fs::write(
            dir.join("templates/job.yaml"),
            "kind: Job\nmetadata:\n  name: {{ .Release.Name }}-{{ randAlphaNum 5 }}\n  labels: {a: b}\n",
        )
        .expect("write");
        std::fs::write(
            dir.join("templates/svc.yaml"),
            "kind: Service\nmetadata:\n  name: {{ .Release.Name }}-unknown\n",
        )
        .expect("write");
        let out = "---\n# Source: c/templates/job.yaml\nkind: Job\nmetadata:\n  name: r-x8k2p\n  labels: {a: b}\n---\n# Source: c/templates/svc.yaml\nkind: Service\nmetadata:\n  name: r-unknown\n";
        let stable =
            String::from_utf8(stable_names(out.as_bytes().to_vec(), &dir, &[])).expect("utf-8");
        assert!(
            stable.contains("  name: generated-job-templates-job\n"),
            "{stable}"
        );
        assert!(stable.contains("  name: r-unknown\n"), "{stable}");
    }
}
